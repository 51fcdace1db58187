"""Phone numbers as people really type them, normalised to E.164 with phonenumbers.

The text is cleaned first (Unicode NFKC folds full-width digits and punctuation; labels such as ``手机：``
or ``Tel.`` are dropped; an extension after ``转``, ``分机``, ``ext``, ``x`` or ``#`` is split off), then
parsed and validated by :mod:`phonenumbers` against the caller's default region. Every failure is an
:class:`~custdata.exceptions.InvalidPhoneError` with a machine-readable ``reason``.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from typing import Any

import attrs
import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber, PhoneNumberFormat, PhoneNumberType

from custdata._mask import shown
from custdata._records import Phone, PhoneKind
from custdata.exceptions import InvalidPhoneError, ValidationError

__all__ = ["PHONE_REASONS", "NormalizedPhone", "normalize_phone"]

log = logging.getLogger(__name__)

#: Every ``reason`` an :class:`InvalidPhoneError` from :func:`normalize_phone` can carry.
PHONE_REASONS = (
    "empty",  # nothing but blanks and labels
    "letters",  # letters where digits belong (vanity numbers are not accepted)
    "bad_characters",  # symbols that never appear in a phone number
    "not_a_number",  # no digits to speak of
    "too_short",
    "too_long",
    "invalid_length",  # a length no number of that country has
    "invalid_country_code",  # +999 …, or a national number with no default region
    "invalid_number",  # right length, but not a number plan allows (e.g. a CN mobile starting 10)
    "bad_extension",
    "unknown_region",  # the ``region`` argument is not a region phonenumbers knows
)

_KINDS = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}

# Labels people put before a number; matched case-insensitively at the start, colon optional.
_LABEL = re.compile(
    r"^\s*[\[【〔(]?\s*(?:(?:联系|移动|固定|办公|家庭|住宅|公司|单位|紧急)?(?:手机号码|手机号|手机|电话号码|电话|座机|固话|传真|"
    r"联系方式|号码|tel(?:ephone)?|phone|mobile|mob|cell(?:phone)?|fax|m|t|f|p|h|w|o|home|work|office)\.?)"
    r"\s*[\]】〕)]?\s*[:：]?\s*",
    re.IGNORECASE,
)
_ANY_LABEL = re.compile(r"^[^\d+(（:：]{1,20}[:：]\s*")  # "Contact (day):" and the like, before a colon
_EXTENSION = re.compile(
    r"\s*(?:转|轉|分机号?|分機|;\s*ext=|ext(?:ension)?\.?|x|#|~)\s*(\d{1,8})\s*$", re.IGNORECASE
)
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−﹣－ー一", "-")) | str.maketrans(
    {"。": ".", "、": " ", "，": " ", ",": " ", "·": " ", "・": " ", "\u3000": " "}
)
_ALLOWED = frozenset("0123456789+-.()/ \t")
_PARSE_REASONS = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not_a_number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too_short",
    phonenumbers.NumberParseException.TOO_LONG: "too_long",
}
_POSSIBLE_REASONS = {
    phonenumbers.ValidationResult.TOO_SHORT: "too_short",
    phonenumbers.ValidationResult.TOO_LONG: "too_long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "invalid_length",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too_short",
}


_SEPARATORS = str.maketrans("", "", " -./()\t")


@functools.lru_cache(maxsize=512)
def _region_rules(region: str) -> tuple[int, str, re.Pattern[str] | None, re.Pattern[str] | None] | None:
    """(country code, its digits, international-prefix pattern, national-prefix pattern) of a region."""
    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.country_code is None:
        return None
    idd = re.compile(meta.international_prefix) if meta.international_prefix else None
    npp = re.compile(meta.national_prefix_for_parsing) if meta.national_prefix_for_parsing else None
    return meta.country_code, str(meta.country_code), idd, npp


def _fast_parse(compact: str, region: str | None) -> PhoneNumber | None:
    """The PhoneNumber ``phonenumbers.parse`` would give for plain digits (``+`` optional), or None when
    the digits take any of parse's special paths (international or national prefixes, a country code
    written without ``+``, leading zeros, odd lengths); those go to ``phonenumbers.parse`` itself.
    The tests check this against ``phonenumbers.parse`` on generated numbers of every region."""
    fast = _fast_digits(compact, region)
    return None if fast is None else PhoneNumber(country_code=fast[0], national_number=int(fast[1]))


def _fast_digits(compact: str, region: str | None) -> tuple[int, str] | None:
    """:func:`_fast_parse` as (country code, national significant number without leading zeros)."""
    if compact[:1] == "0" and region is not None:  # 0086 …: an international prefix, as parse reads it
        rules = _region_rules(region)
        m = rules[2].match(compact) if rules is not None and rules[2] is not None else None
        if m is None or not compact[m.end() :] or compact[m.end()] == "0":
            return None
        compact = "+" + compact[m.end() :]
    if compact[:1] == "+":
        rest = compact[1:]
        if len(rest) < 4 or rest[0] == "0":
            return None
        for i in (1, 2, 3):
            regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(rest[:i]))
            if regions:
                break
        else:
            return None
        if regions[0] == "001":
            return None
        rules = _region_rules(regions[0])
        nsn = rest[i:]
        if rules is None or not 3 <= len(nsn) <= 17 or nsn[0] == "0":
            return None
        if rules[3] is not None and rules[3].match(nsn):
            return None
        return rules[0], nsn
    if region is None or compact[0] == "0" or not 3 <= len(compact) <= 17:
        return None
    rules = _region_rules(region)
    if rules is None or compact.startswith(rules[1]):
        return None
    if (rules[2] is not None and rules[2].match(compact)) or (
        rules[3] is not None and rules[3].match(compact)
    ):
        return None
    return rules[0], compact


# phonenumbers.number_type, for the numbers _fast_parse builds (no leading zeros), with the patterns
# compiled once per region: the same checks in the same order as phonenumbers' _number_type_helper
# (checked against number_type by the tests), at a third of the cost.
_SPECIAL_TYPES = (  # checked before fixed line and mobile, in this order
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
)
_TypeRules = tuple[
    re.Pattern[str],
    tuple[tuple[int, re.Pattern[str]], ...],
    re.Pattern[str] | None,
    re.Pattern[str] | None,
    bool,
]


def _pattern(desc: Any, length: int) -> re.Pattern[str] | None:
    """The pattern of a PhoneNumberDesc if a number of ``length`` digits can match it, else None
    (phonenumbers' _is_number_matching_desc: no desc or no pattern never matches; possible lengths,
    when listed, are checked first)."""
    if desc is None or not desc.national_number_pattern:
        return None
    if desc.possible_length and length not in desc.possible_length:
        return None
    return re.compile(desc.national_number_pattern)


@functools.lru_cache(maxsize=2048)
def _type_rules(country_code: int, region: str | None, length: int) -> _TypeRules | None:
    """What number_type checks for numbers of ``length`` digits in ``region``: (general pattern, the
    special types' patterns in order, fixed-line pattern, mobile pattern, same fixed and mobile pattern);
    None when no number of that length is valid there."""
    if region is None:  # no region of the country code has the number: phonenumbers finds no metadata
        return None
    meta = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)
    general = None if meta is None else _pattern(meta.general_desc, length)
    if meta is None or general is None:
        return None
    special = tuple(
        (kind, pattern)
        for attr, kind in _SPECIAL_TYPES
        if (pattern := _pattern(getattr(meta, attr), length)) is not None
    )
    same = bool(meta.same_mobile_and_fixed_line_pattern)
    return general, special, _pattern(meta.fixed_line, length), _pattern(meta.mobile, length), same


def _number_type(country_code: int, nsn: str, region: str | None) -> int:
    """``phonenumbers.number_type`` of the number with ``country_code`` and national significant number
    ``nsn`` (no leading zeros) in ``region`` (what ``phonenumbers.region_code_for_number`` says): the same
    checks in the same order as phonenumbers' _number_type_helper, with the patterns that a number of
    this length can match compiled once (checked against number_type by the tests)."""
    rules = _type_rules(country_code, region, len(nsn))
    if rules is None:
        return PhoneNumberType.UNKNOWN
    general, special, fixed, mobile, same = rules
    if general.fullmatch(nsn) is None:
        return PhoneNumberType.UNKNOWN
    for kind, pattern in special:
        if pattern.fullmatch(nsn) is not None:
            return kind
    if fixed is not None and fixed.fullmatch(nsn) is not None:
        if same or (mobile is not None and mobile.fullmatch(nsn) is not None):
            return PhoneNumberType.FIXED_LINE_OR_MOBILE
        return PhoneNumberType.FIXED_LINE
    if not same and mobile is not None and mobile.fullmatch(nsn) is not None:
        return PhoneNumberType.MOBILE
    return PhoneNumberType.UNKNOWN


def _region_of(country_code: int, nsn: str) -> str | None:
    """``phonenumbers.region_code_for_number``, without building a PhoneNumber when the country code has
    one region."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if regions is None:
        return None
    if len(regions) == 1:
        return regions[0]
    num = PhoneNumber(country_code=country_code, national_number=int(nsn))
    return phonenumbers.region_code_for_number(num)


@functools.lru_cache(maxsize=4096)
def _details(e164: str) -> tuple[str, str | None, str | None]:
    """(national format, location, carrier) of a valid E.164 number; Chinese names for +86.
    The geocoder and carrier data are large: they are imported here, on first use, not with custdata."""
    from phonenumbers import carrier, geocoder

    num = phonenumbers.parse(e164)
    lang = "zh" if num.country_code == 86 else "en"
    national = phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL)
    location = geocoder.description_for_number(num, lang) or None
    name = carrier.name_for_number(num, lang) or None
    return national, location, name


@attrs.frozen
class NormalizedPhone:
    """A valid phone number.

    ``e164`` is the number in E.164 (``+8613800138000``); ``region`` the ISO 3166 region it belongs to
    (``CN``; ``001`` for global services); ``kind`` the line type from the numbering plan (``mobile``,
    ``fixed_line``, ``fixed_line_or_mobile``, ``toll_free``, ``premium_rate``, ``shared_cost``, ``voip``,
    ``personal_number``, ``pager``, ``uan``, ``voicemail``); ``extension`` the digits after ``转``/``ext``.
    ``national``, ``location`` (province and city from phonenumbers' offline geocoder, in Chinese for
    Chinese numbers) and ``carrier`` (mobile numbers only, as first allocated: numbers can be ported) are
    looked up on first use.

    >>> p = normalize_phone("手机：138 0013 8000")
    >>> p.e164, p.region, p.kind, p.location, p.carrier
    ('+8613800138000', 'CN', 'mobile', '北京市', '中国移动')
    """

    e164: str
    region: str | None
    kind: str
    extension: str | None = None
    note: str | None = None  # a remark written around the number: ``13800138000（微信同号）`` → ``微信同号``

    @property
    def number(self) -> str:
        """The stored form: E.164, with ``;ext=`` and the extension when there is one (RFC 3966 style)."""
        return f"{self.e164};ext={self.extension}" if self.extension else self.e164

    @property
    def national(self) -> str:
        """The number as dialled inside its country (``138 0013 8000``, ``010 6234 5678``)."""
        return _details(self.e164)[0]

    @property
    def location(self) -> str | None:
        """Where the number was allocated (``广东省深圳市``, ``Mountain View, CA``), when known."""
        return _details(self.e164)[1]

    @property
    def carrier(self) -> str | None:
        """The carrier a mobile number was first allocated to (``中国移动``), when known."""
        return _details(self.e164)[2]

    @property
    def province(self) -> str | None:
        """The province part of a Chinese number's ``location`` (``广东省``), else None."""
        return _split_location(self)[0]

    @property
    def city(self) -> str | None:
        """The city part of a Chinese number's ``location`` (``深圳市``), else None."""
        return _split_location(self)[1]

    def to_phone(self, **changes: Any) -> Phone:
        """A :class:`~custdata.Phone` record holding :attr:`number`; ``changes`` set other fields.

        The record's ``kind`` is ``mobile`` for mobile numbers and ``other`` otherwise, unless given.

        >>> normalize_phone("+86 138-0013-8000").to_phone(primary=True)
        Phone(number='+8613800138000', kind=<PhoneKind.MOBILE: 'mobile'>, primary=True, verified_at=None)
        """
        changes.setdefault("kind", PhoneKind.MOBILE if self.kind == "mobile" else PhoneKind.OTHER)
        return Phone(number=self.number, **changes)


def _split_location(p: NormalizedPhone) -> tuple[str | None, str | None]:
    loc = p.location
    if not loc or p.region != "CN":
        return None, None
    from custdata.normalization._address import split_province_city

    return split_province_city(loc)


# Remarks people write around a number: 同号 notes anywhere, and bracketed text without digits after it.
_NOTE_WORDS = re.compile(
    r"\s*[（(【\[]?\s*((?:微信|WeChat|wechat|QQ|qq|wx|VX|vx)?同号|同微信|微信同|同QQ)\s*[)）】\]]?\s*"
)
_NOTE_BRACKETS = re.compile(r"(\d)\s*[（(【\[〔]([^()（）【】\[\]〔〕\d]*)[)）】\]〕]")


def split_note(text: str) -> tuple[str, str | None]:
    """A phone cell's number and the remark around it (``None`` when there is none).

    >>> split_note("13800138000（微信同号）")
    ('13800138000', '微信同号')
    >>> split_note("(010) 6234 5678 (office, weekdays)")
    ('(010) 6234 5678', 'office, weekdays')
    """
    notes: list[str] = []

    def word(m: re.Match[str]) -> str:
        notes.append(m.group(1))
        return " "

    def bracket(m: re.Match[str]) -> str:
        if m.group(2).strip():
            notes.append(m.group(2).strip())
        return m.group(1)

    t = _NOTE_WORDS.sub(word, text) if "同" in text else text
    if ")" in t or "）" in t or "]" in t or "】" in t or "〕" in t:
        t = _NOTE_BRACKETS.sub(bracket, t)
    return (t.strip(), "; ".join(notes)) if notes else (text, None)


def _clean(text: str) -> tuple[str, str | None, str | None]:
    """(the number part, the extension or None, a remark or None); raises InvalidPhoneError on
    letters/odd symbols."""
    number_text, note = split_note(text)
    t = unicodedata.normalize("NFKC", number_text).translate(_DASHES).strip()
    t = t.removeprefix("tel:").strip()
    m = _LABEL.match(t)
    if m and m.end():
        t = t[m.end() :]
    m = _ANY_LABEL.match(t)
    if m:
        t = t[m.end() :]
    extension = None
    m = _EXTENSION.search(t)
    if m:
        extension = m.group(1)
        t = t[: m.start()]
    t = t.strip()
    if not t:
        raise InvalidPhoneError(text, "empty")
    for ch in t:
        if ch not in _ALLOWED:
            if ch.isalpha():
                raise InvalidPhoneError(text, "letters")
            raise InvalidPhoneError(text, "bad_characters")
    if "+" in t[1:] and not t.startswith("("):
        raise InvalidPhoneError(text, "bad_characters")
    return t, extension, note


def phone_text(text: str) -> tuple[str, str | None]:
    """A phone cell as a reader keeps it: (the number as written, without a remark; the remark or None).

    Raises :class:`~custdata.exceptions.InvalidPhoneError` when the text cannot be a phone number at all
    (letters or odd symbols, fewer than 3 or more than 17 digits); whether it is a valid number in its
    country's plan is :func:`normalize_phone`'s question.
    """
    compact = text.translate(_SEPARATORS)
    plain = compact.isdigit() or (compact[:1] == "+" and compact[1:].isdigit() and len(compact) > 3)
    if plain and compact.isascii() and 3 <= len(compact) <= 18:
        return text, None  # the common case: digits and separators only
    number, _extension, note = _clean(text)
    digits = sum(ch.isdigit() for ch in number)
    if digits < 3:
        raise InvalidPhoneError(text, "not_a_number" if digits == 0 else "too_short")
    if digits > 17:
        raise InvalidPhoneError(text, "too_long")
    return (split_note(text)[0], note) if note else (text, None)


def _check_region(region: str | None) -> str | None:
    if region is None:
        return None
    if not isinstance(region, str):
        raise ValidationError(
            f"must be a region code such as 'CN' or None, got {type(region).__name__}", field="region"
        )
    r = region.strip().upper()
    if r in ("", "ZZ"):
        return None
    if r not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidPhoneError(region, "unknown_region", f"unknown region {region!r} for phone numbers")
    return r


@functools.lru_cache(maxsize=65536)
def _normalize_cached(text: str, region: str | None) -> NormalizedPhone | InvalidPhoneError:
    try:
        return _normalize(text, region)
    except InvalidPhoneError as exc:
        return exc.with_traceback(None)  # cached: keep no frames alive


def _fast_valid(compact: str, region: str | None) -> NormalizedPhone | None:
    """The result for plain digits that take the fast path and are valid; None for everything else."""
    fast = _fast_digits(compact, region)
    if fast is None:
        return None
    country_code, nsn = fast
    region_code = _region_of(country_code, nsn)
    kind = _KINDS.get(_number_type(country_code, nsn, region_code))
    if kind is None:
        return None  # invalid: the slow path finds the reason
    return NormalizedPhone(f"+{country_code}{nsn}", region_code, kind, None)


def _normalize(text: str, region: str | None) -> NormalizedPhone:
    if text.isascii():  # the common case: digits and separators only, no labels, no extension
        compact = text.translate(_SEPARATORS)
        if compact and (compact.isdigit() or (compact[0] == "+" and compact[1:].isdigit())):
            fast = _fast_valid(compact, region)
            if fast is not None:
                return fast
    number, extension, note = _clean(text)
    if (
        extension is None and note is None
    ):  # labels and full-width digits gone: plain digits may take the fast path now
        compact = number.translate(_SEPARATORS)
        if compact.isascii() and (compact.isdigit() or (compact[:1] == "+" and compact[1:].isdigit())):
            fast = _fast_valid(compact, region)
            if fast is not None:
                return fast
    digits = sum(ch.isdigit() for ch in number)
    if digits < 3:
        raise InvalidPhoneError(text, "not_a_number" if digits == 0 else "too_short")
    if digits > 17:
        raise InvalidPhoneError(text, "too_long")
    try:
        num = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, "not_a_number")
        if reason == "invalid_country_code" and region is None and not number.startswith(("+", "00")):
            raise InvalidPhoneError(text, reason, detail="no country code and no default region") from None
        raise InvalidPhoneError(text, reason) from None
    except Exception as exc:  # phonenumbers has no other documented errors; never let one escape
        log.debug("phonenumbers failed on %s: %r", shown(text, "phone"), exc)
        raise InvalidPhoneError(text, "not_a_number") from None
    kind = _KINDS.get(phonenumbers.number_type(num))
    if kind is None:  # UNKNOWN: not valid in any region's plan; say why when the length tells
        reason = _POSSIBLE_REASONS.get(phonenumbers.is_possible_number_with_reason(num), "invalid_number")
        raise InvalidPhoneError(text, reason)
    e164 = phonenumbers.format_number(num, PhoneNumberFormat.E164)
    return NormalizedPhone(e164, phonenumbers.region_code_for_number(num), kind, extension, note)


@functools.lru_cache(maxsize=65536)
def phone_match_key(text: str, region: str | None) -> tuple[str, str] | None:
    """``(e164, kind)`` of ``normalize_phone(text, region=region)`` (``region`` already checked), or None
    where it raises: for matching, which needs no reason and so builds no error. Plain digits (with ``+``
    and separators) that take the fast path are answered there, valid or not: the fast path gives the
    number ``phonenumbers.parse`` would and its type as ``number_type`` does, so a number it finds of no
    type is one the general path rejects too (the tests pin this function to ``normalize_phone``). The
    rest goes through the general path, whose results (failures too) are cached."""
    if text.isascii():
        compact = text.translate(_SEPARATORS)
        if compact and (compact.isdigit() or (compact[0] == "+" and compact[1:].isdigit())):
            fast = _fast_digits(compact, region)
            if fast is not None:
                country_code, nsn = fast
                kind = _KINDS.get(_number_type(country_code, nsn, _region_of(country_code, nsn)))
                return None if kind is None else (f"+{country_code}{nsn}", kind)
    result = _normalize_cached(text, region)
    return None if isinstance(result, InvalidPhoneError) else (result.e164, result.kind)


def normalize_phone(text: str, *, region: str | None = "CN") -> NormalizedPhone:
    """Normalise a phone number as people type it; ``region`` is the default for numbers without ``+``.

    Accepts full-width digits, Chinese and Latin labels (``手机：``, ``电话:``, ``Tel.``), ``+86``, ``0086``
    and ``86`` prefixes, spaces, dashes, dots, brackets, a trunk ``(0)``, extensions (``转 123``,
    ``ext. 123``, ``x123``, ``#123``) and numbers of other countries written with their own prefix.
    ``region=None`` accepts international forms only. Results are cached (bounded LRU), so repeated
    values cost a dictionary look-up.

    >>> normalize_phone("１３８-００１３-８０００").e164
    '+8613800138000'
    >>> normalize_phone("电话：(010) 6234 5678 转 123").number
    '+861062345678;ext=123'
    >>> normalize_phone("030 1234567", region="DE").e164
    '+49301234567'
    >>> normalize_phone("12345")
    Traceback (most recent call last):
      ...
    custdata.exceptions.InvalidPhoneError: invalid phone number '*****': too short

    Raises :class:`~custdata.exceptions.InvalidPhoneError` (``reason`` from :data:`PHONE_REASONS`).
    """
    if not isinstance(text, str):
        raise InvalidPhoneError(text, "not_a_number", f"expected text, got {type(text).__name__}")
    result = _normalize_cached(text, _check_region(region))
    if isinstance(result, InvalidPhoneError):
        raise result._again()
    return result
