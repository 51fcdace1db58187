"""Fixtures of the segments suite: one real PostgreSQL server for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The URL of a running PostgreSQL test database (``CUSTDATA_TEST_POSTGRES_URL``, or a private server
    started for the session; never a skip)."""
    from tests.storage.storage_backends import start_server

    given_url = os.environ.get("CUSTDATA_TEST_POSTGRES_URL")
    if given_url:
        yield given_url
        return
    server = start_server()
    try:
        yield server.url
    finally:
        server.stop()
