"""Field kinds, and checking a rule against a profile schema (unknown fields, values of the wrong kind)."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from custdata.exceptions import RuleSyntaxError
from custdata.segments._rules import (
    Compare,
    Contains,
    In,
    Predicate,
    StartsWith,
    Value,
    WithinLast,
    WithinNext,
)

__all__ = ["KINDS", "Schema", "check_predicate", "schema_of"]

#: The kinds a profile field can have.
KINDS = ("text", "int", "decimal", "float", "bool", "date", "datetime", "birthday", "tags", "any")

Schema = Mapping[str, str]


def schema_of(schema: Any) -> dict[str, str] | None:
    """A schema as a mapping of field name to kind: a mapping as given, or names (kind ``any``)."""
    if schema is None:
        return None
    if isinstance(schema, Mapping):
        out = {str(k): str(v) for k, v in schema.items()}
        bad = sorted(v for v in out.values() if v not in KINDS)
        if bad:
            raise ValueError(f"unknown field kinds {bad}; known: {', '.join(KINDS)}")
        return out
    if isinstance(schema, Iterable) and not isinstance(schema, (str, bytes)):
        return dict.fromkeys((str(n) for n in schema), "any")
    raise TypeError(
        f"a schema is a mapping of field name to kind, or a list of names; got {type(schema).__name__}"
    )


def _number(v: Value) -> bool:
    return isinstance(v, (int, Decimal)) and not isinstance(v, bool)


def _date_text(v: Value) -> bool:
    if not isinstance(v, str) or len(v) != 10:
        return False
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


_OK: dict[str, Callable[[Value], bool]] = {
    "text": lambda v: isinstance(v, str),
    "int": _number,
    "decimal": _number,
    "float": _number,
    "bool": lambda v: isinstance(v, bool),
    "date": _date_text,
    "datetime": _date_text,
    "birthday": _date_text,
    "tags": lambda v: isinstance(v, str),
    "any": lambda v: True,
}

_WHAT = {
    "text": "text",
    "int": "a number",
    "decimal": "a number",
    "float": "a number",
    "bool": "true or false",
    "date": "an ISO date 'YYYY-MM-DD'",
    "datetime": "an ISO date 'YYYY-MM-DD'",
    "birthday": "an ISO date 'YYYY-MM-DD'",
    "tags": "text",
}


def check_predicate(
    pred: Predicate, schema: Mapping[str, str], *, text: str = "", position: int | None = None
) -> None:
    """Raise RuleSyntaxError when ``pred`` names an unknown field or tests it in a way its kind has not."""

    def fail(message: str) -> RuleSyntaxError:
        return RuleSyntaxError(message, text=text, position=position)

    kind = schema.get(pred.field)
    if kind is None:
        close = difflib.get_close_matches(pred.field, list(schema), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise fail(f"unknown field {pred.field!r}{hint}")
    if kind == "any":
        return
    if isinstance(pred, Compare):
        if kind in ("tags", "birthday"):
            raise fail(f"field {pred.field!r} ({kind}) cannot be compared with {pred.cmp}")
        values: tuple[Value, ...] = (pred.value,)
    elif isinstance(pred, In):
        if kind == "birthday":
            raise fail(f"field {pred.field!r} ({kind}): use 'within next N days' or 'within last N days'")
        values = pred.values
    elif isinstance(pred, (Contains, StartsWith)):
        if kind not in ("text", "tags"):
            raise fail(f"field {pred.field!r} ({kind}) holds no text to test with {pred.op}")
        values = ()
    elif isinstance(pred, (WithinNext, WithinLast)):
        if kind not in ("date", "datetime", "birthday"):
            raise fail(f"field {pred.field!r} ({kind}) holds no date for {pred.op}")
        values = ()
    else:
        values = ()
    for v in values:
        if not _OK[kind](v):
            raise fail(f"field {pred.field!r} holds {_WHAT[kind]}, not {v!r}")
