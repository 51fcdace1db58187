"""abfs:// URLs (Azure Blob Storage through adlfs) against Azurite, Microsoft's storage emulator, started
once per session (tests/io/conftest.py): what only Azure has, the connection string from the environment
and a refused account key. The suite shared with gs:// (formats, atomic writes, backups, errors) is
test_object_stores.py."""

from __future__ import annotations

import pytest

from custdata import read_csv, write_csv, write_jsonl
from custdata.exceptions import ParseError, StoreError
from tests.io.cloud_servers import AzuriteServer
from tests.io.test_urls import PEOPLE, _filled_store

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("adlfs")


def test_the_connection_string_may_come_from_the_environment(
    container: str, azurite_server: AzuriteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(fsspec.config.conf, "abfs")
    monkeypatch.setitem(fsspec.config.conf, "abfs", {"skip_instance_cache": True})
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_server.connection_string())
    write_csv(PEOPLE, f"abfs://{container}/env.csv")
    assert list(read_csv(f"abfs://{container}/env.csv")) == PEOPLE


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
