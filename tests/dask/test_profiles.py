"""Profiles on Dask equal custdata.profiles on the same customers, transactions and interactions."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from fractions import Fraction
from typing import Any

import dask.bag as db
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata.dask as cdd
import dask
from custdata import Customer, Interaction, Transaction, profiles
from custdata.dask._profiles import (
    edges_from_counts,
    exact_edges,
    rank_bounds,
    rank_summary,
    rank_windows,
)
from custdata.exceptions import ValidationError
from custdata.segments._rfm import edges_of
from custdata.testing import segment_data

_NUMBERS = st.one_of(
    st.integers(-50, 50),
    st.decimals(min_value=-1000, max_value=1000, places=2),
    st.fractions(max_denominator=7).filter(lambda f: abs(f) < 100),
)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_NUMBERS, max_size=40), bins=st.integers(3, 10))
def test_edges_from_counts_equal_edges_of(values: list[Any], bins: int) -> None:
    counts: dict[Any, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    assert edges_from_counts(counts, bins) == edges_of(values, bins)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.lists(st.one_of(_NUMBERS, st.sampled_from([0, 1, Decimal("1.00")])), max_size=30), max_size=5
    ),
    bins=st.integers(2, 10),
    sample=st.integers(1, 6),
)
def test_exact_edges_over_parts_equal_edges_of(parts: list[list[Any]], bins: int, sample: int) -> None:
    # small samples, so the bounds are loose and most ranks need the second round; ties across parts
    assert exact_edges(parts, bins, sample) == edges_of([v for p in parts for v in p], bins)


def test_exact_edges_send_few_values() -> None:
    rng = random.Random(7)
    parts = [[Decimal(rng.randrange(10**8)) / 100 for _ in range(5000)] for _ in range(4)]
    summaries = [rank_summary(p, 256) for p in parts]
    n = sum(c for c, _ in summaries)
    ranks = [n * k // 5 for k in range(1, 5)]
    bounds = [rank_bounds(summaries, r) for r in ranks]
    windows = [rank_windows(p, bounds) for p in parts]
    sent = sum(len(w) for part in windows for _, w in part)
    assert sent < n // 50  # the spends between the bounds only, not every distinct value
    assert exact_edges(parts, 5, 256) == edges_of([v for p in parts for v in p], 5)


@settings(max_examples=60, deadline=None)
@given(
    data=segment_data(max_customers=10, max_transactions=40), parts=st.integers(1, 4), bins=st.integers(3, 6)
)
def test_profiles_equal_single_machine(data: Any, parts: int, bins: int) -> None:
    people, txs, contacts, as_of = data
    want = list(profiles(people, txs, contacts, as_of=as_of, bins=bins))
    with dask.config.set(scheduler="synchronous"):
        got = cdd.profiles(people, txs, contacts, as_of=as_of, bins=bins, npartitions=parts).compute()
    assert got == want


def _data(n: int, seed: int) -> tuple[list[Customer], list[Transaction], list[Interaction]]:
    rng = random.Random(seed)
    people = [
        Customer(
            id=f"c{k:04d}",
            name=rng.choice(["王伟", "Ada Lovelace", None]),
            phones=[rng.choice(["13800138000", "+8613912345678", "010 1234 5678"])],
            birthday=dt.date(1960 + k % 40, 1 + k % 12, 1 + k % 28),
            tags=rng.sample(["vip", "b2b", "new"], k=k % 3),
        )
        for k in range(n)
    ]
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    txs = []
    for k in range(n * 5):
        cid = f"c{rng.randrange(n + n // 10):04d}"  # some of unknown customers
        amount = Decimal(rng.randrange(-3000, 50_000)) / 100
        items = [
            {"sku": f"s{j}", "quantity": 1 + j, "unit_price": "9.90", "category": rng.choice(["tea", "rice"])}
            for j in range(rng.randrange(3))
        ]
        at = start + dt.timedelta(hours=rng.randrange(24 * 900))
        txs.append(Transaction(id=f"t{k}", customer_id=cid, at=at, amount=amount, items=items))
    contacts = [
        Interaction(
            customer_id=f"c{rng.randrange(n):04d}",
            at=start + dt.timedelta(days=rng.randrange(900)),
            kind="call",
        )
        for _ in range(n)
    ]
    return people, txs, contacts


def test_profiles_on_the_cluster(client: Any) -> None:
    people, txs, contacts = _data(300, seed=3)
    people.append(people[7])  # a customer listed twice gets two profiles, as on one machine
    as_of = "2026-03-31"
    want = list(profiles(people, txs, contacts, as_of=as_of))
    assert any(p.top_category for p in want) and any(p.rfm_segment for p in want)
    # bags of dict forms, partitioned differently from each other
    got = cdd.profiles(
        db.from_sequence([c.to_dict() for c in people], npartitions=5),
        db.from_sequence([t.to_dict() for t in txs], npartitions=3),
        db.from_sequence(contacts, npartitions=2),
        as_of=as_of,
    ).compute()
    assert got == want


def test_profiles_with_a_model(client: Any) -> None:
    pytest.importorskip("scipy")
    from custdata import summarize
    from custdata.metrics import BetaGeoModel, GammaGammaModel

    people, txs, _ = _data(300, seed=4)
    as_of = "2026-07-31"
    summaries = summarize([t for t in txs if t.amount >= 0], observation_end=as_of, unit="W")
    model = BetaGeoModel(penalizer=0.001).fit(summaries)
    spend = GammaGammaModel(penalizer=0.001).fit([s for s in summaries if s.frequency > 0])
    want = list(profiles(people, txs, as_of=as_of, model=model, spend_model=spend))
    assert any(p.clv for p in want)
    got = cdd.profiles(people, txs, as_of=as_of, model=model, spend_model=spend, npartitions=4).compute()
    assert got == want


def test_profiles_without_activity_and_bad_input() -> None:
    people, txs, _ = _data(20, seed=5)
    with dask.config.set(scheduler="synchronous"):
        got = cdd.profiles(people, as_of="2026-03-31", npartitions=3).compute()
        assert got == list(profiles(people, as_of="2026-03-31"))
        usd = [txs[0].evolve(currency="USD"), txs[1].evolve(currency="CNY")]
        with pytest.raises(ValidationError) as want_error:
            list(profiles(people, usd, as_of="2026-03-31"))
        with pytest.raises(ValidationError) as got_error:
            cdd.profiles(people, usd, as_of="2026-03-31", npartitions=2)
        assert str(got_error.value) == str(want_error.value)
        with pytest.raises(ValidationError):
            cdd.profiles(people, txs, as_of="never")
        with pytest.raises(ValidationError):
            cdd.profiles(people, txs, as_of="2026-03-31", bins=2)
        with pytest.raises(ValidationError):
            cdd.profiles(people, txs, as_of="2026-03-31", unit="M")
        with pytest.raises(ValidationError):
            cdd.profiles("customers", as_of="2026-03-31")
        with pytest.raises(ValidationError):
            cdd.profiles(people, [1, 2], as_of="2026-03-31", npartitions=2)


def test_fraction_edges_are_exact() -> None:
    assert edges_from_counts({Decimal("1.0"): 2, Decimal("3"): 1}, 4) == edges_of(
        [Decimal("1.0"), Decimal("1.0"), Decimal("3")], 4
    )
    assert edges_from_counts({}, 5) == ()
    assert edges_from_counts({Fraction(1, 3): 1}, 3) == (Fraction(1, 3), Fraction(1, 3))
