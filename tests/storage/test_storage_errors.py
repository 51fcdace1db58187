"""Only custdata's errors come out of a store: damaged files, full disks, bad folders, bad URL options,
bad backups. Each backend maps its driver's exceptions in one place (``_error`` in its module)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

import custdata
from custdata.exceptions import CustdataError, ParseError, StoreError, ValidationError
from custdata.storage import UpsertResult, export, open_store, register_store, restore
from custdata.storage._memory import MemoryStore
from custdata.testing.stores import cust


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


# ------------------------------------------------------------------------------------------ SQLite files
def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    with pytest.raises(StoreError, match="not a SQLite database"):
        open_store(_url(path))
    assert path.read_bytes().startswith(b"these are my notes")  # left as it was


def test_a_damaged_database(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with open_store(_url(path)) as s:
        s.upsert_many([cust(i) for i in range(3000)])
        s.optimize()
    data = bytearray(path.read_bytes())
    for at in range(4096, len(data), 4096):  # scribble over every page but the first
        data[at + 100 : at + 400] = b"\xa5" * 300
    path.write_bytes(bytes(data))

    def use() -> None:
        with open_store(_url(path)) as s:
            list(s.scan())
            for i in range(0, 3000, 100):
                s.find(phone=f"+86138{i:08d}")

    with pytest.raises(StoreError):  # at open, or at the first read of a damaged page
        use()


def test_a_corrupt_record_body(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with open_store(_url(path)) as s:
        s.put(cust(1))
    con = sqlite3.connect(path)
    con.execute("UPDATE cd_customers SET body = '{not json' WHERE id = 'c1'")
    con.commit()
    con.close()
    with open_store(_url(path)) as s:
        for call in (lambda: s.get("c1"), lambda: list(s.scan()), lambda: s.find(phone="+8613800000001")):
            with pytest.raises(StoreError, match="corrupt"):
                call()


def test_a_full_disk(tmp_path: Path) -> None:
    # SQLite's page limit gives the same SQLITE_FULL a full disk does
    with open_store(_url(tmp_path / "s.db")) as s:
        s._exec("PRAGMA max_page_count = 40")  # type: ignore[attr-defined]
        with pytest.raises(StoreError, match="disk is full"):
            s.upsert_many([cust(i, company="x" * 200) for i in range(5000)])
        assert s.count() == 0  # all or nothing
        s.put(cust(1))  # the store still works


def test_a_read_only_database(tmp_path: Path) -> None:
    with open_store(_url(tmp_path / "s.db")) as s:
        s.put(cust(1))
        s._raw("PRAGMA query_only = ON")  # type: ignore[attr-defined]
        with pytest.raises(StoreError, match="read-only"):
            s.put(cust(2))


def test_a_folder_or_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="folder"):
        open_store(_url(tmp_path))
    with pytest.raises(StoreError, match="does not exist"):
        open_store(_url(tmp_path / "no" / "such.db"))


def test_create_false_never_creates_a_file(tmp_path: Path) -> None:
    path = tmp_path / "nothere.db"
    with pytest.raises(StoreError, match="no store"):
        open_store(_url(path), create=False)
    assert not path.exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(StoreError, match="not a custdata store"):
        open_store(_url(empty), create=False)
    with open_store(_url(path)) as s:
        s.put(cust(1))
    with open_store(_url(path), create=False) as s:
        assert s.count() == 1


# ------------------------------------------------------------------------------------------ options
@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("sqlite:///{tmp}/s.db?timeout=abc", "timeout"),
        ("sqlite:///{tmp}/s.db?timeout=-1", "timeout"),
        ("sqlite:///{tmp}/s.db?timeout=nan", "timeout"),
        ("sqlite:///{tmp}/s.db?cache_mb=0", "cache_mb"),
        ("sqlite:///{tmp}/s.db?foo=1", "foo"),
        ("sqlite:///{tmp}/s.db?synchronous=sometimes", "synchronous"),
        ("sqlite:///{tmp}/s.db?create=maybe", "create"),
        ("memory://?foo=1", "foo"),
    ],
)
def test_bad_url_options(tmp_path: Path, url: str, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        open_store(url.format(tmp=tmp_path))
    assert info.value.fields == (field,)
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_bad_keyword_options(tmp_path: Path) -> None:
    for url in ("memory://", _url(tmp_path / "s.db")):
        with pytest.raises(ValidationError, match="not an option"):
            open_store(url, foo=1)
        with pytest.raises(ValidationError):
            open_store(url, region=5)
        with pytest.raises(ValidationError):
            open_store(url, create="yes please")
    with pytest.raises(ValidationError):
        open_store(_url(tmp_path / "s.db"), timeout=float("inf"))


def test_options_from_the_url_are_used(tmp_path: Path) -> None:
    with open_store(_url(tmp_path / "s.db") + "?timeout=2.5&region=US&synchronous=normal") as s:
        s.put(custdata.Customer(id="u1", phones=[custdata.Phone(number="(202) 555-0143")]))
        assert [c.id for c in s.find(phone="202-555-0143")] == ["u1"]


# ------------------------------------------------------------------------------------------ backups
def _backup(tmp_path: Path) -> Path:
    path = tmp_path / "b.jsonl"
    with open_store("memory://") as s:
        s.upsert_many([cust(i) for i in range(3)])
        export(s, path)
    return path


def test_a_backup_line_that_is_not_utf8(tmp_path: Path) -> None:
    path = _backup(tmp_path)
    lines = path.read_bytes().split(b"\n")
    assert b'"c1"' in lines[2]
    lines[2] = lines[2].replace(b'"c1"', b'"c\xff\xfe1"')  # Latin-1 bytes inside an id
    path.write_bytes(b"\n".join(lines))
    with open_store("memory://") as s:
        with pytest.raises(ParseError, match="not UTF-8") as info:
            restore(s, path)
        assert info.value.row == 3
        assert s.count() == 0


def test_a_backup_that_is_deeply_nested_or_missing(tmp_path: Path) -> None:
    path = _backup(tmp_path)
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = "[" * 5000 + "]" * 5000
    path.write_text("\n".join(lines), encoding="utf-8")
    with open_store("memory://") as s:
        with pytest.raises(ParseError) as info:
            restore(s, path)
        assert info.value.row == 3
        with pytest.raises(ParseError, match="cannot read"):
            restore(s, tmp_path / "missing.jsonl")
        with pytest.raises(ValidationError):
            restore(s, None)  # type: ignore[arg-type]


def test_export_to_a_place_that_cannot_be_written(tmp_path: Path) -> None:
    with open_store("memory://") as s:
        s.put(cust(1))
        with pytest.raises(StoreError, match="cannot write the backup"):
            export(s, tmp_path / "no" / "such" / "b.jsonl")
        with pytest.raises(StoreError, match="cannot write the backup"):
            export(s, tmp_path)  # a folder
    assert json.loads(_backup(tmp_path).read_text(encoding="utf-8").split("\n")[0])["format"]


# ------------------------------------------------------------------------------------------ results
def test_upsert_result_counts_what_it_skipped() -> None:
    assert UpsertResult(1, 2).skipped == 0
    with open_store("memory://") as s:
        r = s.upsert_many([cust(1), None, {"id": "x", "birthday": "no"}], errors="skip")  # type: ignore[list-item]
        assert (r.inserted, r.skipped, r.problems) == (1, 2, ())


# ------------------------------------------------------------------------------------------ the registry
def test_the_registry_refuses_to_overwrite_a_scheme_unless_asked() -> None:
    with pytest.raises(ValidationError, match="clobber"):
        register_store("sqlite", MemoryStore)
    with pytest.raises(ValidationError, match="clobber"):
        register_store("memory", "custdata.storage._memory:open_memory")
    register_store("errtest", MemoryStore)
    with pytest.raises(ValidationError, match="clobber"):
        register_store("errtest", MemoryStore)
    register_store("errtest", "custdata.storage._memory:open_memory", clobber=True)
    with open_store("errtest://x") as s:
        assert isinstance(s, MemoryStore)
    with pytest.raises(ValidationError):
        register_store("not a scheme!", MemoryStore)
    with pytest.raises(ValidationError):
        register_store("okname", 42)  # type: ignore[arg-type]


def test_a_plugin_that_cannot_be_imported_names_what_to_install() -> None:
    register_store("brokenplug", "custdata_no_such_module:open", hint="custdata-brokenplug", clobber=True)
    with pytest.raises(StoreError, match="pip install 'custdata-brokenplug'"):
        open_store("brokenplug://x")


def test_a_plugin_that_fails_to_open_gives_a_store_error() -> None:
    def factory(url: str, **options: object) -> MemoryStore:
        raise OSError("the plug-in's server is down")

    register_store("failplug", factory, clobber=True)
    with pytest.raises(StoreError, match="server is down") as info:
        open_store("failplug://x")
    assert isinstance(info.value, CustdataError)


def test_postgres_options_are_checked_before_connecting() -> None:
    pytest.importorskip("psycopg")
    base = "postgresql://nobody:secret@127.0.0.1:1/none"
    for url, field in (
        (base + "?connect_timeout=abc", "connect_timeout"),
        (base + "?connect_timeout=-5", "connect_timeout"),
        (base + "?foo=1", "url"),  # libpq knows no such option
        (base + "?create=perhaps", "create"),
    ):
        with pytest.raises(ValidationError) as info:
            open_store(url)
        assert info.value.fields == (field,), url
        assert "secret" not in str(info.value)
    with pytest.raises(ValidationError):
        open_store(base, schema="no-dashes; DROP TABLE x")
    with pytest.raises(ValidationError):
        open_store(base, schema=5)
