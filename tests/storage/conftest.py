"""Fixtures of the storage suite: every backend (the PostgreSQL and MariaDB servers, one each per session,
are tests/servers.py's, imported by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from custdata.storage import Store
from tests.storage.storage_backends import (
    BACKENDS,
    PERSISTENT,
    Backend,
    make_backend,
)


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
