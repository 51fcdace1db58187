"""AuditLog: the chain verifies until an entry is altered, removed or reordered; checkpoints; sinks."""

from __future__ import annotations

import json
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

import custdata.testing as cst
from custdata.exceptions import ValidationError
from custdata.security import AuditLog, AuditSink, MemorySink

events = st.lists(cst.audit_events(), min_size=1, max_size=12)


def filled(evs, **kw):
    sink = MemorySink()
    log = AuditLog(sink, **kw)
    for e in evs:
        log.record(**e)
    return sink, log


@given(events)
def test_an_untouched_chain_verifies(evs):
    sink, log = filled(evs)
    verdict = log.verify()
    assert verdict and verdict.entries == len(evs)
    assert [json.loads(x)["seq"] for x in sink.entries] == list(range(len(evs)))


@given(events, st.data())
def test_any_altered_entry_is_named(evs, data):
    sink, log = filled(evs)
    i = data.draw(st.integers(0, len(evs) - 1))
    entry = json.loads(sink.entries[i])
    key = data.draw(
        st.sampled_from(["actor", "action", "record_id", "fields", "purpose", "at", "prev", "seq"])
    )
    entry[key] = data.draw(st.text(max_size=5).filter(lambda v: v != entry[key]))
    sink.entries[i] = json.dumps(entry)
    verdict = log.verify()
    assert not verdict and verdict.line == i + 1 and "changed" in verdict.problem


@given(events, st.data())
def test_any_removed_entry_is_named(evs, data):
    sink, log = filled(evs)
    if len(evs) < 2:
        return
    i = data.draw(st.integers(0, len(evs) - 2))  # the last one: see the checkpoint test
    del sink.entries[i]
    verdict = log.verify()
    assert not verdict and verdict.line == i + 1 and "removed" in verdict.problem


@given(events, st.data())
def test_any_reordering_is_named(evs, data):
    sink, log = filled(evs)
    if len(evs) < 2:
        return
    i, j = sorted(data.draw(st.lists(st.integers(0, len(evs) - 1), min_size=2, max_size=2, unique=True)))
    sink.entries[i], sink.entries[j] = sink.entries[j], sink.entries[i]
    verdict = log.verify()
    assert not verdict and verdict.line == i + 1 and "order" in verdict.problem


def test_a_rewritten_chain_fails_under_a_signing_key():
    key = b"k" * 32
    sink, log = filled([{"actor": "alice", "action": "read", "record_id": "c1"}] * 3, signing_key=key)
    assert log.verify()
    forged = MemorySink()
    forger = AuditLog(forged)  # recomputes plain SHA-256 hashes: fine without the key, caught with it
    for line in sink.entries:
        e = json.loads(line)
        forger.record(
            actor=e["actor"].replace("alice", "mallory"), action=e["action"], record_id=e["record_id"]
        )
    assert forger.verify()
    assert not AuditLog(forged, signing_key=key).verify()


def test_checkpoint_detects_a_cut_tail():
    key = b"s" * 32
    sink, log = filled(
        [{"actor": "a", "action": "read", "record_id": f"c{i}"} for i in range(4)], signing_key=key
    )
    cp = log.checkpoint()
    log.record(actor="a", action="write", record_id="c9")
    assert log.verify(checkpoint=cp)
    del sink.entries[-2:]
    assert log.verify()  # without the checkpoint a cut tail looks like a shorter log
    verdict = log.verify(checkpoint=cp)
    assert not verdict and "cut off" in verdict.problem
    forged = cp[:-1] + ("0" if cp[-1] != "0" else "1")
    assert not log.verify(checkpoint=forged)
    with pytest.raises(ValidationError):
        AuditLog(MemorySink()).checkpoint()


def test_file_log_matches_the_acceptance_shape(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(5):
        log.record(actor="alice", action="read", record_id=f"c{i}", fields=["phone"], purpose="support")
    assert AuditLog(path).verify()  # a new instance continues from the file
    AuditLog(path).record(actor="bob", action="export", record_id=None)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6 and json.loads(lines[5])["seq"] == 5
    lines[2] = lines[2].replace("alice", "mallory")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    verdict = AuditLog(path).verify()
    assert not verdict and verdict.line == 3
    assert "line 3" in str(verdict)


def test_concurrent_writers_keep_one_chain(tmp_path):
    path = tmp_path / "a.jsonl"
    logs = [AuditLog(path) for _ in range(4)]

    def work(log):
        for i in range(50):
            log.record(actor="t", action="read", record_id=str(i))

    threads = [threading.Thread(target=work, args=(lg,)) for lg in logs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    verdict = AuditLog(path).verify()
    assert verdict and verdict.entries == 200


def test_bad_arguments(tmp_path):
    assert isinstance(MemorySink(), AuditSink)
    with pytest.raises(ValidationError):
        AuditLog(42)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        AuditLog(tmp_path / "missing" / "a.jsonl")
    log = AuditLog(MemorySink())
    with pytest.raises(ValidationError):
        log.record(actor="", action="read", record_id="c")
    with pytest.raises(ValidationError):
        log.record(actor="a", action="read", record_id="c", fields="phones")
    with pytest.raises(ValidationError):
        AuditLog(MemorySink(), signing_key=b"short")
