"""Store schema 5: the history's write-time index (``cd_history_at``) that change events page through. A
store written by schema 4 gets it when it is opened, and the events query then reads it through the index
on SQLite, PostgreSQL and MariaDB (each planner asked with its own EXPLAIN)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

import custdata
from custdata.storage import STORE_SCHEMA_VERSION, change_events
from custdata.testing.stores import cust
from tests.storage.mariadb_server import MariaDBServer
from tests.storage.storage_backends import PostgresServer, with_query

_N = 400  # customers: enough history that the planners (after ANALYZE) prefer an index to a scan


def _schema4_store(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store created by a custdata at store schema 4 (no history index), holding some history."""
    from custdata.storage import _sql
    from custdata.storage._mariadb import MariaDBStore
    from custdata.storage._postgres import PostgresStore
    from custdata.storage._sqlite import SQLiteStore

    with monkeypatch.context() as m:
        m.setattr(_sql, "STORE_SCHEMA_VERSION", 4)
        for cls in (SQLiteStore, PostgresStore, MariaDBStore):
            m.setattr(cls, "migrations", cls.migrations[:4])
        store: Any = custdata.open_store(url)
        if isinstance(store, MariaDBStore):  # MariaDB's schema 1 had the index: drop it to test the step
            store._raw("DROP INDEX cd_history_at ON cd_history")
        store.upsert_many([cust(i) for i in range(1, _N + 1)], source="import.csv")
        store.put(store.get("c1").evolve(company="ACME"))
        assert store._schema_version() == 4
        assert not _has_history_index(store)
        store.close()


def _has_history_index(store: Any) -> bool:
    from custdata.storage._mariadb import MariaDBStore
    from custdata.storage._postgres import PostgresStore

    if isinstance(store, PostgresStore):
        sql = "SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'cd_history_at'"
    elif isinstance(store, MariaDBStore):
        sql = (
            "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() "
            "AND table_name = 'cd_history' AND index_name = 'cd_history_at'"
        )
    else:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'cd_history_at'"
    return bool(store._all(sql))


def _events_query(store: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[str, tuple[Any, ...]]:
    """The SQL (and parameters) change_events sends for a page after a cursor, as it sends it."""
    seen: list[tuple[str, tuple[Any, ...]]] = []
    real = store._all

    def spy(sql: str, params: tuple[Any, ...] = ()) -> Any:
        if "FROM cd_history" in sql:
            seen.append((sql, tuple(params)))
        return real(sql, params)

    # a consumer polling near the end (its cursor inside the bulk load, whose rows share one time stamp)
    cursor = list(change_events(store))[-8].id
    with monkeypatch.context() as m:
        m.setattr(store, "_all", spy)
        assert len(list(change_events(store, after=cursor, limit=5))) == 5
    assert seen, "change_events did not query cd_history"
    return seen[0]


def _plan(store: Any, prefix: str, monkeypatch: pytest.MonkeyPatch) -> str:
    sql, params = _events_query(store, monkeypatch)
    return " ".join(" ".join(str(c) for c in row) for row in store._all(prefix + sql, params))


def _check_migrated(url: str, prefix: str, monkeypatch: pytest.MonkeyPatch) -> str:
    with custdata.open_store(url) as store:
        s: Any = store
        s.optimize()  # the planners' statistics (ANALYZE), as a maintained store has them
        assert s._schema_version() == STORE_SCHEMA_VERSION == 5
        assert _has_history_index(s)
        assert [e.type for e in change_events(store)].count("created") == _N  # the history is intact
        return _plan(s, prefix, monkeypatch)


def test_sqlite_migrates_and_the_events_query_uses_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "sqlite:///" + str(tmp_path / "old.db")
    _schema4_store(url, monkeypatch)
    with monkeypatch.context() as m:  # before: no such index (the plan the test guards against)
        from custdata.storage import _sql
        from custdata.storage._sqlite import SQLiteStore

        m.setattr(_sql, "STORE_SCHEMA_VERSION", 4)
        m.setattr(SQLiteStore, "migrations", SQLiteStore.migrations[:4])
        with custdata.open_store(url) as old:
            assert "cd_history_at" not in _plan(old, "EXPLAIN QUERY PLAN ", monkeypatch)
    plan = _check_migrated(url, "EXPLAIN QUERY PLAN ", monkeypatch)
    # a range search from the cursor (not a scan of the whole index), in index order: no sort
    assert "SEARCH cd_history USING INDEX cd_history_at ((at,customer_id,version)>(?,?,?))" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_a_new_sqlite_store_has_the_index() -> None:
    with custdata.open_store("sqlite://") as store:
        assert _has_history_index(store)


@pytest.fixture
def pg_schema_url(postgres_server: PostgresServer) -> str:
    return with_query(postgres_server.url, schema="ev_" + uuid.uuid4().hex[:12])


@pytest.mark.postgres
def test_postgres_migrates_and_the_events_query_uses_the_index(
    pg_schema_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _schema4_store(pg_schema_url, monkeypatch)
    plan = _check_migrated(pg_schema_url, "EXPLAIN ", monkeypatch)
    assert (
        "Index Scan using cd_history_at" in plan
        and "Sort" not in plan
        and "Index Cond: (ROW(at, customer_id, version) > ROW(" in plan
    ), plan


@pytest.mark.mariadb
def test_mariadb_migrates_and_the_events_query_uses_the_index(
    mariadb_server: MariaDBServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, drop = mariadb_server.database()
    try:
        _schema4_store(url, monkeypatch)
        _check_migrated(url, "EXPLAIN ", monkeypatch)
        with custdata.open_store(url) as store:
            s: Any = store
            sql, params = _events_query(s, monkeypatch)
            (row,) = s._all("EXPLAIN " + sql, params)  # id, select_type, table, type, possible_keys, key, ...
            assert (row[3], row[5]) == ("range", "cd_history_at") and "filesort" not in str(row[-1]), row
    finally:
        drop()
