"""Dask LocalClusters for the tests: two worker processes, one thread each; one for the whole session, and one
of its own for each test that kills a worker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

pytest.importorskip("distributed")


@contextmanager
def _cluster_client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit="1GiB",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def client() -> Iterator[Any]:
    with _cluster_client() as c:
        yield c


@pytest.fixture
def dying_client() -> Iterator[Any]:
    """A cluster of its own for each test that kills a worker: a nanny that fails to restart its worker
    (seen once on a heavily loaded machine) must not leave the shared session cluster without workers."""
    with _cluster_client() as c:
        yield c
