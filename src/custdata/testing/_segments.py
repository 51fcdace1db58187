"""Hypothesis strategies for segment rules and the profiles they read (re-exported by custdata.testing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st

from custdata._records import MonthDay
from custdata.segments._profiles import PROFILE_SCHEMA
from custdata.segments._rules import (
    COMPARISONS,
    And,
    Compare,
    Contains,
    In,
    Missing,
    Not,
    Or,
    Present,
    Rule,
    StartsWith,
    WithinLast,
    WithinNext,
)

__all__ = ["profile_dicts", "rules"]

#: Text values that match often, and text that is awkward for the text form (quotes, backslashes, newlines).
_TEXTS = [
    "上海市",
    "北京市",
    "广东省",
    "vip",
    "会员",
    "a",
    "ab",
    "O'Brien",
    'say "hi"',
    "back\\slash",
    "x\ny",
    "138",
]
_TAGS = ["vip", "会员", "new", "book-lover"]
_DAY0 = dt.date(2026, 6, 30)


def _texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(_TEXTS),
        st.text(st.characters(blacklist_categories=["Cs"]), max_size=6),
    )


def _numbers(kind: str) -> st.SearchStrategy[Any]:
    ints = st.integers(-5, 400)
    if kind == "int":
        return st.one_of(ints, st.decimals(min_value=-5, max_value=400, places=1))
    return st.one_of(
        ints,
        st.decimals(min_value=-100, max_value=5000, places=2),
        st.floats(min_value=-100, max_value=5000, allow_nan=False).map(lambda f: round(f, 3)),
    )


def _dates() -> st.SearchStrategy[str]:
    return st.dates(dt.date(2025, 1, 1), dt.date(2027, 1, 31)).map(dt.date.isoformat)


def _predicate(field: str, kind: str) -> st.SearchStrategy[Rule]:
    present = st.sampled_from([Missing(field), Present(field)])
    if kind == "text":
        return st.one_of(
            present,
            st.builds(Compare, st.just(field), st.sampled_from(COMPARISONS), _texts()),
            st.builds(In, st.just(field), st.lists(_texts(), max_size=4)),
            st.builds(Contains, st.just(field), _texts()),
            st.builds(StartsWith, st.just(field), _texts()),
        )
    if kind == "tags":
        tag = st.one_of(st.sampled_from(_TAGS), _texts())
        return st.one_of(
            present,
            st.builds(Contains, st.just(field), tag),
            st.builds(StartsWith, st.just(field), tag),
            st.builds(In, st.just(field), st.lists(tag, max_size=3)),
        )
    if kind in ("int", "decimal", "float"):
        return st.one_of(
            present,
            st.builds(Compare, st.just(field), st.sampled_from(COMPARISONS), _numbers(kind)),
            st.builds(In, st.just(field), st.lists(_numbers(kind), max_size=4)),
        )
    if kind in ("date", "datetime", "birthday"):
        windows = st.one_of(
            st.builds(WithinNext, st.just(field), st.integers(0, 400)),
            st.builds(WithinLast, st.just(field), st.integers(0, 800)),
        )
        if kind == "birthday":
            return st.one_of(present, windows)
        return st.one_of(
            present,
            windows,
            st.builds(Compare, st.just(field), st.sampled_from(COMPARISONS), _dates()),
        )
    if kind == "bool":
        return st.one_of(
            present, st.builds(Compare, st.just(field), st.sampled_from(["==", "!="]), st.booleans())
        )
    return present


def rules(schema: Mapping[str, str] | None = None, *, max_leaves: int = 6) -> st.SearchStrategy[Rule]:
    """Rules over the fields of ``schema`` (a mapping of field name to kind; default: the profile fields),
    every predicate with values of the field's kind, combined with and/or/not."""
    kinds = dict(schema if schema is not None else PROFILE_SCHEMA)
    leaves = st.sampled_from(sorted(kinds)).flatmap(lambda f: _predicate(f, kinds[f]))
    return st.recursive(
        leaves,
        lambda kids: st.one_of(
            kids.map(Not),
            st.lists(kids, min_size=2, max_size=3).map(lambda rs: And(*rs)),
            st.lists(kids, min_size=2, max_size=3).map(lambda rs: Or(*rs)),
        ),
        max_leaves=max_leaves,
    )


def _value(kind: str) -> st.SearchStrategy[Any]:
    if kind == "text":
        return st.one_of(st.none(), _texts())
    if kind == "tags":
        return st.frozensets(st.one_of(st.sampled_from(_TAGS), _texts().filter(bool)), max_size=3)
    if kind == "int":
        return st.one_of(st.none(), st.integers(-5, 400))
    if kind == "decimal":
        return st.one_of(st.none(), st.decimals(min_value=-100, max_value=5000, places=2))
    if kind == "float":
        return st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False))
    if kind == "date":
        return st.one_of(st.none(), st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)))
    if kind == "datetime":
        return st.one_of(
            st.none(),
            st.datetimes(dt.datetime(2024, 1, 1), dt.datetime(2027, 12, 31)).map(
                lambda d: d.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
            ),
        )
    if kind == "birthday":
        return st.one_of(
            st.none(),
            st.dates(dt.date(1950, 1, 1), dt.date(2012, 12, 31)),
            st.dates(dt.date(2000, 1, 1), dt.date(2000, 12, 31)).map(lambda d: MonthDay(d.month, d.day)),
        )
    if kind == "bool":
        return st.one_of(st.none(), st.booleans())
    return st.none()


@st.composite
def profile_dicts(
    draw: st.DrawFn, schema: Mapping[str, str] | None = None, *, as_of: dt.date | None = None
) -> dict[str, Any]:
    """Profiles as plain dicts with a value (or None) of each field's kind, and an ``as_of`` date."""
    kinds = dict(schema if schema is not None else PROFILE_SCHEMA)
    out = {name: draw(_value(kind)) for name, kind in kinds.items() if name != "as_of"}
    out["as_of"] = as_of or draw(st.dates(dt.date(2024, 1, 1), dt.date(2028, 12, 31)))
    return out
