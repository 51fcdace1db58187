"""Encrypted SQLite stores: no personal data in the files (WAL included, in any encoding), exact look-ups
through lossy blind indexes, history decrypted, wrong or missing keyrings refused, and the whole store
contract suite passing on an encrypted store."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import custdata
from custdata.exceptions import DecryptionError, StoreError
from custdata.security import Keyring, RecordCipher
from custdata.storage import Store
from custdata.testing.stores import PersistentStoreTests, SQLHookTests, StoreTests

KEYRING = Keyring.generate()


def url_of(path: Path) -> str:
    return "sqlite:///" + str(path)


class TestEncryptedSQLiteContract(StoreTests, PersistentStoreTests, SQLHookTests):
    """The store contract on a SQLite store opened with a keyring."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        with custdata.open_store(url_of(tmp_path / "enc.db"), keyring=KEYRING) as s:
            assert s.encrypted  # type: ignore[attr-defined]
            yield s

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Callable[[], Store]:
        return lambda: custdata.open_store(url_of(tmp_path / "enc.db"), keyring=KEYRING)


PEOPLE = [
    {
        "id": "p1",
        "name": {"full": "诸葛亮明"},
        "phones": [{"number": "+8613912345678"}],
        "emails": [{"address": "kongming.zhuge@example.com"}],
        "addresses": [
            {"street": "卧龙岗 1 号", "city": "南阳市", "district": "卧龙区", "postal_code": "473000"}
        ],
        "birthday": "1981-07-23",
    },
    {
        "id": "p2",
        "name": {"full": "Jane Doe-Smithers"},
        "phones": [{"number": "+14155552671"}],
        "emails": [{"address": "jane.smithers@example.org"}],
        "addresses": [{"street": "1600 Amphitheatre Pkwy"}],
    },
    {
        "id": "p3",
        "name": {"full": "Zoë Ångström"},
        "phones": [{"number": "+8613800138000"}],
        "emails": [{"address": "zoe.angstrom@example.net"}],
        "addresses": [{"street": "Sveavägen 44"}],
    },
]
NEW_PHONE, NEW_EMAIL, NEW_STREET = "+8613700001111", "new.address@example.com", "隆中路 88 号"
#: Free text of transactions and interactions (encrypted too).
NOTE, ITEM_NAME = "客户说她住在卧龙岗旁边", "Engraving: for Kongming"


def activity() -> tuple[list[custdata.Transaction], list[custdata.Interaction]]:
    at = "2026-03-04T05:06:07+00:00"
    txns = [
        custdata.Transaction.from_dict(
            {
                "customer_id": "p1",
                "at": at,
                "amount": "88.00",
                "currency": "CNY",
                "items": [{"sku": "pen-1", "name": ITEM_NAME, "category": "gifts"}, {"sku": "ink"}],
            }
        )
    ]
    inters = [custdata.Interaction.from_dict({"customer_id": "p2", "at": at, "note": NOTE, "id": "i1"})]
    return txns, inters


def forms(secret: str) -> set[bytes]:
    return {
        secret.encode(),
        json.dumps(secret)[1:-1].encode(),
        json.dumps(secret)[1:-1].replace("\\", "\\\\").encode(),  # as pg_dump's COPY text writes it
        secret.encode("utf-16-le"),
        secret.encode("utf-16-be"),
    }


def secrets_in(people: list[dict]) -> list[str]:
    out = [NEW_PHONE, NEW_PHONE[3:], NEW_EMAIL, NEW_STREET, NOTE, ITEM_NAME, "Engraving"]
    for p in people:
        out += [p["name"]["full"], *p["name"]["full"].split()]
        for ph in p["phones"]:
            out += [ph["number"], ph["number"][3:], ph["number"][-8:]]
        out += [e["address"] for e in p["emails"]] + [e["address"].split("@")[0] for e in p["emails"]]
        out += [a["street"] for a in p["addresses"]]
    return [s for s in out if len(s) >= 5]


def raw_files(path: Path) -> bytes:
    return b"".join(f.read_bytes() for f in path.parent.glob(path.name + "*"))


def test_the_files_hold_no_personal_data_in_any_encoding(tmp_path):
    path = tmp_path / "enc.db"
    store = custdata.open_store(url_of(path), keyring=KEYRING, synchronous="normal")
    store.put(custdata.Customer.from_dict(PEOPLE[0]))
    store.upsert_many([custdata.Customer.from_dict(p) for p in PEOPLE[1:]])
    c = store.get("p1")
    store.put(
        c.evolve(
            phones=[custdata.Phone(NEW_PHONE)],
            emails=[custdata.Email(NEW_EMAIL)],
            addresses=[custdata.Address(street=NEW_STREET)],
        )
    )
    store.delete("p3")
    txns, inters = activity()
    store.add_transactions(txns)
    store.add_interactions(inters)
    assert list(path.parent.glob(path.name + "-wal")), "the WAL is part of what is checked"
    blobs = {"open (WAL)": raw_files(path)}
    store.close()
    blobs["closed"] = raw_files(path)
    for when, blob in blobs.items():
        assert len(blob) > 4096
        for secret in secrets_in(PEOPLE):
            for form in forms(secret):
                assert form not in blob, f"{secret!r} found in the files ({when})"
    # and the store still reads, finds and tells the history in the clear
    with custdata.open_store(url_of(path), keyring=KEYRING) as s:
        assert s.get("p1").phones[0].number == NEW_PHONE
        assert [x.id for x in s.find(phone=NEW_PHONE)] == ["p1"]
        assert s.find(phone="+8613912345678") == []
        assert [x.id for x in s.find(email="JANE.smithers@example.org")] == ["p2"]
        update = s.history("p1")[-1]
        phones = {ch.field: ch for ch in update.changes}["phones"]
        assert phones.old[0]["number"] == "+8613912345678" and phones.new[0]["number"] == NEW_PHONE
        assert s.history("p1")[0].changes  # the creation entry is filled in from the decrypted record
        assert s.transactions("p1") == txns and s.interactions() == inters
        assert s.transactions("p1")[0].items[0].name == ITEM_NAME


def test_activity_guard_fails_on_plaintext(tmp_path):
    # without a keyring the free text is in the file: the check above can fail
    path = tmp_path / "plain.db"
    with custdata.open_store(url_of(path)) as s:
        txns, inters = activity()
        s.add_transactions(txns)
        s.add_interactions(inters)
    blob = raw_files(path)
    assert any(form in blob for form in forms(NOTE)) and any(form in blob for form in forms(ITEM_NAME))


def test_a_guard_test_that_fails_on_plaintext(tmp_path):
    # the same check on a store without a keyring finds the data: the test above can fail
    path = tmp_path / "plain.db"
    with custdata.open_store(url_of(path)) as s:
        s.put(custdata.Customer.from_dict(PEOPLE[0]))
    assert any(form in raw_files(path) for form in forms("+8613912345678"))


def test_lossy_blind_indexes_still_find_exactly(tmp_path):
    path = tmp_path / "lossy.db"
    custdata.open_store(url_of(path), keyring=KEYRING).close()
    con = sqlite3.connect(path)
    meta = json.loads(con.execute("SELECT value FROM cd_meta WHERE key = 'encryption'").fetchone()[0])
    meta["index_bits"] = 8  # 256 buckets: most of 600 phones share their index entry with others
    meta["check"] = RecordCipher(KEYRING, store=meta["store"], index_bits=8).derive("keyring", "check")
    con.execute("UPDATE cd_meta SET value = ? WHERE key = 'encryption'", (json.dumps(meta),))
    con.commit()
    con.close()
    with custdata.open_store(url_of(path), keyring=KEYRING) as s:
        s.upsert_many(
            [custdata.Customer(id=f"c{i}", phones=[custdata.Phone(f"+86138{i:08d}")]) for i in range(600)]
        )
        keys = {k for (k,) in s.query_sql("SELECT key FROM cd_lookup WHERE kind = 'phone'")}
        assert len(keys) <= 256
        for i in (0, 7, 599):
            assert [c.id for c in s.find(phone=f"+86138{i:08d}")] == [f"c{i}"]
        assert s.find(phone="+8613999999999") == []


def test_keyrings_are_checked(tmp_path):
    path = tmp_path / "k.db"
    with custdata.open_store(url_of(path), keyring=KEYRING) as s:
        s.put(custdata.Customer.from_dict(PEOPLE[0]))
    with pytest.raises(StoreError, match="keyring="):
        custdata.open_store(url_of(path))
    with pytest.raises(DecryptionError, match="keyring"):
        custdata.open_store(url_of(path), keyring=Keyring.generate())
    plain = tmp_path / "plain.db"
    with custdata.open_store(url_of(plain)) as s:
        s.put(custdata.Customer.from_dict(PEOPLE[0]))
    with pytest.raises(StoreError, match="plaintext"):
        custdata.open_store(url_of(plain), keyring=KEYRING)
    with custdata.open_store("memory://", keyring=KEYRING) as mem:
        assert mem.encrypted  # type: ignore[attr-defined]
    # a rotated keyring (new active key, same index key) still opens and reads the old records
    rotated = Keyring.from_json(KEYRING.to_json())
    rotated.promote(rotated.add())
    with custdata.open_store(url_of(path), keyring=rotated) as s:
        assert s.get("p1").name.full == "诸葛亮明"


def test_a_body_moved_to_another_customer_is_refused(tmp_path):
    path = tmp_path / "m.db"
    with custdata.open_store(url_of(path), keyring=KEYRING) as s:
        s.upsert_many([custdata.Customer.from_dict(p) for p in PEOPLE])
    con = sqlite3.connect(path)
    body = con.execute("SELECT body FROM cd_customers WHERE id = 'p1'").fetchone()[0]
    other = json.loads(con.execute("SELECT body FROM cd_customers WHERE id = 'p2'").fetchone()[0])
    other["pii"] = json.loads(body)["pii"]
    con.execute("UPDATE cd_customers SET body = ? WHERE id = 'p2'", (json.dumps(other),))
    con.commit()
    con.close()
    with custdata.open_store(url_of(path), keyring=KEYRING) as s:
        assert s.get("p1").id == "p1"
        with pytest.raises(DecryptionError):
            s.get("p2")


def copy_again(tmp_path: Path) -> Store:
    return custdata.open_store(url_of(tmp_path / "other.db"), keyring=KEYRING)


def test_backups_of_an_encrypted_store_stay_encrypted(tmp_path):
    from custdata.storage import export, restore

    src = custdata.open_store(url_of(tmp_path / "src.db"), keyring=KEYRING)
    src.upsert_many([custdata.Customer.from_dict(p) for p in PEOPLE])
    src.put(
        src.get("p1").evolve(
            phones=[custdata.Phone(NEW_PHONE)], addresses=[custdata.Address(street=NEW_STREET)]
        )
    )
    backup = tmp_path / "backup.jsonl"
    counts = export(src, backup)
    assert counts["customer"] == 3 and counts["history"] == 4
    blob = backup.read_bytes()
    for secret in secrets_in(PEOPLE):
        for form in forms(secret):
            assert form not in blob, f"{secret!r} in the encrypted backup"
    # into another encrypted store with the same keyring: readable, findable, history intact
    with custdata.open_store(url_of(tmp_path / "copy.db"), keyring=KEYRING) as copy:
        with pytest.raises(DecryptionError, match="subject_keys="):
            restore(copy, backup)  # the customers' own keys are in the source store only
        assert copy.count(include_deleted=True) == 0
        assert restore(copy, backup, subject_keys=src) == {**counts, "shredded": 0}
        assert copy.get("p1").phones[0].number == NEW_PHONE
        assert [c.id for c in copy.find(email="jane.smithers@example.org")] == ["p2"]
        assert copy.history("p1") == src.history("p1")
    # into a plaintext store only with the keyring; a wrong keyring is refused
    with custdata.open_store("memory://") as mem:
        with pytest.raises(DecryptionError, match="subject_keys="):
            restore(mem, backup, keyring=KEYRING)
        with pytest.raises(DecryptionError, match="keyring"):
            restore(mem, backup, keyring=Keyring.generate(), subject_keys=src)
        with pytest.raises(DecryptionError, match="another store"):
            restore(mem, backup, subject_keys=copy_again(tmp_path))
        restore(mem, backup, subject_keys=src)  # the keyring comes with the store
        assert mem.get("p3").name.full == "Zoë Ångström"
    # plaintext=True is the explicit way out
    export(src, tmp_path / "plain.jsonl", plaintext=True)
    assert b"+8613912345678" in (tmp_path / "plain.jsonl").read_bytes()
    with custdata.open_store("memory://") as mem:
        restore(mem, tmp_path / "plain.jsonl")
        assert mem.count() == 3
    src.close()
