"""Partitioned readers and partition-parallel normalisation on a LocalCluster equal the single-machine
functions on the same files and records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata.dask as cdd
import dask
from custdata import Customer, normalize_many
from custdata.exceptions import ParseError, ValidationError
from custdata.io import read_csv, read_jsonl, read_parquet, write_csv, write_jsonl
from custdata.testing import customers, household_records

BAD_CSV = [
    "13800138000,bad-row-a@@x,Wang Wei",  # e-mail that cannot be one
    '"unclosed quote,13800138001,x@y.cn',  # a quote never closed
    "only-one-cell",  # too few cells
]


def _files(tmp_path: Path, kind: str) -> list[Path]:
    recs = list(household_records(12, seed=3).records)
    out = []
    for k in range(3):
        part = recs[k::3]
        if kind == "csv":
            p = tmp_path / f"part-{k}.csv"
            write_csv(part, p)
            header = p.read_text(encoding="utf-8").splitlines()[0]
            cols = header.split(",")
            with p.open("a", encoding="utf-8") as fh:
                if k != 1:  # one file without bad rows
                    fh.write(",".join(["x"] * (len(cols) + 2)) + "\n")  # too many cells
                    fh.write(",".join(["", "not-a-phone-abc", *[""] * (len(cols) - 2)]) + "\n")
        elif kind == "jsonl":
            p = tmp_path / f"part-{k}.jsonl"
            write_jsonl(part, p)
            with p.open("a", encoding="utf-8") as fh:
                fh.write("{not json\n")
                fh.write(json.dumps({"id": 5, "phones": "x"}) + "\n")
        else:
            pytest.importorskip("pyarrow")
            from custdata.io import write_parquet

            p = tmp_path / f"part-{k}.parquet"
            write_parquet(part, p)
        out.append(p)
    return out


_SINGLE = {"csv": read_csv, "jsonl": read_jsonl, "parquet": read_parquet}
_DASK = {"csv": cdd.read_csv, "jsonl": cdd.read_jsonl, "parquet": cdd.read_parquet}


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_read_equals_single_machine_reader(client: Any, tmp_path: Path, kind: str) -> None:
    files = _files(tmp_path, kind)
    want_records: list[Any] = []
    want_problems: list[tuple[str, Any]] = []
    for f in files:
        with _SINGLE[kind](f, errors="collect") as r:
            want_records.extend(r)
        want_problems.extend((str(f), p) for p in r.problems)
    read = _DASK[kind](str(tmp_path / f"part-*.{kind}"), errors="collect")
    assert read.records.npartitions == len(files)
    records, problems = read.compute()
    assert records == want_records
    assert [(p.path, p.problem) for p in problems] == want_problems
    if kind != "parquet":
        assert problems, "the files hold bad rows"


def test_read_raise_reports_the_first_bad_row(client: Any, tmp_path: Path) -> None:
    files = _files(tmp_path, "jsonl")
    with pytest.raises(ParseError) as want:
        list(read_jsonl(files[0]))
    with pytest.raises(ParseError) as got:
        cdd.read_jsonl([str(files[0])]).records.compute()
    assert str(got.value) == str(want.value)


def test_read_skip_leaves_bad_rows_out(client: Any, tmp_path: Path) -> None:
    files = _files(tmp_path, "csv")
    records, problems = cdd.read_csv([str(f) for f in files], errors="skip").compute()
    assert problems == []
    assert records == [r for f in files for r in read_csv(f, errors="skip")]


def test_read_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        cdd.read_csv(str(tmp_path / "x.csv"), errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        cdd.read_csv(str(tmp_path / "x.csv"), no_such_option=1)
    with pytest.raises(ParseError):
        cdd.read_csv(str(tmp_path / "none-*.csv"))
    with pytest.raises(ValidationError):
        cdd.read_csv([])
    with pytest.raises(ValidationError):
        cdd.read_csv([3])


def test_read_url(client: Any, tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    files = _files(tmp_path, "jsonl")
    fs = fsspec.filesystem("memory")
    for f in files:
        fs.pipe(f"/dask-test/{f.name}", f.read_bytes())
    read = cdd.read_jsonl("memory://dask-test/part-*.jsonl", errors="collect")
    assert read.paths == [f"memory:///dask-test/{f.name}" for f in files]
    # the memory file system lives in this process: read it with the synchronous scheduler
    records, problems = read.compute(scheduler="synchronous")
    want_records, want_problems = [], []
    for f in files:
        with read_jsonl(f, errors="collect") as r:
            want_records.extend(r)
        want_problems.extend(r.problems)
    assert records == want_records
    assert [p.problem for p in problems] == want_problems


def _messy(n: int) -> list[Customer]:
    recs = list(household_records(n, seed=7).records)
    extra = [
        Customer(id="bad-1", phones=["abc-def"], emails=["wang#qq.com"]),
        Customer(id="bad-2", emails=["x"]),
    ]
    return recs + extra


@pytest.mark.parametrize("errors", ["collect", "skip"])
def test_normalize_equals_normalize_many(client: Any, errors: str) -> None:
    recs = _messy(20)
    want = list(normalize_many(recs, errors=errors))  # type: ignore[arg-type]
    got = cdd.normalize(recs, errors=errors, npartitions=4).compute()  # type: ignore[arg-type]
    assert got == want
    assert any(not r.ok for r in want) == (errors == "collect")


def test_normalize_a_bag_from_files(client: Any, tmp_path: Path) -> None:
    files = _files(tmp_path, "jsonl")
    read = cdd.read_jsonl([str(f) for f in files], errors="skip")
    got = cdd.normalize(read.records, errors="collect").compute()
    records = [r for f in files for r in read_jsonl(f, errors="skip")]
    assert got == list(normalize_many(records, errors="collect"))


def test_normalize_raise(client: Any) -> None:
    recs = _messy(3)
    with pytest.raises(ValidationError) as want:
        list(normalize_many(recs))
    with pytest.raises(ValidationError) as got:
        cdd.normalize(recs, npartitions=2).compute()
    assert str(got.value) == str(want.value)


def test_normalize_bad_arguments() -> None:
    with pytest.raises(ValidationError):
        cdd.normalize("abc")
    with pytest.raises(ValidationError):
        cdd.normalize([], errors="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        cdd.normalize([], npartitions=0)


@settings(max_examples=30, deadline=None)
@given(records=st.lists(customers(), max_size=12, unique_by=lambda c: c.id), parts=st.integers(1, 5))
def test_normalize_property_any_partitioning(records: list[Customer], parts: int) -> None:
    with dask.config.set(scheduler="synchronous"):
        got = cdd.normalize(records, errors="collect", npartitions=parts).compute()
    assert got == list(normalize_many(records, errors="collect"))
