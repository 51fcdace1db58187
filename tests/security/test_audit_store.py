"""The audit log in a store's own table (cd_audit, schema 2): the same chain, verify() naming the first bad
entry, entries that commit and roll back with the store's transaction; on memory, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
import custdata.testing as cst
from custdata.exceptions import ValidationError
from custdata.security import AuditLog, StoreSink
from custdata.storage import STORE_SCHEMA_VERSION, Store
from tests.storage.conftest import backend  # noqa: F401  (fixture)
from tests.storage.storage_backends import Backend

events = st.lists(cst.audit_events(), min_size=1, max_size=8)


def _lines(store: Any) -> list[str]:
    return list(store.audit_lines())


def _set_lines(store: Any, lines: list[str]) -> None:
    """Rewrite the audit table as an attacker with database access would."""
    if store.url.startswith("memory"):
        store._s.audit[:] = lines
        return
    with store.transaction():
        store._exec("DELETE FROM cd_audit")
        for pos, line in enumerate(lines):
            store._exec("INSERT INTO cd_audit (pos, entry) VALUES (?, ?)", (pos, line))


def _fill(store: Any, evs: list[dict[str, Any]]) -> AuditLog:
    log = AuditLog(StoreSink(store))
    for e in evs:
        log.record(**e)
    return log


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:  # noqa: F811
    with backend.open() as s:
        yield s


# --------------------------------------------------------------------------------------------- properties
@pytest.mark.parametrize("quick_url", ["memory://", "sqlite://"])
@settings(max_examples=40)
@given(evs=events, data=st.data())
def test_any_altered_removed_or_reordered_entry_is_named(quick_url: str, evs: list[Any], data: Any) -> None:
    with custdata.open_store(quick_url) as s:
        log = _fill(s, evs)
        lines = _lines(s)
        verdict = log.verify()
        assert verdict and verdict.entries == len(evs)
        assert [json.loads(x)["seq"] for x in lines] == list(range(len(evs)))
        how = data.draw(st.sampled_from(["alter", "remove", "reorder"] if len(evs) > 1 else ["alter"]))
        if how == "alter":
            i = data.draw(st.integers(0, len(evs) - 1))
            entry = json.loads(lines[i])
            key = data.draw(st.sampled_from(["actor", "action", "record_id", "fields", "purpose", "at"]))
            entry[key] = data.draw(st.text(max_size=5).filter(lambda v: v != entry[key]))
            lines[i] = json.dumps(entry)
            word = "changed"
        elif how == "remove":
            i = data.draw(st.integers(0, len(evs) - 2))
            del lines[i]
            word = "removed"
        else:
            i, j = sorted(
                data.draw(st.lists(st.integers(0, len(evs) - 1), min_size=2, max_size=2, unique=True))
            )
            lines[i], lines[j] = lines[j], lines[i]
            word = "order"
        _set_lines(s, lines)
        verdict = log.verify()
        assert not verdict and verdict.line == i + 1 and word in str(verdict.problem)


# --------------------------------------------------------------------------------------------- every backend
def test_the_chain_in_the_store_verifies_and_names_a_changed_entry(store: Any) -> None:
    key = b"a signing key of enough bytes"
    log = AuditLog(StoreSink(store), signing_key=key)
    for i in range(3):
        log.record(actor="alice", action="read", record_id=f"c{i}", fields=["phones"], purpose="ticket")
    mark = log.checkpoint()
    assert log.verify(checkpoint=mark)
    lines = _lines(store)
    entry = json.loads(lines[1])
    entry["actor"] = "mallory"
    _set_lines(store, [lines[0], json.dumps(entry), lines[2]])
    verdict = log.verify()
    assert not verdict and verdict.line == 2 and "changed" in str(verdict.problem)
    _set_lines(store, lines[:2])  # the tail cut off: only the checkpoint shows it
    assert log.verify()
    assert not log.verify(checkpoint=mark)


def test_an_entry_rolls_back_with_the_transaction(store: Any) -> None:
    log = AuditLog(StoreSink(store))
    log.record(actor="a", action="write", record_id="c1")

    def undone() -> None:
        with store.transaction():
            store.put(custdata.Customer(id="c2"))
            log.record(actor="a", action="write", record_id="c2")
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError):
        undone()
    assert [e["record_id"] for e in log.entries()] == ["c1"]
    with store.transaction():
        store.put(custdata.Customer(id="c3"))
        log.record(actor="a", action="write", record_id="c3")
    assert [e["record_id"] for e in log.entries()] == ["c1", "c3"]
    assert log.verify()


def test_a_damaged_last_entry_stops_appends(store: Any) -> None:
    log = AuditLog(StoreSink(store))
    log.record(actor="a", action="read", record_id="c1")
    _set_lines(store, ["not json"])
    with pytest.raises(ValidationError, match="damaged"):
        log.record(actor="a", action="read", record_id="c2")
    assert _lines(store) == ["not json"]


def test_the_sink_needs_a_store_with_an_audit_table() -> None:
    with pytest.raises(ValidationError, match="no audit table"):
        StoreSink(object())


# --------------------------------------------------------------------------------------------- SQLite files
def test_two_connections_keep_one_chain(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "a.db")
    stores = [custdata.open_store(url), custdata.open_store(url)]
    try:
        logs = [AuditLog(StoreSink(s)) for s in stores]

        def write(log: AuditLog, who: str) -> None:
            for i in range(25):
                log.record(actor=who, action="read", record_id=f"c{i}")

        threads = [threading.Thread(target=write, args=(log, f"w{n}")) for n, log in enumerate(logs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        verdict = logs[0].verify()
        assert verdict and verdict.entries == 50
    finally:
        for s in stores:
            s.close()


def test_a_schema_2_store_gains_the_audit_table(tmp_path: Path) -> None:
    from custdata.storage._sqlite import SQLiteStore

    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    for stmt in (*SQLiteStore.migrations[0], *SQLiteStore.migrations[1]):
        con.execute(stmt)
    con.execute("INSERT INTO cd_meta (key, value) VALUES ('schema_version', '2')")
    con.commit()
    con.close()
    with custdata.open_store("sqlite:///" + str(path)) as s:  # migrates 2 -> 3 (the audit table) and on
        assert s._has_table("cd_audit")  # type: ignore[attr-defined]
        s.put(custdata.Customer(id="c1"))
        AuditLog(StoreSink(s)).record(actor="a", action="read", record_id="c1")
        assert len(_lines(s)) == 1
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM cd_meta WHERE key = 'schema_version'").fetchone()[0] == str(
        STORE_SCHEMA_VERSION
    )
    con.close()


# --------------------------------------------------------------------------------------------- details
details = st.dictionaries(st.text(max_size=6), cst.json_values(), max_size=4)


@settings(max_examples=40)
@given(evs=events, extra=details, data=st.data())
def test_details_are_kept_and_covered_by_the_hash(evs: list[Any], extra: dict[str, Any], data: Any) -> None:
    with custdata.open_store("memory://") as s:
        log = AuditLog(StoreSink(s))
        i = data.draw(st.integers(0, len(evs) - 1))
        for n, e in enumerate(evs):
            made = log.record(**e, details=extra if n == i else None)
            assert ("details" in made) == (n == i)
        assert log.verify()
        lines = _lines(s)
        assert json.loads(lines[i])["details"] == json.loads(json.dumps(extra))
        entry = json.loads(lines[i])
        entry["details"] = {**entry["details"], "forged": 1}
        lines[i] = json.dumps(entry)
        _set_lines(s, lines)
        verdict = log.verify()
        assert not verdict and verdict.line == i + 1


@pytest.mark.parametrize("bad", [{"x": float("nan")}, {"x": object()}, ["not", "a", "mapping"]])
def test_details_that_are_not_json_safe_are_refused(bad: Any) -> None:
    with custdata.open_store("memory://") as s:
        log = AuditLog(StoreSink(s))
        with pytest.raises(ValidationError) as info:
            log.record(actor="a", action="x", record_id=None, details=bad)
        assert info.value.errors[0].field == "details" and _lines(s) == []
