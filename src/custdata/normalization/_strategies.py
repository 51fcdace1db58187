"""Hypothesis strategies for messy contact data, for custdata's own tests.

Imported only by custdata's own tests (:mod:`custdata.testing` does not re-export it); it needs
``hypothesis``.

>>> from hypothesis import given
>>> @given(messy_phones())
... def test_phone(case):
...     text, region, e164 = case
...     assert normalize_phone(text, region=region).e164 == e164
>>> test_phone()
"""

from __future__ import annotations

import phonenumbers
from hypothesis import assume
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from custdata.normalization._phone import normalize_phone  # noqa: F401  (used in the doctest)

__all__ = ["PHONE_REGIONS", "messy_emails", "messy_names", "messy_phones", "valid_phone_numbers"]

#: Regions the phone strategies draw from: China first, then a spread of numbering plans.
PHONE_REGIONS = (
    "CN", "HK", "TW", "MO", "US", "CA", "GB", "DE", "FR", "IT", "ES", "NL", "SE", "CH", "RU", "JP", "KR",
    "SG", "MY", "TH", "VN", "ID", "PH", "IN", "AU", "NZ", "BR", "MX", "AR", "ZA", "NG", "EG", "AE", "SA",
    "TR", "IL", "PL", "UA", "PK", "BD",
)  # fmt: skip
_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE)
_FULL_WIDTH = str.maketrans("0123456789+-()", "０１２３４５６７８９＋－（）")
_LABELS = ("", "", "", "手机：", "电话:", "Tel. ", "Mobile: ", "联系电话：", "【手机】", "phone ")


@st.composite
def valid_phone_numbers(
    draw: st.DrawFn, regions: tuple[str, ...] = PHONE_REGIONS
) -> phonenumbers.PhoneNumber:
    """Valid phone numbers of many regions: phonenumbers' example numbers with their last digits varied."""
    region = draw(st.sampled_from(regions))
    kind = draw(st.sampled_from(_TYPES))
    example = phonenumbers.example_number_for_type(region, kind)
    assume(example is not None)
    assert example is not None
    digits = str(example.national_number)
    k = draw(st.integers(0, min(4, len(digits) - 1)))
    tail = draw(st.text("0123456789", min_size=k, max_size=k))
    candidate = phonenumbers.PhoneNumber(
        country_code=example.country_code,
        national_number=int(digits[: len(digits) - k] + tail),
        italian_leading_zero=example.italian_leading_zero,
        number_of_leading_zeros=example.number_of_leading_zeros,
    )
    assume(phonenumbers.is_valid_number(candidate))
    return candidate


def _plain_idd(region: str) -> bool:
    """Is ``00`` how one dials abroad from ``region`` (and nothing longer that starts with 00)?"""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return region == "CN" or (meta is not None and meta.international_prefix == "00")


@st.composite
def messy_phones(draw: st.DrawFn, regions: tuple[str, ...] = PHONE_REGIONS) -> tuple[str, str, str]:
    """``(text, default region, expected E.164)``: valid numbers written as people write them, with
    national or international forms, ``00`` prefixes, odd separators, full-width digits and labels."""
    num = draw(valid_phone_numbers(regions))
    e164 = phonenumbers.format_number(num, PhoneNumberFormat.E164)
    home: str = phonenumbers.region_code_for_number(num) or "CN"
    default = draw(st.sampled_from([home, home, "CN", "US", "DE"]))
    forms = [
        phonenumbers.format_number(num, PhoneNumberFormat.INTERNATIONAL),
        e164,
        "00" + e164[1:] if _plain_idd(default) else e164,
    ]
    if default == home:
        forms.append(phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL))
    text = draw(st.sampled_from(forms))
    sep = draw(st.sampled_from([" ", "-", ".", " ", ""]))
    if sep != " ":
        text = text.replace(" ", sep)
    if draw(st.booleans()):
        text = text.translate(_FULL_WIDTH)
    text = draw(st.sampled_from(_LABELS)) + text
    if draw(st.integers(0, 4)) == 0:
        text = f"  {text}\t"
    return text, default, e164


_LOCAL = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", min_size=1, max_size=12)
_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "qq.com",
    "163.com",
    "outlook.com",
    "example.com",
    "例子.中国",
    "公司.cn",
)


@st.composite
def messy_emails(draw: st.DrawFn) -> tuple[str, str]:
    """``(text, expected address)``: valid addresses with odd case, blanks, labels, full-width ``＠``
    and display names around them."""
    parts = draw(st.lists(_LOCAL, min_size=1, max_size=3))
    local = ".".join(parts)
    if draw(st.booleans()):
        local += "+" + draw(_LOCAL)
    domain = draw(st.sampled_from(_DOMAINS))
    address = f"{local}@{domain}"
    written_domain = domain.upper() if domain.isascii() and draw(st.booleans()) else domain
    text = f"{local}{draw(st.sampled_from(['@', '@', '＠']))}{written_domain}"
    wrap = draw(st.sampled_from(["{}", " {} ", "邮箱：{}", "Email: {}", "张伟 <{}>", "mailto:{}", "{}。"]))
    return wrap.format(text), address


_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "欧阳", "司马", "诸葛", "上官")
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
_LATIN_GIVEN = ("Wei", "Ada", "José", "Zoë", "Mary-Jane", "John", "Li", "Anna")
_LATIN_FAMILY = ("Zhang", "Lovelace", "García", "O'Neil", "Smith", "van Beethoven", "Müller")


@st.composite
def messy_names(draw: st.DrawFn) -> tuple[str, str, str | None]:
    """``(text, expected full name, expected family name)``: Chinese names (compound surnames included)
    with spaces and honorifics, and Latin names with titles, odd case and blanks."""
    if draw(st.booleans()):
        family = draw(st.sampled_from(_SURNAMES))
        given = draw(st.text(_GIVEN, min_size=1, max_size=2))
        text = family + draw(st.sampled_from(["", " ", "  "])) + given
        text = draw(st.sampled_from(["{}", " {} ", "{}先生", "{}女士", "{} 小姐"])).format(text)
        return text, family + given, family
    given_l = draw(st.sampled_from(_LATIN_GIVEN))
    family_l = draw(st.sampled_from(_LATIN_FAMILY))
    title = draw(st.sampled_from(["", "", "Mr ", "Dr. ", "Ms. "]))
    text = f"{title}{given_l}  {family_l}"
    return text, f"{given_l} {family_l}", family_l
