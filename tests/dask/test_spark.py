"""The partition steps of custdata.dask run through Spark (local mode): normalising with mapInPandas gives
what normalize_many gives, summaries with groupBy("customer_id").applyInPandas what summarize gives. Runs
only where pyspark (and Java) are installed: pyspark is no custdata extra."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

pyspark = pytest.importorskip("pyspark")
pd = pytest.importorskip("pandas")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java", allow_module_level=True)

import datetime as dt  # noqa: E402
import warnings  # noqa: E402
from decimal import Decimal  # noqa: E402

from custdata import Customer, Transaction, normalize_many, summarize  # noqa: E402
from custdata.exceptions import RowsLeftOutWarning  # noqa: E402
from custdata.io import from_rows, to_rows  # noqa: E402
from custdata.testing import household_records  # noqa: E402


def normalize_frames(frames: Iterator[Any]) -> Iterator[Any]:
    """The partition function, as docs/dask.md shows it: flat rows in, normalised flat rows out."""
    for frame in frames:
        records = list(from_rows(frame.to_dict("records")))
        results = normalize_many(records, errors="collect")
        yield pd.DataFrame(list(to_rows(r.record for r in results)), columns=frame.columns)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = SparkSession.builder.master("local[1]").appName("custdata-test").getOrCreate()
    try:
        yield session
    finally:
        session.stop()


def test_normalize_with_map_in_pandas(spark: Any) -> None:
    recs: list[Customer] = list(household_records(10, seed=5).records)
    rows = list(to_rows(recs))
    columns = list(rows[0])
    frame = spark.createDataFrame(pd.DataFrame(rows, columns=columns).fillna(""))
    got = frame.repartition(3).mapInPandas(normalize_frames, schema=frame.schema).toPandas()
    want = pd.DataFrame(
        list(to_rows(r.record for r in normalize_many(list(from_rows(rows)), errors="collect")))
    )
    key = "id"
    assert (
        got.sort_values(key)
        .reset_index(drop=True)
        .equals(want[columns].sort_values(key).reset_index(drop=True))
    )


OBSERVATION_END = "2026-06-30"
SUMMARY_SCHEMA = (
    "customer_id string, frequency long, recency double, T double, monetary_value double, "
    "first_purchase string"
)


def summarize_group(frame: Any) -> Any:
    """The per-customer step, as docs/dask.md describes it: one customer's transactions (text columns) in,
    their summary out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RowsLeftOutWarning)  # the driver counts what is left out
        done = summarize(frame.to_dict("records"), observation_end=OBSERVATION_END, unit="W")
    return pd.DataFrame(
        [s.to_dict() for s in done],
        columns=["customer_id", "frequency", "recency", "T", "monetary_value", "first_purchase"],
    )


def test_summaries_with_apply_in_pandas(spark: Any) -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    txs = [
        Transaction(
            id=f"t{k}",
            customer_id=f"c{k % 13}",
            at=start + dt.timedelta(hours=37 * k),
            amount=Decimal(k * 7 % 300 - 20),  # some refunds
            currency="CNY",
        )
        for k in range(400)
    ]
    rows = [
        {k: str(v) for k, v in t.to_dict().items() if k in {"id", "customer_id", "at", "amount", "currency"}}
        for t in txs
    ]
    frame = spark.createDataFrame(pd.DataFrame(rows))
    got = frame.repartition(3).groupBy("customer_id").applyInPandas(summarize_group, schema=SUMMARY_SCHEMA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RowsLeftOutWarning)
        want = summarize(txs, observation_end=OBSERVATION_END, unit="W")
    assert want
    table = got.toPandas().sort_values("customer_id")
    assert [tuple(r) for r in table.itertuples(index=False)] == sorted(
        (s.customer_id, s.frequency, s.recency, s.T, s.monetary_value, s.first_purchase.isoformat())
        for s in want
    )
