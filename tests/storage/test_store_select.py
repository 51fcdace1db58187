"""``Store.select`` is one body for every backend (storage._core.select_with): same refusal, same answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import custdata
from custdata.exceptions import ValidationError
from custdata.segments import Rule
from custdata.storage import ActivityStore, CustomerReader, RuleSelectable, Store
from custdata.testing.stores import SelectTests
from tests.storage.dict_store import DictStore


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


class _DictStoreWithoutSelect(DictStore):
    """A plug-in that offers every protocol but RuleSelectable."""

    select = None  # type: ignore[assignment]


class TestAStoreWithoutSelect(SelectTests):
    """A plug-in without ``select`` still inherits SelectTests: ``segments.select`` runs the rule in Python
    over its ``scan``, ``transactions`` and ``interactions``."""

    @pytest.fixture
    def store(self) -> Iterator[Any]:
        s = _DictStoreWithoutSelect("dict://no-select")
        assert not isinstance(s, RuleSelectable)
        assert not isinstance(s, Store)
        assert isinstance(s, CustomerReader) and isinstance(s, ActivityStore)
        try:
            yield s
        finally:
            s.close()
