"""URLs wherever a path is taken (fsspec): memory://, file:// and s3:// against moto's S3 server started here
(``moto.server.ThreadedMotoServer``, as s3fs's own tests do)."""

from __future__ import annotations

import datetime as dt
import importlib
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from custdata import Customer, Transaction, read_csv, read_jsonl, write_csv, write_jsonl
from custdata.exceptions import MissingExtraError, ParseError, ValidationError
from custdata.io import detect_encoding, read_parquet, write_parquet
from custdata.io._atomic import atomic_write
from tests.conftest import has

fsspec = pytest.importorskip("fsspec")

PEOPLE = [
    Customer.from_dict({"id": "c1", "name": "王䶮", "phones": ["+8613800138000"], "tags": ["vip"]}),
    Customer.from_dict({"id": "c2", "name": "Zoë Müller", "emails": ["zoe@example.de"]}),
]
ORDER = Transaction(customer_id="c1", at=dt.datetime(2024, 1, 2, 10, tzinfo=dt.timezone.utc), amount="12.50")


def _bad_records() -> Iterator[Any]:
    yield PEOPLE[0]
    raise RuntimeError("the source broke off")


def _base(kind: str) -> str:
    return f"{kind}/{uuid.uuid4().hex[:8]}"


# ------------------------------------------------------------------------------------------ memory://
@pytest.fixture
def mem() -> Iterator[str]:
    root = f"memory://{_base('t')}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_every_format_reads_and_writes_memory_urls(mem: str) -> None:
    assert write_csv(PEOPLE, f"{mem}/c.csv") == 2
    assert list(read_csv(f"{mem}/c.csv")) == PEOPLE
    assert detect_encoding(f"{mem}/c.csv") == "utf-8-sig"
    write_jsonl(PEOPLE, f"{mem}/c.jsonl")
    assert list(read_jsonl(f"{mem}/c.jsonl")) == PEOPLE
    write_parquet(PEOPLE, f"{mem}/c.parquet")
    assert list(read_parquet(f"{mem}/c.parquet")) == PEOPLE
    write_csv([ORDER], f"{mem}/t.csv")
    assert list(read_csv(f"{mem}/t.csv", kind="transaction")) == [ORDER]


def test_customer_ids_derived_from_a_url_are_those_of_the_local_file(mem: str, tmp_path: Path) -> None:
    text = "name,phone\n张三,13800138000\n"
    (tmp_path / "c.csv").write_text(text, encoding="utf-8")
    with fsspec.open(f"{mem}/c.csv", "w", encoding="utf-8") as fh:
        fh.write(text)
    assert [c.id for c in read_csv(f"{mem}/c.csv")] == [c.id for c in read_csv(tmp_path / "c.csv")]


@pytest.mark.parametrize(
    "write",
    [
        lambda p: write_csv(_bad_records(), p),
        lambda p: write_jsonl(_bad_records(), p),
        lambda p: write_parquet(_bad_records(), p),
    ],
)
def test_a_failed_write_leaves_the_url_as_it_was(mem: str, write: Any) -> None:
    fs = fsspec.filesystem("memory")
    target = f"{mem}/out.bin"
    with fsspec.open(target, "wb") as fh:
        fh.write(b"before")
    with pytest.raises(RuntimeError, match="broke off"):
        write(target)
    assert fs.cat(target) == b"before"
    assert [p.rsplit("/", 1)[1] for p in fs.ls(mem, detail=False)] == ["out.bin"]  # no temporary left


def test_text_written_atomically_to_a_url(mem: str) -> None:
    with atomic_write(f"{mem}/notes.txt", encoding="gb18030", newline="") as fh:
        fh.write("王䶮\r\n")
    assert fsspec.filesystem("memory").cat(f"{mem}/notes.txt") == "王䶮\r\n".encode("gb18030")


def test_file_urls_are_local_paths(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/c.csv"
    write_csv(PEOPLE, url)
    assert (tmp_path / "c.csv").exists()
    assert list(read_csv(url)) == PEOPLE
    with pytest.raises(ValidationError, match="absolute path"):
        read_csv("file://relative/c.csv")


def test_url_errors_are_custdata_errors(mem: str) -> None:
    with pytest.raises(ParseError, match="no such file") as info:
        list(read_csv(f"{mem}/missing.csv"))
    assert info.value.path == f"{mem}/missing.csv"
    with pytest.raises(ParseError, match="no such file"):
        read_parquet(f"{mem}/missing.parquet")
    write_csv(PEOPLE, f"{mem}/sub/c.csv")
    with pytest.raises(ParseError, match="directory"):
        read_csv(f"{mem}/sub")
    with pytest.raises(ParseError, match="directory"):
        write_csv(PEOPLE, f"{mem}/sub")
    with pytest.raises(ValidationError, match="no file system for nosuch://"):
        read_csv("nosuch://bucket/c.csv")
    with pytest.raises(ValidationError, match="no file system"):
        write_jsonl(PEOPLE, "nosuch://bucket/c.jsonl")


@pytest.mark.parametrize(("scheme", "module", "extra"), [("gs", "gcsfs", "gcs"), ("abfs", "adlfs", "azure")])
def test_a_scheme_without_its_package_names_the_extra(
    scheme: str, module: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    loaded = importlib.import_module("fsspec.registry")._registry  # classes fsspec imported already
    monkeypatch.delitem(loaded, scheme, raising=False)
    with pytest.raises(MissingExtraError, match=rf"custdata\[{extra}\]"):
        read_csv(f"{scheme}://bucket/c.csv")
    with pytest.raises(MissingExtraError, match=rf"custdata\[{extra}\]"):
        write_csv(PEOPLE, f"{scheme}://bucket/c.csv")


def test_without_fsspec_urls_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(MissingExtraError, match=r"custdata\[urls\]"):
        read_csv("memory://c.csv")
    with pytest.raises(MissingExtraError, match=r"custdata\[s3\]"):
        write_csv(PEOPLE, "s3://bucket/c.csv")


# ------------------------------------------------------------------------------------------ s3:// (moto)
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    if not (has("s3fs") and has("moto") and has("flask")):
        pytest.skip("needs s3fs and moto[server] (the s3 extra and the test group)")
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; s3fs pointed at the local server the way a user points it at MinIO (fsspec's
    configuration for the ``s3`` protocol)."""
    import boto3

    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(var, value)
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": s3_endpoint, "skip_instance_cache": True})
    name = f"custdata-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def _client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def test_every_format_reads_and_writes_s3(bucket: str, s3_endpoint: str) -> None:
    write_csv(PEOPLE, f"s3://{bucket}/in/c.csv")
    assert list(read_csv(f"s3://{bucket}/in/c.csv")) == PEOPLE
    write_jsonl(PEOPLE, f"s3://{bucket}/in/c.jsonl")
    assert list(read_jsonl(f"s3://{bucket}/in/c.jsonl")) == PEOPLE
    write_parquet([ORDER], f"s3://{bucket}/in/t.parquet")
    assert list(read_parquet(f"s3://{bucket}/in/t.parquet", kind="transaction")) == [ORDER]
    keys = sorted(o["Key"] for o in _client(s3_endpoint).list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["in/c.csv", "in/c.jsonl", "in/t.parquet"]


def test_a_failed_s3_write_leaves_the_object_and_no_upload(bucket: str, s3_endpoint: str) -> None:
    client = _client(s3_endpoint)
    client.put_object(Bucket=bucket, Key="c.csv", Body=b"before")
    with pytest.raises(RuntimeError, match="broke off"):
        write_csv(_bad_records(), f"s3://{bucket}/c.csv")
    with pytest.raises(RuntimeError, match="broke off"):
        write_parquet(_bad_records(), f"s3://{bucket}/new.parquet")
    assert client.get_object(Bucket=bucket, Key="c.csv")["Body"].read() == b"before"
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == ["c.csv"]
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")


def test_a_large_s3_write_commits_a_multipart_upload(bucket: str) -> None:
    many = [Customer(id=f"c{i}", name="x" * 200) for i in range(40_000)]  # > 5 MiB of CSV: several parts
    assert write_csv(many, f"s3://{bucket}/big.csv") == len(many)
    assert sum(1 for _ in read_csv(f"s3://{bucket}/big.csv")) == len(many)


def test_s3_errors_are_custdata_errors(bucket: str) -> None:
    with pytest.raises(ParseError, match="no such file"):
        read_csv(f"s3://{bucket}/missing.csv")
    with pytest.raises(ParseError, match="does not exist"):
        write_csv(PEOPLE, f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/c.csv")


# ------------------------------------------------------------------------------------------ backups
def _filled_store() -> Any:
    from custdata.storage import open_store

    store = open_store("memory://")
    store.upsert_many(PEOPLE)
    store.add_transactions([ORDER])
    return store


def test_store_backups_go_to_urls_and_come_back(mem: str) -> None:
    from custdata.storage import export, open_store, restore

    src = _filled_store()
    counts = export(src, f"{mem}/backup.jsonl")
    assert counts["customer"] == 2 and counts["transaction"] == 1
    dst = open_store("memory://")
    assert restore(dst, f"{mem}/backup.jsonl") == counts
    assert sorted(dst.get_many(["c1", "c2"])) == ["c1", "c2"]


def test_store_backups_to_s3(bucket: str) -> None:
    from custdata.exceptions import StoreError
    from custdata.storage import export, open_store, restore

    counts = export(_filled_store(), f"s3://{bucket}/backups/b.jsonl")
    assert restore(open_store("memory://"), f"s3://{bucket}/backups/b.jsonl") == counts
    with pytest.raises(StoreError, match="cannot write the backup"):
        export(_filled_store(), f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/b.jsonl")
    with pytest.raises(ParseError, match="no such file"):
        restore(open_store("memory://"), f"s3://{bucket}/backups/missing.jsonl")
