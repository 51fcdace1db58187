"""Turn a :class:`~custdata.Customer` into the flat, pre-normalised values the blockers and comparators use.

Everything expensive (phone and e-mail normalisation, name splitting, phonetic codes) happens once per
record here, so comparing a pair touches only short strings.
"""

from __future__ import annotations

import datetime as dt
import operator
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

from custdata._records import Customer, MonthDay, PhoneKind
from custdata.exceptions import ValidationError
from custdata.normalization import normalize_email, normalize_name, script_of
from custdata.normalization._phone import _check_region as check_region
from custdata.normalization._phone import phone_match_key

__all__ = ["Features", "features_of", "folded", "han_variants_available", "phonetic", "simplified"]

_SOUNDEX = {}
for _chars, _code in (("bfpv", "1"), ("cgjkqsxz", "2"), ("dt", "3"), ("l", "4"), ("mn", "5"), ("r", "6")):
    for _ch in _chars:
        _SOUNDEX[_ch] = _code
del _chars, _code, _ch


def phonetic(word: str) -> str:
    """A Soundex-style code of a folded Latin word (``smith`` and ``smyth`` both give ``s53``).

    Longer than classic Soundex (up to 6 characters) so long surnames keep more of their sound.
    """
    if not word:
        return ""
    out = [word[0]]
    last = _SOUNDEX.get(word[0], "")
    for ch in word[1:]:
        code = _SOUNDEX.get(ch, "")
        if code and code != last:
            out.append(code)
            if len(out) == 6:
                break
        if ch not in "hw":
            last = code
    return "".join(out)


_t2s: list[Any] = []  # the OpenCC converter, once loaded (None when the names extra is missing)
_t2s_cache: dict[str, str] = {}


def han_variants_available() -> bool:
    """Whether traditional Chinese names can be folded to simplified (``opencc``, the ``names`` extra)."""
    if not _t2s:
        try:
            import opencc  # type: ignore[import-not-found, unused-ignore]

            _t2s.append(opencc.OpenCC("t2s"))
        except (ImportError, OSError, RuntimeError):
            _t2s.append(None)
    return _t2s[0] is not None


def simplified(text: str) -> str:
    """A Chinese name in simplified characters (張偉 gives 张伟), by OpenCC's maintained conversion tables;
    unchanged without the ``names`` extra or when it holds no traditional character."""
    if not text or text.isascii():
        return text
    hit = _t2s_cache.get(text)
    if hit is not None:
        return hit
    out = str(_t2s[0].convert(text)) if han_variants_available() else text
    if len(_t2s_cache) < 200_000:
        _t2s_cache[text] = out
    return out


def fold(text: str | None) -> str:
    """Lower-case, strip accents and keep letters, digits and single spaces."""
    if not text:
        return ""
    t = text.casefold()
    if not t.isascii():
        t = "".join(ch for ch in unicodedata.normalize("NFKD", t) if not unicodedata.combining(ch))
    if t.isalnum():
        return t
    return " ".join("".join(ch if ch.isalnum() else " " for ch in t).split())


_fold_cache: dict[str, str] = {}


def folded(text: str | None) -> str:
    """:func:`fold`, remembered for values that repeat across records (names, cities, provinces,
    countries): most of them are folded once per process."""
    if not text:
        return ""
    hit = _fold_cache.get(text)
    if hit is None:
        hit = fold(text)
        if len(_fold_cache) < 200_000:
            _fold_cache[text] = hit
    return hit


_GENDER = {"male": "m", "man": "m", "男": "m", "female": "f", "woman": "f", "女": "f"}


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalpha())


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


class Features:
    """The matching view of one record. Empty string means missing."""

    __slots__ = (
        "city",
        "company",
        "country",
        "custom",
        "dob",
        "emails",
        "ext",
        "family",
        "family_ph",
        "gender",
        "given",
        "given_ph",
        "id",
        "lines",
        "name_key",
        "phones",
        "pinyin",
        "postcode",
        "province",
        "raw_name",
        "script",
        "street",
    )

    id: str
    script: str
    given: str
    family: str
    name_key: str
    given_ph: str
    family_ph: str
    raw_name: str
    phones: tuple[str, ...]
    lines: tuple[str, ...]  # the phones that are shared lines (home, work, fixed line): a subset of phones
    emails: tuple[str, ...]
    dob: str
    street: str
    city: str
    postcode: str
    province: str
    country: str
    ext: tuple[tuple[str, str], ...]
    gender: str
    company: str
    custom: tuple[tuple[str, str], ...]  # other custom attributes, (key, folded value), sorted by key
    pinyin: str | None  # computed on first cross-script comparison

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # one C call for the values and no loop to set them back: features travel from the worker
        # processes by the million
        return _rebuild, _VALUES(self)

    def __repr__(self) -> str:
        return "Features(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


_VALUES = operator.attrgetter(*Features.__slots__)


def _rebuild(
    city: str,
    company: str,
    country: str,
    custom: tuple[tuple[str, str], ...],
    dob: str,
    emails: tuple[str, ...],
    ext: tuple[tuple[str, str], ...],
    family: str,
    family_ph: str,
    gender: str,
    given: str,
    given_ph: str,
    id: str,
    lines: tuple[str, ...],
    name_key: str,
    phones: tuple[str, ...],
    pinyin: str | None,
    postcode: str,
    province: str,
    raw_name: str,
    script: str,
    street: str,
) -> Features:
    """The inverse of ``Features.__reduce__`` (arguments in ``__slots__`` order)."""
    f = Features.__new__(Features)
    f.city = city
    f.company = company
    f.country = country
    f.custom = custom
    f.dob = dob
    f.emails = emails
    f.ext = ext
    f.family = family
    f.family_ph = family_ph
    f.gender = gender
    f.given = given
    f.given_ph = given_ph
    f.id = id
    f.lines = lines
    f.name_key = name_key
    f.phones = phones
    f.pinyin = pinyin
    f.postcode = postcode
    f.province = province
    f.raw_name = raw_name
    f.script = script
    f.street = street
    return f


# a number of one of these types rings where several people live or work; so do numbers the record calls
# home, work or fax (a number the numbering plan cannot tell, such as a US one, counts as personal)
_LINE_TYPES = frozenset(
    {"fixed_line", "toll_free", "shared_cost", "uan", "premium_rate", "voip", "voicemail"}
)
_LINE_KINDS = frozenset({PhoneKind.HOME, PhoneKind.WORK, PhoneKind.FAX})


def _phone_key(number: str, region: str | None) -> tuple[str, bool]:
    """The number's match key (E.164, else its digits) and whether it is a shared line by its type."""
    checked = _checked_region(region)
    key = phone_match_key(number, checked) if checked is not _BAD_REGION else None
    if key is None:
        digits = _digits(number)
        return (digits if len(digits) >= 6 else ""), False
    return key[0], key[1] in _LINE_TYPES


_BAD_REGION = "\x00"  # a region normalize_phone refuses: every number is then keyed by its digits
_regions: dict[str | None, str | None] = {}


def _checked_region(region: str | None) -> str | None:
    """The region as ``normalize_phone`` reads it, checked once per process (:data:`_BAD_REGION` when it
    refuses it)."""
    try:
        return _regions[region]
    except KeyError:
        try:
            checked = check_region(region)
        except ValidationError:
            checked = _BAD_REGION
        _regions[region] = checked
        return checked


def _email_key(address: str) -> str:
    try:
        return normalize_email(address).match_key
    except ValidationError:
        t = address.strip().casefold()
        return t if "@" in t else ""


def _dob(value: Any, custom: Mapping[str, Any]) -> str:
    if isinstance(value, dt.date):
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    if isinstance(value, MonthDay):
        return f"0000{value.month:02d}{value.day:02d}"
    for key in ("birthday", "date_of_birth", "dob"):
        raw = custom.get(key)
        if isinstance(raw, str | int):
            digits = _digits(str(raw))
            if len(digits) == 8:
                return digits
    return ""


def features_of(
    c: Customer, *, region: str | None = "CN", intern: Callable[[str], str] | None = None
) -> Features:
    """The :class:`Features` of one customer.

    ``intern`` (for example ``dict().setdefault`` bound to a dict) shares equal strings between records,
    which saves much memory on a million customers with common names, cities and birthdays.
    """
    f = _features_of(c, region)
    if intern is not None:
        for k in _INTERNED:
            setattr(f, k, intern(getattr(f, k)))
    return f


_INTERNED = (
    "given",
    "family",
    "name_key",
    "given_ph",
    "family_ph",
    "dob",
    "city",
    "province",
    "country",
    "gender",
    "postcode",
    "street",
    "company",
)


def _features_of(c: Customer, region: str | None) -> Features:
    f = Features()
    f.id = c.id
    f.pinyin = None
    n = c.name
    given = n.given or ""
    family = n.family or ""
    full = n.full or ""
    if full and not (given or family):
        try:
            nn = normalize_name(full)
            given, family = nn.given or "", nn.family or ""
            if not (given or family):
                given = nn.full
        except ValidationError:
            given = full
    display = full or (family + given if (family + given) and not family.isascii() else f"{given} {family}")
    script = script_of(display) if display.strip() else "none"
    f.raw_name = display.strip()
    if script in ("cjk", "kana", "hangul"):
        f.script = "cjk"
        f.given = simplified(_letters(given))
        f.family = simplified(_letters(family))
        f.given_ph = f.given
        f.family_ph = f.family
        f.name_key = f.family + f.given
    else:
        f.script = "latin"
        f.given = folded(given)
        f.family = folded(family)
        f.given_ph = phonetic(f.given.replace(" ", ""))
        f.family_ph = phonetic(f.family.replace(" ", ""))
        f.name_key = " ".join(sorted((f.given + " " + f.family).split()))
    phones: dict[str, bool] = {}
    for p in c.phones:
        key, line = _phone_key(p.number, region)
        if key:
            if p.kind is not PhoneKind.OTHER:
                line = p.kind in _LINE_KINDS
            # a number is personal if any record of it says so
            phones[key] = phones.get(key, True) and line
    f.phones = tuple(phones)
    f.lines = tuple(k for k, line in phones.items() if line)
    f.emails = tuple(dict.fromkeys(k for k in (_email_key(e.address) for e in c.emails) if k))
    f.dob = _dob(c.birthday, c.custom)
    a = c.addresses[0] if c.addresses else None
    custom = c.custom
    if a is not None:
        f.street = fold(a.street or a.raw)
        f.city = folded(a.city or a.district)
        f.postcode = (
            _digits(a.postal_code) if a.postal_code and a.postal_code.isdigit() else fold(a.postal_code)
        )
        f.province = folded(a.province)
        f.country = folded(a.country)
    else:
        f.street = f.city = f.postcode = f.province = f.country = ""
    if not f.street and isinstance(custom.get("street"), str):
        f.street = fold(str(custom["street"]))
    if not f.city and isinstance(custom.get("city"), str):
        f.city = fold(str(custom["city"]))
    if not f.postcode and isinstance(custom.get("postal_code"), str):
        f.postcode = fold(str(custom["postal_code"]))
    f.ext = tuple(sorted((k, fold(v).replace(" ", "")) for k, v in c.external_ids.items() if v))
    g = folded(c.gender)
    f.gender = _GENDER.get(g, g)
    f.company = fold(c.company)
    extra = []
    for k, v in custom.items():
        if k in _CUSTOM_USED:
            continue
        if isinstance(v, str | int) and not isinstance(v, bool):
            t = fold(str(v))
            if 1 < len(t) <= 60:
                extra.append((k, t))
    f.custom = tuple(sorted(extra))
    # a value the record rejected (an e-mail like jamesd75collins.biz) still counts, compared as text
    raw = custom.get("email")
    if isinstance(raw, str) and raw.strip():
        f.emails = (*f.emails, raw.strip().casefold())
    return f


# custom attributes the features above read already (a malformed birthday, e-mail or address part)
_CUSTOM_USED = frozenset({"birthday", "date_of_birth", "dob", "street", "city", "postal_code", "email"})
