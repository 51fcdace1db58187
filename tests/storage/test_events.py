"""Change events (``custdata.storage.change_events``) on memory, SQLite, PostgreSQL and MariaDB: types, the
JSON form, cursors that resume exactly, values under a policy, erasures without personal data."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata
from custdata.exceptions import AccessDenied, ValidationError
from custdata.security import AuditLog, Policy, StoreSink, erase_subject
from custdata.storage import EVENT_TYPES, ChangeEvent, Store, change_events, record_merge
from custdata.testing.stores import cust
from tests.storage.storage_backends import make_backend

UTC = dt.timezone.utc


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "mariadb":
        url = request.getfixturevalue("mariadb_server").emptied()
        with custdata.open_store(url) as s:
            yield s
        return
    b = make_backend(request.param, request, tmp_path)
    with b.open() as s:
        yield s
    b.cleanup()


def _life(store: Store) -> None:
    """Every kind of event: a bulk create, an update, a soft delete, a restore, a merge and an erasure."""
    store.upsert_many([cust(i) for i in range(1, 5)], source="import.csv")
    store.put(store.get("c1").evolve(company="ACME"), source="crm")
    store.delete("c2")
    store.put(store.get("c2", include_deleted=True).evolve(title="back"))
    record_merge(store, store.get("c3").evolve(tags=["merged"]), ["c4"])
    erase_subject(store, "c1", actor="dpo", audit=AuditLog(StoreSink(store)))


def test_every_kind_of_event_in_order(store: Store) -> None:
    _life(store)
    got = [(e.type, e.customer_id, e.version) for e in change_events(store)]
    creates = [("created", f"c{i}", 1) for i in range(2, 5)]  # c1's whole history went with its erasure
    assert got == [
        *creates,
        ("deleted", "c2", 2),
        ("restored", "c2", 3),
        ("merged", "c3", 2),
        ("merged", "c4", 2),
        ("erased", "c1", None),
    ]
    events = list(change_events(store))
    assert {e.type for e in events} <= set(EVENT_TYPES)
    assert events[0].source == "import.csv" and "phones" in events[0].fields and events[0].values is None
    merged = {e.customer_id: e for e in events if e.type == "merged"}
    assert merged["c3"].merged_into is None and merged["c3"].fields == ("tags",)
    assert merged["c4"].merged_into == "c3"
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_the_json_form_is_stable_and_round_trips(store: Store) -> None:
    _life(store)
    for e in change_events(store, values=True):
        d = json.loads(e.to_json())
        assert list(d) == [
            "id",
            "type",
            "customer_id",
            "version",
            "at",
            "source",
            "fields",
            "values",
            "merged_into",
        ]
        assert ChangeEvent.from_dict(d) == e
        assert d["at"].endswith("+00:00")


def test_an_erasure_event_carries_no_personal_data(store: Store) -> None:
    store.put(cust(7, company="秘密公司"))
    erase_subject(store, "c7", actor="dpo", audit=AuditLog(StoreSink(store)))
    (event,) = [e for e in change_events(store, values=True) if e.type == "erased"]
    text = event.to_json()
    for secret in ("13800000007", "user7@example.com", "客户7", "秘密公司"):
        assert secret not in text
    assert event.fields == () and event.values is None and event.version is None


def test_resuming_from_each_event_gives_the_rest_once(store: Store) -> None:
    _life(store)
    events = list(change_events(store))
    for i, e in enumerate(events):
        assert list(change_events(store, after=e.id)) == events[i + 1 :]
    # pages of two, each resumed from the last id of the one before
    seen: list[ChangeEvent] = []
    cursor = None
    for _ in range(len(events) + 2):
        page = list(change_events(store, after=cursor, limit=2))
        if not page:
            break
        seen += page
        cursor = page[-1].id
    assert seen == events
    # new writes after the consumer's cursor appear once
    store.put(cust(9))
    assert [(e.type, e.customer_id) for e in change_events(store, after=cursor)] == [("created", "c9")]


def test_a_time_cursor(store: Store) -> None:
    store.put(cust(1))
    events = list(change_events(store))
    assert list(change_events(store, after=events[-1].at)) == []
    assert list(change_events(store, after=events[-1].at - dt.timedelta(microseconds=1))) == events


def test_values_only_when_asked_and_as_the_policy_shows_them(store: Store) -> None:
    store.put(cust(1))
    store.put(
        store.get("c1").evolve(phones=[{"number": "+8613912345678"}], birthday="1990-01-02", company="ACME")
    )
    full = list(change_events(store, values=True))[-1]
    assert full.values is not None and full.values["company"] == "ACME"
    assert "+8613912345678" in json.dumps(full.values)
    policy = Policy(
        {
            "sync": {
                "actions": ["read", "export"],
                "fields": {"*": "full", "phones": "masked", "birthday": "hidden"},
            },
            "support": {"actions": ["read"], "fields": {"*": "full"}},
        }
    )
    seen = list(change_events(store, values=True, policy=policy, role="sync"))[-1]
    assert seen.values is not None and seen.values["company"] == "ACME"
    assert "birthday" not in seen.values and "birthday" in seen.fields  # the name, never the value
    assert "13912345678" not in json.dumps(seen.values) and "5678" in json.dumps(seen.values)
    with pytest.raises(AccessDenied):
        list(change_events(store, values=True, policy=policy, role="support"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"after": "nonsense"},
        {"after": "ev1.!!!"},
        {"after": dt.datetime(2026, 1, 1)},
        {"after": 5},
        {"limit": -1},
        {"limit": 1.5},
        {"values": "yes"},
        {"settle": -1},
        {"role": "sync"},
        {"policy": object(), "role": "x", "values": True},
    ],
)
def test_bad_arguments_are_validation_errors(kwargs: dict[str, Any]) -> None:
    with custdata.open_store("memory://") as s, pytest.raises(ValidationError):
        list(change_events(s, **kwargs))


def test_settle_holds_back_the_youngest_events() -> None:
    with custdata.open_store("memory://") as s:
        s.put(cust(1))
        assert list(change_events(s, settle=3600)) == []
        assert len(list(change_events(s, settle=0))) == 1


def test_a_plug_in_store_is_read_through_its_backup_stream() -> None:
    from tests.storage.dict_store import DictStore

    with DictStore("dict://") as s:  # type: ignore[call-arg]
        s.upsert_many([cust(1), cust(2)])
        s.delete("c1")
        assert [(e.type, e.customer_id) for e in change_events(s)][-1] == ("deleted", "c1")


# ------------------------------------------------------------------------------------------ the property
_OPS = st.lists(
    st.tuples(st.sampled_from(["put", "bulk", "delete", "erase", "merge"]), st.integers(0, 5)),
    min_size=1,
    max_size=12,
)


def _apply(store: Store, ops: list[tuple[str, int]]) -> None:
    audit = AuditLog(StoreSink(store))
    for op, i in ops:
        alive = {c.id for c in store.scan()}
        cid = f"c{i}"
        if op == "put":
            old = store.get_many([cid], include_deleted=True).get(cid)
            store.put(cust(i) if old is None else old.evolve(company=f"v{old.version}"))
        elif op == "bulk":
            store.upsert_many([cust(j, title=f"t{i}") for j in range(i, i + 3)])
        elif op == "delete" and cid in alive:
            store.delete(cid)
        elif op == "erase" and store.get_many([cid], include_deleted=True):
            erase_subject(store, cid, actor="dpo", audit=audit)
        elif op == "merge" and cid in alive and f"c{i + 1}" in alive:
            record_merge(store, store.get(cid), [f"c{i + 1}"])


@pytest.mark.parametrize("url", ["memory://", "sqlite"])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS, cut=st.integers(0, 40), page=st.integers(1, 5))
def test_replaying_from_any_cursor_gives_the_same_tail(
    url: str, tmp_path: Path, ops: list[tuple[str, int]], cut: int, page: int
) -> None:
    if url == "sqlite":
        url = "sqlite:///" + str(tmp_path / f"e{abs(hash((tuple(ops), cut, page)))}.db")
    with custdata.open_store(url) as s:
        _apply(s, ops)
        events = list(change_events(s))
        ids = [e.id for e in events]
        assert len(set(ids)) == len(ids)
        start = min(cut, len(events))
        after = events[start - 1].id if start else None
        tail: list[ChangeEvent] = []
        for _ in range(len(events) + 2):  # a cursor that does not move on fails, never hangs
            got = list(change_events(s, after=after, limit=page))
            if not got:
                break
            tail += got
            after = got[-1].id
        assert tail == events[start:]
        # the stream agrees with each customer's own history (erased customers have none left)
        for cid in {e.customer_id for e in events if e.type != "erased"}:
            versions = [e.version for e in events if e.customer_id == cid and e.type != "erased"]
            assert versions == [h.version for h in s.history(cid)][-len(versions) :]
