"""security.encrypt_store: a plaintext store encrypted in place, resumably; nothing lost, nothing left clear."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

import custdata
from custdata.exceptions import DecryptionError, StoreError, ValidationError
from custdata.security import Keyring, encrypt_store


def url(path: Path) -> str:
    return "sqlite:///" + str(path)


def fill_plain(path: Path, n: int) -> dict[str, custdata.Customer]:
    with custdata.open_store(url(path)) as s:
        s.upsert_many(
            custdata.Customer(
                id=f"c{i:04d}",
                name=custdata.PersonName(full=f"Person{i:04d} Plainname"),
                phones=[custdata.Phone(f"+86138{i:08d}")],
                emails=[custdata.Email(f"person{i:04d}@example.com")],
            )
            for i in range(n)
        )
        for i in range(0, n, 7):  # history with old and new phones
            c = s.get(f"c{i:04d}")
            s.put(c.evolve(phones=[custdata.Phone(f"+86139{i:08d}")]))
        return {c.id: c for c in s.scan()}


def raw_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    wal = Path(str(path) + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def test_a_plaintext_store_is_encrypted_in_place(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    before = fill_plain(path, 60)
    assert b"+8613800000007" in raw_bytes(path)
    ring = Keyring.generate()
    with custdata.open_store(url(path)) as s:
        seen: list[int] = []
        assert encrypt_store(s, ring, page=25, progress=seen.append) == 60
        assert seen == [25, 50, 60]
        assert encrypt_store(s, ring) == 0  # done already
        assert s.get("c0042") == before["c0042"]  # this handle reads on, decrypting
    with custdata.open_store(url(path), keyring=ring) as s:
        assert {c.id: c for c in s.scan()} == before
        assert [c.id for c in s.find(phone="+8613800000043")] == ["c0043"]
        assert [c.id for c in s.find(email="person0013@example.com")] == ["c0013"]
        assert s.history("c0007")[-1].changes[0].old[0]["number"] == "+8613800000007"
    raw = raw_bytes(path)
    for secret in (b"+8613800000007", b"+8613900000007", b"person0013@example.com", b"Plainname"):
        assert secret not in raw
    with pytest.raises(StoreError, match="encrypted"):
        custdata.open_store(url(path))


def test_opening_a_plaintext_store_with_a_keyring_points_to_encrypt_store(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    fill_plain(path, 3)
    with pytest.raises(StoreError, match="encrypt_store"):
        custdata.open_store(url(path), keyring=Keyring.generate())


SCRIPT = """
import os, signal, sys
import custdata
from custdata.security import Keyring, encrypt_store
ring = Keyring.load(sys.argv[2])
def progress(done):
    if done >= 80:
        os.kill(os.getpid(), signal.SIGKILL)
with custdata.open_store("sqlite:///" + sys.argv[1]) as s:
    encrypt_store(s, ring, progress=progress, page=40)
"""


def test_a_killed_encryption_resumes_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    before = fill_plain(path, 200)
    ring = Keyring.generate()
    ring.save(tmp_path / "keys.json")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(path), str(tmp_path / "keys.json")], check=False)
    assert proc.returncode == -signal.SIGKILL
    with pytest.raises(StoreError, match="encrypted"):  # half done: not readable as plaintext
        custdata.open_store(url(path))
    with custdata.open_store(url(path), keyring=ring) as s:
        with pytest.raises(StoreError, match="being encrypted in place"):
            s.get("c0001")  # no half-plaintext answers
        assert encrypt_store(s, ring, page=40) == 120
        assert {c.id: c for c in s.scan()} == before
    with custdata.open_store(url(path), keyring=ring) as s:
        assert {c.id: c for c in s.scan()} == before
        assert [c.id for c in s.find(phone="+8613800000151")] == ["c0151"]


def test_resuming_with_another_keyring_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    fill_plain(path, 30)
    ring = Keyring.generate()
    with custdata.open_store(url(path)) as s:
        s.encrypt_page(ring, 10)  # one page, as if the run stopped there
    with pytest.raises(DecryptionError):
        custdata.open_store(url(path), keyring=Keyring.generate())
    with custdata.open_store(url(path), keyring=ring) as s:
        with pytest.raises(DecryptionError):
            encrypt_store(s, Keyring.generate())
        assert encrypt_store(s, ring) == 20


def test_encrypt_store_refuses_what_it_cannot_do() -> None:
    with custdata.open_store("memory://") as s, pytest.raises(ValidationError):
        encrypt_store(s, Keyring.generate())
    with pytest.raises(ValidationError):
        encrypt_store(object(), "not a keyring")  # type: ignore[arg-type]
