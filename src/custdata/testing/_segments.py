"""Hypothesis strategies for segment rules and the profiles they read (re-exported by custdata.testing)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from custdata._records import Channel, Customer, Interaction, LifecycleStage, MonthDay, Transaction
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

__all__ = ["profile_dicts", "rules", "segment_data"]

#: Text values that match often, and text that is awkward for the text form (quotes, backslashes, newlines).
_TEXTS = [
    *("上海市", "北京市", "广东省", "深圳市", "江苏省", "常州市", "杭州市", "朝阳区", "address", "phone"),
    *("vip", "会员", "new", "a", "ab", "b", "Brien", "O'Brien", 'say "hi"', "back\\slash", "x\ny"),
    *("138", "+86", "139", "王", "王伟", "Ada", "女", "store", "website", "customer", "lead", "@example.com"),
    *("champions", "loyal", "lost", "at_risk", "hibernating", "c0", "c1"),
]
_TAGS = ["vip", "会员", "new", "book-lover"]
_DAY0 = dt.date(2026, 6, 30)


def _texts_of(extra: Sequence[str] = ()) -> st.SearchStrategy[str]:
    pools = [
        st.sampled_from(_TEXTS),
        st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=6),
    ]
    if extra:
        pools = [st.sampled_from(list(extra)), st.sampled_from(list(extra)), *pools]
    return st.one_of(*pools)


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


def _predicate(field: str, kind: str, texts: Sequence[str] = ()) -> st.SearchStrategy[Rule]:
    _texts = functools.partial(_texts_of, texts)
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


def rules(
    schema: Mapping[str, str] | None = None,
    *,
    max_leaves: int = 6,
    texts: Sequence[str] | Mapping[str, Sequence[str]] = (),
) -> st.SearchStrategy[Rule]:
    """Rules over the fields of ``schema`` (a mapping of field name to kind; default: the profile fields),
    every predicate with values of the field's kind, combined with and/or/not. ``texts``: text values to
    draw often, for every field or (a mapping) per field: values and parts of values your data holds, so
    text predicates match."""
    kinds = dict(schema if schema is not None else PROFILE_SCHEMA)

    def extra(field: str) -> tuple[str, ...]:
        if isinstance(texts, Mapping):
            return tuple(texts.get(field, ()))
        return tuple(texts)

    leaves = st.sampled_from(sorted(kinds)).flatmap(lambda f: _predicate(f, kinds[f], extra(f)))
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
        return st.one_of(st.none(), _texts_of())
    if kind == "tags":
        return st.frozensets(st.one_of(st.sampled_from(_TAGS), _texts_of().filter(bool)), max_size=3)
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


_PROVINCES = [
    ("上海市", "上海市"),
    ("北京市", "北京市"),
    ("广东省", "深圳市"),
    ("江苏省", None),
    (None, "杭州市"),
]
_MOBILES = ["13800138000", "13912345678", "+8615999999999", "13512345678", "+14155550123", "010 1234 5678"]


@st.composite
def segment_data(
    draw: st.DrawFn, *, max_customers: int = 8, max_transactions: int = 25
) -> tuple[list[Customer], list[Transaction], list[Interaction], dt.date]:
    """Customers, their transactions (refunds, several a day, time zones that move the local day, some
    after ``as_of``, some of unknown customers) and interactions, and an ``as_of`` date: data for checking
    that a rule selects the same customers everywhere (Python, SQLite, PostgreSQL)."""
    as_of = draw(st.dates(dt.date(2026, 1, 1), dt.date(2028, 12, 31)))
    n = draw(st.integers(1, max_customers))
    ids = [f"c{i}" for i in range(n)]
    people = []
    for cid in ids:
        geo = draw(st.one_of(st.none(), st.sampled_from(_PROVINCES)))
        addresses = (
            []
            if geo is None
            else [{"province": geo[0], "city": geo[1], "district": draw(st.sampled_from([None, "朝阳区"]))}]
        )
        if draw(st.booleans()) and not addresses:
            addresses = [{"street": "某路 1 号"}]
        phones = draw(st.lists(st.sampled_from(_MOBILES), max_size=2, unique=True))
        people.append(
            Customer(
                id=cid,
                name=draw(st.sampled_from([None, "王伟", "Ada Lovelace", "李 ab"])),
                phones=[{"number": p, "primary": draw(st.booleans())} for p in phones],
                emails=draw(st.lists(st.sampled_from(["a@example.com", "vip@例子.中国"]), max_size=1)),
                addresses=addresses,
                birthday=draw(_value("birthday")),
                gender=draw(st.sampled_from([None, "女", "男"])),
                company=draw(st.sampled_from([None, "a", "ab", "O'Brien"])),
                tags=draw(st.frozensets(st.sampled_from(_TAGS), max_size=2)),
                channel=draw(st.sampled_from([None, *Channel])),
                lifecycle_stage=draw(st.sampled_from([None, *LifecycleStage])),
                created_at=draw(_value("datetime")),
            )
        )
    offsets = st.sampled_from([-12 * 60, -5 * 60, 0, 8 * 60, 14 * 60]).map(
        lambda m: dt.timezone(dt.timedelta(minutes=m))
    )
    when = st.builds(
        lambda days, minute, tz: dt.datetime.combine(
            as_of + dt.timedelta(days=days), dt.time(minute // 60, minute % 60), tz
        ),
        st.one_of(st.integers(-3, 2), st.integers(-40, 2), st.integers(-800, 2)),
        st.integers(0, 24 * 60 - 1),
        offsets,
    )
    amounts = st.one_of(
        st.decimals(min_value=-300, max_value=3000, places=2),
        st.integers(-100, 2000).map(Decimal),
        st.sampled_from([Decimal("0"), Decimal("-0"), Decimal("0.000001"), Decimal("12.500000")]),
    )
    who = st.sampled_from([*ids, "ghost"])
    txs = [
        Transaction(customer_id=draw(who), at=draw(when), amount=draw(amounts))
        for _ in range(draw(st.integers(0, max_transactions)))
    ]
    contacts = [
        Interaction(customer_id=draw(who), at=draw(when), kind="call") for _ in range(draw(st.integers(0, 6)))
    ]
    return people, txs, contacts, as_of
