"""Fixtures of the storage suite: every backend, and a real PostgreSQL server for the session."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from custdata.storage import Store
from tests.storage.mariadb_server import MariaDBServer
from tests.storage.mariadb_server import start_server as start_mariadb
from tests.storage.storage_backends import (
    BACKENDS,
    PERSISTENT,
    Backend,
    PostgresServer,
    make_backend,
    start_server,
)


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
    server = start_server()
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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = make_backend(request.param, request, tmp_path)
    yield b
    b.cleanup()


@pytest.fixture(params=PERSISTENT)
def persistent_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    b = make_backend(request.param, request, tmp_path)
    yield b
    b.cleanup()


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    with backend.open() as s:
        yield s


@pytest.fixture
def backend_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], Backend]]:
    """Make further backends of any kind inside one test (e.g. backup from one into another)."""
    made: list[Backend] = []

    def make(name: str) -> Backend:
        b = make_backend(name, request, tmp_path)
        made.append(b)
        return b

    yield make
    for b in made:
        b.cleanup()
