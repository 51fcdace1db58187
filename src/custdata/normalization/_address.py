"""Postal addresses: Unicode clean-up, ISO 3166 country, Chinese province/city/district, postal code.

No table of Chinese divisions is shipped. The 34 provincial-level divisions are listed here by hand
(:data:`PROVINCES`); the prefecture-level cities of each province are derived at run time, on first use,
from the offline geocoder data that phonenumbers already ships (it maps Chinese number prefixes to
places such as ``广东省深圳市``); districts and counties are recognised by their suffix (区, 县, 旗,
county-level 市). Country names come from phonenumbers' locale data, so ``中国``, ``China``, ``Chine``
and ``CN`` all give ``CN``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from custdata._records import Address
from custdata.exceptions import InvalidAddressError, ValidationError

__all__ = ["ADDRESS_REASONS", "PROVINCES", "country_code", "normalize_address", "split_province_city"]

#: Every ``reason`` an :class:`InvalidAddressError` from :func:`normalize_address` can carry.
ADDRESS_REASONS = ("empty", "unknown_country", "bad_postal_code", "unstorable_text")

#: The 34 provincial-level divisions of China: (full name, short name).
PROVINCES: tuple[tuple[str, str], ...] = (
    ("北京市", "北京"), ("天津市", "天津"), ("上海市", "上海"), ("重庆市", "重庆"),
    ("河北省", "河北"), ("山西省", "山西"), ("辽宁省", "辽宁"), ("吉林省", "吉林"),
    ("黑龙江省", "黑龙江"), ("江苏省", "江苏"), ("浙江省", "浙江"), ("安徽省", "安徽"),
    ("福建省", "福建"), ("江西省", "江西"), ("山东省", "山东"), ("河南省", "河南"),
    ("湖北省", "湖北"), ("湖南省", "湖南"), ("广东省", "广东"), ("海南省", "海南"),
    ("四川省", "四川"), ("贵州省", "贵州"), ("云南省", "云南"), ("陕西省", "陕西"),
    ("甘肃省", "甘肃"), ("青海省", "青海"), ("台湾省", "台湾"),
    ("内蒙古自治区", "内蒙古"), ("广西壮族自治区", "广西"), ("西藏自治区", "西藏"),
    ("宁夏回族自治区", "宁夏"), ("新疆维吾尔自治区", "新疆"),
    ("香港特别行政区", "香港"), ("澳门特别行政区", "澳门"),
)  # fmt: skip
_MUNICIPALITIES = frozenset(("北京市", "天津市", "上海市", "重庆市"))
# ISO 3166-1 gives these their own alpha-2 codes.
_OWN_CODE = {"香港特别行政区": "HK", "澳门特别行政区": "MO", "台湾省": "TW"}
_PROVINCE_BY_NAME = {name: full for full, short in PROVINCES for name in (full, short)}
_PROVINCE_NAMES = sorted(_PROVINCE_BY_NAME, key=len, reverse=True)
_CITY_SUFFIXES = ("自治州", "地区", "盟", "市")
_CITY_RULE = re.compile(r"^([\u4e00-\u9fff]{1,12}?(?:自治州|地区|盟|市))")
_DISTRICT_RULE = re.compile(r"^([\u4e00-\u9fff]{1,8}?(?:自治县|自治旗|新区|林区|特区|区|县|旗|市))")
_CHINA = re.compile(r"^(?:中华人民共和国|中国大陆|中国|P\.?\s*R\.?\s*C\.?|China)\s*[,，]?\s*", re.IGNORECASE)
_CN_POSTAL = re.compile(r"(?:邮编|邮政编码|postcode|zip)?\s*[:：]?\s*(?<!\d)(\d{6})(?!\d)", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_COUNTRY_ALIASES = {
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "united states of america": "US", "america": "US",
    "uk": "GB", "u.k.": "GB", "england": "GB", "scotland": "GB", "wales": "GB", "great britain": "GB",
    "prc": "CN", "p.r.c.": "CN", "p.r. china": "CN", "中华人民共和国": "CN", "中国大陆": "CN", "大陆": "CN",
    "mainland china": "CN", "hongkong": "HK", "hong kong sar": "HK", "macao": "MO", "macau": "MO",
    "korea": "KR", "south korea": "KR", "russia": "RU", "deutschland": "DE", "nippon": "JP",
}  # fmt: skip
# Postal code forms of some countries (the code alone, as written in addresses).
_POSTAL = {
    "CN": re.compile(r"\d{6}"),
    "US": re.compile(r"\d{5}(?:-\d{4})?"),
    "DE": re.compile(r"\d{5}"),
    "FR": re.compile(r"\d{5}"),
    "JP": re.compile(r"\d{3}-?\d{4}"),
    "GB": re.compile(r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}", re.IGNORECASE),
    "CA": re.compile(r"[A-Z]\d[A-Z] ?\d[A-Z]\d", re.IGNORECASE),
    "HK": re.compile(r"(?!)"),  # no postal codes
}


@functools.lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """Every country name phonenumbers knows (all its languages), case-folded, and ISO codes -> code."""
    import phonenumbers
    from phonenumbers.geodata.locale import LOCALE_DATA

    out: dict[str, str] = {}
    for code, names in LOCALE_DATA.items():
        if len(code) != 2 or code not in phonenumbers.SUPPORTED_REGIONS:
            continue
        for name in names.values():
            if name and not name.startswith("*"):
                out.setdefault(name.casefold(), code)
    for code in phonenumbers.SUPPORTED_REGIONS:
        out[code.casefold()] = code
    out.update(_COUNTRY_ALIASES)
    return out


def country_code(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country given by code or by name in many languages.

    >>> country_code("中国"), country_code("Germany"), country_code("us"), country_code("Atlantis")
    ('CN', 'DE', 'US', None)
    """
    if not isinstance(text, str):
        raise ValidationError(f"must be text, got {type(text).__name__}", field="text")
    t = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().strip(".,，").casefold()
    return _countries().get(t) if t else None


@functools.lru_cache(maxsize=1)
def _cities() -> tuple[dict[str, str], dict[str, str]]:
    """(city full name -> province full name, city short name -> city full name), from phonenumbers'
    Chinese geocoder data. Computed once, on first use."""
    from phonenumbers.geodata import GEOCODE_DATA

    province_of: dict[str, str] = {}
    for prefix, names in GEOCODE_DATA.items():
        place = names.get("zh") if prefix.startswith("86") else None
        if not place:
            continue
        province = next((p for p in _PROVINCE_NAMES if place.startswith(p)), None)
        if province is None:
            continue
        full = _PROVINCE_BY_NAME[province]
        rest = place[len(province) :]
        if full in _MUNICIPALITIES:
            continue
        for city in rest.split("、"):
            if city.endswith(_CITY_SUFFIXES) and len(city) >= 2 and city not in _PROVINCE_BY_NAME:
                province_of.setdefault(city, full)
    short: dict[str, str] = {}
    for city in province_of:
        if city.endswith("自治州"):
            alias = city[:2]
        else:
            alias = next(city[: -len(s)] for s in _CITY_SUFFIXES if city.endswith(s))
        if len(alias) >= 2:
            short.setdefault(alias, city)
    return province_of, short


def split_province_city(location: str) -> tuple[str | None, str | None]:
    """Split a Chinese place such as phonenumbers' ``广东省深圳市`` into province and city.

    >>> split_province_city("广东省深圳市"), split_province_city("北京市")
    (('广东省', '深圳市'), ('北京市', '北京市'))
    >>> split_province_city("新疆和田地区")
    ('新疆维吾尔自治区', '和田地区')
    """
    province, city, _ = _parse_divisions(location)
    return province, city


def _parse_divisions(text: str) -> tuple[str | None, str | None, str]:
    """(province, city, the rest) from the start of a Chinese address."""
    province = None
    t = text
    for name in _PROVINCE_NAMES:
        if t.startswith(name):
            province = _PROVINCE_BY_NAME[name]
            t = t[len(name) :]
            if name != province and province.endswith("市") and t.startswith("市"):
                t = t[1:]
            break
    if province in _MUNICIPALITIES:
        if t.startswith(("市辖区", "辖区")):
            t = t[3 if t.startswith("市辖区") else 2 :]
        return province, province, t
    province_of, short = _cities()
    city = None
    for length in range(min(len(t), 14), 1, -1):
        head = t[:length]
        if head in province_of and (province is None or province_of[head] == province):
            city, t = head, t[length:]
            break
        if head in short and (province is None or province_of[short[head]] == province):
            city, t = short[head], t[length:]
            for suffix in (city[length:], "州", "市", "地区", "盟"):
                if suffix and t.startswith(suffix):
                    t = t[len(suffix) :]
                    break
            break
    if city is None and province is not None:
        m = _CITY_RULE.match(t)
        if m:
            city, t = m.group(1), t[m.end() :]
    if city is not None and province is None:
        province = province_of.get(city)
    return province, city, t


def _postal(text: str, country: str | None) -> tuple[str | None, str]:
    """(postal code, text without it) for countries with a known form."""
    if country == "CN" or country is None:
        m = _CN_POSTAL.search(text)
        if m and (m.group(0).strip()[:1] in "邮p z" or m.start(1) == 0 or m.end(1) >= len(text.rstrip()) - 1):
            return m.group(1), (text[: m.start()] + " " + text[m.end() :]).strip(" ,，")
        return None, text
    pattern = _POSTAL.get(country)
    if pattern is None:
        return None, text
    found = None
    for m in re.finditer(rf"(?<![\w-])({pattern.pattern})(?![\w-])", text, pattern.flags):
        found = m
    if found is None:
        return None, text
    code = found.group(1).upper()
    rest = (text[: found.start()] + text[found.end() :]).strip(" ,")
    return code, _SPACES.sub(" ", re.sub(r"\s*,\s*(,\s*)+", ", ", rest))


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    t = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip(" ,，;；")
    return t or None


def _has_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _parse_text(raw: str, region: str | None) -> Address:
    t = _clean(raw)
    if t is None:
        raise InvalidAddressError(raw, "empty")
    country: str | None = None
    m = _CHINA.match(t)
    if m:
        country, t = "CN", t[m.end() :]
    elif not _has_han(t):
        parts = [p.strip() for p in t.split(",")]
        if len(parts) > 1 and (code := country_code(parts[-1])):
            country, t = code, ", ".join(parts[:-1])
    if _has_han(t) and country in (None, "CN"):
        postal, t = _postal(t, "CN")
        compact = t.replace(" ", "") if _has_han(t) else t
        province, city, rest = _parse_divisions(compact)
        district = None
        if city is not None or province is not None:
            dm = _DISTRICT_RULE.match(rest)
            if dm and not rest[dm.end() :].startswith(("路", "街", "道", "号", "巷")):
                district, rest = dm.group(1), rest[dm.end() :]
        if province in _OWN_CODE:
            country = _OWN_CODE[province]
        elif province is not None or city is not None:
            country = "CN"
        street = _street(rest, t, compact)
        return Address(
            country=country or _default_country(region),
            province=province,
            city=city,
            district=district,
            street=street,
            postal_code=postal,
            raw=raw,
        )
    country = country or _default_country(region)
    postal, t = _postal(t, country)
    return Address(country=country, street=_clean(t), postal_code=postal, raw=raw)


def _street(rest: str, spaced: str, compact: str) -> str | None:
    """The street part, with the writer's spaces kept where the compact text was not changed."""
    if not rest:
        return None
    # find `rest` in the spaced text again so "建国路 88 号" keeps its spaces: it is the shortest tail of
    # the spaced text with as many non-space characters (one pass, linear in the text)
    target = rest.replace(" ", "")
    skip = len(spaced) - spaced.count(" ") - len(target)  # non-space characters before the tail
    i = len(spaced)
    if skip >= 0:
        i = 0
        for piece in spaced.split(" "):  # C-speed pieces, not a Python loop over characters
            if skip < len(piece):
                i += skip
                break
            skip -= len(piece)
            i += len(piece) + 1
    candidate = spaced[i:].strip()
    return _clean(candidate if candidate.replace(" ", "") == target else rest)


def _default_country(region: str | None) -> str | None:
    return region.upper() if region else None


def _normalize_fields(addr: Address, region: str | None) -> Address:
    country = addr.country
    if country is not None:
        code = country_code(country)
        if code is None:
            raise InvalidAddressError(country, "unknown_country", field="country")
        country = code
    province = _clean(addr.province)
    if province is not None and province in _PROVINCE_BY_NAME:
        province = _PROVINCE_BY_NAME[province]
    city = _clean(addr.city)
    if city is not None and _PROVINCE_BY_NAME.get(city) in _MUNICIPALITIES:
        city = _PROVINCE_BY_NAME[city]
        province = province or city
    if city is not None and _has_han(city):
        province_of, short = _cities()
        if city not in province_of and city in short:
            city = short[city]
        if province is None and city in province_of:
            province = province_of[city]
        if province in _MUNICIPALITIES and city.rstrip("市") == province.rstrip("市"):
            city = province
    postal = _clean(addr.postal_code)
    if postal is not None:
        postal = postal.upper()
        pattern = _POSTAL.get(country or "")
        if pattern is not None and not pattern.fullmatch(postal):
            raise InvalidAddressError(addr.postal_code, "bad_postal_code", field="postal_code")
    if (
        country is None
        and (province is not None or city is not None)
        and _has_han((province or "") + (city or ""))
    ):
        country = _OWN_CODE.get(province or "", "CN")
    return Address(
        country=country or _default_country(region),
        province=province,
        city=city,
        district=_clean(addr.district),
        street=_clean(addr.street),
        postal_code=postal,
        raw=addr.raw,
    )


@functools.lru_cache(maxsize=16384)
def _normalize_cached(value: Any, region: str | None) -> Address | InvalidAddressError:
    try:
        if isinstance(value, str):
            return _parse_text(value, region)
        structured = (value.country, value.province, value.city, value.district, value.street)
        if value.raw and not any(structured) and not value.postal_code:
            return _parse_text(value.raw, region)
        return _normalize_fields(value, region)
    except InvalidAddressError as exc:
        return exc.with_traceback(None)  # cached: keep no frames alive
    except ValidationError as exc:  # text no record can hold (a NUL character, a lone surrogate)
        first = exc.errors[0]
        return InvalidAddressError(value, "unstorable_text", first.reason, field=first.field)


def normalize_address(value: str | Address, *, region: str | None = "CN") -> Address:
    """Normalise an address given as text or as an :class:`~custdata.Address` record.

    Text is parsed: country (a leading ``中国`` or a trailing country name), postal code, and for Chinese
    addresses province, city, district and street. A record keeps its fields, cleaned and completed: an
    ISO code for the country, full names for provinces (``广东`` → ``广东省``) and cities (``深圳`` →
    ``深圳市``), the province of a known city; a record with only ``raw`` is parsed from it. ``region``
    is the country assumed when none is written. ``raw`` always keeps the text as given.

    >>> a = normalize_address("中国 广东省深圳市南山区 科技园 科苑路 15 号 邮编 518057")
    >>> a.country, a.province, a.city, a.district, a.street, a.postal_code
    ('CN', '广东省', '深圳市', '南山区', '科技园 科苑路 15 号', '518057')
    >>> a = normalize_address("北京朝阳区建国路88号")
    >>> a.province, a.city, a.district, a.street
    ('北京市', '北京市', '朝阳区', '建国路88号')
    >>> normalize_address("1600 Amphitheatre Pkwy, Mountain View, CA 94043, USA").postal_code
    '94043'

    Raises :class:`~custdata.exceptions.InvalidAddressError` (``reason`` from :data:`ADDRESS_REASONS`).
    """
    if not isinstance(value, (str, Address)):
        raise InvalidAddressError(value, "empty", f"expected text or an Address, got {type(value).__name__}")
    if region is not None and not isinstance(region, str):
        raise ValidationError(
            f"must be a region code such as 'CN' or None, got {type(region).__name__}", field="region"
        )
    result = _normalize_cached(value, region.upper() if region else None)
    if isinstance(result, InvalidAddressError):
        raise result._again()
    return result
