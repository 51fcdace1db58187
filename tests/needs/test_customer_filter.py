"""recommend(..., filter=rule) with a rule over the customer's profile: no recommendations for customers
outside the segment; item rules filter items as before; both kinds joined by & work together."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
from custdata import Customer
from custdata.exceptions import ValidationError
from custdata.needs import Recommender
from custdata.segments import F
from tests.needs.test_needs import TINY, tx

AS_OF = dt.date(2026, 12, 31)
PEOPLE = [
    Customer(
        id=f"u{i}",
        addresses=[{"province": "上海市", "city": "上海市"}] if i % 2 else [],
        tags=["vip"] * (i < 4),
    )
    for i in range(1, 7)
]


def _profiles() -> dict[str, Any]:
    return {p.id: p for p in custdata.profiles(PEOPLE, TINY, as_of=AS_OF)}


@pytest.fixture(scope="module")
def rec() -> Recommender:
    return Recommender("ease", lam=0.5).fit(TINY)


def test_customers_outside_the_rule_get_nothing(rec: Recommender) -> None:
    ps = _profiles()
    rule = F.city == "上海市"
    for cid, p in ps.items():
        got = rec.recommend(cid, n=3, filter=rule, profile=p)
        if rule.matches(p):
            assert got == rec.recommend(cid, n=3)  # inside: exactly the unfiltered list
        else:
            assert got == []


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["a", "b", "c", "d", "e"]), st.booleans(), st.integers(1, 5))
def test_item_and_customer_rules_combine_with_and(sku: str, vip: bool, n: int) -> None:
    rec = Recommender("ease", lam=0.5).fit(TINY)
    ps = _profiles()
    who = F.tags.contains("vip") if vip else ~F.tags.contains("vip")
    items = F.sku != sku
    for cid, p in ps.items():
        got = rec.recommend(cid, n=n, filter=items & who, profile=p)
        assert got == (rec.recommend(cid, n=n, filter=items) if who.matches(p) else [])
        assert got == rec.recommend(cid, n=n, filter=who & items, profile=p)  # order does not matter


def test_interest_fields_select_customers(rec: Recommender) -> None:
    txs = [*TINY, tx("u1", "a", cat="garden"), tx("u2", "b", cat="books")]
    ps = {p.id: p for p in custdata.profiles(PEOPLE, txs, as_of=AS_OF)}
    assert ps["u1"].top_category == "garden"
    assert rec.recommend("u1", n=2, filter=F.top_category == "garden", profile=ps["u1"])
    assert rec.recommend("u2", n=2, filter=F.top_category == "garden", profile=ps["u2"]) == []


def test_customer_rules_need_the_customers_profile(rec: Recommender) -> None:
    ps = _profiles()
    with pytest.raises(ValidationError, match="profile="):
        rec.recommend("u1", filter=F.city == "上海市")
    with pytest.raises(ValidationError, match="another customer"):
        rec.recommend("u1", filter=F.city == "上海市", profile=ps["u2"])
    with pytest.raises(ValidationError, match="profile"):
        rec.recommend("u1", filter=F.city == "上海市", profile="u1")
    with pytest.raises(ValidationError, match="mixes"):
        rec.recommend("u1", filter=(F.city == "上海市") | (F.category == "x"), profile=ps["u1"])
    with pytest.raises(ValidationError, match="neither an item field"):
        rec.recommend("u1", filter=F.colour == "red", profile=ps["u1"])
    # a plain dict of profile fields works too
    assert rec.recommend("u2", n=1, filter=F.city == "上海市", profile={"id": "u2", "city": "上海市"})
