"""Every bulk operation checks its input the same way (``custdata._bulk.items_of``): text, bytes or a
single mapping is one item, not many, and is refused naming the argument, never iterated into characters
or keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import custdata
from custdata.exceptions import ValidationError
from custdata.storage import open_store


def _store_upsert(value: Any) -> Any:
    with open_store("memory://") as s:
        return s.upsert_many(value)


def _write_csv(value: Any, tmp_path: Any) -> Any:
    return custdata.write_csv(value, tmp_path / "out.csv")


CALLS: dict[str, tuple[Callable[..., Any], str]] = {
    "normalize_many": (lambda v, _: list(custdata.normalize_many(v)), "customers"),
    "quality_report": (lambda v, _: custdata.quality_report(v), "customers"),
    "write_csv": (_write_csv, "records"),
    "upsert_many": (lambda v, _: _store_upsert(v), "customers"),
    "summarize": (lambda v, _: custdata.summarize(v, observation_end="2024-01-01"), "transactions"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("value", ["C1,C2", b"C1", {"id": "C1"}, 42])
def test_one_item_is_not_many(name: str, value: Any, tmp_path: Any) -> None:
    call, field = CALLS[name]
    with pytest.raises(ValidationError) as info:
        call(value, tmp_path)
    assert info.value.errors[0].field == field
    assert "iterable" in str(info.value)


def test_an_iterable_still_works(tmp_path: Any) -> None:
    c = custdata.Customer(id="C1", name="张三")
    assert [r.record.id for r in custdata.normalize_many(iter([c]))] == ["C1"]
    assert custdata.write_csv((x for x in [c]), tmp_path / "ok.csv") == 1
