"""Opening a store reads its schema version the same way on every SQL backend (one body in SQLStore; each
backend only says whether a table exists)."""

from __future__ import annotations

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
