"""The public entry points of matching check their arguments: a wrong type is a ValidationError naming it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from custdata import Customer, dedupe, link
from custdata.exceptions import ValidationError
from custdata.matching import Matcher, MatchSettings, golden_record, source_priority

A = Customer(id="a", phones=["13800138000"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"threshold": None}, "threshold"),
        ({"threshold": ""}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"window": dt.datetime(2026, 1, 1)}, "window"),
        ({"workers": "2"}, "workers"),
        ({"passes": dt.datetime(2026, 1, 1)}, "passes"),
        ({"passes": [1]}, "passes"),
        ({"region": 5}, "region"),
        ({"min_support": None}, "min_support"),
        ({"seed": "x"}, "seed"),
    ],
)
def test_settings_name_the_bad_one(kwargs: dict[str, Any], field: str) -> None:
    for call in (
        lambda: MatchSettings(**kwargs),
        lambda: dedupe([A], **kwargs),
        lambda: link([A], [A], **kwargs),
    ):
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.fields == (field,)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: dedupe(None), "records"),
        (lambda: dedupe([A], settings=dt.datetime(2026, 1, 1)), "settings"),
        (lambda: dedupe([A], matcher="m"), "matcher"),
        (lambda: dedupe([A], progress=5), "progress"),
        (lambda: dedupe([A], rules=[None]), "rules"),
        (lambda: dedupe([A], rules={"phone": "exact"}), "rules"),
        (lambda: link(None, [A]), "left"),
        (lambda: link([A], 5), "right"),
        (lambda: golden_record(None), "members"),
        (lambda: golden_record([A, "b"]), "members[1]"),
        (lambda: golden_record([A], rules=dt.datetime(2026, 1, 1)), "rules"),
        (lambda: golden_record([A], rules={1: "longest"}), "rules"),
        (lambda: source_priority(None), "order"),
        (lambda: source_priority(["crm"], then=None), "then"),
        (lambda: source_priority(["crm"], then=["x"]), "then"),
    ],
)
def test_entry_points_name_the_bad_argument(call: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.fields == (field,)


def test_matcher_checks_threshold_and_min_support() -> None:
    model = dedupe([A, Customer(id="b", phones=["13800138000"])]).matcher.model
    for kwargs, field in (({"threshold": None}, "threshold"), ({"min_support": None}, "min_support")):
        with pytest.raises(ValidationError) as info:
            Matcher(model, **kwargs)
        assert info.value.fields == (field,)


def test_an_absurd_number_of_workers_is_refused_before_any_work() -> None:
    # workers=2**31-1 used to start sizing a pool of that many processes (about 17 GB before it was killed).
    import pytest

    import custdata
    from custdata.exceptions import ValidationError

    with pytest.raises(ValidationError, match="workers"):
        custdata.dedupe([custdata.Customer(id="a"), custdata.Customer(id="b")], workers=2**31 - 1)
