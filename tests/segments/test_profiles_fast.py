"""The fast paths of profiles(...) pinned to their general definitions: RFM scores (whole-number and
float-bracketed bisection) to ``score``, the segment table to ``segment_of``, the display name and the
primary phone and e-mail to the records' own properties, and whole profiles to those definitions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
import custdata.testing as cst
from custdata._records import PersonName
from custdata.segments._profiles import ProfileBuilder, display_name, primary
from custdata.segments._rfm import Edges, count_below, float_edges, score, segment_of

#: Money that puts values on the quantile edges, a hair beside them (beyond a float's precision: the
#: float-bracketed comparison must decide those exactly), far apart, and beyond the float range.
_NEAR = [Decimal("1"), Decimal("1.00000000000000000001"), Decimal("0.99999999999999999999")]
_money = st.one_of(
    st.sampled_from(_NEAR),
    st.decimals(min_value=-1000, max_value=10**6, places=2),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: abs(d) < Decimal("1e30")
    ),
    st.integers(-(10**30), 10**30).map(Decimal),
    st.sampled_from([Decimal("1e400"), Decimal("-1e400"), Decimal("1e-400")]),
)
_population = st.lists(st.tuples(st.integers(0, 800), st.integers(1, 60), _money), min_size=1, max_size=40)


@settings(max_examples=400, deadline=None)
@given(_population, st.integers(3, 10), st.data())
def test_fast_scores_are_the_general_scores(
    rows: list[tuple[int, int, Decimal]], bins: int, data: Any
) -> None:
    edges = Edges.of(rows, bins)
    probes = [*rows, *data.draw(st.lists(st.tuples(st.integers(-5, 900), st.integers(0, 70), _money)))]
    for r, f, m in probes:
        got = edges.scores(r, f, m)
        assert got == edges.scores_exact(r, f, m), (r, f, m)
        assert got == (
            score(r, edges.recency, reverse=True),
            score(f, edges.frequency),
            score(m, edges.monetary),
        )
        if all(1 <= x <= bins for x in got):
            assert edges.segment(*got) == segment_of(*got, bins)


@settings(max_examples=300, deadline=None)
@given(st.lists(_money, min_size=1, max_size=30), st.integers(3, 10), st.lists(_money, max_size=10))
def test_float_bracketing_counts_exactly(values: list[Decimal], bins: int, probes: list[Decimal]) -> None:
    from custdata.segments._rfm import edges_of

    edges = edges_of(values, bins)
    approx = float_edges(edges)
    for v in [*values, *probes]:
        want = sum(1 for e in edges if e < v)
        if approx is not None:
            assert count_below(v, edges, approx) == want
        assert score(v, edges) == 1 + want


def test_edges_beyond_the_float_range_take_the_general_path() -> None:
    rows = [(1, 1, Decimal(10) ** 400), (2, 2, Decimal(10) ** 401), (3, 3, Decimal(1))]
    edges = Edges.of(rows, 3)
    assert float_edges(edges.monetary) is None
    for r, f, m in rows:
        assert edges.scores(r, f, m) == edges.scores_exact(r, f, m)


_part = st.none() | cst.storable_text(max_size=3) | st.sampled_from(["", " ", "王", "欧阳", "Ada"])


@given(st.one_of(cst.person_names(), st.builds(PersonName, full=_part, family=_part, given=_part)))
def test_display_name_is_the_name_display(name: PersonName) -> None:
    assert display_name(name) == (name.display or None)


@settings(max_examples=60, deadline=None)
@given(cst.customers())
def test_primary_is_the_records_primary(c: custdata.Customer) -> None:
    assert primary(c.phones) is c.primary_phone
    assert primary(c.emails) is c.primary_email


@settings(max_examples=80, deadline=None)
@given(cst.segment_data(max_customers=8, max_transactions=30), st.integers(3, 10))
def test_profiles_carry_the_general_definitions(data: Any, bins: int) -> None:
    people, txs, contacts, as_of = data
    ps = list(custdata.profiles(people, txs, contacts, as_of=as_of, bins=bins))
    general = ProfileBuilder(as_of, bins=bins)  # the edges over every customer with a purchase
    general.add_transactions(txs)
    general.finish()
    assert general.edges is not None
    for c, p in zip(people, ps, strict=True):
        assert p.name == (c.name.display or None)
        assert p.phone == (c.primary_phone.number if c.primary_phone else None)
        assert p.email == (c.primary_email.address if c.primary_email else None)
        if p.orders == 0:
            assert p.rfm_r is p.rfm_f is p.rfm_m is p.rfm_segment is None
            continue
        assert p.recency_days is not None and p.rfm_r is not None and p.rfm_f is not None
        assert p.rfm_m is not None
        assert (p.rfm_r, p.rfm_f, p.rfm_m) == general.edges.scores_exact(
            p.recency_days, p.orders, p.total_spend
        )
        assert p.rfm_segment == segment_of(p.rfm_r, p.rfm_f, p.rfm_m, bins)
