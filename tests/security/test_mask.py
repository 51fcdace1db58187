"""Masks, resident ID validation and keyed pseudonyms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import custdata.testing as cst
from custdata.exceptions import ValidationError
from custdata.security import Keyring, Pseudonymizer, mask_email, mask_name, mask_phone, mask_resident_id


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+8613812345678", "138****5678"),
        ("13812345678", "138****5678"),
        ("138 1234 5678", "138****5678"),
        ("+14155552671", "415***2671"),
        ("12345678", "12****78"),
        ("123", "***"),
        ("", "***"),
        ("no digits", "***"),
    ],
)
def test_mask_phone(text, masked):
    assert mask_phone(text) == masked


@given(st.text())
def test_masks_never_raise_and_hide_the_middle(text):
    for mask in (mask_phone, mask_email, mask_name):
        assert isinstance(mask(text), str)


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mask_phone_keeps_3_and_4_of_a_mobile(number):
    out = mask_phone("+86" + number)
    assert out == number[:3] + "****" + number[7:]


@pytest.mark.parametrize(
    ("text", "masked"),
    [("zhang@example.com", "z***@example.com"), ("a@b.cn", "a***@b.cn"), ("nobody", "***"), ("@x.cn", "***")],
)
def test_mask_email(text, masked):
    assert mask_email(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("John Smith", "J*** S****"),
        ("李", "*"),
        ("阿依古丽·买买提", "阿***·买**"),
        ("  ", "***"),
    ],
)
def test_mask_name(text, masked):
    assert mask_name(text) == masked


@given(st.text(min_size=2, max_size=20).filter(lambda t: t.strip() == t and " " not in t))
def test_mask_name_keeps_length_and_hides_all_but_initials(name):
    out = mask_name(name)
    assert len(out) == len(name)


@given(cst.resident_ids())
def test_mask_resident_id(number):
    assert mask_resident_id(number) == number[:6] + "********" + number[14:]
    assert mask_resident_id(number.lower()) == mask_resident_id(number)


@given(cst.resident_ids(), st.data())
def test_every_single_digit_error_in_a_resident_id_is_refused(number, data):
    i = data.draw(st.integers(0, 16))
    digit = data.draw(st.sampled_from("0123456789").filter(lambda d: d != number[i]))
    bad = number[:i] + digit + number[i + 1 :]
    with pytest.raises(ValidationError) as err:
        mask_resident_id(bad)
    assert bad not in str(err.value)


@pytest.mark.parametrize("bad", ["", "123", "11010519491231002Y", "110105194913310020", 110105194912310021])
def test_bad_resident_ids(bad):
    with pytest.raises(ValidationError):
        mask_resident_id(bad)


@given(cst.field_values(), st.sampled_from(["phone", "email"]))
def test_pseudonyms_are_stable_per_key_and_field(value, field):
    ring = Keyring.generate()
    p = Pseudonymizer(ring)
    assert p(value, field=field) == Pseudonymizer(ring)(value, field=field)
    assert len(p(value, field=field)) == 16


def test_pseudonyms_differ_across_keys_fields_and_values():
    ring = Keyring.generate()
    p = Pseudonymizer(ring, chars=32)
    v = "+8613812345678"
    assert p(v, field="phone") != p(v, field="email")
    assert p(v, field="phone") != Pseudonymizer(Keyring.generate(), chars=32)(v, field="phone")
    assert len({p(f"+86138{i:08d}") for i in range(10_000)}) == 10_000
    with pytest.raises(ValidationError):
        Pseudonymizer(ring, chars=4)
    with pytest.raises(ValidationError):
        p(12345)  # type: ignore[arg-type]
