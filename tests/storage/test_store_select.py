"""``Store.select`` is one body for every backend (storage._core.select_with): same refusal, same answer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import custdata
from custdata.exceptions import ValidationError
from custdata.segments import Rule


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_select_refuses_a_non_rule_and_runs_a_rule(backend: str, tmp_path: Path) -> None:
    url = "memory://" if backend == "memory" else f"sqlite:///{tmp_path / 's.db'}"
    with custdata.open_store(url) as store:
        store.upsert_many([custdata.Customer(id="a", tags=frozenset({"vip"})), custdata.Customer(id="b")])
        with pytest.raises(ValidationError, match="expected a custdata.segments.Rule, got str") as info:
            store.select("tags contains 'vip'", as_of=dt.date(2026, 1, 1))
        assert info.value.errors[0].field == "rule"
        got = store.select(Rule.parse("tags contains 'vip'"), as_of=dt.date(2026, 1, 1))
        assert [c.id for c in got] == ["a"]
