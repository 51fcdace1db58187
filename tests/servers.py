"""The database servers of the test suite, one of each per session, for every test under tests/ (imported
by tests/conftest.py; nowhere else, or pytest would hold a second fixture and start a second server).

``postgres_server``: ``CUSTDATA_TEST_POSTGRES_URL``, or a private PostgreSQL server
(tests/storage/storage_backends.py). ``mariadb_server``: ``CUSTDATA_TEST_MARIADB_URL``, or a private MariaDB
server (tests/storage/mariadb_server.py). Each is started on first use, installed through apt-get when
missing (as root, as on CI), and never a skip once its driver is installed: no server is a failure.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.storage.mariadb_server import MariaDBServer
from tests.storage.mariadb_server import start_server as start_mariadb
from tests.storage.storage_backends import PostgresServer
from tests.storage.storage_backends import start_server as start_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server for the whole session (never a skip: no server is a failure)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg is not installed: pip install 'custdata[postgres]' to run the PostgreSQL tests")
    given = os.environ.get("CUSTDATA_TEST_POSTGRES_URL")
    if given:
        yield PostgresServer(given)
        return
    t0 = time.monotonic()
    server = start_postgres()
    print(f"\nstarted PostgreSQL for the tests in {time.monotonic() - t0:.1f}s")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    """A running MariaDB server for the whole session (never a skip once PyMySQL is installed)."""
    pytest.importorskip("pymysql", reason="the mariadb extra is not installed")
    given = os.environ.get("CUSTDATA_TEST_MARIADB_URL")
    if given:
        yield MariaDBServer(given)
        return
    t0 = time.monotonic()
    server = start_mariadb()
    print(f"\nstarted MariaDB for the tests in {time.monotonic() - t0:.1f}s")
    try:
        yield server
    finally:
        server.stop()
