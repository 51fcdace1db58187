"""security.encrypt_store on PostgreSQL: a plaintext store encrypted in place, resumably (a process killed
halfway loses nothing), with nothing left in clear in the tables."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import custdata
from custdata.exceptions import DecryptionError, StoreError
from custdata.security import Keyring, encrypt_store
from tests.storage.storage_backends import Backend, PostgresServer, pg_backend

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_server: PostgresServer) -> Iterator[Backend]:
    b = pg_backend(postgres_server)
    yield b
    b.cleanup()


def fill_plain(url: str, n: int) -> dict[str, custdata.Customer]:
    with custdata.open_store(url) as s:
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


def raw_text(store: custdata.storage.Store) -> str:
    """Every stored text of the customer tables, as the database holds it."""
    rows = store.query_sql(  # type: ignore[attr-defined]
        "SELECT body || keys FROM cd_customers UNION ALL SELECT coalesce(changes, '') FROM cd_history "
        "UNION ALL SELECT key FROM cd_lookup"
    )
    return "\n".join(str(r[0]) for r in rows)


SECRETS = ("+8613800000007", "+8613900000007", "person0013@example.com", "Plainname")


def test_a_plaintext_postgres_store_is_encrypted_in_place(pg: Backend) -> None:
    before = fill_plain(pg.url, 60)
    ring = Keyring.generate()
    with pg.open() as s:
        assert "+8613800000007" in raw_text(s)
        seen: list[int] = []
        assert encrypt_store(s, ring, page=25, progress=seen.append) == 60
        assert seen == [25, 50, 60]
        assert encrypt_store(s, ring) == 0  # done already
        assert s.get("c0042") == before["c0042"]
    with pg.open(keyring=ring) as s:
        assert {c.id: c for c in s.scan()} == before
        assert [c.id for c in s.find(phone="+8613800000043")] == ["c0043"]
        assert [c.id for c in s.find(email="person0013@example.com")] == ["c0013"]
        assert s.history("c0007")[-1].changes[0].old[0]["number"] == "+8613800000007"
        raw = raw_text(s)
    assert not [x for x in SECRETS if x in raw]
    with pytest.raises(StoreError, match="encrypted"):
        pg.open()


SCRIPT = """
import os, signal, sys
import custdata
from custdata.security import Keyring, encrypt_store
ring = Keyring.load(sys.argv[2])
def progress(done):
    if done >= 80:
        os.kill(os.getpid(), signal.SIGKILL)
with custdata.open_store(sys.argv[1]) as s:
    encrypt_store(s, ring, progress=progress, page=40)
"""


def test_a_killed_encryption_resumes_and_loses_nothing(pg: Backend, tmp_path: Path) -> None:
    before = fill_plain(pg.url, 200)
    ring = Keyring.generate()
    ring.save(tmp_path / "keys.json")
    proc = subprocess.run([sys.executable, "-c", SCRIPT, pg.url, str(tmp_path / "keys.json")], check=False)
    assert proc.returncode == -signal.SIGKILL
    with pytest.raises(StoreError, match="encrypted"):  # half done: not readable as plaintext
        pg.open()
    with pg.open(keyring=ring) as s:
        with pytest.raises(StoreError, match="being encrypted in place"):
            s.get("c0001")  # no half-plaintext answers
        assert encrypt_store(s, ring, page=40) == 120
        assert {c.id: c for c in s.scan()} == before
    with pg.open(keyring=ring) as s:
        assert {c.id: c for c in s.scan()} == before
        assert [c.id for c in s.find(phone="+8613800000151")] == ["c0151"]
        raw = raw_text(s)
    assert not [x for x in SECRETS if x in raw]


def test_resuming_with_another_keyring_is_refused(pg: Backend) -> None:
    fill_plain(pg.url, 30)
    ring = Keyring.generate()
    with pg.open() as s:
        s.encrypt_page(ring, 10)  # type: ignore[attr-defined]  # one page, as if the run stopped there
    with pytest.raises(DecryptionError):
        pg.open(keyring=Keyring.generate())
    with pg.open(keyring=ring) as s:
        with pytest.raises(DecryptionError):
            encrypt_store(s, Keyring.generate())
        assert encrypt_store(s, ring) == 20
