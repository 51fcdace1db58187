"""Encrypted PostgreSQL stores: the store contract suite, and a pg_dump holding no personal data."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import pytest

import custdata
from custdata.security import Keyring
from custdata.storage import Store
from custdata.testing.stores import PersistentStoreTests, StoreTests
from tests.security.test_encrypted_store import NEW_PHONE, PEOPLE, activity, forms, secrets_in
from tests.storage.storage_backends import Backend, PostgresServer, _pg_bindir, pg_backend

pytestmark = pytest.mark.postgres
KEYRING = Keyring.generate()


@pytest.fixture
def pg(postgres_server: PostgresServer) -> Iterator[Backend]:
    b = pg_backend(postgres_server)
    yield b
    b.cleanup()


class TestEncryptedPostgresContract(StoreTests, PersistentStoreTests):
    @pytest.fixture
    def store(self, pg: Backend) -> Iterator[Store]:
        with pg.open(keyring=KEYRING) as s:
            assert s.encrypted  # type: ignore[attr-defined]
            yield s

    @pytest.fixture
    def reopen(self, pg: Backend) -> Callable[[], Store]:
        return lambda: pg.open(keyring=KEYRING)


def test_pg_dump_holds_no_personal_data(pg: Backend) -> None:
    with pg.open(keyring=KEYRING) as s:
        s.upsert_many([custdata.Customer.from_dict(p) for p in PEOPLE])
        s.put(s.get("p1").evolve(phones=[custdata.Phone(NEW_PHONE)]))
        assert [c.id for c in s.find(phone=NEW_PHONE)] == ["p1"]
        txns, inters = activity()
        s.add_transactions(txns)
        s.add_interactions(inters)
        assert s.transactions() == txns and s.interactions() == inters
    bindir = _pg_bindir()
    assert bindir is not None and pg.server_url is not None
    # the pg_dump beside the server's own initdb (same major version), else the one on PATH
    pg_dump = (bindir / "initdb").resolve().parent / "pg_dump"
    dump = subprocess.run(
        [str(pg_dump) if pg_dump.exists() else "pg_dump", "--data-only", "-d", pg.server_url],
        capture_output=True,
        timeout=120,
        check=True,
    ).stdout
    assert b"cd_customers" in dump and len(dump) > 2000
    for secret in secrets_in(PEOPLE):
        for form in forms(secret):
            assert form not in dump, f"{secret!r} in the pg_dump"


def test_rotation_on_postgres(pg: Backend) -> None:
    from custdata.security import key_usage, rotate

    ring = Keyring.generate()
    old = ring.active_id
    with pg.open(keyring=ring) as s:
        s.upsert_many([custdata.Customer.from_dict(p) for p in PEOPLE])
        s.put(s.get("p1").evolve(phones=[custdata.Phone(NEW_PHONE)]))
        new = ring.add()
        ring.promote(new)
        assert key_usage(s) == {old: 3}  # one data key per customer, wrapped by the keyring's key
        assert rotate(s, page=2) == 3  # only the wrapped keys are rewritten
        assert key_usage(s) == {new: 3}
        ring.retire(old, stores=[s])
        assert s.get("p1").phones[0].number == NEW_PHONE
        assert s.history("p1")[-1].changes[0].old[0]["number"] == "+8613912345678"
