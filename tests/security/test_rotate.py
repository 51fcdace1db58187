"""Key rotation: every customer's data key ends wrapped by the active key (and values a store from
before per-customer keys holds under a keyring key end under the customer's own key); a killed rotation
resumes."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import custdata
from custdata.exceptions import DecryptionError, ValidationError
from custdata.security import FieldEncryptor, Keyring, key_usage, rotate


def key_ids(path: Path) -> dict[str, int]:
    """Keyring key id -> how many stored values it encrypts directly (wrapped customer keys, or values
    stored before per-customer keys); ``*``: values under a customer's own key."""
    con = sqlite3.connect(path)
    out: dict[str, int] = {}
    for (wrapped,) in con.execute("SELECT wrapped FROM cd_subject_keys"):
        kid = FieldEncryptor.key_id_of(wrapped)
        out[kid] = out.get(kid, 0) + 1
    for (body,) in con.execute("SELECT body FROM cd_customers"):
        kid = FieldEncryptor.key_id_of(json.loads(body)["pii"])
        out[kid] = out.get(kid, 0) + 1
    for (changes,) in con.execute("SELECT changes FROM cd_history WHERE changes IS NOT NULL"):
        for _, old, _ in json.loads(changes):
            if isinstance(old, dict) and "$enc" in old:
                kid = FieldEncryptor.key_id_of(old["$enc"])
                out[kid] = out.get(kid, 0) + 1
    con.close()
    return out


def fill(path: Path, ring: Keyring, n: int) -> None:
    with custdata.open_store("sqlite:///" + str(path), keyring=ring) as s:
        s.upsert_many(
            custdata.Customer(id=f"c{i:04d}", phones=[custdata.Phone(f"+86138{i:08d}")]) for i in range(n)
        )
        for i in range(0, n, 7):  # some history with encrypted old/new values
            c = s.get(f"c{i:04d}")
            s.put(c.evolve(phones=[custdata.Phone(f"+86139{i:08d}")]))


def test_rotate_moves_everything_to_the_active_key(tmp_path):
    ring = Keyring.generate()
    old = ring.active_id
    path = tmp_path / "r.db"
    fill(path, ring, 120)
    new = ring.add()
    ring.promote(new)
    seen: list[tuple[int, int]] = []
    assert key_ids(path) == {old: 120, "*": 120 + 18}
    with custdata.open_store("sqlite:///" + str(path), keyring=ring) as s:
        assert key_usage(s) == {old: 120}
        with pytest.raises(ValidationError, match="rotate"):
            ring.retire(old, stores=[s])
        assert rotate(s, progress=lambda a, b: seen.append((a, b)), page=50) == 120
        assert seen[-1] == (120, 120)
        assert rotate(s) == 0  # nothing left to do
        assert key_usage(s) == {new: 120}
        ring.retire(old, stores=[s])
    assert key_ids(path) == {new: 120, "*": 138}  # the data itself was not re-encrypted
    with custdata.open_store("sqlite:///" + str(path), keyring=ring) as s:
        assert s.get("c0007").phones[0].number == "+8613900000007"
        assert s.history("c0007")[-1].changes[0].old[0]["number"] == "+8613800000007"
        assert [c.id for c in s.find(phone="+8613800000100")] == ["c0100"]


def test_without_rotation_a_retired_key_leaves_records_unreadable(tmp_path):
    ring = Keyring.generate()
    old = ring.active_id
    path = tmp_path / "r.db"
    fill(path, ring, 3)
    ring.promote(ring.add())
    ring.retire(old)
    with custdata.open_store("sqlite:///" + str(path), keyring=ring) as s, pytest.raises(DecryptionError):
        s.get("c0001")


SCRIPT = """
import os, signal, sys
import custdata
from custdata.security import Keyring, rotate
ring = Keyring.load(sys.argv[2])
pages = []
def progress(seen, rewritten):
    pages.append(seen)
    if len(pages) == 3:
        os.kill(os.getpid(), signal.SIGKILL)
with custdata.open_store("sqlite:///" + sys.argv[1], keyring=ring) as s:
    rotate(s, progress=progress, page=40)
"""


def test_a_killed_rotation_resumes_and_loses_nothing(tmp_path):
    ring = Keyring.generate()
    path = tmp_path / "r.db"
    fill(path, ring, 300)
    before = {}
    with custdata.open_store("sqlite:///" + str(path), keyring=ring) as s:
        before = {c.id: c for c in s.scan()}
    new = ring.add()
    ring.promote(new)
    ring.save(tmp_path / "keys.json")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(path), str(tmp_path / "keys.json")], check=False)
    assert proc.returncode == -signal.SIGKILL
    half = key_ids(path)
    assert 0 < half.get(new, 0) < sum(half.values())  # killed halfway
    with custdata.open_store("sqlite:///" + str(path), keyring=ring) as s:
        rotate(s)
        assert {c.id: c for c in s.scan()} == before
    assert key_ids(path) == {new: half[new] + half[ring.key_ids[0]], "*": half["*"]}


def make_legacy(path: Path, ring: Keyring) -> None:
    """Turn a store into what stores encrypted before per-customer keys hold: every value under the
    keyring's active key, no customer keys, no ``subject_keys`` mark."""
    from custdata.security import RecordCipher

    con = sqlite3.connect(path)
    meta = json.loads(con.execute("SELECT value FROM cd_meta WHERE key = 'encryption'").fetchone()[0])
    cipher = RecordCipher(ring, store=meta["store"], index_bits=meta["index_bits"])
    keys = {
        cid: cipher.subjects.open(cid, w)
        for cid, w in con.execute("SELECT customer_id, wrapped FROM cd_subject_keys")
    }
    for cid, body in list(con.execute("SELECT id, body FROM cd_customers")):
        sealed = cipher.seal_body(cipher.open_body(json.loads(body), keys[cid]))
        con.execute("UPDATE cd_customers SET body = ? WHERE id = ?", (json.dumps(sealed), cid))
    for cid, v, ch in list(
        con.execute("SELECT customer_id, version, changes FROM cd_history WHERE changes IS NOT NULL")
    ):
        opened = cipher.open_changes(cid, json.loads(ch), keys[cid])
        con.execute(
            "UPDATE cd_history SET changes = ? WHERE customer_id = ? AND version = ?",
            (json.dumps(cipher.seal_changes(cid, opened)), cid, v),
        )
    con.execute("DELETE FROM cd_subject_keys")
    del meta["subject_keys"]
    con.execute("UPDATE cd_meta SET value = ? WHERE key = 'encryption'", (json.dumps(meta),))
    con.commit()
    con.close()


def test_rotation_moves_a_store_from_before_customer_keys_to_them(tmp_path):
    ring = Keyring.generate()
    old = ring.active_id
    path = tmp_path / "r.db"
    fill(path, ring, 60)
    with custdata.open_store("sqlite:///" + str(path), keyring=ring) as s:
        before = {c.id: c for c in s.scan()}
        hist = s.history("c0007")
    make_legacy(path, ring)
    assert key_ids(path) == {old: 60 + 9}
    with custdata.open_store("sqlite:///" + str(path), keyring=ring) as s:
        assert {c.id: c for c in s.scan()} == before  # still readable as it is
        assert key_usage(s) == {old: 69}
        new = ring.add()
        ring.promote(new)
        assert rotate(s, page=25) == 60 + 9  # every body and history change, under new customer keys
        assert key_usage(s) == {new: 60}
        assert {c.id: c for c in s.scan()} == before and s.history("c0007") == hist
    assert key_ids(path) == {new: 60, "*": 69}
    con = sqlite3.connect(path)
    assert json.loads(con.execute("SELECT value FROM cd_meta WHERE key = 'encryption'").fetchone()[0])[
        "subject_keys"
    ]
    con.close()


def test_rotate_refuses_other_stores():
    from custdata.exceptions import StoreError

    for other in (object(), {"not": "a store"}):
        with pytest.raises(ValidationError):
            rotate(other)
        with pytest.raises(ValidationError):
            key_usage(other)
    with custdata.open_store("memory://") as s:  # a store that could, but holds no encrypted data
        with pytest.raises(StoreError, match="not encrypted"):
            rotate(s)
        assert key_usage(s) == {}
