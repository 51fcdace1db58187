"""Encrypted memory stores: the store contract suite, personal data sealed in the process's memory under
each customer's own key, exact look-ups through blind indexes, shredding on erasure, rotation."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

import custdata
from custdata.exceptions import DecryptionError, StoreError, ValidationError
from custdata.security import Keyring, erase_subject, key_usage, rotate
from custdata.storage import Store, export, restore
from custdata.testing.stores import StoreTests
from tests.security.test_encrypted_store import NEW_PHONE, PEOPLE, activity, forms, secrets_in

KEYRING = Keyring.generate()


class TestEncryptedMemoryContract(StoreTests):
    """The store contract on a memory store opened with a keyring."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        with custdata.open_store("memory://", keyring=KEYRING) as s:
            assert s.encrypted  # type: ignore[attr-defined]
            yield s


def filled() -> Store:
    s = custdata.open_store("memory://", keyring=KEYRING)
    s.upsert_many([custdata.Customer.from_dict(p) for p in PEOPLE])
    s.put(s.get("p1").evolve(phones=[custdata.Phone(NEW_PHONE)]))
    txns, inters = activity()
    s.add_transactions(txns)
    s.add_interactions(inters)
    return s


def held(store: Store) -> bytes:
    """What the store keeps (its state, without the cipher and keys), as bytes to search."""
    state = store._s  # type: ignore[attr-defined]
    rows = [(r.body, r.id, r.version) for r in state.rows.values()]
    acts = [a.body for kind in ("t", "i") for a in state.activity[kind].values()]
    return pickle.dumps((rows, state.history, acts, state.index))


def test_memory_holds_no_personal_data_in_the_clear() -> None:
    s = filled()
    blob = held(s)
    assert len(blob) > 2000
    for secret in secrets_in(PEOPLE):
        for form in forms(secret):
            assert form not in blob, f"{secret!r} held in the clear"
    # and everything reads back, finds exactly, tells the history
    assert s.get("p1").phones[0].number == NEW_PHONE
    assert [c.id for c in s.find(phone=NEW_PHONE)] == ["p1"]
    assert s.find(phone="+8613912345678") == []
    assert s.history("p1")[-1].changes[0].old[0]["number"] == "+8613912345678"
    assert s.transactions("p1") == activity()[0] and s.interactions() == activity()[1]


def test_the_same_check_finds_plaintext_in_a_plain_memory_store() -> None:
    s = custdata.open_store("memory://")
    s.put(custdata.Customer.from_dict(PEOPLE[0]))
    state = s._s  # type: ignore[attr-defined]
    blob = pickle.dumps(([r.customer for r in state.rows.values()], state.history))
    assert any(form in blob for form in forms("+8613912345678"))


def test_erasure_shreds_backups_of_a_memory_store(tmp_path: Path) -> None:
    live = filled()
    backup = tmp_path / "b.jsonl"
    export(live, backup)
    erase_subject(live, "p1", actor="dpo")
    with custdata.open_store("memory://") as target:
        counts = restore(target, backup, subject_keys=live)
        assert counts["shredded"] == 1 and sorted(c.id for c in target.scan()) == ["p2", "p3"]
    with custdata.open_store("memory://") as target, pytest.raises(DecryptionError, match="subject_keys"):
        restore(target, backup)


def test_rotation_rewraps_the_customer_keys() -> None:
    ring = Keyring.generate()
    old = ring.active_id
    s = custdata.open_store("memory://", keyring=ring)
    s.upsert_many([custdata.Customer.from_dict(p) for p in PEOPLE])
    ring.promote(ring.add())
    assert key_usage(s) == {old: 3}
    assert rotate(s, page=2) == 3 and rotate(s) == 0
    assert key_usage(s) == {ring.active_id: 3}
    ring.retire(old, stores=[s])
    ring.destroy(old)
    assert s.get("p2").emails[0].address == "jane.smithers@example.org"


def test_a_rolled_back_erasure_keeps_the_key() -> None:
    s = filled()

    def erase_then_fail() -> None:
        with s.transaction():
            s.purge("p1")
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError):
        erase_then_fail()
    assert s.get("p1").phones[0].number == NEW_PHONE


def test_only_a_new_store_and_a_keyring_are_accepted() -> None:
    with pytest.raises(ValidationError):
        custdata.open_store("memory://", keyring="not a keyring")
    s = custdata.open_store("memory://")
    s.put(custdata.Customer(id="c1"))
    with pytest.raises(StoreError, match="not empty"):
        s.use_keyring(KEYRING)  # type: ignore[attr-defined]
