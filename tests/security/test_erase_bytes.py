"""After erase_subject on a SQLite store, the erased customer's values are gone from the database file
and its write-ahead log, byte for byte (secure delete during purge, then the log folded and truncated);
the other customers' values are still there (so the search itself finds what it looks for)."""

from __future__ import annotations

import glob
import json

import pytest

import custdata
from custdata.security import Keyring, erase_subject


def file_bytes(path: str) -> bytes:
    return b"".join(open(f, "rb").read() for f in sorted(glob.glob(path + "*")))


def forms(secret: str) -> list[bytes]:
    return [secret.encode(), secret.encode("utf-16-le"), json.dumps(secret)[1:-1].encode()]


def person(cid: str, phone: str, email: str, name: str, street: str) -> custdata.Customer:
    return custdata.Customer.from_dict(
        {
            "id": cid,
            "name": {"full": name},
            "phones": [{"number": phone}],
            "emails": [{"address": email}],
            "addresses": [{"street": street, "city": "Hangzhou"}],
        }
    )


ERASED = ["+85261234567", "+8613933334444", "erasable.person@example.com", "Wuzhong Qiyan", "Old Lane 3"]
KEPT = ["+8613955556666", "kept.person@example.com", "Liubei Xuande", "Keeper Road 5"]
LATER_STREET = "Erasure Lane 17, Building 9, the long way round past the river"


def fill(store: custdata.storage.Store) -> None:
    store.put(person("b", *KEPT))
    a = store.put(person("a", ERASED[0], ERASED[2], ERASED[3], ERASED[4]))
    # a later version with another phone and a longer address: its body no longer fits where the first
    # one was, so the first version's bytes are left behind in the page (zeroed by secure delete)
    store.put(a.evolve(phones=[custdata.Phone(ERASED[1])], addresses=[custdata.Address(street=LATER_STREET)]))
    note = {"customer_id": "a", "at": "2026-03-04T05:06:07+00:00", "note": "called about " + ERASED[4]}
    store.add_interactions([custdata.Interaction.from_dict(note)])


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_erased_values_leave_the_sqlite_files(tmp_path, encrypted):
    path = str(tmp_path / "shop.db")
    keyring = Keyring.generate() if encrypted else None
    with custdata.open_store("sqlite:///" + path, keyring=keyring) as store:
        fill(store)
        if encrypted:
            # what stands for the person in an encrypted store: their wrapped key, body token, index keys
            secrets = [
                r[0] for r in store.query_sql("SELECT wrapped FROM cd_subject_keys WHERE customer_id = 'a'")
            ]
            body = json.loads(store.query_sql("SELECT body FROM cd_customers WHERE id = 'a'")[0][0])
            secrets.append(body["pii"])
            secrets += [r[0] for r in store.query_sql("SELECT key FROM cd_lookup WHERE customer_id = 'a'")]
            kept = [
                r[0] for r in store.query_sql("SELECT wrapped FROM cd_subject_keys WHERE customer_id = 'b'")
            ]
        else:
            secrets, kept = ERASED, KEPT
        before = file_bytes(path)
        assert all(any(f in before for f in forms(s)) for s in secrets)  # there to be erased
        erase_subject(store, "a", actor="dpo")
        after = file_bytes(path)
        for secret in secrets:
            for form in forms(secret):
                assert form not in after, secret
        for secret in kept:
            assert secret.encode() in after
        assert store.get("b").id == "b"


def test_erasure_inside_a_transaction_scrubs_after_the_commit(tmp_path):
    path = str(tmp_path / "shop.db")
    with custdata.open_store("sqlite:///" + path) as store:
        fill(store)
        with store.transaction():
            store.purge("a")
        after = file_bytes(path)
        for secret in ERASED:
            assert secret.encode() not in after
        assert KEPT[0].encode() in after
