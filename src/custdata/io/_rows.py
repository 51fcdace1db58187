"""Flat rows as dicts (header → cell) to and from records: for DataFrames and other sinks."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from custdata._records import Customer
from custdata.exceptions import ValidationError
from custdata.io._args import iterable
from custdata.io._cells import to_tzinfo
from custdata.io._convert import activity_dict, activity_row, customer_dict, customer_row
from custdata.io._headers import COLUMNS, SYNONYMS, header_key
from custdata.io._problems import Kind, Record, record_class

__all__ = ["from_rows", "to_rows"]


def to_rows(records: Iterable[Record]) -> Iterator[dict[str, str]]:
    """The flat rows ``write_csv`` writes, as dicts (no formula guard): for DataFrames and other sinks."""
    for i, rec in enumerate(iterable(records)):
        try:
            cells = customer_row(rec) if isinstance(rec, Customer) else activity_row(rec)
            columns = COLUMNS[type(rec)]
        except (AttributeError, TypeError, KeyError):  # found where it fails: good records pay nothing
            if type(rec) in COLUMNS:
                raise
            raise ValidationError(f"is a {type(rec).__name__}, not a record", field=f"records[{i}]") from None
        yield dict(zip(columns, cells, strict=True))


# Fields whose values are digit strings that pandas reads as floats when a column has gaps
# (13800138000 → 13800138000.0): an integral float there is the number it was.
_DIGIT_FIELDS = frozenset(
    {
        "id",
        "customer_id",
        "order_id",
        "postal_code",
        "phones",
        "phone",
        "mobile",
        "home_phone",
        "work_phone",
        "fax",
    }
)


_FLOAT_INT = re.compile(r"\d{1,20}\.0|\d(?:\.\d{1,20})?e\+\d{1,3}")


def _digits(field: str, text: str) -> str:
    if not _FLOAT_INT.fullmatch(text):
        return text
    value = float(text)
    if abs(value) >= 2**53:
        raise ValidationError(
            "a number of 16 or more digits read as a float is no longer exact; read the column "
            "as text (dtype=str)",
            field=field,
        )
    return str(int(value))


def from_rows(
    rows: Iterable[Mapping[str, Any]], *, kind: Kind = "customer", default_tz: str | dt.tzinfo | None = None
) -> Iterator[Record]:
    """Records from flat rows (dicts of header → cell), with the same header synonyms as ``read_csv``."""
    cls = record_class(kind)
    tz = to_tzinfo(default_tz)
    synonyms = SYNONYMS[kind]
    for i, row in enumerate(iterable(rows, "rows")):
        try:
            cells = row.items()
        except AttributeError:
            raise ValidationError(
                f"is a {type(row).__name__}, not a mapping of headers to cells", field=f"rows[{i}]"
            ) from None
        values: dict[str, str] = {}
        custom: dict[str, Any] = {}
        for h, raw in cells:
            if not isinstance(h, str):
                raise ValidationError(
                    f"has a header that is not text ({type(h).__name__})", field=f"rows[{i}]"
                )
            if raw is None or raw == "" or (isinstance(raw, float) and raw != raw):
                continue
            field = synonyms.get(header_key(h))
            text = raw if isinstance(raw, str) else repr(raw) if isinstance(raw, float) else str(raw)
            if field in _DIGIT_FIELDS and (text.endswith(".0") or "e+" in text):
                text = _digits(field, text)
            if field is None:
                if kind == "customer":
                    custom[h] = raw if isinstance(raw, (str, int, float, bool)) else text
                continue
            values[field] = text
        d = customer_dict(values, custom, tz) if kind == "customer" else activity_dict(kind, values, tz)
        yield cls.from_dict(d)
