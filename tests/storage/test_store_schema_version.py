"""Opening a store reads its schema version the same way on every SQL backend (one body in SQLStore; each
backend only says whether a table exists)."""

from __future__ import annotations

from pathlib import Path

import pytest

from custdata.exceptions import StoreError
from custdata.storage._sql import SQLStore
from tests.storage.storage_backends import Backend


def test_tables_without_a_version_are_refused(persistent_backend: Backend) -> None:
    with persistent_backend.open() as s:
        assert isinstance(s, SQLStore)
        assert s._has_table("cd_meta") and s._has_table("cd_customers")
        assert not s._has_table("cd_no_such_table")
        assert s._schema_version() >= 1
        s._raw("DROP TABLE cd_meta")
        assert not s._has_table("cd_meta")
    with pytest.raises(StoreError, match="has custdata tables but no schema version"):
        persistent_backend.open()


def test_a_schema_1_sqlite_store_migrates_to_the_current_version(tmp_path: Path) -> None:
    import sqlite3

    from custdata import Customer, open_store
    from custdata.storage import STORE_SCHEMA_VERSION
    from custdata.storage._sqlite import SQLiteStore

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for stmt in SQLiteStore.migrations[0]:
        conn.execute(stmt)
    conn.execute("INSERT INTO cd_meta (key, value) VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    with open_store(f"sqlite:///{path}") as s:
        assert isinstance(s, SQLiteStore)
        assert s._schema_version() == STORE_SCHEMA_VERSION >= 2
        assert s._has_table("cd_subject_keys")
        s.put(Customer(id="c1"))
        assert s.get("c1").version == 1
