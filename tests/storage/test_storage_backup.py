"""Backups: export from one backend, restore into another, and get the same content; bad files are refused."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from custdata import Customer, Interaction, Transaction
from custdata.exceptions import ParseError, SchemaVersionError, StoreError
from custdata.storage import STORE_SCHEMA_VERSION, HistoryEntry, Store, StoredCustomer, export, restore
from tests.storage.storage_backends import Backend

UTC = dt.timezone.utc


def fill(store: Store) -> None:
    store.upsert_many(
        [
            Customer.from_dict(
                {
                    "id": f"c{i}",
                    "name": {"full": f"客户{i}"},
                    "phones": [{"number": f"+86138{i:08d}", "kind": "mobile"}],
                    "emails": [{"address": f"u{i}@example.com"}],
                    "external_ids": {"erp": f"E{i}"},
                    "birthday": "--03-04" if i % 2 else "1990-01-02",
                    "custom": {"score": i, "tags": ["a", i]},
                }
            )
            for i in range(700)
        ],
        source="import",
    )
    store.put(store.get("c3").evolve(company="ACME", phones=[{"number": "+8613911112222"}]), source="crm")
    store.delete("c4", source="request")
    at = dt.datetime(2026, 3, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    store.add_transactions(
        [
            Transaction(
                customer_id=f"c{i % 50}", at=at + dt.timedelta(hours=i), amount=Decimal("19.90"), id=f"o{i}"
            )
            for i in range(120)
        ]
        + [Transaction(customer_id="c1", at=at, amount="5", currency="CNY")]
    )
    store.add_interactions([Interaction(customer_id="c2", at=at, kind="call", nps=9, note="回访")])


def content(store: Store) -> dict[str, Any]:
    items = list(store.dump())
    return {
        "customers": sorted([i for i in items if isinstance(i, StoredCustomer)], key=lambda s: s.record.id),
        "history": sorted(
            [i for i in items if isinstance(i, HistoryEntry)], key=lambda h: (h.customer_id, h.version)
        ),
        "transactions": sorted(
            [i.to_dict() for i in items if isinstance(i, Transaction)],
            key=lambda d: json.dumps(d, sort_keys=True),
        ),
        "interactions": [i for i in items if isinstance(i, Interaction)],
    }


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        ("memory", "sqlite"),
        pytest.param("sqlite", "postgres", marks=pytest.mark.postgres),
        pytest.param("postgres", "memory", marks=pytest.mark.postgres),
        ("sqlite", "sqlite"),
    ],
)
def test_export_restore_gives_identical_content(
    src: str, dst: str, backend_factory: Callable[[str], Backend], tmp_path: Path
) -> None:
    a, b = backend_factory(src), backend_factory(dst)
    path = tmp_path / "backup.jsonl"
    with a.open() as sa, b.open() as sb:
        fill(sa)
        counts = export(sa, path)
        assert counts == {"customer": 700, "history": 702, "transaction": 121, "interaction": 1}
        assert restore(sb, path) == counts
        want, got = content(sa), content(sb)
        assert got["customers"] == want["customers"]
        assert got["history"] == want["history"]
        assert got == want
        # and it behaves the same through the public API
        assert [c.id for c in sb.find(phone="13911112222")] == ["c3"]
        assert sb.get("c3").version == 2 and sb.count() == 699
        assert sb.history("c3") == sa.history("c3")
        assert sb.transactions("c1") == sa.transactions("c1")
        sb.put(sb.get("c3").evolve(company="after restore"))  # versions carry on
        assert sb.get("c3").version == 3
    first = path.read_text(encoding="utf-8").splitlines()[0]
    header = json.loads(first)
    assert header["format"] == "custdata-store-backup" and header["store_schema"] == STORE_SCHEMA_VERSION


@pytest.fixture
def backup(tmp_path: Path) -> Path:
    from custdata import open_store

    path = tmp_path / "b.jsonl"
    with open_store("memory://") as s:
        fill(s)
        export(s, path)
    return path


def _rewrite(path: Path, fn: Callable[[list[str]], list[str]]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(fn(lines)) + "\n", encoding="utf-8")


def _restore_fails(path: Path, backend: Backend, error: type[Exception], match: str) -> None:
    with backend.open() as s:
        with pytest.raises(error, match=match):
            restore(s, path)
        assert s.count(include_deleted=True) == 0, "a failed restore left data behind"
        assert s.transactions() == []


def _schema(version: int) -> Callable[[list[str]], list[str]]:
    return lambda ls: [re.sub(r'"store_schema":\d+', f'"store_schema":{version}', ls[0]), *ls[1:]]


@pytest.mark.parametrize("version", [99, 0])
def test_unknown_schema_version_is_refused(backup: Path, backend: Backend, version: int) -> None:
    _rewrite(backup, _schema(version))
    _restore_fails(backup, backend, SchemaVersionError, f"schema {version}")


def test_a_store_schema_1_backup_still_restores(backup: Path, backend: Backend) -> None:
    # schema 2 added only the per-customer key table of encrypted stores: the line format is unchanged
    _rewrite(backup, _schema(1))
    with backend.open() as s:
        assert restore(s, backup)["customer"] > 0


def test_a_newer_record_schema_is_refused(backup: Path, backend: Backend) -> None:
    _rewrite(backup, lambda ls: [ls[0].replace('"record_schema":1', '"record_schema":2'), *ls[1:]])
    _restore_fails(backup, backend, SchemaVersionError, "record schema 2")


def test_corrupt_line_is_refused_naming_it(backup: Path, backend: Backend) -> None:
    _rewrite(backup, lambda ls: [*ls[:500], ls[500][: len(ls[500]) // 2], *ls[501:]])
    _restore_fails(backup, backend, ParseError, "row 501")


def test_truncated_file_is_refused(backup: Path, backend: Backend) -> None:
    _rewrite(backup, lambda ls: ls[:-1])
    _restore_fails(backup, backend, ParseError, "truncated")


def test_missing_lines_are_noticed(backup: Path, backend: Backend) -> None:
    _rewrite(backup, lambda ls: [*ls[:10], *ls[12:]])
    _restore_fails(backup, backend, ParseError, "counts")


def test_not_a_backup(tmp_path: Path, backend: Backend) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": "c1"}\n', encoding="utf-8")
    _restore_fails(path, backend, ParseError, "not a custdata store backup")
    path.write_bytes(b"\x00\x01garbage")
    _restore_fails(path, backend, ParseError, "not a custdata store backup")


def test_restore_needs_an_empty_store(backup: Path, backend: Backend) -> None:
    with backend.open() as s:
        s.put(Customer(id="existing"))
        with pytest.raises(StoreError, match="not empty"):
            restore(s, backup)
        assert s.count() == 1


def test_export_is_atomic(tmp_path: Path) -> None:
    from custdata import open_store

    path = tmp_path / "b.jsonl"
    path.write_text("previous backup\n", encoding="utf-8")
    store = open_store("memory://")
    store.put(Customer(id="c1"))
    store.close()
    with pytest.raises(StoreError):
        export(store, path)  # the store is closed: the export fails part way
    assert path.read_text(encoding="utf-8") == "previous backup\n"
    assert [p.name for p in tmp_path.iterdir()] == ["b.jsonl"]
