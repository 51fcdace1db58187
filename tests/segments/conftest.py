"""Fixtures of the segments suite: the URL of the session's PostgreSQL server (tests/servers.py)."""

from __future__ import annotations

import pytest

from tests.storage.storage_backends import PostgresServer


@pytest.fixture(scope="session")
def pg_url(postgres_server: PostgresServer) -> str:
    """The URL of a running PostgreSQL test database (``CUSTDATA_TEST_POSTGRES_URL``, or the private server
    started for the session; never a skip)."""
    return postgres_server.url
