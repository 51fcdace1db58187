"""Flat rows as dicts (header → cell) to and from records: for DataFrames and other sinks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from custdata._records import Customer
from custdata.io._cells import to_tzinfo
from custdata.io._convert import activity_dict, activity_row, customer_dict, customer_row
from custdata.io._headers import COLUMNS, SYNONYMS, header_key
from custdata.io._problems import Kind, Record, record_class

__all__ = ["from_rows", "to_rows"]


def to_rows(records: Iterable[Record]) -> Iterator[dict[str, str]]:
    """The flat rows ``write_csv`` writes, as dicts (no formula guard): for DataFrames and other sinks."""
    for rec in records:
        cells = customer_row(rec) if isinstance(rec, Customer) else activity_row(rec)
        yield dict(zip(COLUMNS[type(rec)], cells, strict=True))


def from_rows(
    rows: Iterable[Mapping[str, Any]], *, kind: Kind = "customer", default_tz: str | dt.tzinfo | None = None
) -> Iterator[Record]:
    """Records from flat rows (dicts of header → cell), with the same header synonyms as ``read_csv``."""
    cls = record_class(kind)
    tz = to_tzinfo(default_tz)
    synonyms = SYNONYMS[kind]
    for row in rows:
        values: dict[str, str] = {}
        custom: dict[str, Any] = {}
        for h, raw in row.items():
            if raw is None or raw == "" or (isinstance(raw, float) and raw != raw):
                continue
            text = raw if isinstance(raw, str) else str(raw)
            field = synonyms.get(header_key(h))
            if field is None:
                if kind == "customer":
                    custom[h] = raw if isinstance(raw, (str, int, float, bool)) else text
                continue
            values[field] = text
        d = customer_dict(values, custom, tz) if kind == "customer" else activity_dict(kind, values, tz)
        yield cls.from_dict(d)
