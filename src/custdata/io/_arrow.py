"""Records ↔ Arrow columns, generated from the records' field descriptions (``custdata._fields``).

Each field's spec kind says how its value becomes Arrow values: text, ids and phones as strings, enums as
their text value, dates as ``date32``, timestamps as ``timestamp[us, UTC]``, amounts as
``decimal128(34, 18)``, nested records as structs, lists of them as lists of structs, mappings as maps,
``custom`` as JSON text. Two kinds need a companion column to come back exactly:

* a timestamp ``x`` has ``x_utc_offset`` (seconds east of UTC, int32): the column holds the instant, the
  companion the offset it was written with, so ``2024-01-02T10:00+08:00`` reads back as written;
* an amount ``x`` has ``x_exponent`` (int8): the decimal exponent it was written with (``12.50`` stays
  ``12.50``, not ``12.500000000000000000``);
* a birthday ``x`` has ``x_month_day`` (``--MM-DD`` text) for a birthday without a year (``x`` is null).

A field of a kind this table does not know is an error when the table is built (at import), so a new
field is never left out silently.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from custdata._fields import FieldInfo, fields_of
from custdata._records import Customer, Interaction, MonthDay, Transaction
from custdata.exceptions import ValidationError

__all__ = ["Codec", "codec", "record_columns"]

_CTX = decimal.Context(prec=60)
_UTC = dt.timezone.utc
_ZONES: dict[int, dt.tzinfo] = {0: _UTC}

#: Companion-column suffixes (a record field may not end in one of them).
OFFSET, EXPONENT, MONTH_DAY = "_utc_offset", "_exponent", "_month_day"


@attrs.frozen
class Codec:
    """How one field becomes Arrow values: ``columns`` (suffix, Arrow type factory) with the main column
    first (suffix ``""``), ``put`` (field value → one value per column) and ``get`` (the column values →
    the ``from_dict`` value; None when the row has nothing there)."""

    columns: tuple[tuple[str, Callable[[Any], Any]], ...]
    put: Callable[[Any], tuple[Any, ...]]
    get: Callable[[Sequence[Any]], Any]


def _zone(seconds: int) -> dt.tzinfo:
    tz = _ZONES.get(seconds)
    if tz is None:
        tz = _ZONES[seconds] = dt.timezone(dt.timedelta(seconds=seconds))
    return tz


# ---------------------------------------------------------------------------------------------- scalars
def _same(v: Any) -> tuple[Any]:
    return (v,)


def _first(vals: Sequence[Any]) -> Any:
    return vals[0]


def _enum_put(v: Any) -> tuple[Any]:
    return (None if v is None else v.value,)


def _float_put(v: Any) -> tuple[Any]:
    return (None if v is None else float(v),)


def _when_put(v: dt.datetime | None) -> tuple[Any, Any]:
    if v is None:
        return (None, None)
    off = v.utcoffset()
    assert off is not None  # records hold aware times only
    if off.microseconds:
        raise ValidationError("a UTC offset with fractions of a second cannot be written to Arrow")
    return (v, off.days * 86400 + off.seconds)


def _when_get(vals: Sequence[Any]) -> Any:
    ts, off = vals
    if isinstance(ts, dt.datetime) and ts.tzinfo is not None:
        return ts.astimezone(_zone(off) if isinstance(off, int) else _UTC)
    return ts


def _decimal_put(v: Decimal | None) -> tuple[Any, Any]:
    if v is None:
        return (None, None)
    exponent = v.as_tuple().exponent
    assert isinstance(exponent, int)
    return (v, exponent)


def _decimal_get(vals: Sequence[Any]) -> Any:
    d, exponent = vals
    if isinstance(d, Decimal) and isinstance(exponent, int):
        return d.quantize(Decimal(1).scaleb(exponent), context=_CTX)
    return d


def _birthday_put(v: Any) -> tuple[Any, Any]:
    if v is None:
        return (None, None)
    if isinstance(v, MonthDay):
        return (None, v.isoformat())
    return (v, None)


def _birthday_get(vals: Sequence[Any]) -> Any:
    day, month_day = vals
    return day if day is not None else month_day


def _tags_put(v: frozenset[str]) -> tuple[Any]:
    return (sorted(v),)


def _map_put(v: Any) -> tuple[Any]:
    return (list(v.items()),)


def _map_get(vals: Sequence[Any]) -> Any:
    items = vals[0]
    return None if items is None else dict(items)


def _json_put(v: Any) -> tuple[Any]:
    return (json.dumps(dict(v), ensure_ascii=False, separators=(",", ":")) if v else None,)


def _json_get(vals: Sequence[Any]) -> Any:
    text = vals[0]
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise ValidationError("not JSON text") from None


def _pa() -> Any:
    import pyarrow as pa  # the caller has checked the extra

    return pa


def _scalar(kind: str) -> Codec | None:
    string = (("", lambda pa: pa.string()),)
    table: dict[str, Codec] = {
        "text": Codec(string, _same, _first),
        "opt_text": Codec(string, _same, _first),
        "currency": Codec(string, _same, _first),
        "enum": Codec(string, _enum_put, _first),
        "opt_enum": Codec(string, _enum_put, _first),
        "bool": Codec((("", lambda pa: pa.bool_()),), _same, _first),
        "int": Codec((("", lambda pa: pa.int64()),), _same, _first),
        "version": Codec((("", lambda pa: pa.int64()),), _same, _first),
        "nps": Codec((("", lambda pa: pa.int8()),), _same, _first),
        "csat": Codec((("", lambda pa: pa.float64()),), _float_put, _first),
        "datetime": Codec(
            (("", lambda pa: pa.timestamp("us", tz="UTC")), (OFFSET, lambda pa: pa.int32())),
            _when_put,
            _when_get,
        ),
        "birthday": Codec(
            (("", lambda pa: pa.date32()), (MONTH_DAY, lambda pa: pa.string())), _birthday_put, _birthday_get
        ),
        "decimal": Codec(
            (("", lambda pa: pa.decimal128(34, 18)), (EXPONENT, lambda pa: pa.int8())),
            _decimal_put,
            _decimal_get,
        ),
        "tags": Codec((("", lambda pa: pa.list_(pa.string())),), _tags_put, _first),
        "text_map": Codec((("", lambda pa: pa.map_(pa.string(), pa.string())),), _map_put, _map_get),
        "json_map": Codec(string, _json_put, _json_get),
    }
    table["opt_datetime"] = table["datetime"]
    table["opt_decimal"] = table["quantity"] = table["decimal"]
    return table.get(kind)


_STRUCT_KINDS = {"record", "person_names"}
_LIST_KINDS = {"records", "phones", "emails", "addresses", "line_items"}
_MAP_KINDS = {"record_map", "consents"}


def codec(info: FieldInfo) -> Codec:
    """The codec of one field (from its spec's kind)."""
    kind = info.spec.kind
    found = _scalar(kind)
    if found is not None:
        return found
    if kind in _STRUCT_KINDS | _LIST_KINDS | _MAP_KINDS:
        struct_type, put, get = _struct(info.spec.arg)
        if kind in _STRUCT_KINDS:
            return Codec(
                (("", struct_type),),
                lambda v: (None if v is None else put(v),),
                lambda vals: None if vals[0] is None else get(vals[0]),
            )
        if kind in _LIST_KINDS:
            return Codec(
                (("", lambda pa: pa.list_(struct_type(pa))),),
                lambda v: ([put(x) for x in v],),
                lambda vals: None if vals[0] is None else [get(x) for x in vals[0]],
            )
        return Codec(
            (("", lambda pa: pa.map_(pa.string(), struct_type(pa))),),
            lambda v: ([(k, put(x)) for k, x in v.items()],),
            lambda vals: None if vals[0] is None else {k: get(x) for k, x in vals[0]},
        )
    raise TypeError(f"{info.name}: no Arrow column for fields of kind {kind!r} (add one in io/_arrow.py)")


def _struct(
    cls: type,
) -> tuple[Callable[[Any], Any], Callable[[Any], dict[str, Any]], Callable[[dict[str, Any]], dict[str, Any]]]:
    """A nested record as a struct: its type, value → struct dict, struct dict → ``from_dict`` form."""
    parts = [(f.name, codec(f)) for f in fields_of(cls)]

    def struct_type(pa: Any) -> Any:
        return pa.struct(
            [pa.field(name + suffix, make(pa)) for name, c in parts for suffix, make in c.columns]
        )

    def put(value: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, c in parts:
            for (suffix, _), v in zip(c.columns, c.put(getattr(value, name)), strict=True):
                out[name + suffix] = v
        return out

    def get(d: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, c in parts:
            v = c.get([d.get(name + suffix) for suffix, _ in c.columns])
            if v is not None:
                out[name] = v
        return out

    return struct_type, put, get


def record_columns(cls: type) -> list[tuple[str, Codec]]:
    """(field name, codec) of every field of a top-level record class, in the dict form's order."""
    out = [(f.name, codec(f)) for f in fields_of(cls)]
    names = {f.name for f in fields_of(cls)}
    for name, c in out:
        for suffix, _ in c.columns[1:]:
            if name + suffix in names:  # pragma: no cover - a guard for a future field
                raise TypeError(f"{cls.__name__}.{name + suffix} clashes with a companion column")
    return out


COLUMNS = {cls: record_columns(cls) for cls in (Customer, Transaction, Interaction)}
