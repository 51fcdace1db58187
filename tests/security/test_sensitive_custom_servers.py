"""Sensitive custom attributes on the server stores: a pg_dump of an encrypted PostgreSQL store holds none of
their values (current, historical, or sealed later in place), the store remembers its set, and MariaDB does
the same (the SQLite checks in test_sensitive_custom.py, against servers the tests start)."""

from __future__ import annotations

import subprocess

import pytest

import custdata
from custdata.exceptions import ValidationError
from custdata.security import encrypt_store
from tests.security.test_encrypted_postgres import pg  # noqa: F401  (fixture)
from tests.security.test_sensitive_custom import KEPT, NEW_SALARY, RING, SECRETS, check_reads, fill, leaked
from tests.storage.mariadb_server import MariaDBServer
from tests.storage.storage_backends import Backend, _pg_bindir

SEALED = ["salary", "id_card"]


def pg_dump(backend: Backend) -> bytes:
    bindir = _pg_bindir()
    assert bindir is not None and backend.server_url is not None
    tool = (bindir / "initdb").resolve().parent / "pg_dump"
    return subprocess.run(
        [str(tool) if tool.exists() else "pg_dump", "--data-only", "-d", backend.server_url],
        capture_output=True,
        timeout=120,
        check=True,
    ).stdout


@pytest.mark.postgres
def test_pg_dump_holds_no_sensitive_custom_value(pg: Backend) -> None:  # noqa: F811
    with pg.open(keyring=RING, sensitive_custom=SEALED) as s:
        fill(s)
        check_reads(s)
    with pg.open(keyring=RING) as s:  # reopened with the keyring alone: the same set
        assert s.sensitive_custom == set(SEALED)  # type: ignore[attr-defined]
        check_reads(s)
        with pytest.raises(ValidationError, match="seals the custom attributes"):
            pg.open(keyring=RING, sensitive_custom=["salary"])
    dump = pg_dump(pg)
    assert b"cd_customers" in dump
    assert leaked([*SECRETS, NEW_SALARY], dump) == []
    assert leaked(["green", "blue"], dump) == ["green", "blue"]  # non-sensitive: readable


@pytest.mark.postgres
def test_postgres_seals_more_attributes_in_place(pg: Backend) -> None:  # noqa: F811
    with pg.open(keyring=RING) as s:
        fill(s)
    assert sorted(leaked([*SECRETS, NEW_SALARY], pg_dump(pg))) == sorted([*SECRETS, NEW_SALARY])
    with pg.open(keyring=RING) as s:
        assert encrypt_store(s, RING, page=2, sensitive_custom=SEALED) == 2
        check_reads(s)
    with pg.open(keyring=RING) as s:
        assert s.sensitive_custom == set(SEALED)  # type: ignore[attr-defined]
        check_reads(s)
    assert leaked([*SECRETS, NEW_SALARY], pg_dump(pg)) == []


@pytest.mark.mariadb
def test_mariadb_remembers_and_seals_the_set(mariadb_server: MariaDBServer) -> None:
    url, drop = mariadb_server.database()
    try:
        with custdata.open_store(url, keyring=RING, sensitive_custom=SEALED) as s:
            fill(s)
            check_reads(s)
            rows = s.query_sql("SELECT body FROM cd_customers UNION ALL SELECT changes FROM cd_history")
            stored = "\n".join(str(r[0]) for r in rows).encode()
            assert leaked([*SECRETS, NEW_SALARY], stored) == [] and leaked([KEPT], stored) == [KEPT]
        with custdata.open_store(url, keyring=RING) as s:
            assert s.sensitive_custom == set(SEALED)  # type: ignore[attr-defined]
            check_reads(s)
        with pytest.raises(ValidationError, match="seals the custom attributes"):
            custdata.open_store(url, keyring=RING, sensitive_custom=[])
    finally:
        drop()
