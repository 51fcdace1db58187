"""Calendar periods: days, weeks, months, quarters and years as whole-number indexes.

Pure Python; shared by the summaries and the KPIs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from custdata.exceptions import ValidationError

Period = Literal["D", "W", "M", "Q", "Y"]

#: Length of each unit in days, used to convert between units (a month is 365.25 / 12 days).
UNIT_DAYS: Mapping[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Q": 365.25 / 4, "Y": 365.25}

_ALIASES = {
    "d": "D",
    "day": "D",
    "days": "D",
    "w": "W",
    "week": "W",
    "weeks": "W",
    "m": "M",
    "month": "M",
    "months": "M",
    "ms": "M",
    "me": "M",
    "q": "Q",
    "quarter": "Q",
    "quarters": "Q",
    "y": "Y",
    "a": "Y",
    "year": "Y",
    "years": "Y",
}


def check_period(value: str, name: str = "period") -> str:
    """Normalise a period code (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"`` or a word such as ``"week"``)."""
    code = _ALIASES.get(str(value).strip().lower())
    if code is None:
        raise ValidationError(f"unknown {name} {value!r}: use 'D', 'W', 'M', 'Q' or 'Y'", field=name)
    return code


def index(day: dt.date, period: str) -> int:
    """The whole-number index of the period holding ``day`` (consecutive periods differ by 1)."""
    if period == "D":
        return day.toordinal()
    if period == "W":  # weeks start on Monday; ordinal 1 (0001-01-01) is a Monday
        return (day.toordinal() - 1) // 7
    if period == "M":
        return day.year * 12 + day.month - 1
    if period == "Q":
        return day.year * 4 + (day.month - 1) // 3
    return day.year


def start(idx: int, period: str) -> dt.date:
    """The first day of the period with index ``idx``."""
    if period == "D":
        return dt.date.fromordinal(idx)
    if period == "W":
        return dt.date.fromordinal(idx * 7 + 1)
    if period == "M":
        return dt.date(idx // 12, idx % 12 + 1, 1)
    if period == "Q":
        return dt.date(idx // 4, (idx % 4) * 3 + 1, 1)
    return dt.date(idx, 1, 1)


def end(idx: int, period: str) -> dt.date:
    """The last day of the period with index ``idx``."""
    return start(idx + 1, period) - dt.timedelta(days=1)


def label(idx: int, period: str) -> str:
    """A readable name of a period: ``2026-01-02``, ``2026-W01``, ``2026-01``, ``2026-Q1``, ``2026``."""
    if period == "D":
        return start(idx, period).isoformat()
    if period == "W":
        year, week, _ = start(idx, period).isocalendar()
        return f"{year}-W{week:02d}"
    if period == "M":
        return f"{idx // 12:04d}-{idx % 12 + 1:02d}"
    if period == "Q":
        return f"{idx // 4:04d}-Q{idx % 4 + 1}"
    return f"{idx:04d}"


def distance(a: int, b: int, period: str, unit: str) -> float:
    """Time from the start of period ``a`` to the start of period ``b``, in ``unit``."""
    if unit == period:
        return float(b - a)
    days = (start(b, period) - start(a, period)).days
    return days / UNIT_DAYS[unit]


def local_date(at: Any, tz: dt.tzinfo | None) -> dt.date:
    """The calendar day of a timestamp (its own wall clock, or in ``tz`` when given)."""
    if isinstance(at, dt.datetime):
        moment: dt.datetime = at.astimezone(tz) if tz is not None and at.tzinfo is not None else at
        return moment.date()
    if isinstance(at, dt.date):
        return at
    if isinstance(at, str):
        text = at.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            return local_date(dt.datetime.fromisoformat(text), tz)
        except ValueError:
            raise ValidationError(f"not an ISO 8601 date-time: {at!r}", field="at") from None
    if hasattr(at, "to_pydatetime"):  # a pandas Timestamp that is not a datetime subclass (never in practice)
        return local_date(at.to_pydatetime(), tz)
    raise ValidationError(f"expected a date-time, got {type(at).__name__} {at!r}", field="at")


def as_decimal(value: Any) -> Decimal:
    """An amount as a Decimal (from Decimal, int, float or numeric text)."""
    if isinstance(value, bool) or value is None:
        raise ValidationError(f"expected an amount, got {value!r}", field="amount")
    if isinstance(value, Decimal):
        amount = value
    else:
        try:
            amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
        except ArithmeticError:
            raise ValidationError(f"not an amount: {value!r}", field="amount") from None
    if not amount.is_finite():
        raise ValidationError(f"the amount is missing or not finite: {value!r}", field="amount")
    return amount
