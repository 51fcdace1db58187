"""summarize: the CDNOW summary, periods and units, holdout, inputs, and order-invariance properties."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as hs

import custdata
from custdata import Transaction, datasets
from custdata.exceptions import ValidationError
from custdata.metrics import CustomerSummary, summarize

UTC = dt.timezone.utc


def tx(cid: str, when: str, amount: str | float = "10", **kw: object) -> Transaction:
    return Transaction.from_dict({"customer_id": cid, "at": when, "amount": amount, **kw})


def test_cdnow_summary_matches_the_published_file() -> None:
    got = summarize(
        datasets.load_cdnow_transactions(), observation_end=dt.date(1997, 9, 30), period="D", unit="W"
    )
    want = datasets.load_cdnow_summary()  # the published file
    assert [s.customer_id for s in got] == [r.customer_id for r in want]  # numeric ids sorted by number
    for s, r in zip(got, want, strict=True):
        assert s.frequency == r.frequency
        assert s.recency == pytest.approx(r.recency, abs=0.006)
        assert pytest.approx(r.T, abs=0.006) == s.T
        assert s.monetary_value == pytest.approx(r.monetary_value, abs=0.006)
    assert pytest.approx(272 / 7) == got[0].T


def test_cdnow_holdout() -> None:
    txs = datasets.load_cdnow_transactions()
    got = summarize(
        txs,
        calibration_end=dt.date(1997, 9, 30),
        observation_end=dt.date(1998, 6, 30),
        period="D",
        unit="W",
    )
    assert len(got) == 2357  # all CDNOW customers made their first purchase in the first quarter
    assert all(s.duration_holdout == pytest.approx(273 / 7) for s in got)
    # holdout purchases, counted straight from the transactions: distinct (customer, day) after 1997-09-30
    days = {(t.customer_id, t.at.date()) for t in txs if t.at.date() > dt.date(1997, 9, 30)}
    assert sum(s.frequency_holdout or 0 for s in got) == len(days) == 1882
    calibration_only = summarize(txs, observation_end=dt.date(1997, 9, 30), unit="W")
    assert [(s.frequency, s.recency, s.T) for s in got] == [
        (s.frequency, s.recency, s.T) for s in calibration_only
    ]


def test_day_grouping_units_and_monetary_value() -> None:
    txs = [
        tx("a", "2026-01-01T10:00:00+00:00", "10"),
        tx("a", "2026-01-01T18:00:00+00:00", "5"),  # same day: one purchase period
        tx("a", "2026-01-15T09:00:00+00:00", "20"),
        tx("a", "2026-01-15T19:00:00+00:00", "4"),
        tx("a", "2026-01-22T09:00:00+00:00", "30"),
        tx("a", "2026-03-01T09:00:00+00:00", "99"),  # after observation_end: left out
        tx("b", "2026-01-29T23:59:00+00:00", "7"),
    ]
    a, b = summarize(txs, observation_end=dt.date(2026, 1, 29))
    assert (a.customer_id, a.frequency, a.recency, a.T, a.monetary_value) == ("a", 2, 21.0, 28.0, 27.0)
    assert a.first_purchase == dt.date(2026, 1, 1)
    assert a.time_since_last_purchase == 7.0
    assert (b.frequency, b.recency, b.T, b.monetary_value) == (0, 0.0, 0.0, 0.0)
    (aw, _) = summarize(txs, observation_end="2026-01-29", unit="W")
    assert (aw.recency, aw.T) == (3.0, 4.0)
    # weeks as the period: 2026-01-01 is a Thursday, so 1-4 Jan is one week and the 15th and 22nd others
    (ww, _) = summarize(txs, observation_end="2026-01-29", period="W")
    assert (ww.frequency, ww.recency, ww.T) == (2, 3.0, 4.0)
    (mm, _) = summarize(txs, observation_end="2026-03-31", period="M")
    assert (mm.frequency, mm.recency, mm.T, mm.monetary_value) == (1, 2.0, 2.0, 99.0)


def test_time_zones_decide_the_day() -> None:
    # 23:30 in Shanghai on the 1st and 00:30 on the 2nd: different days there, the same day in UTC
    txs = [tx("a", "2026-01-01T23:30:00+08:00"), tx("a", "2026-01-02T00:30:00+08:00")]
    (own,) = summarize(txs, observation_end="2026-01-10")
    assert own.frequency == 1
    (utc,) = summarize(txs, observation_end="2026-01-10", tz=UTC)
    assert utc.frequency == 0


def test_refunds_and_currencies() -> None:
    txs = [tx("a", "2026-01-01T10:00:00+00:00", "10"), tx("a", "2026-01-05T10:00:00+00:00", "-10")]
    (s,) = summarize(txs, observation_end="2026-01-31")
    assert s.frequency == 0
    mixed = [
        tx("a", "2026-01-01T10:00:00+00:00", currency="USD"),
        tx("b", "2026-01-01T10:00:00+00:00", currency="CNY"),
    ]
    with pytest.raises(ValidationError, match="several currencies"):
        summarize(mixed, observation_end="2026-01-31")
    with pytest.raises(ValidationError, match="unknown period"):
        summarize([], observation_end="2026-01-31", period="fortnight")


def test_datetime_observation_end_is_inclusive() -> None:
    txs = [tx("a", "2026-01-01T10:00:00+00:00"), tx("a", "2026-01-03T10:00:00+00:00")]
    end = dt.datetime(2026, 1, 3, 10, tzinfo=UTC)
    assert summarize(txs, observation_end=end)[0].frequency == 1
    assert summarize(txs, observation_end=end - dt.timedelta(seconds=1))[0].frequency == 0


def test_dicts_and_dataframes() -> None:
    pd = pytest.importorskip("pandas")
    rows = [
        {"customer_id": "a", "at": "2026-01-01T10:00:00+00:00", "amount": 10},
        {"customer_id": "a", "at": dt.datetime(2026, 1, 8, tzinfo=UTC), "amount": Decimal("12.5")},
    ]
    (s,) = summarize(rows, observation_end="2026-01-31")
    assert isinstance(s, CustomerSummary) and s.frequency == 1 and s.monetary_value == 12.5
    df = pd.DataFrame(
        {
            "customer_id": ["a", "a"],
            "at": pd.to_datetime(["2026-01-01", "2026-01-08"], utc=True),
            "amount": [10.0, 12.5],
        }
    )
    out = summarize(df, observation_end="2026-01-31")
    assert isinstance(out, pd.DataFrame)
    assert out.loc[0, "frequency"] == 1 and out.loc[0, "T"] == 30.0
    assert s.to_dict()["first_purchase"] == "2026-01-01"
    assert custdata.summarize is summarize and custdata.CustomerSummary is CustomerSummary


# ------------------------------------------------------------------------------------------- properties
_day0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
transactions = hs.lists(
    hs.builds(
        lambda c, minutes, cents: Transaction(
            customer_id=c, at=_day0 + dt.timedelta(minutes=minutes), amount=Decimal(cents) / 100
        ),
        hs.sampled_from(["a", "b", "c", "10", "2"]),
        hs.integers(0, 60 * 24 * 120),
        hs.integers(0, 100_000),
    ),
    max_size=40,
)


@given(transactions, hs.randoms(use_true_random=False), hs.sampled_from(["D", "W", "M"]))
def test_property_summaries_do_not_depend_on_transaction_order(
    txs: list[Transaction], rnd: random.Random, period: str
) -> None:
    shuffled = list(txs)
    rnd.shuffle(shuffled)
    end = dt.date(2026, 4, 30)
    assert summarize(txs, observation_end=end, period=period) == summarize(
        shuffled, observation_end=end, period=period
    )


@given(transactions, hs.sampled_from(["D", "W", "M"]))
def test_property_frequency_is_at_most_the_number_of_periods(txs: list[Transaction], period: str) -> None:
    for s in summarize(txs, observation_end=dt.date(2026, 4, 30), period=period):
        assert 0 <= s.frequency <= s.T  # one repeat purchase per period at most, after the first period
        assert 0 <= s.recency <= s.T
        assert (s.frequency == 0) == (s.recency == 0)
        assert s.monetary_value >= 0
