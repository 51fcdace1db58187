"""abfs:// URLs (Azure Blob Storage through adlfs) against Azurite, Microsoft's storage emulator, started
once per session (tests/io/conftest.py): every format, atomic writes, the store backups, and the SDK's
errors as custdata's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from custdata import read_csv, read_jsonl, write_csv, write_jsonl
from custdata.exceptions import ParseError, StoreError
from custdata.io import read_excel, read_parquet, write_excel, write_parquet
from tests.io.cloud_servers import AzuriteServer
from tests.io.test_urls import ORDER, PEOPLE, _bad_records, _filled_store

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("adlfs")


def _blobs(server: AzuriteServer, container: str) -> list[str]:
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(server.connection_string())
    return sorted(b.name for b in client.get_container_client(container).list_blobs())


def _put(server: AzuriteServer, container: str, name: str, data: bytes) -> None:
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(server.connection_string())
    client.get_blob_client(container, name).upload_blob(data, overwrite=True)


def _get(server: AzuriteServer, container: str, name: str) -> bytes:
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(server.connection_string())
    return client.get_blob_client(container, name).download_blob().readall()  # type: ignore[no-any-return]


def test_every_format_reads_and_writes_abfs(container: str, azurite_server: AzuriteServer) -> None:
    root = f"abfs://{container}/in"
    assert write_csv(PEOPLE, f"{root}/c.csv") == 2
    assert list(read_csv(f"{root}/c.csv")) == PEOPLE
    write_jsonl(PEOPLE, f"{root}/c.jsonl")
    assert list(read_jsonl(f"{root}/c.jsonl")) == PEOPLE
    write_parquet([ORDER], f"{root}/t.parquet")
    assert list(read_parquet(f"{root}/t.parquet", kind="transaction")) == [ORDER]
    write_excel(PEOPLE, f"{root}/c.xlsx")
    assert list(read_excel(f"{root}/c.xlsx")) == PEOPLE
    # the az:// spelling is the same file system; no temporary blob is left beside the targets
    assert list(read_csv(f"az://{container}/in/c.csv")) == PEOPLE
    assert _blobs(azurite_server, container) == ["in/c.csv", "in/c.jsonl", "in/c.xlsx", "in/t.parquet"]


def test_the_connection_string_may_come_from_the_environment(
    container: str, azurite_server: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(fsspec.config.conf, "abfs")
    monkeypatch.setitem(fsspec.config.conf, "abfs", {"skip_instance_cache": True})
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_server.connection_string())
    write_csv(PEOPLE, f"abfs://{container}/env.csv")
    assert list(read_csv(f"abfs://{container}/env.csv")) == PEOPLE


@pytest.mark.parametrize(
    "write",
    [
        lambda p: write_csv(_bad_records(), p),
        lambda p: write_jsonl(_bad_records(), p),
        lambda p: write_parquet(_bad_records(), p),
        lambda p: write_excel(_bad_records(), p),
    ],
)
def test_a_failed_abfs_write_leaves_the_blob_as_it_was(
    container: str, azurite_server: AzuriteServer, write: Any
) -> None:
    _put(azurite_server, container, "out/target", b"before")
    with pytest.raises(RuntimeError, match="broke off"):
        write(f"abfs://{container}/out/target")
    assert _get(azurite_server, container, "out/target") == b"before"
    assert _blobs(azurite_server, container) == ["out/target"]  # the temporary blob was removed


def test_abfs_errors_are_custdata_errors(container: str) -> None:
    with pytest.raises(ParseError, match="no such file") as info:
        list(read_csv(f"abfs://{container}/missing.csv"))
    assert info.value.path == f"abfs://{container}/missing.csv"
    with pytest.raises(ParseError, match="no such file"):
        read_parquet(f"abfs://no-such-container-{uuid.uuid4().hex[:8]}/c.parquet")
    write_csv(PEOPLE, f"abfs://{container}/sub/c.csv")
    with pytest.raises(ParseError, match="directory"):
        list(read_csv(f"abfs://{container}/sub"))
    with pytest.raises(ParseError, match="does not exist") as info:
        write_csv(PEOPLE, f"abfs://no-such-container-{uuid.uuid4().hex[:8]}/c.csv")
    assert info.value.path is not None and info.value.path.startswith("abfs://no-such-container-")
    with pytest.raises(ParseError, match="does not exist"):
        write_parquet(PEOPLE, f"abfs://no-such-container-{uuid.uuid4().hex[:8]}/c.parquet")


def test_a_refused_account_key_is_permission_denied(
    container: str, azurite_server: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(PEOPLE, f"abfs://{container}/c.csv")
    wrong = "QUJD" + azurite_server.connection_string().split("AccountKey=")[1].split(";")[0][4:]
    options = {"connection_string": azurite_server.connection_string(key=wrong), "skip_instance_cache": True}
    monkeypatch.setitem(fsspec.config.conf, "abfs", options)
    with pytest.raises(ParseError, match="permission denied") as read_info:
        list(read_csv(f"abfs://{container}/c.csv"))
    assert read_info.value.path == f"abfs://{container}/c.csv"
    with pytest.raises(PermissionError, match="permission denied") as write_info:
        write_jsonl(PEOPLE, f"abfs://{container}/c.jsonl")
    assert write_info.value.filename == f"abfs://{container}/c.jsonl"
    assert "AuthorizationFailure" in str(write_info.value) and "RequestId" not in str(write_info.value)
    from custdata.storage import export

    store = _filled_store()
    with pytest.raises(StoreError, match="cannot write the backup"):
        export(store, f"abfs://{container}/b.jsonl")


def test_store_backups_to_abfs(container: str) -> None:
    from custdata.storage import export, open_store, restore

    counts = export(_filled_store(), f"abfs://{container}/backups/b.jsonl")
    assert restore(open_store("memory://"), f"abfs://{container}/backups/b.jsonl") == counts
    with pytest.raises(StoreError, match="cannot write the backup"):
        export(_filled_store(), f"abfs://no-such-container-{uuid.uuid4().hex[:8]}/b.jsonl")
