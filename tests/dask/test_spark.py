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


def test_dedupe_mapping_equals_single_machine(spark: Any) -> None:
    """The dedupe mapping docs/dask.md describes: block keys per record (mapInPandas), each block compared
    and scored with the fitted matcher (groupBy("pass", "key").applyInPandas), the accepted pairs collected
    and clustered on the driver; equal to custdata.dedupe with that matcher and the keyed passes."""
    import random

    from custdata.matching import INDEX_PASSES, block_keys, dedupe
    from custdata.testing import names_and_dates

    people = [*household_records(12, seed=3).records, *names_and_dates(60, duplicates=0.3, seed=3).records]
    people = [r.evolve(id=f"r{k:03d}") for k, r in enumerate(people)]
    random.Random(3).shuffle(people)
    rows = [{k: v or "" for k, v in row.items()} for row in to_rows(people)]
    records = list(from_rows(rows))  # what the workers see: the records read back from the flat rows
    fitted = dedupe(records).matcher
    columns = list(rows[0])
    record_schema = ", ".join(f"`{c}` string" for c in columns)

    def keys_of(frames: Iterator[Any]) -> Iterator[Any]:
        for frame in frames:
            out = []
            for row, record in zip(
                frame.to_dict("records"), from_rows(frame.to_dict("records")), strict=True
            ):
                out.extend({"pass": name, "key": key, **row} for name, key in block_keys(record))
            yield pd.DataFrame(out, columns=["pass", "key", *columns])

    def score_block(frame: Any) -> Any:
        block = list(from_rows(frame[columns].to_dict("records")))
        pairs = [
            (min(a.id, b.id), max(a.id, b.id), p)
            for x, a in enumerate(block)
            for b in block[x + 1 :]
            if (p := fitted.score(a, b)) >= fitted.threshold
        ]
        return pd.DataFrame(pairs, columns=["id_a", "id_b", "probability"])

    frame = spark.createDataFrame(pd.DataFrame(rows, columns=columns))
    keyed = frame.repartition(3).mapInPandas(keys_of, schema=f"pass string, key string, {record_schema}")
    accepted = keyed.groupBy("pass", "key").applyInPandas(
        score_block, schema="id_a string, id_b string, probability double"
    )
    pairs = {(r.id_a, r.id_b) for r in accepted.collect()}
    # on the driver: the records of the accepted pairs, clustered as custdata.dedupe clusters them
    linked = {rid for pair in pairs for rid in pair}
    got = dedupe([r for r in records if r.id in linked], matcher=fitted, passes=list(INDEX_PASSES))

    want = dedupe(records, matcher=fitted, passes=list(INDEX_PASSES))
    assert not want.blocking.capped_blocks  # the mapping compares every block all-to-all
    assert pairs == {tuple(sorted((p.id_a, p.id_b))) for p in want.pairs if p.probability >= want.threshold}
    multi = [c for c in want.clusters if len(c) > 1]
    assert multi, "the data must hold duplicates"
    assert [c for c in got.clusters if len(c) > 1] == multi
