"""RecordCipher: stored bodies and history changes keep no personal data in the clear, and open exactly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import custdata.testing as cst
from custdata.exceptions import DecryptionError, ValidationError
from custdata.security import PII_FIELDS, Keyring, RecordCipher

CIPHER = RecordCipher(Keyring.generate(), sensitive_custom=["salary"])


def secrets_of(body):
    out = []
    for p in body.get("phones", []):
        out += [p["number"], p["number"][3:]]
    out += [e["address"] for e in body.get("emails", [])]
    out += [v for v in (body.get("name") or {}).values() if v]
    out += [a["street"] for a in body.get("addresses", []) if a.get("street")]
    return [s for s in out if len(s) >= 4]


@given(cst.customers())
def test_sealed_bodies_open_exactly_and_hide_pii(c):
    body = {k: v for k, v in c.to_dict().items() if v not in (None, [], {}) and k != "version"}
    sealed = CIPHER.seal_body(body)
    # the personal fields are gone, nothing else changed, and the one token is opaque text
    assert {k: v for k, v in sealed.items() if k != "pii"} == {
        k: v for k, v in body.items() if k not in PII_FIELDS
    }
    assert ("pii" in sealed) == any(k in body for k in PII_FIELDS)
    for secret in secrets_of(body):
        assert secret not in sealed.get("pii", "")
    assert CIPHER.open_body(sealed) == body


def test_sensitive_custom_attributes_are_sealed():
    body = {"id": "c1", "custom": {"salary": 9000, "shoe": 42}}
    sealed = CIPHER.seal_body(body)
    assert sealed["custom"] == {"shoe": 42} and "9000" not in json.dumps(sealed)
    assert CIPHER.open_body(sealed) == body
    only = CIPHER.seal_body({"id": "c1", "custom": {"salary": 1}})
    assert "custom" not in only and CIPHER.open_body(only) == {"id": "c1", "custom": {"salary": 1}}


def test_a_body_moved_to_another_record_does_not_open():
    sealed = CIPHER.seal_body({"id": "c1", "phones": [{"number": "+8613812345678"}]})
    with pytest.raises(DecryptionError):
        CIPHER.open_body({**sealed, "id": "c2"})
    with pytest.raises(DecryptionError):
        RecordCipher(Keyring.generate()).open_body(sealed)
    with pytest.raises(ValidationError):
        CIPHER.seal_body({"id": "c1", "pii": "mine"})


@given(
    st.lists(
        st.tuples(
            st.sampled_from([*PII_FIELDS, "tags", "custom", "owner"]), cst.json_values(), cst.json_values()
        )
    )
)
def test_history_changes_round_trip_and_hide_pii(changes):
    changes = [list(c) for c in changes]
    sealed = CIPHER.seal_changes("c1", changes)
    for (field, old, new), (f2, o2, n2) in zip(changes, sealed, strict=True):
        assert f2 == field
        if field in PII_FIELDS or field == "custom":
            assert set(o2) == {"$enc"} and n2 is None
        else:
            assert (o2, n2) == (old, new)
    assert CIPHER.open_changes("c1", json.loads(json.dumps(sealed))) == changes
    if any(f in PII_FIELDS for f, _, _ in changes):
        with pytest.raises(DecryptionError):
            CIPHER.open_changes("c2", sealed)


def test_clear_pii_changes_are_refused():
    with pytest.raises(DecryptionError):
        CIPHER.open_changes("c1", [["phones", None, [{"number": "+8613812345678"}]]])


def test_lookup_keys_are_blind():
    assert CIPHER.derive("phone", "+8613812345678") == CIPHER.index("phone", "+8613812345678")
    assert "8613812345678" not in CIPHER.derive("phone", "+8613812345678")


@given(cst.customers())
def test_blind_lookup_keys_fast_path_matches_the_general_path(c):
    from custdata.storage._core import Lookup

    lookup = Lookup(derive=CIPHER.derive)
    assert lookup.sorted_keys(c) == sorted(lookup.keys(c))


@given(cst.phones(), cst.emails())
def test_blind_lookup_keys_fast_path_for_one_phone_and_one_email(phone, email):
    from custdata import Customer
    from custdata.storage._core import Lookup

    c = Customer(id="x", phones=[phone], emails=[email])
    lookup = Lookup(derive=CIPHER.derive)
    assert lookup.sorted_keys(c) == sorted(lookup.keys(c))
