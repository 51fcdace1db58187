"""Dates such as birthdays, in the forms people write them, to :class:`datetime.date` or
:class:`~custdata.MonthDay` (a birthday without a year).

Year-first forms and forms with a month name are unambiguous and always read. Forms like ``02/01/1990``
are read day-first or month-first only when the caller says which (``order="DMY"`` or ``"MDY"``), or when
only one reading is a real date (``13/01/1990``); otherwise they raise ``InvalidDateError`` with reason
``ambiguous`` rather than guess.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from typing import Literal

from custdata._records import MonthDay
from custdata.exceptions import InvalidDateError

__all__ = ["DATE_REASONS", "normalize_date"]

#: Every ``reason`` an :class:`InvalidDateError` from :func:`normalize_date` can carry.
DATE_REASONS = ("empty", "unrecognised", "ambiguous", "two_digit_year", "no_such_date", "bad_order")

Order = Literal["DMY", "MDY", "YMD"]

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ]
    )
    for name in names
}  # fmt: skip
_SEP = r"[-/.\s]"
_YMD = re.compile(rf"(\d{{4}}){_SEP}+(\d{{1,2}}){_SEP}+(\d{{1,2}})(?:[T\s].*)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_CJK = re.compile(r"(?:(\d{2,4})\s*年)?\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号號]?")
_NUMERIC = re.compile(rf"(\d{{1,2}}){_SEP}+(\d{{1,2}})(?:{_SEP}+(\d{{2}}|\d{{4}}))?")
_ISO_MONTHDAY = re.compile(r"--(\d{2})-?(\d{2})")
_WORDS = re.compile(r"[a-z]+\.?|\d+(?:st|nd|rd|th)?")


def _make(year: int | None, month: int, day: int, text: str) -> dt.date | MonthDay:
    try:
        if year is None:
            return MonthDay(month, day)
        return dt.date(year, month, day)
    except (ValueError, TypeError):
        raise InvalidDateError(text, "no_such_date") from None


def _valid(year: int | None, month: int, day: int) -> bool:
    try:
        _make(year, month, day, "")
    except InvalidDateError:
        return False
    return True


def _year(token: str | None, text: str) -> int | None:
    if token is None:
        return None
    if len(token) == 2:
        raise InvalidDateError(text, "two_digit_year", f"invalid date {text!r}: write the year in full")
    return int(token)


def _by_words(t: str, text: str) -> dt.date | MonthDay | None:
    tokens = _WORDS.findall(t.lower())
    month = None
    numbers: list[str] = []
    for tok in tokens:
        word = tok.rstrip(".")
        if word.isalpha():
            if word in _MONTHS and month is None:
                month = _MONTHS[word]
            elif word not in ("of", "the"):
                return None
        else:
            numbers.append(word.rstrip("stndrh"))
    if month is None or not 1 <= len(numbers) <= 2:
        return None
    days = [n for n in numbers if len(n) <= 2]
    years = [n for n in numbers if len(n) == 4]
    if len(days) != 1 or len(years) != len(numbers) - 1:
        if len(numbers) == 2 and all(len(n) <= 2 for n in numbers):
            raise InvalidDateError(text, "two_digit_year", f"invalid date {text!r}: write the year in full")
        return None
    return _make(int(years[0]) if years else None, month, int(days[0]), text)


@functools.lru_cache(maxsize=16384)
def _parse(text: str, order: str | None) -> dt.date | MonthDay | InvalidDateError:
    try:
        return _parse_uncached(text, order)
    except InvalidDateError as exc:
        return exc.with_traceback(None)  # cached: keep no frames alive


def _parse_uncached(text: str, order: str | None) -> dt.date | MonthDay:
    t = unicodedata.normalize("NFKC", text).strip().rstrip(".")
    if not t:
        raise InvalidDateError(text, "empty")
    if m := _ISO_MONTHDAY.fullmatch(t):
        return _make(None, int(m.group(1)), int(m.group(2)), text)
    if m := _YMD.fullmatch(t):
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)), text)
    if m := _COMPACT.fullmatch(t):
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)), text)
    if m := _CJK.fullmatch(t):
        return _make(_year(m.group(1), text), int(m.group(2)), int(m.group(3)), text)
    if m := _NUMERIC.fullmatch(t):
        a, b = int(m.group(1)), int(m.group(2))
        year = _year(m.group(3), text)
        if order == "YMD":
            raise InvalidDateError(text, "unrecognised", f"invalid date {text!r}: no year first")
        if order is None:
            readings = {(b, a)} if _valid(year, b, a) else set()
            if _valid(year, a, b):
                readings.add((a, b))
            if len(readings) > 1:
                raise InvalidDateError(
                    text,
                    "ambiguous",
                    f"invalid date {text!r}: ambiguous, pass order='DMY' or 'MDY'",
                )
            if not readings:
                raise InvalidDateError(text, "no_such_date")
            month, day = readings.pop()
        else:
            month, day = (b, a) if order == "DMY" else (a, b)
        return _make(year, month, day, text)
    if any(ch.isalpha() for ch in t):
        result = _by_words(t.replace(",", " "), text)
        if result is not None:
            return result
    raise InvalidDateError(text, "unrecognised")


def normalize_date(text: str | dt.date | MonthDay, *, order: Order | None = None) -> dt.date | MonthDay:
    """Parse a date as people write it; a date without a year gives a :class:`~custdata.MonthDay`.

    >>> normalize_date("1990年1月2日"), normalize_date("2 Jan 1990"), normalize_date("19900102")
    (datetime.date(1990, 1, 2), datetime.date(1990, 1, 2), datetime.date(1990, 1, 2))
    >>> normalize_date("--01-02"), normalize_date("1月2日")
    (MonthDay(month=1, day=2), MonthDay(month=1, day=2))
    >>> normalize_date("02/01/1990", order="DMY")
    datetime.date(1990, 1, 2)
    >>> normalize_date("02/01/1990")
    Traceback (most recent call last):
      ...
    custdata.exceptions.InvalidDateError: invalid date '02/01/1990': ambiguous, pass order='DMY' or 'MDY'

    A :class:`datetime.date` (not a datetime) or a :class:`~custdata.MonthDay` is returned as it is.
    Raises :class:`~custdata.exceptions.InvalidDateError` (``reason`` from :data:`DATE_REASONS`).
    """
    if isinstance(text, MonthDay) or (isinstance(text, dt.date) and not isinstance(text, dt.datetime)):
        return text
    if order is not None and order not in ("DMY", "MDY", "YMD"):
        raise InvalidDateError(order, "bad_order", f"order must be 'DMY', 'MDY' or 'YMD', got {order!r}")
    if not isinstance(text, str):
        raise InvalidDateError(text, "unrecognised", f"expected text, got {type(text).__name__}")
    result = _parse(text, order)
    if isinstance(result, InvalidDateError):
        raise InvalidDateError(result.value, result.reason, str(result))
    return result
