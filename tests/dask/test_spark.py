"""The partition step of custdata.dask.normalize run through Spark's mapInPandas (local mode) gives what
normalize_many gives. Runs only where pyspark (and Java) are installed: pyspark is no custdata extra."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

pyspark = pytest.importorskip("pyspark")
pd = pytest.importorskip("pandas")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java", allow_module_level=True)

from custdata import Customer, normalize_many  # noqa: E402
from custdata.io import from_rows, to_rows  # noqa: E402
from custdata.testing import household_records  # noqa: E402


def normalize_frames(frames: Iterator[Any]) -> Iterator[Any]:
    """The partition function, as docs/dask.md shows it: flat rows in, normalised flat rows out."""
    for frame in frames:
        records = list(from_rows(frame.to_dict("records")))
        results = normalize_many(records, errors="collect")
        yield pd.DataFrame(list(to_rows(r.record for r in results)), columns=frame.columns)


def test_normalize_with_map_in_pandas() -> None:
    from pyspark.sql import SparkSession

    recs: list[Customer] = list(household_records(10, seed=5).records)
    rows = list(to_rows(recs))
    columns = list(rows[0])
    spark = SparkSession.builder.master("local[1]").appName("custdata-test").getOrCreate()
    try:
        frame = spark.createDataFrame(pd.DataFrame(rows, columns=columns).fillna(""))
        got = frame.repartition(3).mapInPandas(normalize_frames, schema=frame.schema).toPandas()
    finally:
        spark.stop()
    want = pd.DataFrame(
        list(to_rows(r.record for r in normalize_many(list(from_rows(rows)), errors="collect")))
    )
    key = "id"
    assert (
        got.sort_values(key)
        .reset_index(drop=True)
        .equals(want[columns].sort_values(key).reset_index(drop=True))
    )
