"""Interest groups as profile fields: top_category, top_category_share and top_categories agree with
custdata.needs.interests over the same transactions, rules can use them, and a store says the rule cannot be
pushed down to SQL (it runs in Python, with the same answer)."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
from custdata import Customer, LineItem, Transaction
from custdata.needs import interests
from custdata.segments import F, Rule, RuleNotPushedWarning

AS_OF = dt.date(2026, 6, 30)
CATS = ["books", "toys", "garden", "图书"]


@st.composite
def shop(draw: st.DrawFn) -> tuple[list[Customer], list[Transaction]]:
    ids = [f"c{i}" for i in range(draw(st.integers(1, 5)))]
    txs = []
    for _ in range(draw(st.integers(0, 14))):
        lines = [
            LineItem(
                sku=f"s{draw(st.integers(0, 5))}",
                quantity=draw(st.integers(1, 3)),
                unit_price=draw(st.one_of(st.none(), st.decimals(min_value=0, max_value=90, places=2))),
                category=draw(st.one_of(st.none(), st.sampled_from(CATS))),
            )
            for _ in range(draw(st.integers(0, 3)))
        ]
        refund = draw(st.booleans()) and draw(st.booleans())
        amount = sum((x.quantity * (x.unit_price or 0) for x in lines), Decimal(0)) or Decimal(1)
        txs.append(
            Transaction(
                customer_id=draw(st.sampled_from(ids)),
                at=dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
                + dt.timedelta(days=draw(st.integers(0, 40))),
                amount=-amount if refund else amount,
                items=lines,
            )
        )
    return [Customer(id=i) for i in ids], txs


@settings(max_examples=200, deadline=None)
@given(shop())
def test_profile_interests_are_needs_interests(data: tuple[list[Customer], list[Transaction]]) -> None:
    people, txs = data
    upto = [t for t in txs if t.at.date() <= AS_OF]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lines without a category: interests() reports them
        want = interests(upto, top=3)
    for p in custdata.profiles(people, txs, as_of=AS_OF):
        got = want.get(p.id)
        if got is None:
            assert (p.top_category, p.top_category_share, p.top_categories) == (None, None, frozenset())
        else:
            assert p.top_category == got.top[0]
            assert p.top_category_share == got.shares[got.top[0]]
            assert p.top_categories == frozenset(got.top)


def _data() -> tuple[list[Customer], list[Transaction]]:
    def t(cid: str, day: int, *lines: tuple[str, str]) -> Transaction:
        items = [LineItem(sku=c, unit_price=p, category=c) for c, p in lines]
        at = dt.datetime(2026, 6, day, tzinfo=dt.timezone.utc)
        return Transaction(customer_id=cid, at=at, amount=sum(Decimal(p) for _, p in lines), items=items)

    txs = [
        t("a", 1, ("books", "60"), ("toys", "40")),
        t("b", 2, ("toys", "90"), ("books", "10")),
        t("c", 3, ("garden", "50"), ("books", "50")),  # a tie: the first name leads
    ]
    return [Customer(id=x) for x in "abcd"], txs


def test_rules_read_interest_fields() -> None:
    people, txs = _data()
    ps = {p.id: p for p in custdata.profiles(people, txs, as_of=AS_OF)}
    assert ps["a"].top_category == "books" and ps["a"].top_category_share == 0.6
    assert ps["c"].top_category == "books" and ps["c"].top_categories == frozenset({"books", "garden"})
    assert ps["d"].top_category is None and ps["d"].top_categories == frozenset()
    rule = Rule.parse("top_category == 'books' and top_category_share >= 0.55")
    assert [k for k, p in ps.items() if rule.matches(p)] == ["a"]
    assert [k for k, p in ps.items() if F.top_categories.contains("toys").matches(p)] == ["a", "b"]


@pytest.mark.parametrize("url", ["sqlite://", "memory://"])
def test_a_store_runs_interest_rules_in_python_and_says_so(url: str) -> None:
    people, txs = _data()
    rule = (F.top_category == "books") | (F.total_spend >= 100)
    want = sorted(p.id for p in custdata.profiles(people, txs, as_of=AS_OF) if rule.matches(p))
    with custdata.open_store(url) as store:
        store.upsert_many(people)
        store.add_transactions(txs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = [c.id for c in store.select(rule, as_of=AS_OF)]
    assert got == want == ["a", "b", "c"]
    pushed_warnings = [w for w in caught if issubclass(w.category, RuleNotPushedWarning)]
    assert bool(pushed_warnings) is url.startswith("sqlite")
    if pushed_warnings:
        assert "cannot be pushed down" in str(pushed_warnings[0].message)


@pytest.mark.postgres
def test_postgres_runs_interest_rules_in_python(pg_url: str) -> None:
    import uuid

    from tests.storage.storage_backends import with_query

    people, txs = _data()
    rule: Any = F.top_categories.contains("garden")
    with custdata.open_store(with_query(pg_url, schema="int_" + uuid.uuid4().hex[:12])) as store:
        store.upsert_many(people)
        store.add_transactions(txs)
        with pytest.warns(RuleNotPushedWarning, match="top_categories cannot be pushed down"):
            assert [c.id for c in store.select(rule, as_of=AS_OF)] == ["c"]
