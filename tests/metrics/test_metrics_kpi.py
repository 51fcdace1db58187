"""Business metrics: retention, churn, cohorts, order value, formula CLV, interaction scores, conversion."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as hs

from custdata import Customer, Interaction, Transaction, metrics
from custdata.exceptions import ValidationError
from custdata.metrics import (
    average_order_value,
    churn_rate,
    cohort_matrix,
    complaint_rate,
    conversion_rate,
    csat,
    historical_clv,
    nps,
    purchase_frequency,
    repeat_purchase_rate,
    retention,
    retention_rate,
    simple_clv,
)


def tx(cid: str, day: str, amount: str = "10", order: str | None = None) -> Transaction:
    return Transaction.from_dict(
        {"customer_id": cid, "at": f"{day}T12:00:00+08:00", "amount": amount, "order_id": order}
    )


TXS = [
    tx("a", "2026-01-05"),
    tx("b", "2026-01-20"),
    tx("a", "2026-02-03"),
    tx("c", "2026-02-10"),
    tx("a", "2026-03-01"),
    tx("c", "2026-03-15"),
    tx("d", "2026-03-20"),
    tx("b", "2026-04-02"),  # b comes back after a gap
]


def test_retention_table() -> None:
    table = retention(TXS)
    assert [r.period for r in table] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert [(r.active, r.previous, r.retained, r.new) for r in table] == [
        (2, 0, 0, 2),
        (2, 2, 1, 1),
        (3, 2, 2, 1),
        (1, 3, 0, 0),
    ]
    assert table[0].retention_rate is None and table[1].retention_rate == 0.5
    assert table[3].churn_rate == 1.0
    assert retention_rate(TXS) == pytest.approx(3 / 7)
    assert churn_rate(TXS) == pytest.approx(4 / 7)
    assert table[1].to_dict()["retained"] == 1
    # quarters: everyone active in Q1 except b returns in Q2
    assert retention_rate(TXS, period="Q") == pytest.approx(1 / 4)
    assert retention([]) == [] and retention_rate([]) is None


def test_cohort_matrix_censors_unobserved_cells() -> None:
    m = cohort_matrix(TXS, observation_end="2026-04-30")
    assert m.cohorts == ["2026-01", "2026-02", "2026-03"]
    assert m.sizes == [2, 1, 1]
    assert m.active == [[2, 1, 1, 1], [1, 1, 0], [1, 0]]
    assert m.retention[0] == [1.0, 0.5, 0.5, 0.5]
    # mid-April: April is not complete yet, so no cohort has an April cell
    partial = cohort_matrix(TXS, observation_end="2026-04-15")
    assert partial.active == [[2, 1, 1], [1, 1], [1]]
    # without an end: the last purchase's month is taken as incomplete
    assert cohort_matrix(TXS).active == partial.active
    text = str(m)
    assert "2026-01" in text and "50.0%" in text
    pd = pytest.importorskip("pandas")
    frame = m.to_dataframe()
    assert frame.shape == (3, 4) and pd.isna(frame.loc["2026-03", 2]) and frame.loc["2026-02", 2] == 0.0


def test_orders_value_and_frequency() -> None:
    txs = [
        tx("a", "2026-01-05", "10", "o1"),
        tx("a", "2026-01-05", "5", "o1"),
        tx("b", "2026-01-06", "30"),
        tx("b", "2026-01-07", "-30"),
    ]
    assert average_order_value(txs) == pytest.approx(22.5)  # the refund is not an order
    assert purchase_frequency(txs) == 1.0
    assert historical_clv(txs, margin=0.5) == {"a": 7.5, "b": 0.0}
    assert repeat_purchase_rate(TXS) == pytest.approx(3 / 4)
    assert average_order_value([]) is None


def test_simple_clv() -> None:
    assert simple_clv(average_order_value=50, purchase_frequency=4, lifespan=3, margin=0.25) == 150.0
    discounted = simple_clv(
        average_order_value=50, purchase_frequency=4, lifespan=3, margin=0.25, discount_rate=0.1
    )
    assert discounted == pytest.approx(sum(50 / 1.1**k for k in (1, 2, 3)))
    with pytest.raises(ValidationError):
        simple_clv(average_order_value=50, purchase_frequency=-1, lifespan=3)


def test_interaction_scores() -> None:
    at = "2026-01-01T10:00:00+08:00"
    items = [
        Interaction(customer_id="a", at=at, kind="complaint", satisfaction=2, nps=3),
        Interaction(customer_id="b", at=at, kind="call", satisfaction=5, nps=10),
        Interaction(customer_id="c", at=at, kind="survey", satisfaction=4, nps=9),
        Interaction(customer_id="d", at=at, kind="survey", nps=7),
    ]
    assert complaint_rate(items) == 0.25
    assert complaint_rate(items, base=10) == 0.1
    assert csat(items) == pytest.approx(200 / 3)
    assert nps(items) == pytest.approx(100 * (2 - 1) / 4)
    assert csat([]) is None and nps([]) is None
    assert complaint_rate([{"customer_id": "a", "kind": "complaint"}]) == 1.0


def test_conversion_rate_from_stage_moves() -> None:
    history = [
        Customer(id="a", lifecycle_stage="lead", updated_at="2026-01-01T00:00:00+00:00"),
        Customer(id="b", lifecycle_stage="lead", updated_at="2026-01-02T00:00:00+00:00"),
        Customer(id="a", lifecycle_stage="customer", updated_at="2026-01-05T00:00:00+00:00"),
        Customer(id="c", lifecycle_stage="customer", updated_at="2026-01-05T00:00:00+00:00"),  # never a lead
        Customer(id="b", lifecycle_stage="opportunity", updated_at="2026-01-03T00:00:00+00:00"),
    ]
    assert conversion_rate(history) == 0.5
    assert conversion_rate(history, to_stage="opportunity") == 1.0
    # order comes from the timestamps, not the input order
    assert conversion_rate(list(reversed(history))) == 0.5
    with pytest.raises(ValidationError, match="unknown lifecycle stage"):
        conversion_rate([{"customer_id": "a", "stage": "prospectish"}])


@given(
    hs.lists(hs.tuples(hs.sampled_from("abcde"), hs.integers(0, 200)), max_size=40),
    hs.sampled_from(["W", "M"]),
)
def test_property_retention_rates_are_fractions_and_cohorts_start_full(
    items: list[tuple[str, int]], period: str
) -> None:
    day0 = dt.date(2026, 1, 1)
    txs = [
        {
            "customer_id": c,
            "at": dt.datetime.combine(day0 + dt.timedelta(days=d), dt.time(12), dt.timezone.utc),
            "amount": 1,
        }
        for c, d in items
    ]
    for row in retention(txs, period=period):
        assert row.retained <= min(row.active, row.previous)
        assert row.retention_rate is None or 0 <= row.retention_rate <= 1
    m = cohort_matrix(txs, period=period, observation_end=day0 + dt.timedelta(days=400))
    assert sum(m.sizes) == len({c for c, _ in items})
    for row in m.retention:
        assert row[0] == 1.0 and all(v is None or 0 <= v <= 1 for v in row)


def test_metrics_import_needs_neither_numpy_nor_scipy() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('numpy', 'scipy', 'pandas'):\n"
        "            raise ImportError(f'blocked {name}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import custdata, custdata.metrics as m\n"
        "assert 'numpy' not in sys.modules\n"
        "s = custdata.summarize([{'customer_id': 'a', 'at': '2026-01-01T00:00:00+00:00', 'amount': 1}], observation_end='2026-01-31')\n"
        "assert s[0].T == 30.0\n"
        "try:\n"
        "    m.BetaGeoModel\n"
        "except ImportError as e:\n"
        "    assert type(e).__name__ == 'MissingExtraError' and \"custdata[models]\" in str(e), e\n"
        "else:\n"
        "    raise AssertionError('no MissingExtraError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: metrics.average_order_value(None), "transactions"),
        (lambda: metrics.retention([], tz="Asia/Shanghai"), "tz"),
        (lambda: metrics.csat(5), "interactions"),
        (lambda: metrics.complaint_rate([], base="10"), "base"),
        (lambda: metrics.historical_clv([], margin=None), "margin"),
        (lambda: metrics.conversion_rate(None), "moves"),
        (
            lambda: metrics.simple_clv(average_order_value=None, purchase_frequency=1, lifespan=1),
            "average_order_value",
        ),
        (
            lambda: metrics.simple_clv(average_order_value=1, purchase_frequency=1, lifespan=10**400),
            "lifespan",
        ),
        (
            lambda: metrics.simple_clv(
                average_order_value=1, purchase_frequency=1, lifespan=1, margin=float("nan")
            ),
            "margin",
        ),
        (lambda: metrics.BetaGeoModel(penalizer=None), "penalizer"),  # type: ignore[arg-type]
    ],
)
def test_a_wrong_argument_type_is_a_validation_error_naming_it(call: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert field in info.value.fields
