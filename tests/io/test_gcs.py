"""gs:// URLs (Google Cloud Storage through gcsfs) against gcp-storage-emulator, started once per session
(tests/io/conftest.py): every format, uploads committed only at the end, the store backups, and gcsfs's
errors as custdata's."""

from __future__ import annotations

import errno
import uuid
from typing import Any

import pytest

from custdata import read_csv, read_jsonl, write_csv, write_jsonl
from custdata.exceptions import ParseError, StoreError
from custdata.io import read_excel, read_parquet, write_excel, write_parquet
from custdata.io._args import cloud_error, remote_error
from tests.io.test_urls import ORDER, PEOPLE, _bad_records, _filled_store

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("gcsfs")


def _objects(bucket: str) -> list[str]:
    fs = fsspec.filesystem("gcs")
    return sorted(p.split("/", 1)[1] for p in fs.find(bucket))


def test_every_format_reads_and_writes_gcs(gcs_bucket: str) -> None:
    root = f"gs://{gcs_bucket}/in"
    assert write_csv(PEOPLE, f"{root}/c.csv") == 2
    assert list(read_csv(f"{root}/c.csv")) == PEOPLE
    write_jsonl(PEOPLE, f"{root}/c.jsonl")
    assert list(read_jsonl(f"{root}/c.jsonl")) == PEOPLE
    write_parquet([ORDER], f"{root}/t.parquet")
    assert list(read_parquet(f"{root}/t.parquet", kind="transaction")) == [ORDER]
    write_excel(PEOPLE, f"{root}/c.xlsx")
    assert list(read_excel(f"{root}/c.xlsx")) == PEOPLE
    assert list(read_csv(f"gcs://{gcs_bucket}/in/c.csv")) == PEOPLE  # the other spelling
    assert _objects(gcs_bucket) == ["in/c.csv", "in/c.jsonl", "in/c.xlsx", "in/t.parquet"]


@pytest.mark.parametrize(
    "write",
    [
        lambda p: write_csv(_bad_records(), p),
        lambda p: write_jsonl(_bad_records(), p),
        lambda p: write_parquet(_bad_records(), p),
        lambda p: write_excel(_bad_records(), p),
    ],
)
def test_a_failed_gcs_write_leaves_the_object_as_it_was(gcs_bucket: str, write: Any) -> None:
    fs = fsspec.filesystem("gcs")
    fs.pipe(f"{gcs_bucket}/out/target", b"before")
    with pytest.raises(RuntimeError, match="broke off"):
        write(f"gs://{gcs_bucket}/out/target")
    assert fs.cat(f"{gcs_bucket}/out/target") == b"before"
    assert _objects(gcs_bucket) == ["out/target"]


def test_gcs_errors_are_custdata_errors(gcs_bucket: str) -> None:
    with pytest.raises(ParseError, match="no such file") as info:
        list(read_csv(f"gs://{gcs_bucket}/missing.csv"))
    assert info.value.path == f"gs://{gcs_bucket}/missing.csv"
    with pytest.raises(ParseError, match="no such file"):
        read_parquet(f"gs://no-such-bucket-{uuid.uuid4().hex[:8]}/c.parquet")
    write_csv(PEOPLE, f"gs://{gcs_bucket}/sub/c.csv")
    with pytest.raises(ParseError, match="directory"):
        list(read_csv(f"gs://{gcs_bucket}/sub"))
    with pytest.raises(ParseError, match="does not exist") as info:
        write_csv(PEOPLE, f"gs://no-such-bucket-{uuid.uuid4().hex[:8]}/c.csv")
    assert info.value.path is not None and info.value.path.startswith("gs://no-such-bucket-")


def test_unreadable_credentials_are_a_parse_error(
    gcs_bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    key = tmp_path / "key.json"
    key.write_text("not a key file")
    options = {**fsspec.config.conf["gcs"], "token": str(key)}
    monkeypatch.setitem(fsspec.config.conf, "gcs", options)
    with pytest.raises(ParseError, match="cannot reach the file system"):
        list(read_csv(f"gs://{gcs_bucket}/c.csv"))


def test_gcsfs_refusals_are_permission_denied() -> None:
    """The emulator checks no credentials, so gcsfs's errors for a refused token are made here as gcsfs
    makes them (gcsfs.retry.validate_response): 403 is ``OSError("Forbidden: …")``, 401 an ``HttpError``."""
    from gcsfs.retry import HttpError, validate_response

    with pytest.raises(OSError, match="Forbidden") as forbidden:
        validate_response(403, b'{"error": {"message": "no access"}}', "b/k")
    unauthorised = HttpError({"code": 401, "message": "Invalid Credentials"})
    for exc in (forbidden.value, unauthorised):
        mapped = cloud_error(exc)
        assert isinstance(mapped, PermissionError) and mapped.errno == errno.EACCES
        assert "permission denied" in str(remote_error(exc, "gs://b/k"))
    assert isinstance(cloud_error(HttpError({"code": 404, "message": "gone"})), FileNotFoundError)
    other = ValueError("something else")
    assert cloud_error(other) is other


def test_store_backups_to_gcs(gcs_bucket: str) -> None:
    from custdata.storage import export, open_store, restore

    counts = export(_filled_store(), f"gs://{gcs_bucket}/backups/b.jsonl")
    assert restore(open_store("memory://"), f"gs://{gcs_bucket}/backups/b.jsonl") == counts
    with pytest.raises(StoreError, match="cannot write the backup"):
        export(_filled_store(), f"gs://no-such-bucket-{uuid.uuid4().hex[:8]}/b.jsonl")
