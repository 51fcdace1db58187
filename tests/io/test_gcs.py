"""gs:// URLs (Google Cloud Storage through gcsfs) against gcp-storage-emulator, started once per session
(tests/io/conftest.py): what only GCS has, an unreadable key file and gcsfs's refusals as permission
denied. The suite shared with abfs:// (formats, atomic writes, backups, errors) is test_object_stores.py."""

from __future__ import annotations

import errno
from typing import Any

import pytest

from custdata import read_csv
from custdata.exceptions import ParseError
from custdata.io._args import cloud_error, remote_error

fsspec = pytest.importorskip("fsspec")
pytest.importorskip("gcsfs")


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
