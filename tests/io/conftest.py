"""Fixtures of the io suite: the object-storage emulators, one of each per test session
(helpers in cloud_servers.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import has
from tests.io.cloud_servers import AzuriteServer, GcsServer, azurite, gcs_emulator


@pytest.fixture(scope="session")
def azurite_server() -> Iterator[AzuriteServer]:
    """Azurite's blob service for the whole session (never a skip once adlfs is installed)."""
    if not has("adlfs"):
        pytest.skip("needs adlfs (pip install 'custdata[azure]')")
    t0 = time.monotonic()
    with azurite() as server:
        print(f"\nstarted Azurite for the tests in {time.monotonic() - t0:.1f}s")
        yield server


@pytest.fixture
def container(azurite_server: AzuriteServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh container; adlfs pointed at Azurite the way a user points it at an account: fsspec's
    configuration for the ``abfs`` protocol (a connection string), no ``AZURE_STORAGE_*`` variables."""
    import fsspec
    from azure.storage.blob import BlobServiceClient

    for var in ("CONNECTION_STRING", "ACCOUNT_NAME", "ACCOUNT_KEY", "SAS_TOKEN", "ACCOUNT_HOST"):
        monkeypatch.delenv(f"AZURE_STORAGE_{var}", raising=False)
    options = {"connection_string": azurite_server.connection_string(), "skip_instance_cache": True}
    monkeypatch.setitem(fsspec.config.conf, "abfs", options)
    name = f"custdata-{uuid.uuid4().hex[:10]}"
    BlobServiceClient.from_connection_string(azurite_server.connection_string()).create_container(name)
    return name


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GcsServer]:
    """gcp-storage-emulator for the whole session, with gcsfs's plain file system registered for
    ``gs://``/``gcs://`` while it runs.

    gcsfs (2025.x on) registers by default a file system that first asks the server over gRPC what kind
    of bucket it is (hierarchical or zonal); an emulator speaks only the JSON API, so every call would
    retry that question for 60 s before falling back to the plain file system. Users of an emulator turn
    it off with ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`` before gcsfs is imported (docs/urls.md); the
    tests cannot know whether gcsfs was imported already, so they register the plain class directly.
    """
    if not (has("gcsfs") and has("gcp_storage_emulator")):
        pytest.skip("needs gcsfs and gcp-storage-emulator (the gcs extra and the test group)")
    import fsspec
    from gcsfs.core import GCSFileSystem

    before = {p: fsspec.get_filesystem_class(p) for p in ("gs", "gcs")}
    for protocol in before:
        fsspec.register_implementation(protocol, GCSFileSystem, clobber=True)
    try:
        with gcs_emulator() as server:
            yield server
    finally:
        for protocol, cls in before.items():
            fsspec.register_implementation(protocol, cls, clobber=True)


@pytest.fixture
def gcs_bucket(gcs_server: GcsServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; gcsfs pointed at the emulator through fsspec's configuration for ``gcs``
    (``endpoint_url``, and ``token="anon"``: without a token gcsfs looks for Google credentials,
    which on a machine outside Google Cloud means asking a metadata server that is not there)."""
    import fsspec

    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    options = {"endpoint_url": gcs_server.endpoint, "token": "anon", "project": "custdata-test"}
    monkeypatch.setitem(fsspec.config.conf, "gcs", {**options, "skip_instance_cache": True})
    name = f"custdata-{uuid.uuid4().hex[:10]}"
    fsspec.filesystem("gcs").mkdir(name)
    return name
