"""Key rotation: every body and history change ends under the active key; a killed rotation resumes."""

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
    con = sqlite3.connect(path)
    out: dict[str, int] = {}
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
    with custdata.open_store("sqlite:///" + str(path), keyring=ring) as s:
        assert key_usage(s) == {old: 138}
        with pytest.raises(ValidationError, match="rotate"):
            ring.retire(old, stores=[s])
        assert rotate(s, progress=lambda a, b: seen.append((a, b)), page=50) == 120 + 18
        assert seen[-1] == (120, 138)
        assert rotate(s) == 0  # nothing left to do
        assert key_usage(s) == {new: 138}
        ring.retire(old, stores=[s])
    assert key_ids(path) == {new: 138}
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
    assert key_ids(path) == {new: sum(half.values())}


def test_rotate_refuses_other_stores():
    with custdata.open_store("memory://") as s:
        with pytest.raises(ValidationError):
            rotate(s)
        with pytest.raises(ValidationError):
            key_usage(s)
