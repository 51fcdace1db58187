"""The same URL suite on every emulated object store (``object_store`` in tests/io/conftest.py: Azurite for
``abfs://``, gcp-storage-emulator for ``gs://``): every format round trip and the scheme's other spelling,
a failed write leaving the object as it was, the store backups, and the service's errors as custdata's.
What only one service has is in test_abfs.py and test_gcs.py."""

from __future__ import annotations

from typing import Any

import pytest

from custdata import read_csv, read_jsonl, write_csv, write_jsonl
from custdata.exceptions import ParseError, StoreError
from custdata.io import read_excel, read_parquet, write_excel, write_parquet
from tests.io.conftest import ObjectStore
from tests.io.test_urls import ORDER, PEOPLE, _bad_records, _filled_store

pytest.importorskip("fsspec")


def test_every_format_reads_and_writes(object_store: ObjectStore) -> None:
    url = object_store.url
    assert write_csv(PEOPLE, url("in/c.csv")) == 2
    assert list(read_csv(url("in/c.csv"))) == PEOPLE
    write_jsonl(PEOPLE, url("in/c.jsonl"))
    assert list(read_jsonl(url("in/c.jsonl"))) == PEOPLE
    write_parquet([ORDER], url("in/t.parquet"))
    assert list(read_parquet(url("in/t.parquet"), kind="transaction")) == [ORDER]
    write_excel(PEOPLE, url("in/c.xlsx"))
    assert list(read_excel(url("in/c.xlsx"))) == PEOPLE
    # the other spelling (az://, gcs://) is the same file system; no temporary object is left beside the targets
    assert list(read_csv(f"{object_store.other}://{object_store.bucket}/in/c.csv")) == PEOPLE
    assert object_store.objects() == ["in/c.csv", "in/c.jsonl", "in/c.xlsx", "in/t.parquet"]


@pytest.mark.parametrize(
    "write",
    [
        lambda p: write_csv(_bad_records(), p),
        lambda p: write_jsonl(_bad_records(), p),
        lambda p: write_parquet(_bad_records(), p),
        lambda p: write_excel(_bad_records(), p),
    ],
    ids=["csv", "jsonl", "parquet", "excel"],
)
def test_a_failed_write_leaves_the_object_as_it_was(object_store: ObjectStore, write: Any) -> None:
    object_store.put("out/target", b"before")
    with pytest.raises(RuntimeError, match="broke off"):
        write(object_store.url("out/target"))
    assert object_store.get("out/target") == b"before"
    assert object_store.objects() == ["out/target"]  # the temporary object was removed


def test_service_errors_are_custdata_errors(object_store: ObjectStore) -> None:
    url = object_store.url
    with pytest.raises(ParseError, match="no such file") as info:
        list(read_csv(url("missing.csv")))
    assert info.value.path == url("missing.csv")
    with pytest.raises(ParseError, match="no such file"):
        read_parquet(object_store.missing("c.parquet"))
    write_csv(PEOPLE, url("sub/c.csv"))
    with pytest.raises(ParseError, match="directory"):
        list(read_csv(url("sub")))
    with pytest.raises(ParseError, match="does not exist") as info:
        write_csv(PEOPLE, object_store.missing("c.csv"))
    assert info.value.path is not None
    assert info.value.path.startswith(f"{object_store.scheme}://no-such-bucket-")
    with pytest.raises(ParseError, match="does not exist"):
        write_parquet(PEOPLE, object_store.missing("c.parquet"))


def test_store_backups(object_store: ObjectStore) -> None:
    from custdata.storage import export, open_store, restore

    counts = export(_filled_store(), object_store.url("backups/b.jsonl"))
    assert restore(open_store("memory://"), object_store.url("backups/b.jsonl")) == counts
    with pytest.raises(StoreError, match="cannot write the backup"):
        export(_filled_store(), object_store.missing("b.jsonl"))
