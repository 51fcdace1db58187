"""A hypothesis state machine drives each backend against a plain dict model."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from custdata import Customer
from custdata.exceptions import ConcurrencyError, NotFoundError
from custdata.storage import Store
from tests.storage.storage_backends import Backend

IDS = st.sampled_from(["a", "b", "c", "d", "e"])
PHONES = st.sampled_from(["+8613800000001", "+8613800000002", "+8613800000003"])
COMPANIES = st.one_of(st.none(), st.sampled_from(["ACME", "北京公司", "x"]))


def machine_for(make_backend: Any) -> type[RuleBasedStateMachine]:
    class StoreMachine(RuleBasedStateMachine):
        """Model: id -> {"phone", "company", "version", "deleted"}."""

        def __init__(self) -> None:
            super().__init__()
            self.backend: Backend = make_backend()
            self.store: Store = self.backend.open()
            self.model: dict[str, dict[str, Any]] = {}

        def teardown(self) -> None:
            self.store.close()
            self.backend.cleanup()

        @initialize()
        def empty(self) -> None:
            assert self.store.count(include_deleted=True) == 0

        def _record(self, cid: str, phone: str, company: str | None, version: int) -> Customer:
            return Customer.from_dict(
                {"id": cid, "phones": [{"number": phone}], "company": company, "version": version}
            )

        @rule(cid=IDS, phone=PHONES, company=COMPANIES)
        def put_new(self, cid: str, phone: str, company: str | None) -> None:
            m = self.model.get(cid)
            if m is None:
                assert self.store.put(self._record(cid, phone, company, 0)).version == 1
                self.model[cid] = {"phone": phone, "company": company, "version": 1, "deleted": False}
            else:
                with pytest.raises(ConcurrencyError):
                    self.store.put(self._record(cid, phone, company, 0))

        @rule(cid=IDS, phone=PHONES, company=COMPANIES, stale=st.booleans())
        def update(self, cid: str, phone: str, company: str | None, stale: bool) -> None:
            m = self.model.get(cid)
            if m is None:
                return
            current = self.store.get(cid, include_deleted=True)
            assert current.version == m["version"]
            if stale:
                with pytest.raises(ConcurrencyError):
                    self.store.put(self._record(cid, phone, company, m["version"] - 1))
                return
            stored = self.store.put(self._record(cid, phone, company, m["version"]))
            m.update(phone=phone, company=company, version=m["version"] + 1, deleted=False)
            assert stored.version == m["version"]

        @rule(items=st.lists(st.tuples(IDS, PHONES, COMPANIES), max_size=4))
        def upsert_many(self, items: list[tuple[str, str, str | None]]) -> None:
            r = self.store.upsert_many([self._record(c, p, co, 0) for c, p, co in items])
            last = {c: (p, co) for c, p, co in items}
            assert r.written == len(last)
            for cid, (phone, company) in last.items():
                m = self.model.get(cid)
                version = 1 if m is None else m["version"] + 1
                self.model[cid] = {"phone": phone, "company": company, "version": version, "deleted": False}

        @rule(cid=IDS)
        def delete(self, cid: str) -> None:
            m = self.model.get(cid)
            if m is None:
                with pytest.raises(NotFoundError):
                    self.store.delete(cid)
                return
            self.store.delete(cid)
            if not m["deleted"]:
                m.update(deleted=True, version=m["version"] + 1)

        @rule(cid=IDS)
        def purge(self, cid: str) -> None:
            if cid not in self.model:
                with pytest.raises(NotFoundError):
                    self.store.purge(cid)
                return
            self.store.purge(cid)
            del self.model[cid]

        @rule(work=st.lists(st.tuples(IDS, PHONES), min_size=1, max_size=3))
        def rolled_back_block(self, work: list[tuple[str, str]]) -> None:
            def block() -> None:
                with self.store.transaction():
                    self.store.upsert_many([self._record(c, p, "rolled back", 0) for c, p in work])
                    raise RuntimeError("undo")

            with pytest.raises(RuntimeError, match="undo"):
                block()

        @invariant()
        def agrees_with_model(self) -> None:
            live = {k: v for k, v in self.model.items() if not v["deleted"]}
            assert self.store.count() == len(live)
            assert self.store.count(include_deleted=True) == len(self.model)
            got = self.store.get_many(list(self.model), include_deleted=True)
            assert set(got) == set(self.model)
            for cid, m in self.model.items():
                c = got[cid]
                assert (c.version, c.company, c.phones[0].number) == (m["version"], m["company"], m["phone"])
            assert [c.id for c in self.store.scan()] == sorted(live)
            for phone in ["+8613800000001", "+8613800000002"]:
                want = sorted(k for k, v in live.items() if v["phone"] == phone)
                assert [c.id for c in self.store.find(phone=phone)] == want

    return StoreMachine


@pytest.mark.parametrize("kind", ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_backend_matches_the_model(kind: str, backend_factory: Any) -> None:
    machine = machine_for(lambda: backend_factory(kind))
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=15 if kind == "postgres" else 25, stateful_step_count=25, deadline=None
        ),
    )
