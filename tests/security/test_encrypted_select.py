"""Rules over an encrypted store select exactly what they select over the same plaintext store (the
personal fields are not readable by SQL there, so the rule runs in Python over the decrypted records)."""

from __future__ import annotations

import warnings

import pytest

import custdata
from custdata.security import Keyring
from custdata.segments import Rule

PEOPLE = [
    {
        "id": "a",
        "addresses": [{"city": "南阳市", "province": "河南省"}],
        "birthday": "1990-03-10",
        "tags": ["vip"],
    },
    {"id": "b", "addresses": [{"city": "北京市", "province": "北京市"}], "birthday": "1960-03-12"},
    {"id": "c", "phones": [{"number": "+8613912345678"}], "tags": ["vip"]},
]


@pytest.mark.parametrize(
    "text", ["city == '南阳市'", "age >= 50", "province is missing", "tags contains 'vip' and age < 40"]
)
def test_select_on_an_encrypted_store_matches_plaintext(tmp_path, text):
    rule = Rule.parse(text)
    people = [custdata.Customer.from_dict(p) for p in PEOPLE]
    got = {}
    for kind, keyring in (("plain", None), ("encrypted", Keyring.generate())):
        with custdata.open_store(f"sqlite:///{tmp_path}/{kind}.db", keyring=keyring) as s:
            s.upsert_many(people)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got[kind] = [c.id for c in rule.select(s, as_of="2026-03-01")]
    assert got["encrypted"] == got["plain"]
