"""Store schema 2: the transaction figures rules read are plain columns, written with every record and
backfilled when an older store is opened; the segment queries read them through their indexes."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
from custdata import Interaction, Transaction
from custdata.storage import STORE_SCHEMA_VERSION
from custdata.storage._sql import amount_u

TXS = [
    Transaction(customer_id="a", at="2026-01-02T23:30:00+08:00", amount="12.5", currency="CNY"),
    Transaction(customer_id="a", at="2026-01-03T01:00:00-05:00", amount="-2.000001", currency="CNY", id="t1"),
    Transaction(customer_id="b", at="2026-01-04T10:00:00+00:00", amount="0.0000001"),
    Transaction(customer_id="b", at="2026-01-05T10:00:00+00:00", amount="1000000000000"),
]
CONTACTS = [Interaction(customer_id="a", at="2026-01-02T23:30:00+08:00")]
WANT_TX = [
    ("a", "2026-01-02", 12_500_000, "CNY"),
    ("a", "2026-01-03", -2_000_001, "CNY"),
    ("b", "2026-01-04", None, None),  # seven decimals: not exact in millionths
    ("b", "2026-01-05", None, None),  # thirteen integer digits
]


@settings(max_examples=300, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_amount_u_is_exact_or_none(amount: Decimal) -> None:
    got = amount_u(amount)
    if got is None:
        assert abs(amount) >= 10**12 or amount * 10**6 != int(amount * 10**6)
    else:
        assert Decimal(got) / 10**6 == amount and abs(got) < 10**18


def _columns(store: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    tx = store.query_sql("SELECT customer_id, day, amount_u, currency FROM cd_transactions ORDER BY seq")
    ia = store.query_sql("SELECT customer_id, day FROM cd_interactions ORDER BY seq")
    return [tuple(r) for r in tx], [tuple(r) for r in ia]


def _v1_store(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store at schema 1 holding TXS and CONTACTS, written as custdata 0.x wrote them (bodies only)."""
    from custdata.storage import _sql
    from custdata.storage._core import encode, ts
    from custdata.storage._postgres import PostgresStore
    from custdata.storage._sqlite import SQLiteStore

    monkeypatch.setattr(_sql, "STORE_SCHEMA_VERSION", 1)
    for cls in (SQLiteStore, PostgresStore):
        monkeypatch.setattr(cls, "migrations", cls.migrations[:1])
    store: Any = custdata.open_store(url)
    with store.transaction():
        for table, items in (("cd_transactions", TXS), ("cd_interactions", CONTACTS)):
            for item in items:
                store._exec(
                    f"INSERT INTO {table} (id, customer_id, at, body) VALUES (?, ?, ?, ?)",
                    (item.id, item.customer_id, ts(item.at), encode(item.to_dict())),
                )
    store.close()
    monkeypatch.undo()


def _check_migrated(url: str) -> None:
    with custdata.open_store(url) as store:
        assert store.query_sql("SELECT value FROM cd_meta WHERE key = 'schema_version'") == [
            (str(STORE_SCHEMA_VERSION),)
        ]
        tx, ia = _columns(store)
        assert tx == WANT_TX
        assert ia == [("a", "2026-01-02")]
        # and the write path fills them the same way
        store.add_transactions([TXS[1]])  # replaces t1 by id
        store.add_transactions([TXS[0]])
        tx, _ = _columns(store)
        assert sorted(tx, key=str) == sorted([*WANT_TX, WANT_TX[0]], key=str)
        assert store.transactions() == sorted([*TXS, TXS[0]], key=lambda t: t.at)  # bodies untouched


def test_sqlite_store_migrates_with_a_backfill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "sqlite:///" + str(tmp_path / "old.db")
    _v1_store(url, monkeypatch)
    con = sqlite3.connect(tmp_path / "old.db")
    assert "amount_u" not in {r[1] for r in con.execute("PRAGMA table_info(cd_transactions)")}
    con.close()
    _check_migrated(url)


@pytest.mark.postgres
def test_postgres_store_migrates_with_a_backfill(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.storage.storage_backends import with_query

    _v1_store(url := with_query(pg_url, schema="mig_" + uuid.uuid4().hex[:12]), monkeypatch)
    _check_migrated(url)


def test_new_stores_write_the_columns() -> None:
    with custdata.open_store("sqlite://") as store:
        store.add_transactions(TXS)
        store.add_interactions(CONTACTS)
        tx, ia = _columns(store)
        assert sorted(tx, key=str) == sorted(WANT_TX, key=str) and ia == [("a", "2026-01-02")]


def test_a_corrupt_body_stops_the_migration_with_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custdata.exceptions import StoreError

    url = "sqlite:///" + str(tmp_path / "old.db")
    _v1_store(url, monkeypatch)
    con = sqlite3.connect(tmp_path / "old.db")
    con.execute("UPDATE cd_transactions SET body = '{\"at\": 1}' WHERE seq = 2")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="seq 2"):
        custdata.open_store(url)
    con = sqlite3.connect(tmp_path / "old.db")  # nothing changed: the migration is one transaction
    assert con.execute("SELECT value FROM cd_meta WHERE key = 'schema_version'").fetchone() == ("1",)
    con.close()


def test_dates_are_the_local_day_as_profiles_count_it() -> None:
    at = dt.datetime(2026, 1, 2, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    t = Transaction(customer_id="a", at=at, amount="1")
    with custdata.open_store("sqlite://") as store:
        store.add_transactions([t])
        assert store.query_sql("SELECT day, at FROM cd_transactions") == [
            ("2026-01-02", "2026-01-02T15:30:00.000000")
        ]
