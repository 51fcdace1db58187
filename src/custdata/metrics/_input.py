"""Reading the inputs the metrics accept: records, mappings or a pandas DataFrame."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from custdata._bulk import items_of
from custdata.exceptions import RowsLeftOutWarning, ValidationError


def is_dataframe(obj: object) -> bool:
    """Is ``obj`` a pandas DataFrame (checked without importing pandas)?"""
    return type(obj).__module__.startswith("pandas") and hasattr(obj, "columns") and hasattr(obj, "iloc")


def rows(data: Any, name: str = "transactions") -> Iterator[Any]:
    """Iterate over records, mappings or the rows of a DataFrame (as mappings); ``name`` is the argument
    a :class:`ValidationError` names when ``data`` is none of these."""
    if is_dataframe(data):
        yield from data.to_dict("records")
        return
    yield from items_of(data, name, "records or mappings")


def number(value: object, name: str) -> float:
    """A numeric argument (int, float or Decimal, not bool) as a finite float; anything else is a
    :class:`ValidationError` naming ``name`` (never the ``TypeError`` or ``OverflowError`` of arithmetic)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValidationError(f"must be a number, got {type(value).__name__}", field=name)
    try:
        f = float(value)
    except OverflowError:
        raise ValidationError("is too large", field=name) from None
    if not math.isfinite(f):
        raise ValidationError(f"must be a finite number, got {value!r}", field=name)
    return f


def zone(tz: object) -> dt.tzinfo | None:
    """A ``tz`` argument: a ``tzinfo`` or None."""
    if tz is not None and not isinstance(tz, dt.tzinfo):
        raise ValidationError(f"must be a datetime.tzinfo or None, got {type(tz).__name__}", field="tz")
    return tz


def get(row: Any, name: str, *aliases: str, default: Any = ...) -> Any:
    """A field of a record or a mapping, trying aliases; ``default`` when given and absent."""
    if isinstance(row, Mapping):
        for key in (name, *aliases):
            if key in row:
                return row[key]
    else:
        for key in (name, *aliases):
            if hasattr(row, key):
                return getattr(row, key)
    if default is not ...:
        return default
    raise ValidationError(f"a row has no {name!r}: {row!r}", field=name)


def cutoff(value: dt.date | dt.datetime | str, name: str) -> dt.date | dt.datetime:
    """A date or date-time boundary (ISO text accepted)."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(f"not an ISO 8601 date: {value!r}", field=name) from None
    if isinstance(value, dt.date):
        return value
    raise ValidationError(f"expected a date, got {type(value).__name__} {value!r}", field=name)


def on_or_before(at: Any, day: dt.date, bound: dt.date | dt.datetime) -> bool:
    """Is a transaction (at ``at``, on local calendar ``day``) at or before ``bound``?

    A date bound includes its whole day; a date-time bound compares instants (wall clocks when either
    side has no offset).
    """
    if not isinstance(bound, dt.datetime):
        return day <= bound
    if not isinstance(at, dt.datetime):
        return day <= bound.date()
    if (at.tzinfo is None) != (bound.tzinfo is None):
        return at.replace(tzinfo=None) <= bound.replace(tzinfo=None)
    return bool(at <= bound)


def bound_day(bound: dt.date | dt.datetime) -> dt.date:
    """The calendar day of a boundary."""
    return bound.date() if isinstance(bound, dt.datetime) else bound


def natural_key(text: str) -> tuple[int, int, str]:
    """Sort numeric ids by number (``2`` before ``10``), then the rest as text. Only ASCII digits count
    as a number: ``①`` and ``²`` are digits to ``str.isdigit`` but not to ``int``."""
    return (0, int(text), "") if text.isascii() and text.isdigit() else (1, 0, text)


class Window:
    """Which transactions a computation keeps: none dated after now, none after ``end`` (when given).

    Counts what it leaves out; :meth:`report` warns with the counts (:class:`RowsLeftOutWarning`).
    A transaction's time is compared as an instant when it has an offset, else by its calendar day.
    """

    def __init__(
        self, end: dt.date | dt.datetime | None, tz: dt.tzinfo | None, name: str = "observation_end"
    ):
        zone(tz)
        self.end = end
        self.name = name
        self.now = dt.datetime.now(dt.timezone.utc)
        self.today = dt.datetime.now(tz).date() if tz is not None else dt.date.today()
        self.future = 0
        self.late = 0

    def keep(self, at: Any, day: dt.date) -> bool:
        """Should a transaction at ``at`` (local calendar ``day``) count?"""
        aware = isinstance(at, dt.datetime) and at.tzinfo is not None
        if at > self.now if aware else day > self.today:
            self.future += 1
            return False
        if self.end is not None and not on_or_before(at, day, self.end):
            self.late += 1
            return False
        return True

    def report(self, stacklevel: int = 3) -> None:
        """Warn about the transactions left out, if any."""
        parts = []
        if self.future:
            parts.append(f"{self.future} dated in the future (after {self.today.isoformat()})")
        if self.late:
            parts.append(f"{self.late} dated after {self.name} {_show(self.end)}")
        if parts:
            count = self.future + self.late
            warnings.warn(
                RowsLeftOutWarning(f"{count} transactions left out: {'; '.join(parts)}", count),
                stacklevel=stacklevel,
            )


def _show(value: dt.date | dt.datetime | None) -> str:
    return "" if value is None else value.isoformat()


def ids(values: Iterable[Any]) -> list[str]:
    """Customer ids as text."""
    return [str(v) for v in values]
