"""The contract every backend keeps: memory, SQLite and a real PostgreSQL server run the same test classes
(``custdata.testing.stores``, the suite a plug-in author runs on their own backend)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

import pytest

import custdata
from custdata.exceptions import SchemaVersionError, StoreError
from custdata.storage import Store
from custdata.testing.stores import PersistentStoreTests, SQLHookTests, StoreTests, cust
from tests.storage.storage_backends import Backend


class TestStoreContract(StoreTests):
    """Every test of the contract, on memory, SQLite and PostgreSQL (conftest's ``store`` fixture)."""


class TestPersistentStores(PersistentStoreTests, SQLHookTests):
    """SQLite and PostgreSQL: what survives a reopen, and the SQL hook."""

    @pytest.fixture
    def store(self, persistent_backend: Backend) -> Iterator[Store]:
        with persistent_backend.open() as s:
            yield s

    @pytest.fixture
    def reopen(self, persistent_backend: Backend) -> Callable[[], Store]:
        return persistent_backend.open


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
    from tests.storage.storage_backends import pg_backend

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
