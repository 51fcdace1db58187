"""Phone numbers: messy real-world input, reasons for rejection, and properties over many regions."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from custdata import Phone, PhoneKind
from custdata._mask import mask_phone
from custdata.exceptions import CustdataError, InvalidPhoneError
from custdata.normalization import PHONE_REASONS, NormalizedPhone, normalize_phone
from custdata.normalization._phone import _fast_parse, _number_type, _region_of
from custdata.normalization._strategies import PHONE_REGIONS, messy_phones, valid_phone_numbers

MESSY = [
    # (text, default region, E.164, extension)
    ("138 0013 8000", "CN", "+8613800138000", None),
    ("13800138000", "CN", "+8613800138000", None),
    ("+86 138-0013-8000", "CN", "+8613800138000", None),
    ("+86 138 0013 8000", "US", "+8613800138000", None),
    ("0086 13800138000", "CN", "+8613800138000", None),
    ("86 13800138000", "CN", "+8613800138000", None),
    ("8613800138000", "CN", "+8613800138000", None),
    ("１３８００１３８０００", "CN", "+8613800138000", None),
    ("１３８－００１３－８０００", "CN", "+8613800138000", None),
    ("＋８６ １３８ ００１３ ８０００", "CN", "+8613800138000", None),
    ("手机：138 0013 8000", "CN", "+8613800138000", None),
    ("手机号码: 138.0013.8000", "CN", "+8613800138000", None),
    ("【手机】13800138000", "CN", "+8613800138000", None),
    ("联系电话：13800138000", "CN", "+8613800138000", None),
    ("Mobile: +86 138 0013 8000", "CN", "+8613800138000", None),
    ("(010) 6234 5678", "CN", "+861062345678", None),
    ("（０１０）６２３４５６７８", "CN", "+861062345678", None),
    ("010-62345678", "CN", "+861062345678", None),
    ("电话：010-6234 5678 转 123", "CN", "+861062345678", "123"),
    ("010-62345678转8001", "CN", "+861062345678", "8001"),
    ("010 6234 5678 分机 66", "CN", "+861062345678", "66"),
    ("+86 (0)10 6234 5678", "CN", "+861062345678", None),
    ("021 6234 5678 ext. 12", "CN", "+862162345678", "12"),
    ("0755-8888 8888 #207", "CN", "+8675588888888", "207"),
    ("400-810-8888", "CN", "+864008108888", None),
    ("+1 (650) 253-0000", "CN", "+16502530000", None),
    ("(650) 253-0000 x 12", "US", "+16502530000", "12"),
    ("1-650-253-0000", "US", "+16502530000", None),
    ("030 1234567", "DE", "+49301234567", None),
    ("+49 (0)30 1234567", "CN", "+49301234567", None),
    ("020 7946 0958", "GB", "+442079460958", None),
    ("Tel. +44 20 7946 0958", "CN", "+442079460958", None),
    ("+852 5123 4567", "CN", "+85251234567", None),
    ("03-1234-5678", "JP", "+81312345678", None),
    ("tel:+86-10-6234-5678;ext=99", "CN", "+861062345678", "99"),
    ("+861062345678;ext=99", "CN", "+861062345678", "99"),
]


@pytest.mark.parametrize(("text", "region", "e164", "extension"), MESSY)
def test_messy_numbers(text: str, region: str, e164: str, extension: str | None) -> None:
    p = normalize_phone(text, region=region)
    assert p.e164 == e164
    assert p.extension == extension
    again = normalize_phone(p.number, region=region)
    assert again == p


BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("手机：", "empty"),
    ("abc", "letters"),
    ("1380013800a", "letters"),
    ("1-800-FLOWERS", "letters"),
    ("!!!", "bad_characters"),
    ("138*0013*8000", "bad_characters"),
    ("12345", "too_short"),
    ("+86 123", "too_short"),
    ("1", "too_short"),
    ("138001380001234567", "too_long"),
    ("+999 1234567", "invalid_country_code"),
    ("10800138000", "invalid_number"),
    ("+", "not_a_number"),
]


@pytest.mark.parametrize(("text", "reason"), BAD)
def test_bad_numbers_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneError) as info:
        normalize_phone(text, region="CN")
    assert info.value.reason == reason
    assert info.value.reason in PHONE_REASONS
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, CustdataError)
    assert repr(mask_phone(text)) in str(info.value)  # masked: the number stays out of the message
    assert info.value.value == text


def test_no_region_needs_a_country_code() -> None:
    assert normalize_phone("+8613800138000", region=None).e164 == "+8613800138000"
    with pytest.raises(InvalidPhoneError) as info:
        normalize_phone("13800138000", region=None)
    assert info.value.reason == "invalid_country_code"


def test_unknown_region_is_an_invalid_phone_error() -> None:
    with pytest.raises(InvalidPhoneError) as info:
        normalize_phone("13800138000", region="XX")
    assert info.value.reason == "unknown_region"


def test_region_is_case_insensitive() -> None:
    assert normalize_phone("030 1234567", region="de").e164 == "+49301234567"


def test_details_from_offline_data() -> None:
    p = normalize_phone("138 0013 8000")
    assert (p.region, p.kind, p.national) == ("CN", "mobile", "138 0013 8000")
    assert p.carrier == "中国移动"
    assert p.location == "北京市"
    assert (p.province, p.city) == ("北京市", "北京市")
    sz = normalize_phone("0755 8888 8888")
    assert sz.kind == "fixed_line"
    assert (sz.province, sz.city) == ("广东省", "深圳市")
    assert sz.carrier is None
    us = normalize_phone("+1 650 253 0000")
    assert us.region == "US"
    assert us.location == "Mountain View, CA"
    assert us.province is None
    assert normalize_phone("400 810 8888").kind == "shared_cost"
    assert normalize_phone("800 810 8888").kind == "toll_free"


def test_to_phone() -> None:
    mobile = normalize_phone("13800138000").to_phone(primary=True)
    assert mobile == Phone("+8613800138000", kind=PhoneKind.MOBILE, primary=True)
    office = normalize_phone("010 6234 5678 转 9").to_phone()
    assert office == Phone("+861062345678;ext=9", kind=PhoneKind.OTHER)
    assert normalize_phone("010 6234 5678").to_phone(kind="work").kind is PhoneKind.WORK


def test_repeated_values_hit_the_cache() -> None:
    from custdata.normalization._phone import _normalize_cached

    normalize_phone("+86 139 0013 9000")
    before = _normalize_cached.cache_info().hits
    for _ in range(5):
        normalize_phone("+86 139 0013 9000")
    assert _normalize_cached.cache_info().hits == before + 5


def test_errors_are_fresh_each_time() -> None:
    """Cached failures are raised as new exceptions (no traceback piles up on a shared one)."""
    errors = []
    for _ in range(2):
        with pytest.raises(InvalidPhoneError) as info:
            normalize_phone("12345")
        errors.append(info.value)
    assert errors[0] is not errors[1]
    assert errors[0].reason == errors[1].reason


def _phone_or_error(text: str, region: str | None) -> NormalizedPhone | InvalidPhoneError:
    """The result, or the InvalidPhoneError; any other exception fails the test."""
    try:
        return normalize_phone(text, region=region)
    except InvalidPhoneError as exc:
        return exc


@given(st.text())
@example("\x00")
@example("+" + "9" * 300)
@example("手机：转123")
@example("0" * 20)
@example("+(86)")
def test_any_text_gives_a_number_or_an_invalid_phone_error(text: str) -> None:
    p = _phone_or_error(text, "CN")
    if isinstance(p, InvalidPhoneError):
        assert p.reason in PHONE_REASONS
    else:
        assert p.e164.startswith("+")
        assert p.e164[1:].isdigit()


@given(st.text("0123456789+-() 转x#０１２３", max_size=25), st.sampled_from(["CN", "US", "DE", None]))
def test_digit_soup_never_raises_anything_else(text: str, region: str | None) -> None:
    _phone_or_error(text, region)


@given(messy_phones())
def test_messy_valid_numbers_round_trip_to_e164(case: tuple[str, str, str]) -> None:
    text, region, e164 = case
    p = normalize_phone(text, region=region)
    assert p.e164 == e164
    assert normalize_phone(p.e164, region=region) == p  # normalising twice equals once
    assert normalize_phone(p.e164, region=None) == p


@given(valid_phone_numbers())
def test_generated_numbers_of_many_regions_keep_their_e164(num: phonenumbers.PhoneNumber) -> None:
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
    region = phonenumbers.region_code_for_number(num)
    assert normalize_phone(e164).e164 == e164
    assert normalize_phone(national, region=region).e164 == e164


@pytest.mark.parametrize("region", PHONE_REGIONS)
def test_example_numbers_of_every_listed_region(region: str) -> None:
    for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        num = phonenumbers.example_number_for_type(region, kind)
        if num is None:
            continue
        e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        intl = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        assert normalize_phone(intl, region="CN").e164 == e164


def _reference(compact: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(compact, region)
    except phonenumbers.NumberParseException:
        return None


@given(
    st.text("0123456789", min_size=1, max_size=18),
    st.booleans(),
    st.sampled_from([*PHONE_REGIONS, None]),
)
@example("8613800138000", False, "CN")
@example("17951138001380", False, "CN")
@example("0113001234567", False, "US")
@example("8123456789", False, "RU")
@example("008613800138000", False, "CN")
@example("0085251234567", False, "HK")
@example("0085251234567", False, "CN")
@example("00013800138000", False, "CN")
@example("00", False, "CN")
@example("01144207946095", False, "US")
@example("8108613800138000", False, "RU")
def test_fast_path_agrees_with_phonenumbers_parse(digits: str, plus: bool, region: str | None) -> None:
    compact = ("+" if plus else "") + digits
    fast = _fast_parse(compact, region)
    if fast is None:
        return  # left to phonenumbers.parse itself
    ref = _reference(compact, region)
    assert ref is not None
    assert (fast.country_code, fast.national_number) == (ref.country_code, ref.national_number)
    assert not ref.italian_leading_zero
    assert phonenumbers.number_type(fast) == phonenumbers.number_type(ref)
    nsn, region_code = str(fast.national_number), phonenumbers.region_code_for_number(fast)
    assert _region_of(fast.country_code, nsn) == region_code
    assert _number_type(fast.country_code, nsn, region_code) == phonenumbers.number_type(fast)


@given(valid_phone_numbers(), st.booleans())
def test_fast_path_agrees_on_valid_numbers(num: phonenumbers.PhoneNumber, international: bool) -> None:
    region = phonenumbers.region_code_for_number(num)
    if international:
        compact = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    else:
        compact = "".join(
            ch
            for ch in phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)
            if ch.isdigit()
        )
    fast = _fast_parse(compact, region)
    if fast is not None:
        ref = phonenumbers.parse(compact, region)
        assert (fast.country_code, fast.national_number) == (ref.country_code, ref.national_number)
        nsn, region_code = str(fast.national_number), phonenumbers.region_code_for_number(fast)
        assert _region_of(fast.country_code, nsn) == region_code
        assert _number_type(fast.country_code, nsn, region_code) == phonenumbers.number_type(ref)


_ALL_TYPES = [v for k, v in vars(phonenumbers.PhoneNumberType).items() if k.isupper() and isinstance(v, int)]


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_number_type_agrees_with_phonenumbers_in_every_region(region: str) -> None:
    """The fast path's number_type: the example number of every type of every region, with its last
    digit varied (valid and invalid numbers alike), typed as phonenumbers.number_type types it."""
    for kind in _ALL_TYPES:
        example = phonenumbers.example_number_for_type(region, kind)
        if example is None or example.italian_leading_zero:
            continue
        for last in range(10):
            num = phonenumbers.PhoneNumber(
                country_code=example.country_code, national_number=example.national_number // 10 * 10 + last
            )
            expected = phonenumbers.number_type(num)
            nsn, region_code = str(num.national_number), phonenumbers.region_code_for_number(num)
            assert _region_of(num.country_code, nsn) == region_code, (region, num)
            assert _number_type(num.country_code, nsn, region_code) == expected, (region, num)


@pytest.mark.parametrize("bad", [True, 5, ["CN"]])
def test_a_region_that_is_not_text_is_a_validation_error(bad: object) -> None:
    # Found by the sweep (tests/test_sweep.py): an AttributeError escaped both normalisers.
    from custdata import normalize_address
    from custdata.exceptions import ValidationError

    with pytest.raises(ValidationError, match="region"):
        normalize_phone("13800138000", region=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="region"):
        normalize_address("北京", region=bad)  # type: ignore[arg-type]
