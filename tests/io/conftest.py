"""Fixtures of the io suite: the object-storage emulators, one of each per test session
(helpers in cloud_servers.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import attrs
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


@attrs.define
class ObjectStore:
    """One emulated object store as the shared URL suite (test_object_stores.py) sees it: a fresh bucket
    (container) under ``scheme://``, the scheme's other spelling, and the service's own client to put, get
    and list objects behind custdata's back."""

    scheme: str  # "abfs", "gs"
    other: str  # the same file system's other spelling: "az", "gcs"
    bucket: str
    objects: Callable[[], list[str]]  # every object's key in the bucket, sorted
    put: Callable[[str, bytes], None]
    get: Callable[[str], bytes]

    def url(self, key: str) -> str:
        return f"{self.scheme}://{self.bucket}/{key}"

    def missing(self, key: str) -> str:
        """A URL in a bucket that does not exist."""
        return f"{self.scheme}://no-such-bucket-{uuid.uuid4().hex[:8]}/{key}"


def _azure_store(server: AzuriteServer, container: str) -> ObjectStore:
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(server.connection_string())
    blobs = client.get_container_client(container)

    def objects() -> list[str]:
        return sorted(b.name for b in blobs.list_blobs())

    def put(key: str, data: bytes) -> None:
        blobs.get_blob_client(key).upload_blob(data, overwrite=True)

    def get(key: str) -> bytes:
        return blobs.get_blob_client(key).download_blob().readall()  # type: ignore[no-any-return]

    return ObjectStore("abfs", "az", container, objects, put, get)


def _gcs_store(bucket: str) -> ObjectStore:
    import fsspec

    fs = fsspec.filesystem("gcs")

    def objects() -> list[str]:
        return sorted(p.split("/", 1)[1] for p in fs.find(bucket))

    def put(key: str, data: bytes) -> None:
        fs.pipe(f"{bucket}/{key}", data)

    def get(key: str) -> bytes:
        return fs.cat(f"{bucket}/{key}")  # type: ignore[no-any-return]

    return ObjectStore("gs", "gcs", bucket, objects, put, get)


@pytest.fixture(params=["abfs", "gs"])
def object_store(request: pytest.FixtureRequest) -> ObjectStore:
    """A fresh bucket on each emulated object store in turn (Azurite for ``abfs://``, gcp-storage-emulator
    for ``gs://``); only the emulator a test's parameter needs is started, once per session."""
    if request.param == "abfs":
        return _azure_store(request.getfixturevalue("azurite_server"), request.getfixturevalue("container"))
    return _gcs_store(request.getfixturevalue("gcs_bucket"))
