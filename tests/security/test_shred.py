"""Crypto-shredding: each customer's personal data is under a data key of its own, kept (wrapped) only in
the live store; erasing the customer deletes that key, so a backup written before the erasure can no
longer be read for that customer, by anyone, with the very same keyring."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata
from custdata.exceptions import DecryptionError
from custdata.security import AuditLog, Keyring, MemorySink, RecordCipher, erase_subject, rotate
from custdata.storage import export, restore
from custdata.testing import customers
from tests.security.test_encrypted_store import ITEM_NAME, NOTE, PEOPLE, activity

KEYRING = Keyring.generate()


def url(path: Path) -> str:
    return "sqlite:///" + str(path)


def filled(path: Path, ring: Keyring = KEYRING) -> custdata.storage.Store:
    s = custdata.open_store(url(path), keyring=ring)
    s.upsert_many([custdata.Customer.from_dict(p) for p in PEOPLE])
    s.put(s.get("p1").evolve(phones=[custdata.Phone("+8613700001111")]))  # history with sealed values
    txns, inters = activity()
    s.add_transactions(txns)
    s.add_interactions(inters)
    return s


def test_a_backup_taken_before_an_erasure_cannot_be_read_for_that_customer(tmp_path: Path) -> None:
    live = filled(tmp_path / "live.db")
    backup = tmp_path / "before.jsonl"
    export(live, backup)
    assert erase_subject(live, "p1", actor="dpo", audit=AuditLog(MemorySink()))["customer"] == 1
    # the same keyring, the same live store for the keys: p1 is gone from what the backup yields
    with custdata.open_store(url(tmp_path / "restored.db"), keyring=KEYRING) as target:
        counts = restore(target, backup, subject_keys=live)
        assert counts["shredded"] == 1 and counts["customer"] == 2 and counts["transaction"] == 0
        assert sorted(c.id for c in target.scan()) == ["p2", "p3"]
        assert target.interactions()[0].note == NOTE  # p2's note survives
        assert target.history("p1") == [] and target.transactions("p1") == []
    # and the backup file itself offers nothing to open p1 with: no key is in it, its tokens are under
    # p1's own key (key id "*"), and the keyring alone refuses them
    lines = [json.loads(line) for line in backup.read_text(encoding="utf-8").splitlines()]
    p1 = next(x["customer"] for x in lines if x.get("customer", {}).get("id") == "p1")
    assert p1["pii"].startswith("v1.*.")
    tokens = re.findall(r"v1\.([^.\"]*)\.", backup.read_text(encoding="utf-8"))
    assert tokens and set(tokens) == {"*"}  # nothing under a keyring key: no wrapped key in the file
    header = lines[0]["encrypted"]
    cipher = RecordCipher(KEYRING, store=header["store"], index_bits=header["index_bits"])
    with pytest.raises(DecryptionError, match="erased"):
        cipher.open_body(p1)
    # a guard: p2, not erased, does open with its key from the live store
    p2 = next(x["customer"] for x in lines if x.get("customer", {}).get("id") == "p2")
    assert cipher.open_body(p2, live.subject_key("p2"))["name"]["full"] == "Jane Doe-Smithers"  # type: ignore[attr-defined]
    live.close()


def test_without_the_erasure_the_same_backup_restores_everyone(tmp_path: Path) -> None:
    # guards the test above: it is the erasure that makes p1 unreadable
    live = filled(tmp_path / "live.db")
    backup = tmp_path / "b.jsonl"
    export(live, backup)
    with custdata.open_store("memory://") as target:
        counts = restore(target, backup, subject_keys=live)
        assert counts["shredded"] == 0 and counts["customer"] == 3
        assert target.get("p1").phones[0].number == "+8613700001111"
        assert target.transactions("p1")[0].items[0].name == ITEM_NAME
    live.close()


def test_erasure_deletes_the_key_and_every_row_of_the_customer(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    live = filled(path)
    con = sqlite3.connect(path)
    assert con.execute("SELECT COUNT(*) FROM cd_subject_keys").fetchone()[0] == 3
    con.close()
    erase_subject(live, "p1", actor="dpo")
    assert live.subject_key("p1") is None  # type: ignore[attr-defined]
    con = sqlite3.connect(path)
    assert con.execute("SELECT customer_id FROM cd_subject_keys ORDER BY 1").fetchall() == [("p2",), ("p3",)]
    for table in ("cd_history", "cd_transactions", "cd_interactions", "cd_subject_keys"):
        assert con.execute(f"SELECT COUNT(*) FROM {table} WHERE customer_id = 'p1'").fetchone() == (0,)
    con.close()
    live.close()


def test_each_customer_has_its_own_key(tmp_path: Path) -> None:
    live = filled(tmp_path / "live.db")
    k1, k2 = live.subject_key("p1"), live.subject_key("p2")  # type: ignore[attr-defined]
    assert k1 is not None and k2 is not None and k1[1] != k2[1]
    con = sqlite3.connect(tmp_path / "live.db")
    b1, _b2 = (
        json.loads(b)
        for (b,) in con.execute("SELECT body FROM cd_customers WHERE id IN ('p1', 'p2') ORDER BY id")
    )
    con.close()
    cipher = live.cipher  # type: ignore[attr-defined]
    assert cipher.open_body(b1, k1)["id"] == "p1"
    with pytest.raises(DecryptionError):
        cipher.open_body({**b1}, k2)  # p2's key does not open p1's data
    live.close()


def test_rotation_after_an_erasure_also_kills_copies_of_the_database_file(tmp_path: Path) -> None:
    # a copy of the database file holds the wrapped keys; rotating the keyring key that wrapped them and
    # destroying it makes such a copy unreadable, while backups written by export still restore
    ring = Keyring.generate()
    old = ring.active_id
    path = tmp_path / "live.db"
    live = filled(path, ring)
    copy = tmp_path / "copy.db"
    live.optimize()  # fold the WAL into the file, then copy the file as a file-level backup would
    copy.write_bytes(path.read_bytes())
    backup = tmp_path / "b.jsonl"
    export(live, backup)
    erase_subject(live, "p1", actor="dpo")
    ring.promote(ring.add())
    assert rotate(live) == 2
    ring.retire(old, stores=[live])
    ring.destroy(old)
    with custdata.open_store(url(copy), keyring=ring) as stolen, pytest.raises(DecryptionError):
        stolen.get("p1")
    with custdata.open_store("memory://") as target:
        assert restore(target, backup, subject_keys=live)["customer"] == 2
    live.close()


def test_activity_of_a_customer_without_a_record_gets_a_key_too(tmp_path: Path) -> None:
    with custdata.open_store(url(tmp_path / "s.db"), keyring=KEYRING) as s:
        _, inters = activity()
        s.add_interactions(inters)
        assert s.subject_key("p2") is not None  # type: ignore[attr-defined]
        assert s.interactions("p2")[0].note == NOTE


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=st.lists(customers(), min_size=1, max_size=4, unique_by=lambda c: c.id), data=st.data())
def test_erasing_any_customer_shreds_exactly_that_customer(tmp_path: Path, people, data) -> None:
    folder = tmp_path / str(abs(hash(tuple(c.id for c in people))))
    folder.mkdir(exist_ok=True)
    for f in folder.iterdir():
        f.unlink()
    live = custdata.open_store(url(folder / "live.db"), keyring=KEYRING)
    live.upsert_many(people)
    backup = folder / "b.jsonl"
    export(live, backup)
    gone = data.draw(st.sampled_from([c.id for c in people]))
    erase_subject(live, gone, actor="dpo")
    with custdata.open_store("memory://") as target:
        counts = restore(target, backup, subject_keys=live)
        assert counts["shredded"] == 1
        kept = {c.id: c for c in target.scan(include_deleted=True)}
    assert set(kept) == {c.id for c in people} - {gone}
    for c in people:
        if c.id != gone:
            assert kept[c.id].evolve(version=0) == c.evolve(version=0)
    live.close()
