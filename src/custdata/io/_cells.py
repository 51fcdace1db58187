"""Cell parsing: dates and times, birthdays, amounts, numbers, list cells and the words of enum cells."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

from custdata._records import MonthDay
from custdata.exceptions import ValidationError

__all__ = [
    "CHANNEL_WORDS",
    "KIND_WORDS",
    "PHONE_SPLIT",
    "SPLIT",
    "STAGE_WORDS",
    "json_cell",
    "list_cell",
    "loads",
    "parse_amount",
    "parse_birthday",
    "parse_number",
    "parse_when",
    "set_default_tz",
    "to_tzinfo",
    "word",
]

CHANNEL_WORDS = {
    "官网": "website",
    "网站": "website",
    "网页": "website",
    "web": "website",
    "online": "website",
    "社交": "social",
    "社交媒体": "social",
    "微信": "social",
    "微博": "social",
    "抖音": "social",
    "小红书": "social",
    "邮件": "email",
    "问卷": "survey",
    "调查": "survey",
    "门店": "store",
    "线下": "store",
    "店铺": "store",
    "shop": "store",
    "展会": "expo",
    "电销": "telemarketing",
    "电话营销": "telemarketing",
    "导入": "import",
    "其他": "other",
    "其它": "other",
}
STAGE_WORDS = {
    "订阅者": "subscriber",
    "线索": "lead",
    "潜在客户": "lead",
    "mql": "marketing_qualified",
    "sql": "sales_qualified",
    "商机": "opportunity",
    "客户": "customer",
    "成交客户": "customer",
    "推荐者": "evangelist",
    "其他": "other",
}
KIND_WORDS = {
    "电话": "call",
    "来电": "call",
    "phone": "call",
    "邮件": "email",
    "拜访": "visit",
    "到店": "visit",
    "聊天": "chat",
    "在线咨询": "chat",
    "投诉": "complaint",
    "反馈": "feedback",
    "问卷": "survey",
    "调查": "survey",
    "其他": "other",
}

SPLIT = re.compile(r"\s*[;,，；、|]\s*")
PHONE_SPLIT = re.compile(r"\s*[;,，；、|/]\s*")

_DATE_RE = re.compile(
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_when(text: str, default_tz: dt.tzinfo) -> dt.datetime:
    """A date-time from the forms spreadsheets hold: ISO 8601, ``2024/1/2 10:00``, ``2024年1月2日``,
    ``20240102``. A date alone is midnight; a time without an offset is in ``default_tz``."""
    t = text.strip()
    if len(t) == 8 and t.isdigit():
        t = f"{t[:4]}-{t[4:6]}-{t[6:]}"
    m = _DATE_RE.match(t)
    if not m:
        raise ValueError(f"not a date or date-time: {text!r}")
    y, mo, d, hh, mi, ss, frac, off = m.groups()
    tz: dt.tzinfo = default_tz
    if off:
        if off == "Z":
            tz = dt.timezone.utc
        else:
            sign = -1 if off[0] == "-" else 1
            digits = off[1:].replace(":", "")
            tz = dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    micro = int((frac or "0").ljust(6, "0"))
    return dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0), micro, tzinfo=tz)


def parse_birthday(text: str) -> Any:
    t = text.strip()
    if t.startswith("--"):
        return MonthDay.parse(t)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
        return dt.date.fromisoformat(t)  # a bad ISO date (1990-02-30) is an error, not another form
    from custdata.normalization import normalize_date  # lazy: the other written forms

    return normalize_date(t)


_AMOUNT_CLEAN = re.compile(r"^[¥￥$€£]|^(?:RMB|CNY|USD)\s*", re.IGNORECASE)
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_amount(text: str) -> str:
    t = _AMOUNT_CLEAN.sub("", text.strip()).strip()
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    return t


def parse_number(text: str) -> int | float:
    t = text.strip()
    try:
        return int(t)
    except ValueError:
        return float(t)


def loads(text: str) -> Any:
    """``json.loads`` that turns JSON nested too deeply for Python into a ValueError (a row's problem)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def json_cell(text: str, default: Any) -> Any:
    try:
        return loads(text)
    except ValueError:
        return default


def list_cell(text: str) -> list[str]:
    """A multi-value cell: a JSON array (as our writer writes when needed), else split on , ; 、 |."""
    t = text
    if t.startswith("["):
        v = json_cell(t, None)
        if isinstance(v, list):
            return v
    return [x for x in SPLIT.split(t.strip()) if x]


def word(value: str, words: Mapping[str, str]) -> str:
    v = value.strip()
    return words.get(v, words.get(v.casefold(), v.casefold()))


_default_tz: dt.tzinfo = dt.timezone.utc


def set_default_tz(tz: str | dt.tzinfo) -> dt.tzinfo:
    """Set the time zone that every reader takes naive times in when it is not given ``default_tz=``
    (for a whole program: a shop whose exports are in local time sets ``"Asia/Shanghai"`` once).
    Returns the previous default; UTC until set."""
    global _default_tz
    previous, _default_tz = _default_tz, to_tzinfo(tz)
    return previous


def to_tzinfo(default_tz: str | dt.tzinfo | None) -> dt.tzinfo:
    """A time zone from a name (``"UTC"``, ``"Asia/Shanghai"``), a tzinfo, or None (the reader-wide one)."""
    if default_tz is None:
        return _default_tz
    if isinstance(default_tz, dt.tzinfo):
        return default_tz
    if not isinstance(default_tz, str):
        raise ValidationError(
            f"default_tz must be a time zone name or a tzinfo, got {type(default_tz).__name__}",
            field="default_tz",
        )
    if default_tz.upper() == "UTC":
        return dt.timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(default_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"unknown time zone {default_tz!r}", field="default_tz") from None
