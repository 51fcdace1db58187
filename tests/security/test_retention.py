"""Retention: the dry run reports exactly what the run removes, the run is atomic and audited, and what is
left obeys the policy; on memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
import custdata.testing as cst
from custdata import Customer, Interaction, Transaction
from custdata.exceptions import StoreError, ValidationError
from custdata.security import (
    RETENTION_KINDS,
    AuditLog,
    MemorySink,
    RetentionPolicy,
    StoreSink,
    apply_retention,
)
from tests.storage.conftest import backend, store  # noqa: F401  (fixtures)
from tests.storage.dict_store import DictStore

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)
AS_OF = NOW + dt.timedelta(days=40)
POLICY = RetentionPolicy(
    inactive_customers=730, deleted_customers=30, transactions=1825, interactions=730, history=30
)


def ago(days: int) -> dt.datetime:
    return AS_OF - dt.timedelta(days=days)


def tx(cid: str, days: int, tid: str | None = None) -> Transaction:
    return Transaction(customer_id=cid, at=ago(days), amount=Decimal(10), id=tid)


def fill(s: Any) -> None:
    s.upsert_many(
        [
            Customer(id="idle", created_at=ago(1000), phones=["+8613800000001"]),
            Customer(id="dormant", created_at=ago(1500)),  # imported long ago, never active since
            Customer(id="active", created_at=ago(3000)),
            Customer(id="new"),  # no created_at, no activity: counts from when the store first saw it
            Customer(id="gone", created_at=ago(10)),
            Customer(id="fresh_deleted", created_at=ago(10)),
        ]
    )
    s.delete("gone")
    s.add_transactions(
        [
            tx("idle", 900, "t-idle"),
            tx("active", 10, "t-recent"),
            tx("active", 2000, "t-old"),
            tx("active", 1900),
        ]
    )
    s.add_interactions(
        [
            Interaction(customer_id="active", at=ago(800), kind="call"),
            Interaction(customer_id="active", at=ago(5), kind="call"),
            Interaction(customer_id="idle", at=ago(1000), kind="call"),
        ]
    )


def snapshot(s: Any) -> list[Any]:
    return [x.to_dict() if hasattr(x, "to_dict") else repr(x) for x in s.dump()]


# --------------------------------------------------------------------------------------------- every backend
def test_dry_run_then_run_on_every_backend(store: Any) -> None:  # noqa: F811
    fill(store)
    # "gone" was soft-deleted now, 40 days before AS_OF: past the 30 days of the policy
    before = snapshot(store)
    plan = apply_retention(store, POLICY, dry_run=True, as_of=AS_OF)
    assert snapshot(store) == before, "a dry run changed the store"
    assert plan.dry_run
    assert plan.inactive_customers == ("dormant", "idle")
    assert plan.deleted_customers == ("gone",)
    assert [(c, i) for c, i, _ in plan.transactions] == [("active", "t-old"), ("active", None)]
    assert [c for c, _, _ in plan.interactions] == ["active"]
    assert {c for c, _, _ in plan.history} == {"active", "new", "fresh_deleted"}  # all written now
    assert plan.with_customers == {"history": 4, "transactions": 1, "interactions": 1}
    assert plan.counts == {
        "inactive_customers": 2,
        "deleted_customers": 1,
        "transactions": 2,
        "interactions": 1,
        "history": len(plan.history),
    }
    json.dumps(plan.to_dict())

    log = AuditLog(StoreSink(store))
    done = apply_retention(store, POLICY, dry_run=False, as_of=AS_OF, actor="dpo", audit=log)
    assert not done.dry_run and done.to_dict() | {"dry_run": True} == plan.to_dict()
    assert sorted(c.id for c in store.scan(include_deleted=True)) == ["active", "fresh_deleted", "new"]
    assert [t.id for t in store.transactions()] == ["t-recent"]
    assert [i.at for i in store.interactions()] == [ago(5)]
    assert all(store.history(c) == [] for c in ("active", "new", "fresh_deleted"))
    assert store.find(phone="+8613800000001") == []
    entries = list(log.entries())
    purged = [("purge", "dormant"), ("purge", "gone"), ("purge", "idle")]
    assert [(e["action"], e["record_id"]) for e in entries[:3]] == purged
    summary = {e["fields"][0]: e["details"]["removed"] for e in entries[3:]}
    assert summary == done.counts
    assert log.verify()
    again = apply_retention(store, POLICY, dry_run=False, as_of=AS_OF)
    assert sum(again.counts.values()) == 0


@pytest.mark.mariadb
def test_dry_run_then_run_on_mariadb(mariadb_server: Any) -> None:
    url, drop = mariadb_server.database()
    try:
        with custdata.open_store(url) as s:
            test_dry_run_then_run_on_every_backend(s)
    finally:
        drop()


def test_a_failing_run_removes_nothing(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    fill(store)
    before = snapshot(store)
    real = store.remove_before
    calls = []

    def fail_second(kind: str, cut: dt.datetime) -> int:
        calls.append(kind)
        if len(calls) == 2:
            raise RuntimeError("disk gone")
        return int(real(kind, cut))

    monkeypatch.setattr(store, "remove_before", fail_second)
    with pytest.raises(RuntimeError):
        apply_retention(store, POLICY, dry_run=False, as_of=AS_OF)
    assert snapshot(store) == before


def test_a_store_that_changed_under_the_run_is_refused(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    fill(store)
    before = snapshot(store)
    real = store.rows_before
    monkeypatch.setattr(store, "rows_before", lambda kind, cut: real(kind, cut)[1:])
    with pytest.raises(StoreError, match="changed during the retention run"):
        apply_retention(store, POLICY, dry_run=False, as_of=AS_OF)
    assert snapshot(store) == before


# --------------------------------------------------------------------------------------------- properties
offsets = st.integers(0, 4000)
customers_data = st.lists(
    st.tuples(
        st.none() | offsets,  # created_at, days before AS_OF
        st.booleans(),  # soft-deleted
        st.lists(offsets, max_size=3),  # transactions
        st.lists(offsets, max_size=2),  # interactions
    ),
    max_size=8,
)


@pytest.mark.parametrize("url", ["memory://", "sqlite://"])
@settings(max_examples=60)
@given(policy=cst.retention_policies(), data=customers_data)
def test_what_is_left_obeys_the_policy_and_what_went_was_reported(
    url: str, policy: dict[str, int | None], data: list[Any]
) -> None:
    rp = RetentionPolicy.from_dict(policy)
    with custdata.open_store(url) as s:
        for n, (created, deleted, txs, ixs) in enumerate(data):
            cid = f"c{n}"
            s.put(Customer(id=cid, created_at=None if created is None else ago(created)))
            if deleted:
                s.delete(cid)
            s.add_transactions([tx(cid, d) for d in txs])
            s.add_interactions([Interaction(customer_id=cid, at=ago(d), kind="visit") for d in ixs])
        ids = {f"c{n}" for n in range(len(data))}
        before_t, before_i = len(s.transactions()), len(s.interactions())
        before_h = sum(len(s.history(c)) for c in ids)
        plan = apply_retention(s, rp, dry_run=True, as_of=AS_OF)
        done = apply_retention(s, rp, dry_run=False, as_of=AS_OF)
        assert done.to_dict() | {"dry_run": True} == plan.to_dict()
        left = {c.id for c in s.scan(include_deleted=True)}
        assert left == ids - set(done.customers)
        assert (
            len(s.transactions()) == before_t - len(done.transactions) - done.with_customers["transactions"]
        )
        assert (
            len(s.interactions()) == before_i - len(done.interactions) - done.with_customers["interactions"]
        )
        assert (
            sum(len(s.history(c)) for c in left)
            == before_h - len(done.history) - done.with_customers["history"]
        )
        cut = done.cutoffs
        if "transactions" in cut:
            assert all(t.at >= cut["transactions"] for t in s.transactions())
        if "interactions" in cut:
            assert all(i.at >= cut["interactions"] for i in s.interactions())
        if "history" in cut:
            assert all(e.at >= cut["history"] for c in left for e in s.history(c))
        if "inactive_customers" in cut:  # judged on the activity held before the run
            for cid in left:
                created, _, txs, ixs = data[int(cid[1:])]
                if created is not None:
                    last = max([ago(created), *(ago(d) for d in (*txs, *ixs))])
                    assert last >= cut["inactive_customers"]
        for cid in done.inactive_customers:
            created, _, txs, ixs = data[int(cid[1:])]
            # without created_at the clock starts when the store first saw the customer (after NOW)
            start = NOW if created is None else ago(created)
            assert max([start, *(ago(d) for d in (*txs, *ixs))]) < cut["inactive_customers"]


# --------------------------------------------------------------------------------------------- the policy
@given(cst.retention_policies())
def test_a_policy_round_trips_through_its_dict_and_json(policy: dict[str, int | None]) -> None:
    rp = RetentionPolicy.from_dict(policy)
    assert RetentionPolicy.from_dict(json.loads(json.dumps(rp.to_dict()))) == rp
    assert all(getattr(rp, k) == policy.get(k) for k in RETENTION_KINDS)


@given(
    st.sampled_from(RETENTION_KINDS),
    st.one_of(
        st.integers(max_value=-1), st.integers(min_value=3_000_001), st.floats(), st.text(), st.booleans()
    ),
)
def test_a_bad_number_of_days_is_a_validation_error(kind: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        RetentionPolicy.from_dict({kind: value})
    assert info.value.errors[0].field == kind


def test_policy_files(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"history": 365, "transactions": null}', encoding="utf-8")
    assert RetentionPolicy.load(path) == RetentionPolicy(history=365)
    path.write_text('{"histroy": 365}', encoding="utf-8")
    with pytest.raises(ValidationError, match="unknown kinds"):
        RetentionPolicy.load(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ValidationError, match="not JSON"):
        RetentionPolicy.load(path)
    with pytest.raises(ValidationError, match="cannot read"):
        RetentionPolicy.load(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"policy": {"history": 1}}, "policy"),
        ({"dry_run": None}, "dry_run"),
        ({"as_of": dt.datetime(2026, 1, 1)}, "as_of"),
        ({"as_of": "2026-01-01"}, "as_of"),
        ({"actor": ""}, "actor"),
        ({"audit": MemorySink()}, "audit"),
    ],
)
def test_bad_arguments(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {"policy": POLICY, "dry_run": True, **kwargs}
    with custdata.open_store("memory://") as s, pytest.raises(ValidationError) as info:
        apply_retention(s, args.pop("policy"), **args)
    assert info.value.errors[0].field == field


def test_a_store_without_the_hooks_is_refused() -> None:
    with pytest.raises(ValidationError, match="cannot apply a retention policy"):
        apply_retention(DictStore("dict://"), POLICY, dry_run=True)
