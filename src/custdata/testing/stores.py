"""The store contract suite, as test classes a backend's own tests inherit (as ``fsspec.tests.abstract``).

A plug-in author (see docs/storage.md) runs the same tests on their backend as custdata runs on memory,
SQLite and PostgreSQL: subclass :class:`StoreTests` in a test module and give it a ``store`` fixture that
yields a new, empty store (and closes it afterwards)::

    import pytest
    from custdata.testing.stores import StoreTests

    class TestMyStore(StoreTests):
        @pytest.fixture
        def store(self):
            with open_store("mine://test") as s:
                yield s

A backend that keeps its data across a reopen also inherits :class:`PersistentStoreTests` and gives a
``reopen`` fixture (a function returning a new handle on the same data); one with the SQL hook inherits
:class:`SQLHookTests`. Each class covers one protocol of :mod:`custdata.storage`, so a backend that offers
only some of them (a read-only lookup service: :class:`LookupTests`) can take only those. Needs pytest and
hypothesis (``pip install 'custdata[testing]'``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from custdata.exceptions import MissingExtraError

try:
    import pytest
except ImportError as exc:  # pragma: no cover - only without the extra
    raise MissingExtraError("testing", "custdata.testing.stores", ["pytest"]) from exc

from custdata._records import Customer, Interaction, Transaction
from custdata.exceptions import (
    ConcurrencyError,
    CustdataError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from custdata.storage import (
    ActivityStore,
    CustomerLookup,
    CustomerReader,
    CustomerWriter,
    HistoryEntry,
    SQLQueryable,
    Store,
    UpsertResult,
)

__all__ = [
    "ActivityTests",
    "ArgumentTests",
    "BulkTests",
    "CustomerTests",
    "LifecycleTests",
    "LookupTests",
    "PersistentStoreTests",
    "SQLHookTests",
    "StoreTests",
    "cust",
]

UTC = dt.timezone.utc


def cust(i: int, **extra: object) -> Customer:
    """Customer ``c{i}`` with a name, a mobile phone and an e-mail derived from ``i`` (and ``extra``)."""
    return Customer.from_dict(
        {
            "id": f"c{i}",
            "name": {"full": f"客户{i}"},
            "phones": [{"number": f"+86138{i:08d}", "kind": "mobile", "primary": True}],
            "emails": [{"address": f"user{i}@example.com"}],
            **extra,
        }
    )


class CustomerTests:
    """put, get, get_many, delete, purge, scan, count and history: versions, soft deletes, paging."""

    def test_store_satisfies_the_protocol(self, store: Store) -> None:
        assert isinstance(store, Store)
        assert store.count() == 0

    def test_put_get_round_trip_with_versions(self, store: Store) -> None:
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

    def test_a_new_record_keeps_counting_from_its_own_version(self, store: Store) -> None:
        store.put(cust(1).evolve(version=5))
        assert store.get("c1").version == 6

    def test_stale_put_raises_and_changes_nothing(self, store: Store) -> None:
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

    def test_get_missing_raises_not_found(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.get("nobody")
        with pytest.raises(KeyError):
            store.get("nobody")

    def test_get_many_leaves_out_missing(self, store: Store) -> None:
        store.upsert_many([cust(i) for i in range(5)])
        got = store.get_many(["c3", "x", "c1", "c3"])
        assert list(got) == ["c3", "c1"]
        assert got["c1"].name.full == "客户1"

    def test_soft_delete_hides_and_put_restores(self, store: Store) -> None:
        store.upsert_many([cust(1), cust(2)])
        store.delete("c1", source="gdpr request")
        with pytest.raises(NotFoundError):
            store.get("c1")
        deleted = store.get("c1", include_deleted=True)
        assert deleted.version == 2
        assert store.count() == 1
        assert store.count(include_deleted=True) == 2
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

    def test_purge_removes_every_trace(self, store: Store) -> None:
        store.upsert_many([cust(1), cust(2)])
        at = dt.datetime(2026, 1, 1, tzinfo=UTC)
        store.add_transactions(
            [Transaction(customer_id=c, at=at, amount=Decimal("9.90")) for c in ("c1", "c2")]
        )
        store.add_interactions([Interaction(customer_id="c1", at=at)])
        store.purge("c1")
        with pytest.raises(NotFoundError):
            store.get("c1", include_deleted=True)
        assert store.history("c1") == []
        assert store.transactions("c1") == []
        assert store.interactions("c1") == []
        assert len(store.transactions()) == 1
        assert store.find(phone="+8613800000001") == []
        assert store.count(include_deleted=True) == 1
        with pytest.raises(NotFoundError):
            store.purge("c1")
        store.put(cust(1))  # the id is free again
        assert store.get("c1").version == 1

    def test_scan_pages_in_id_order_with_filters(self, store: Store) -> None:
        cs = [
            cust(
                i,
                tags=["vip"] if i % 3 == 0 else [],
                channel="website" if i % 2 else "store",
                owner=f"o{i % 4}",
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

    def test_scan_changed_since(self, store: Store) -> None:
        store.upsert_many([cust(i) for i in range(3)])
        mark = dt.datetime.now(UTC)
        store.put(store.get("c1").evolve(company="changed"))
        assert [c.id for c in store.scan(changed_since=mark)] == ["c1"]
        assert len(list(store.scan(changed_since=mark - dt.timedelta(hours=1)))) == 3

    def test_history_records_every_field_change(self, store: Store) -> None:
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

    def test_history_of_a_bulk_created_customer(self, store: Store) -> None:
        store.upsert_many([cust(5, company="A")], source="bulk")
        store.put(store.get("c5").evolve(company="B"))
        h = store.history("c5")
        assert h[0].action == "create"
        assert h[0].source == "bulk"
        assert {c.field: c.new for c in h[0].changes}["company"] == "A"


class BulkTests:
    """upsert_many: atomic, chunked, dicts accepted, errors= honoured with skipped counted."""

    def test_upsert_many_inserts_then_updates(self, store: Store) -> None:
        r = store.upsert_many([cust(i) for i in range(10)])
        assert (r.inserted, r.updated, r.written) == (10, 0, 10)
        assert store.count() == 10
        r = store.upsert_many([cust(i, company="X") for i in range(5, 15)])
        assert (r.inserted, r.updated) == (5, 5)
        assert store.get("c7").version == 2
        assert store.get("c7").company == "X"
        assert store.get("c12").version == 1
        assert store.count() == 15

    def test_upsert_many_of_uneven_chunks_indexes_every_key(self, store: Store) -> None:
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

    def test_upsert_many_accepts_dicts_and_keeps_the_last_of_a_repeated_id(self, store: Store) -> None:
        store.upsert_many([{"id": "d1", "company": "one"}, cust(2), {"id": "d1", "company": "two"}])
        assert store.get("d1").company == "two"
        assert store.count() == 2

    def test_upsert_many_is_atomic_on_a_bad_item(self, store: Store) -> None:
        store.put(cust(0))
        items: list[object] = [cust(i, company="new") for i in range(3000)]
        items.insert(2500, {"id": "bad", "birthday": "not a date"})
        with pytest.raises(ValidationError) as info:
            store.upsert_many(items)  # type: ignore[arg-type]
        assert "birthday" in str(info.value)
        assert store.count() == 1
        assert store.get("c0").company is None

    def test_upsert_many_skip_and_collect(self, store: Store) -> None:
        items: list[object] = [cust(1), {"id": "bad", "birthday": "nope"}, 42, cust(2)]
        r = store.upsert_many(items, errors="skip")  # type: ignore[arg-type]
        assert (r.written, r.problems, r.skipped) == (2, (), 2)
        r = store.upsert_many(items, errors="collect")  # type: ignore[arg-type]
        assert isinstance(r, UpsertResult)
        assert r.updated == 2
        assert [(p.index, p.id) for p in r.problems] == [(1, "bad"), (2, None)]
        assert r.skipped == 2
        assert "birthday" in str(r.problems[0])
        with pytest.raises(ValidationError):
            store.upsert_many([], errors="ignore")  # type: ignore[arg-type]

    def test_upsert_many_can_check_versions(self, store: Store) -> None:
        store.upsert_many([cust(1), cust(2)])
        with pytest.raises(ConcurrencyError):
            store.upsert_many([cust(1, company="x")], check_versions=True)  # version 0, stored 1
        assert store.get("c1").company is None
        r = store.upsert_many(
            [store.get("c1").evolve(company="ok"), cust(2, company="stale")],
            check_versions=True,
            errors="collect",
        )
        assert r.updated == 1
        assert [p.id for p in r.problems] == ["c2"]
        assert isinstance(r.problems[0].error, ConcurrencyError)
        assert store.get("c1").company == "ok"
        assert store.get("c2").company is None


class LookupTests:
    """find by normalised phone, e-mail match key and external id (what a Matcher needs)."""

    def test_find_by_normalised_phone_email_and_external_id(self, store: Store) -> None:
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

    def test_find_uses_provider_match_keys_and_shared_numbers(self, store: Store) -> None:
        store.put(Customer.from_dict({"id": "a", "emails": [{"address": "Zhang.Wei@gmail.com"}]}))
        store.put(Customer.from_dict({"id": "b", "phones": [{"number": "13800138000"}]}))
        store.put(Customer.from_dict({"id": "c", "phones": [{"number": "+86 138 0013 8000"}]}))
        store.put(Customer.from_dict({"id": "d", "phones": [{"number": "not a number"}]}))
        assert [c.id for c in store.find(email="zhangwei+shop@googlemail.com")] == ["a"]
        assert [c.id for c in store.find(phone="+8613800138000")] == ["b", "c"]
        assert [c.id for c in store.find(phone="not a number")] == ["d"]

    def test_find_follows_updates_and_deletes(self, store: Store) -> None:
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


class ActivityTests:
    """transactions and interactions by customer and time (start and end both inclusive)."""

    def test_transactions_and_interactions_by_customer_and_time(self, store: Store) -> None:
        t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
        tz8 = dt.timezone(dt.timedelta(hours=8))
        txns = [
            Transaction(
                customer_id=f"c{i % 3}", at=t0 + dt.timedelta(days=i), amount=Decimal(i) + Decimal("0.5")
            )
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
        assert [t.amount for t in window] == [
            Decimal("2.5"),
            Decimal("1"),
            Decimal("3.5"),
            Decimal("4.5"),
            Decimal("5.5"),  # at the end itself: the end is inclusive
        ]
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
            == inter[1:4]
        )
        assert store.interactions("c2") == []
        with pytest.raises(ValidationError):
            store.add_transactions([inter[0]])  # type: ignore[list-item]

    def test_the_end_is_inclusive_to_the_microsecond(self, store: Store) -> None:
        end = dt.datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)
        tz8 = dt.timezone(dt.timedelta(hours=8))
        store.add_transactions(
            [
                Transaction(customer_id="c1", at=end, amount="1", id="at-end"),
                Transaction(customer_id="c1", at=end + dt.timedelta(microseconds=1), amount="1", id="after"),
                Transaction(customer_id="c1", at=end.astimezone(tz8), amount="1", id="same-instant"),
            ]
        )
        assert {t.id for t in store.transactions("c1", end=end)} == {"at-end", "same-instant"}
        assert {t.id for t in store.transactions("c1", start=end)} == {"at-end", "after", "same-instant"}
        assert {t.id for t in store.transactions(end=end.astimezone(tz8))} == {"at-end", "same-instant"}
        with pytest.raises(ValidationError):
            store.transactions(end=dt.datetime(2026, 3, 31))  # naive: which time zone?


class LifecycleTests:
    """transaction() blocks (all or nothing, nested), optimize(), close()."""

    def test_transaction_block_is_all_or_nothing(self, store: Store) -> None:
        store.put(cust(1))

        def work() -> None:
            with store.transaction():
                store.put(cust(2))
                store.put(store.get("c1").evolve(company="x"))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            work()
        assert store.count() == 1
        assert store.get("c1").company is None
        with store.transaction() as s:
            s.put(cust(2))
            s.upsert_many([cust(3)])
        assert store.count() == 3

    def test_a_closed_store_refuses_work(self, store: Store) -> None:
        store.put(cust(1))
        store.close()
        with pytest.raises(StoreError):
            store.get("c1")
        with pytest.raises(StoreError):
            store.put(cust(2))
        store.close()  # closing twice is fine

    def test_nested_transaction_undoes_only_the_inner_block(self, store: Store) -> None:
        def inner() -> None:
            with store.transaction():
                store.put(cust(2))
                store.put(cust(1))  # stale: version 0, stored 1

        with store.transaction():
            store.put(cust(1))
            with pytest.raises(ConcurrencyError):
                inner()
        assert sorted(c.id for c in store.scan()) == ["c1"]

    def test_optimize_keeps_everything_and_refuses_inside_a_transaction(self, store: Store) -> None:
        store.upsert_many([cust(i) for i in range(300)])
        before = [c.to_dict() for c in store.scan()]
        store.optimize()
        assert [c.to_dict() for c in store.scan()] == before
        assert [c.id for c in store.find(phone="+8613800000007")] == ["c7"]
        with store.transaction(), pytest.raises(StoreError, match="inside a transaction"):
            store.optimize()
        store.optimize()  # and fine again afterwards
        store.close()
        with pytest.raises(StoreError, match="closed"):
            store.optimize()


_AWARE = dt.datetime(2026, 1, 1, tzinfo=UTC)

#: Calls with a wrong argument type or an impossible value: each must raise ValidationError, on every
#: backend, before anything is written.
BAD_CALLS: list[tuple[str, Callable[[Store], Any]]] = [
    ("get(5)", lambda s: s.get(5)),  # type: ignore[arg-type]
    ("get(None)", lambda s: s.get(None)),  # type: ignore[arg-type]
    ("get('a\\x00')", lambda s: s.get("a\x00")),
    ("get(lone surrogate)", lambda s: s.get("\ud800")),
    ("get(include_deleted='yes')", lambda s: s.get("c1", include_deleted="yes")),  # type: ignore[arg-type]
    ("get_many(5)", lambda s: s.get_many(5)),  # type: ignore[arg-type]
    ("get_many('c1')", lambda s: s.get_many("c1")),
    ("get_many([5])", lambda s: s.get_many([5])),  # type: ignore[list-item]
    ("find(phone=123)", lambda s: s.find(phone=123)),  # type: ignore[arg-type]
    ("find(email=b'x')", lambda s: s.find(email=b"x")),  # type: ignore[arg-type]
    ("find(external_id=('erp',))", lambda s: s.find(external_id=("erp",))),  # type: ignore[arg-type]
    ("find(external_id=('erp', 1))", lambda s: s.find(external_id=("erp", 1))),  # type: ignore[arg-type]
    ("find(phone='\\x00')", lambda s: s.find(phone="\x00")),
    ("find(email=lone surrogate)", lambda s: s.find(email="a\udc80@example.com")),
    ("find()", lambda s: s.find()),
    ("scan(after=5)", lambda s: list(s.scan(after=5))),  # type: ignore[arg-type]
    ("scan(limit='10')", lambda s: list(s.scan(limit="10"))),  # type: ignore[arg-type]
    ("scan(limit=-1)", lambda s: list(s.scan(limit=-1))),
    ("scan(limit=True)", lambda s: list(s.scan(limit=True))),
    ("scan(tag=1)", lambda s: list(s.scan(tag=1))),  # type: ignore[arg-type]
    ("scan(changed_since='2026-01-01')", lambda s: list(s.scan(changed_since="2026-01-01"))),  # type: ignore[arg-type]
    ("scan(changed_since=naive)", lambda s: list(s.scan(changed_since=dt.datetime(2026, 1, 1)))),
    ("scan(where=1)", lambda s: list(s.scan(where=1))),  # type: ignore[arg-type]
    ("count(include_deleted=1)", lambda s: s.count(include_deleted=1)),  # type: ignore[arg-type]
    ("history(None)", lambda s: s.history(None)),  # type: ignore[arg-type]
    ("put(None)", lambda s: s.put(None)),  # type: ignore[arg-type]
    ("put([])", lambda s: s.put([])),  # type: ignore[arg-type]
    ("put(source=1)", lambda s: s.put(cust(1), source=1)),  # type: ignore[arg-type]
    ("upsert_many(None)", lambda s: s.upsert_many(None)),  # type: ignore[arg-type]
    ("upsert_many(a customer)", lambda s: s.upsert_many(cust(1))),  # type: ignore[arg-type]
    ("upsert_many(errors='ignore')", lambda s: s.upsert_many([], errors="ignore")),  # type: ignore[arg-type]
    ("upsert_many(check_versions=None)", lambda s: s.upsert_many([], check_versions=None)),  # type: ignore[arg-type]
    ("delete(5)", lambda s: s.delete(5)),  # type: ignore[arg-type]
    ("purge(['c1'])", lambda s: s.purge(["c1"])),  # type: ignore[arg-type]
    ("add_transactions(None)", lambda s: s.add_transactions(None)),  # type: ignore[arg-type]
    ("add_transactions([None])", lambda s: s.add_transactions([None])),  # type: ignore[list-item]
    ("add_interactions(5)", lambda s: s.add_interactions(5)),  # type: ignore[arg-type]
    ("transactions(5)", lambda s: s.transactions(5)),  # type: ignore[arg-type]
    ("transactions(start='2026')", lambda s: s.transactions(start="2026")),  # type: ignore[arg-type]
    ("transactions(end=naive)", lambda s: s.transactions(end=dt.datetime(2026, 1, 1))),
    ("interactions(end=date)", lambda s: s.interactions(end=dt.date(2026, 1, 1))),  # type: ignore[arg-type]
    ("load(None)", lambda s: s.load(None)),  # type: ignore[arg-type]
]


class ArgumentTests:
    """Wrong argument types and impossible values: ValidationError (never a driver's or Python's own
    exception), the same on every backend, and nothing changes."""

    @pytest.mark.parametrize("call", [c for _, c in BAD_CALLS], ids=[n for n, _ in BAD_CALLS])
    def test_a_wrong_argument_is_a_validation_error(self, store: Store, call: Callable[[Store], Any]) -> None:
        store.put(cust(1))
        with pytest.raises(ValidationError):
            call(store)
        assert [c.id for c in store.scan()] == ["c1"]
        assert store.get("c1").version == 1
        assert store.transactions() == []
        assert store.interactions() == []

    def test_the_store_satisfies_each_small_protocol(self, store: Store) -> None:
        for proto in (CustomerLookup, CustomerReader, CustomerWriter, ActivityStore, Store):
            assert isinstance(store, proto), proto.__name__


class StoreTests(CustomerTests, BulkTests, LookupTests, ActivityTests, LifecycleTests, ArgumentTests):
    """The whole contract of :class:`custdata.storage.Store`. Needs a ``store`` fixture (a new, empty
    store, closed afterwards)."""


class PersistentStoreTests:
    """A store that keeps its data: needs ``store`` and ``reopen`` (a function returning a new handle on
    the same data as ``store``)."""

    def test_durable_across_reopen(self, store: Store, reopen: Callable[[], Store]) -> None:
        store.upsert_many([cust(i) for i in range(100)])
        store.delete("c5")
        store.add_transactions([Transaction(customer_id="c1", at=_AWARE, amount="1")])
        store.close()
        with reopen() as s:
            assert s.count() == 99
            assert [c.id for c in s.find(phone="13800000042")] == ["c42"]
            assert len(s.transactions("c1")) == 1
            assert [e.action for e in s.history("c5")] == ["create", "delete"]

    def test_a_failed_transaction_leaves_nothing_behind_after_a_reopen(
        self, store: Store, reopen: Callable[[], Store]
    ) -> None:
        store.put(cust(1))

        def fail() -> None:
            with store.transaction():
                store.upsert_many([cust(i) for i in range(2, 50)])
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            fail()
        store.close()
        with reopen() as s:
            assert [c.id for c in s.scan()] == ["c1"]


class SQLHookTests:
    """The SQL hook (:class:`custdata.storage.SQLQueryable`): read-only statements on the store's tables.
    Needs a ``store`` fixture whose store has the hook."""

    def test_query_sql_reads_the_tables(self, store: Store) -> None:
        assert isinstance(store, SQLQueryable)
        assert store.sql_dialect in ("sqlite", "postgresql", "mariadb")
        store.upsert_many([cust(i) for i in range(5)])
        store.add_transactions([Transaction(customer_id="c1", at=_AWARE, amount="9.5")])
        rows = store.query_sql("SELECT id FROM cd_customers WHERE id > ? ORDER BY id", ["c2"])
        assert rows == [("c3",), ("c4",)]
        assert store.query_sql("SELECT COUNT(*) FROM cd_transactions WHERE customer_id = ?", ("c1",)) == [
            (1,)
        ]

    def test_query_sql_refuses_to_write(self, store: Store) -> None:
        assert isinstance(store, SQLQueryable)
        store.put(cust(1))
        for sql in ("DELETE FROM cd_customers", "UPDATE cd_customers SET version = 9"):
            with pytest.raises(StoreError):
                store.query_sql(sql)
            with store.transaction(), pytest.raises(StoreError):
                store.query_sql(sql)
        assert store.get("c1").version == 1
        store.put(store.get("c1").evolve(company="still writable"))
        assert store.get("c1").version == 2

    def test_query_sql_arguments(self, store: Store) -> None:
        assert isinstance(store, SQLQueryable)
        with pytest.raises(ValidationError):
            store.query_sql(None)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            store.query_sql("SELECT ?", "x")
        with pytest.raises(StoreError):
            store.query_sql("SELECT * FROM no_such_table")
        assert isinstance(StoreError("x"), CustdataError)
