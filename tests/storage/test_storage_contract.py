"""The contract every backend keeps: memory, SQLite and a real PostgreSQL server run the same tests."""

from __future__ import annotations

import datetime as dt
import sqlite3
from decimal import Decimal

import pytest

import custdata
from custdata import Customer, Interaction, Transaction
from custdata.exceptions import (
    ConcurrencyError,
    CustdataError,
    NotFoundError,
    SchemaVersionError,
    StoreError,
    ValidationError,
)
from custdata.storage import HistoryEntry, Store, UpsertResult

UTC = dt.timezone.utc


def cust(i: int, **extra: object) -> Customer:
    return Customer.from_dict(
        {
            "id": f"c{i}",
            "name": {"full": f"客户{i}"},
            "phones": [{"number": f"+86138{i:08d}", "kind": "mobile", "primary": True}],
            "emails": [{"address": f"user{i}@example.com"}],
            **extra,
        }
    )


# ------------------------------------------------------------------------------------------ basics
def test_store_satisfies_the_protocol(store: Store) -> None:
    assert isinstance(store, Store)
    assert store.count() == 0


def test_put_get_round_trip_with_versions(store: Store) -> None:
    c = cust(1, tags=["vip"], external_ids={"erp": "A-1"}, custom={"score": 3, "nested": {"a": [1, 2]}})
    stored = store.put(c)
    assert stored.version == 1
    got = store.get("c1")
    assert got == c.evolve(version=1)
    assert got.to_dict() == {**c.to_dict(), "version": 1}
    again = store.put(got.evolve(company="ACME"))
    assert again.version == 2
    assert store.get("c1").company == "ACME"
    assert store.get("c1").version == 2


def test_a_new_record_keeps_counting_from_its_own_version(store: Store) -> None:
    store.put(cust(1).evolve(version=5))
    assert store.get("c1").version == 6


def test_stale_put_raises_and_changes_nothing(store: Store) -> None:
    store.put(cust(1))
    a = store.get("c1")
    b = store.get("c1")
    store.put(a.evolve(company="first"))
    with pytest.raises(ConcurrencyError) as info:
        store.put(b.evolve(company="second"))
    assert isinstance(info.value, RuntimeError)
    assert "c1" in str(info.value)
    assert store.get("c1").company == "first"
    assert store.get("c1").version == 2
    assert [e.version for e in store.history("c1")] == [1, 2]


def test_get_missing_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.get("nobody")
    with pytest.raises(KeyError):
        store.get("nobody")


def test_get_many_leaves_out_missing(store: Store) -> None:
    store.upsert_many([cust(i) for i in range(5)])
    got = store.get_many(["c3", "x", "c1", "c3"])
    assert list(got) == ["c3", "c1"]
    assert got["c1"].name.full == "客户1"


# ------------------------------------------------------------------------------------------ bulk
def test_upsert_many_inserts_then_updates(store: Store) -> None:
    r = store.upsert_many([cust(i) for i in range(10)])
    assert (r.inserted, r.updated, r.written) == (10, 0, 10)
    assert store.count() == 10
    r = store.upsert_many([cust(i, company="X") for i in range(5, 15)])
    assert (r.inserted, r.updated) == (5, 5)
    assert store.get("c7").version == 2 and store.get("c7").company == "X"
    assert store.get("c12").version == 1
    assert store.count() == 15


def test_upsert_many_of_uneven_chunks_indexes_every_key(store: Store) -> None:
    # more than one chunk, with 0-3 phones and e-mails a customer: the bulk writers' row blocks never
    # line up with the chunks, so every block size and every remainder gets written
    def varied(i: int) -> Customer:
        return Customer.from_dict(
            {
                "id": f"v{i:05d}",
                "phones": [{"number": f"+86139{i:05d}{j:03d}"} for j in range(i % 4)],
                "emails": [{"address": f"u{i}.{j}@example.org"} for j in range((i // 4) % 4)],
                "external_ids": {"erp": f"E{i}"} if i % 5 == 0 else {},
            }
        )

    items = [varied(i) for i in range(2347)]
    r = store.upsert_many(items[:1999])
    assert (r.inserted, r.updated) == (1999, 0)
    r = store.upsert_many([c.evolve(company="x") if i % 7 == 0 else c for i, c in enumerate(items)])
    assert (r.inserted, r.updated) == (348, 1999)
    assert store.count() == 2347
    for i, c in enumerate(items):
        want = [c.evolve(company="x" if i % 7 == 0 else None, version=2 if i < 1999 else 1)]
        for p in c.phones:
            assert store.find(phone=p.number) == want
        for e in c.emails:
            assert store.find(email=e.address) == want
        if c.external_ids:
            assert store.find(external_id=("erp", f"E{i}")) == want
    assert store.find(phone="+8613900000003") == []  # customer 0 has no phone


def test_upsert_many_accepts_dicts_and_keeps_the_last_of_a_repeated_id(store: Store) -> None:
    store.upsert_many([{"id": "d1", "company": "one"}, cust(2), {"id": "d1", "company": "two"}])
    assert store.get("d1").company == "two"
    assert store.count() == 2


def test_upsert_many_is_atomic_on_a_bad_item(store: Store) -> None:
    store.put(cust(0))
    items: list[object] = [cust(i, company="new") for i in range(3000)]
    items.insert(2500, {"id": "bad", "birthday": "not a date"})
    with pytest.raises(ValidationError) as info:
        store.upsert_many(items)  # type: ignore[arg-type]
    assert "birthday" in str(info.value)
    assert store.count() == 1
    assert store.get("c0").company is None


def test_upsert_many_skip_and_collect(store: Store) -> None:
    items: list[object] = [cust(1), {"id": "bad", "birthday": "nope"}, 42, cust(2)]
    r = store.upsert_many(items, errors="skip")  # type: ignore[arg-type]
    assert (r.written, r.problems) == (2, ())
    r = store.upsert_many(items, errors="collect")  # type: ignore[arg-type]
    assert isinstance(r, UpsertResult)
    assert r.updated == 2
    assert [(p.index, p.id) for p in r.problems] == [(1, "bad"), (2, None)]
    assert "birthday" in str(r.problems[0])
    with pytest.raises(ValidationError):
        store.upsert_many([], errors="ignore")  # type: ignore[arg-type]


def test_upsert_many_can_check_versions(store: Store) -> None:
    store.upsert_many([cust(1), cust(2)])
    with pytest.raises(ConcurrencyError):
        store.upsert_many([cust(1, company="x")], check_versions=True)  # version 0, stored 1
    assert store.get("c1").company is None
    r = store.upsert_many(
        [store.get("c1").evolve(company="ok"), cust(2, company="stale")],
        check_versions=True,
        errors="collect",
    )
    assert r.updated == 1 and [p.id for p in r.problems] == ["c2"]
    assert isinstance(r.problems[0].error, ConcurrencyError)
    assert store.get("c1").company == "ok" and store.get("c2").company is None


# ------------------------------------------------------------------------------------------ find
def test_find_by_normalised_phone_email_and_external_id(store: Store) -> None:
    store.upsert_many([cust(i, external_ids={"erp": f"E-{i}"}) for i in range(50)])
    for phone in ["+8613800000042", "138 0000 0042", "13800000042", "+86 138-0000-0042"]:
        assert [c.id for c in store.find(phone=phone)] == ["c42"], phone
    assert [c.id for c in store.find(email="USER9@example.com")] == ["c9"]
    assert [c.id for c in store.find(email="  user9@EXAMPLE.COM ")] == ["c9"]
    assert [c.id for c in store.find(external_id="E-7")] == ["c7"]
    assert [c.id for c in store.find(external_id=("erp", "E-7"))] == ["c7"]
    assert store.find(external_id=("crm", "E-7")) == []
    assert [c.id for c in store.find(phone="13800000042", email="user42@example.com")] == ["c42"]
    assert store.find(phone="13800000042", email="user9@example.com") == []
    assert store.find(phone="+8613999999999") == []
    with pytest.raises(CustdataError):
        store.find()


def test_find_uses_provider_match_keys_and_shared_numbers(store: Store) -> None:
    store.put(Customer.from_dict({"id": "a", "emails": [{"address": "Zhang.Wei@gmail.com"}]}))
    store.put(Customer.from_dict({"id": "b", "phones": [{"number": "13800138000"}]}))
    store.put(Customer.from_dict({"id": "c", "phones": [{"number": "+86 138 0013 8000"}]}))
    store.put(Customer.from_dict({"id": "d", "phones": [{"number": "not a number"}]}))
    assert [c.id for c in store.find(email="zhangwei+shop@googlemail.com")] == ["a"]
    assert [c.id for c in store.find(phone="+8613800138000")] == ["b", "c"]
    assert [c.id for c in store.find(phone="not a number")] == ["d"]


def test_find_follows_updates_and_deletes(store: Store) -> None:
    store.put(cust(1))
    c = store.get("c1")
    store.put(c.evolve(phones=[{"number": "+8613911112222"}]))
    assert store.find(phone="+8613800000001") == []
    assert [x.id for x in store.find(phone="13911112222")] == ["c1"]
    store.delete("c1")
    assert store.find(phone="13911112222") == []
    store.upsert_many([cust(1)])
    assert [x.id for x in store.find(phone="+8613800000001")] == ["c1"]
    assert store.find(phone="13911112222") == []


# ------------------------------------------------------------------------------------------ delete / purge
def test_soft_delete_hides_and_put_restores(store: Store) -> None:
    store.upsert_many([cust(1), cust(2)])
    store.delete("c1", source="gdpr request")
    with pytest.raises(NotFoundError):
        store.get("c1")
    deleted = store.get("c1", include_deleted=True)
    assert deleted.version == 2
    assert store.count() == 1 and store.count(include_deleted=True) == 2
    assert "c1" not in store.get_many(["c1"])
    assert [c.id for c in store.scan()] == ["c2"]
    assert [c.id for c in store.scan(include_deleted=True)] == ["c1", "c2"]
    store.delete("c1")  # again: nothing to do
    assert store.get("c1", include_deleted=True).version == 2
    with pytest.raises(ConcurrencyError):
        store.put(cust(1))
    assert store.put(deleted.evolve(company="back")).version == 3
    assert store.get("c1").company == "back"
    actions = [(e.action, e.source) for e in store.history("c1")]
    assert actions == [("create", None), ("delete", "gdpr request"), ("restore", None)]
    with pytest.raises(NotFoundError):
        store.delete("nobody")


def test_purge_removes_every_trace(store: Store) -> None:
    store.upsert_many([cust(1), cust(2)])
    at = dt.datetime(2026, 1, 1, tzinfo=UTC)
    store.add_transactions([Transaction(customer_id=c, at=at, amount=Decimal("9.90")) for c in ("c1", "c2")])
    store.add_interactions([Interaction(customer_id="c1", at=at)])
    store.purge("c1")
    with pytest.raises(NotFoundError):
        store.get("c1", include_deleted=True)
    assert store.history("c1") == []
    assert store.transactions("c1") == [] and store.interactions("c1") == []
    assert len(store.transactions()) == 1
    assert store.find(phone="+8613800000001") == []
    assert store.count(include_deleted=True) == 1
    with pytest.raises(NotFoundError):
        store.purge("c1")
    store.put(cust(1))  # the id is free again
    assert store.get("c1").version == 1


# ------------------------------------------------------------------------------------------ scan / count
def test_scan_pages_in_id_order_with_filters(store: Store) -> None:
    cs = [
        cust(
            i, tags=["vip"] if i % 3 == 0 else [], channel="website" if i % 2 else "store", owner=f"o{i % 4}"
        )
        for i in range(1200)
    ]
    store.upsert_many(cs)
    ids = sorted(c.id for c in cs)
    assert [c.id for c in store.scan()] == ids
    page1 = [c.id for c in store.scan(limit=100)]
    page2 = [c.id for c in store.scan(after=page1[-1], limit=100)]
    assert page1 + page2 == ids[:200]
    assert [c.id for c in store.scan(tag="vip")] == sorted(c.id for c in cs if "vip" in c.tags)
    assert [c.id for c in store.scan(channel="website", owner="o1", limit=5)] == [
        c.id
        for c in sorted(cs, key=lambda c: c.id)
        if c.channel and c.channel.value == "website" and c.owner == "o1"
    ][:5]
    assert [c.id for c in store.scan(where=lambda c: c.id.endswith("99"))] == sorted(
        c.id for c in cs if c.id.endswith("99")
    )
    assert list(store.scan(limit=0)) == []
    assert store.count() == 1200


def test_scan_changed_since(store: Store) -> None:
    store.upsert_many([cust(i) for i in range(3)])
    mark = dt.datetime.now(UTC)
    store.put(store.get("c1").evolve(company="changed"))
    assert [c.id for c in store.scan(changed_since=mark)] == ["c1"]
    assert len(list(store.scan(changed_since=mark - dt.timedelta(hours=1)))) == 3


# ------------------------------------------------------------------------------------------ history
def test_history_records_every_field_change(store: Store) -> None:
    before = dt.datetime.now(UTC)
    store.put(cust(1), source="import")
    c = store.get("c1")
    store.put(c.evolve(phones=[{"number": "+8613911112222"}], company="ACME"), source="crm")
    store.upsert_many([store.get("c1").evolve(company="ACME Ltd")], source="erp sync")
    h = store.history("c1")
    assert all(isinstance(e, HistoryEntry) for e in h)
    assert [(e.version, e.action, e.source) for e in h] == [
        (1, "create", "import"),
        (2, "update", "crm"),
        (3, "update", "erp sync"),
    ]
    assert all(before - dt.timedelta(seconds=1) <= e.at <= dt.datetime.now(UTC) for e in h)
    created = {ch.field: (ch.old, ch.new) for ch in h[0].changes}
    assert created["phones"][1][0]["number"] == "+8613800000001"
    assert created["name"] == (None, {"full": "客户1", "family": None, "given": None})
    assert "version" not in created
    second = {ch.field: (ch.old, ch.new) for ch in h[1].changes}
    assert set(second) == {"phones", "company"}
    assert second["phones"][0][0]["number"] == "+8613800000001"
    assert second["phones"][1][0]["number"] == "+8613911112222"
    assert second["company"] == (None, "ACME")
    assert [(ch.field, ch.old, ch.new) for ch in h[2].changes] == [("company", "ACME", "ACME Ltd")]
    assert store.history("nobody") == []


def test_history_of_a_bulk_created_customer(store: Store) -> None:
    store.upsert_many([cust(5, company="A")], source="bulk")
    store.put(store.get("c5").evolve(company="B"))
    h = store.history("c5")
    assert h[0].action == "create" and h[0].source == "bulk"
    assert {c.field: c.new for c in h[0].changes}["company"] == "A"


# ------------------------------------------------------------------------------------------ activity
def test_transactions_and_interactions_by_customer_and_time(store: Store) -> None:
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    tz8 = dt.timezone(dt.timedelta(hours=8))
    txns = [
        Transaction(customer_id=f"c{i % 3}", at=t0 + dt.timedelta(days=i), amount=Decimal(i) + Decimal("0.5"))
        for i in range(10)
    ]
    txns.append(
        Transaction(customer_id="c1", at=dt.datetime(2026, 1, 3, 9, tzinfo=tz8), amount="1", id="o-1")
    )
    assert store.add_transactions(txns) == 11
    c1 = store.transactions("c1")
    assert [t.at for t in c1] == sorted(t.at for t in c1)
    assert len(c1) == 4
    window = store.transactions(start=t0 + dt.timedelta(days=2), end=t0 + dt.timedelta(days=5))
    assert [t.amount for t in window] == [Decimal("2.5"), Decimal("1"), Decimal("3.5"), Decimal("4.5")]
    assert window[1].at.utcoffset() == dt.timedelta(hours=8)  # kept as given
    assert window[1] == txns[-1]
    # an id replaces the stored transaction with that id
    store.add_transactions([Transaction(customer_id="c1", at=t0, amount="2", id="o-1")])
    assert [t.amount for t in store.transactions("c1") if t.id == "o-1"] == [Decimal("2")]
    assert len(store.transactions()) == 11
    inter = [
        Interaction(customer_id="c1", at=t0 + dt.timedelta(hours=h), kind="call", nps=h) for h in range(4)
    ]
    assert store.add_interactions(inter) == 4
    assert (
        store.interactions("c1", start=t0 + dt.timedelta(hours=1), end=t0 + dt.timedelta(hours=3))
        == inter[1:3]
    )
    assert store.interactions("c2") == []
    with pytest.raises(ValidationError):
        store.add_transactions([inter[0]])  # type: ignore[list-item]


# ------------------------------------------------------------------------------------------ transactions
def test_transaction_block_is_all_or_nothing(store: Store) -> None:
    store.put(cust(1))

    def work() -> None:
        with store.transaction():
            store.put(cust(2))
            store.put(store.get("c1").evolve(company="x"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        work()
    assert store.count() == 1 and store.get("c1").company is None
    with store.transaction() as s:
        s.put(cust(2))
        s.upsert_many([cust(3)])
    assert store.count() == 3


def test_nested_transaction_undoes_only_the_inner_block(store: Store) -> None:
    def inner() -> None:
        with store.transaction():
            store.put(cust(2))
            store.put(cust(1))  # stale: version 0, stored 1

    with store.transaction():
        store.put(cust(1))
        with pytest.raises(ConcurrencyError):
            inner()
    assert sorted(c.id for c in store.scan()) == ["c1"]


def test_closed_store_refuses_work(backend) -> None:  # type: ignore[no-untyped-def]
    with backend.open() as s:
        s.put(cust(1))
    with pytest.raises(StoreError):
        s.get("c1")
    s.close()  # closing twice is fine


# ------------------------------------------------------------------------------------------ persistence
def test_durable_across_reopen(persistent_backend) -> None:  # type: ignore[no-untyped-def]
    with persistent_backend.open() as s:
        s.upsert_many([cust(i) for i in range(100)])
        s.delete("c5")
        s.add_transactions(
            [Transaction(customer_id="c1", at=dt.datetime(2026, 1, 1, tzinfo=UTC), amount="1")]
        )
    with persistent_backend.open() as s:
        assert s.count() == 99
        assert [c.id for c in s.find(phone="13800000042")] == ["c42"]
        assert len(s.transactions("c1")) == 1
        assert [e.action for e in s.history("c5")] == ["create", "delete"]


def test_sqlite_refuses_a_newer_schema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = "sqlite:///" + str(tmp_path / "s.db")
    with custdata.open_store(url) as s:
        s.put(cust(1))
    con = sqlite3.connect(tmp_path / "s.db")
    con.execute("UPDATE cd_meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(SchemaVersionError, match="99"):
        custdata.open_store(url)


@pytest.mark.postgres
def test_postgres_refuses_a_newer_schema(postgres_server) -> None:  # type: ignore[no-untyped-def]
    from storage_backends import pg_backend

    b = pg_backend(postgres_server)
    try:
        with b.open() as s:
            s.put(cust(1))
            s._exec("UPDATE cd_meta SET value = '7' WHERE key = 'schema_version'")  # type: ignore[attr-defined]
        with pytest.raises(SchemaVersionError, match="7"):
            b.open()
    finally:
        b.cleanup()


def test_sqlite_url_forms(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    with custdata.open_store("sqlite:///rel.db") as s:
        s.put(cust(1))
    assert (tmp_path / "rel.db").exists()
    with custdata.open_store("sqlite://") as s:  # private in-memory database
        s.put(cust(1))
        assert s.count() == 1
    with pytest.raises(StoreError, match="does not exist"):
        custdata.open_store("sqlite:///" + str(tmp_path / "no" / "such" / "x.db"))


# ------------------------------------------------------------------------------------------ maintenance
def test_optimize_after_a_bulk_load_keeps_everything_and_refuses_inside_a_transaction(store: Store) -> None:
    store.upsert_many([cust(i) for i in range(300)])
    before = [c.to_dict() for c in store.scan()]
    store.optimize()
    assert [c.to_dict() for c in store.scan()] == before
    assert [c.id for c in store.find(phone="+8613800000007")] == ["c7"]
    if not store.url.startswith("memory"):  # type: ignore[attr-defined]
        with store.transaction(), pytest.raises(StoreError, match="inside a transaction"):
            store.optimize()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.optimize()
