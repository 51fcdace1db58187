"""FieldEncryptor and BlindIndex: round trips, tamper and binding detection, key states, commitment."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import custdata.testing as cst
from custdata.exceptions import DecryptionError, ValidationError
from custdata.security import BlindIndex, FieldEncryptor, Keyring

RING = Keyring.generate()
TOKEN_CHARS = re.compile(r"[A-Za-z0-9_.~=-]+")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~="


def enc_for(store: str) -> FieldEncryptor:
    return FieldEncryptor(RING, store=store)


@given(cst.field_values(), cst.bindings())
def test_round_trip_any_text(value, binding):
    store, record_id, field = binding
    enc = enc_for(store)
    token = enc.encrypt(value, record_id=record_id, field=field)
    assert isinstance(token, str) and TOKEN_CHARS.fullmatch(token)
    assert enc.decrypt(token, record_id=record_id, field=field) == value


@given(cst.field_values(), st.data())
def test_every_changed_character_is_detected(value, data):
    enc = enc_for("s")
    token = enc.encrypt(value, record_id="r", field="phone")
    i = data.draw(st.integers(0, len(token) - 1))
    ch = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != token[i]))
    with pytest.raises(DecryptionError):
        enc.decrypt(token[:i] + ch + token[i + 1 :], record_id="r", field="phone")


@given(cst.field_values(), st.data())
def test_every_changed_byte_is_detected(value, data):
    enc = enc_for("s")
    token = enc.encrypt(value, record_id="r", field="phone")
    head, body = token.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= data.draw(st.integers(1, 255))
    bad = head + "." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(DecryptionError):
        enc.decrypt(bad, record_id="r", field="phone")


@given(cst.field_values(), st.data())
def test_truncated_or_extended_tokens_are_refused(value, data):
    enc = enc_for("")
    token = enc.encrypt(value, record_id="r", field="f")
    cut = data.draw(st.integers(0, len(token) - 1))
    with pytest.raises(DecryptionError):
        enc.decrypt(token[:cut], record_id="r", field="f")
    with pytest.raises(DecryptionError):
        enc.decrypt(token + data.draw(st.sampled_from(ALPHABET)), record_id="r", field="f")


@given(cst.field_values(), cst.bindings(), cst.bindings())
def test_a_token_moved_to_another_binding_is_refused(value, a, b):
    if a == b:
        return
    token = enc_for(a[0]).encrypt(value, record_id=a[1], field=a[2])
    with pytest.raises(DecryptionError):
        enc_for(b[0]).decrypt(token, record_id=b[1], field=b[2])


@pytest.mark.parametrize("value", ["", "a", "ab", "abc", "13912345678"])
def test_every_changed_character_is_detected_exhaustively(value):
    # every position and every other character of the token alphabet: this catches base64 spellings
    # that decode to the same bytes (the unused low bits of the last character)
    enc = enc_for("s")
    token = enc.encrypt(value, record_id="r", field="phone")
    for i in range(len(token)):
        for ch in ALPHABET:
            if ch != token[i]:
                with pytest.raises(DecryptionError):
                    enc.decrypt(token[:i] + ch + token[i + 1 :], record_id="r", field="phone")


def test_the_key_id_is_bound_too():
    ring = Keyring.generate()
    old = ring.active_id
    twin = ring.add(ring.material(old))  # the same material under another id
    enc = FieldEncryptor(ring)
    token = enc.encrypt("13912345678", record_id="r", field="phone")
    relabelled = token.replace(f".{old}.", f".{twin}.")
    with pytest.raises(DecryptionError):
        enc.decrypt(relabelled, record_id="r", field="phone")


def test_wrong_key_with_the_same_id_is_refused_by_the_commitment():
    a, b = Keyring(), Keyring()
    a.promote(a.add(key_id="k1"))
    b.promote(b.add(key_id="k1"))
    token = FieldEncryptor(a).encrypt("x", record_id="r", field="f")
    with pytest.raises(DecryptionError, match="commitment"):
        FieldEncryptor(b).decrypt(token, record_id="r", field="f")


def test_key_states_decide_what_decrypts():
    ring = Keyring.generate()
    enc = FieldEncryptor(ring)
    first = ring.active_id
    old = enc.encrypt("v", record_id="r", field="f")
    second = ring.add()
    ring.promote(second)
    new = enc.encrypt("v", record_id="r", field="f")
    assert FieldEncryptor.key_id_of(old) == first and FieldEncryptor.key_id_of(new) == second
    assert enc.decrypt(old, record_id="r", field="f") == "v"  # decrypt-only still reads
    ring.retire(first)
    with pytest.raises(DecryptionError, match="retired"):
        enc.decrypt(old, record_id="r", field="f")
    ring.destroy(first)
    with pytest.raises(DecryptionError, match="destroyed"):
        enc.decrypt(old, record_id="r", field="f")
    assert enc.decrypt(new, record_id="r", field="f") == "v"
    other = Keyring.generate()
    with pytest.raises(DecryptionError, match="not in this keyring"):
        FieldEncryptor(other).decrypt(new, record_id="r", field="f")


@pytest.mark.parametrize("bad", [None, 3, b"v1.a.b", "", "v2.k.AAAA", "v1.k", "v1.k.AA AA", "v1.k.é"])
def test_malformed_tokens_raise_decryption_error(bad):
    with pytest.raises(DecryptionError):
        enc_for("").decrypt(bad, record_id="r", field="f")


def test_wrong_argument_types_are_validation_errors():
    enc = enc_for("")
    with pytest.raises(ValidationError):
        enc.encrypt(b"bytes", record_id="r", field="f")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        enc.encrypt("v", record_id=1, field="f")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        FieldEncryptor("not a keyring")  # type: ignore[arg-type]


def test_tokens_of_equal_values_differ():
    enc = enc_for("")
    assert enc.encrypt("same", record_id="r", field="f") != enc.encrypt("same", record_id="r", field="f")


# ------------------------------------------------------------------------------------------- blind index
@given(cst.field_values(), st.sampled_from([8, 16, 32, 64, 256]))
def test_blind_index_is_deterministic_and_sized(value, bits):
    index = BlindIndex(RING, bits=bits)
    key = index("phone", value)
    assert key == BlindIndex(RING, bits=bits)("phone", value)
    assert re.fullmatch(f"[0-9a-f]{{{bits // 4}}}", key)


def test_blind_index_separates_fields_stores_and_keyrings():
    v = "+8613812345678"
    base = BlindIndex(RING, bits=64)
    assert base("phone", v) != base("email", v)
    assert base("phone", v) != BlindIndex(RING, bits=64, store="other")("phone", v)
    assert base("phone", v) != BlindIndex(Keyring.generate(), bits=64)("phone", v)
    # rotating data keys leaves the index alone
    ring = Keyring.generate()
    before = BlindIndex(ring)("phone", v)
    ring.promote(ring.add())
    assert BlindIndex(ring)("phone", v) == before


def test_blind_index_false_positive_rate_matches_the_formula():
    index = BlindIndex(RING, bits=12)
    n = 40_000
    stored = {index("phone", f"+86138{i:08d}") for i in range(n)}
    probes = [f"+86139{i:08d}" for i in range(4000)]
    hits = sum(index("phone", p) in stored for p in probes)
    # share of the 4096 buckets that n values fill: 1 - exp(-n / 4096) ~ 0.99994
    assert hits / len(probes) > 0.99
    few = {index("phone", f"+86138{i:08d}") for i in range(400)}
    rate = sum(index("phone", p) in few for p in probes) / len(probes)
    assert 0.05 < rate < 0.15  # expected 1 - exp(-400/4096) = 0.093


@pytest.mark.parametrize("bits", [0, 7, 10, 260, True, "32"])
def test_blind_index_bits_are_checked(bits):
    with pytest.raises(ValidationError):
        BlindIndex(RING, bits=bits)
