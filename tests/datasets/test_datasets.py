"""custdata.datasets: the shipped reference data load completely, with consistent truth, and nothing the
record type rejects is dropped."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import itertools
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from custdata import Customer, datasets
from custdata.datasets import _load
from custdata.exceptions import ParseError, ValidationError


def raw_rows(name: str) -> list[dict[str, str]]:
    """The file's rows read straight from the shipped file, independently of the loaders."""
    path = datasets.data_path(name)
    data = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""), skipinitialspace=True)
    return [{k.strip(): v.strip() for k, v in r.items()} for r in reader]


def groups(truth: dict[str, str]) -> Counter[str]:
    return Counter(truth.values())


# ------------------------------------------------------------------------------------------------ files
def test_every_data_file_ships_with_its_licence() -> None:
    for name in datasets.DATA_FILES:
        path = datasets.data_path(name)
        assert path.is_file() and path.stat().st_size > 0, name
        licence = path.parent / "LICENSE"
        assert licence.is_file(), name
        assert "Permission is hereby granted" in licence.read_text() or "Redistribution and use" in (
            licence.read_text()
        )
    assert (datasets.data_path("cdnow/CDNOW_sample.txt").parents[1] / "README.md").is_file()


def test_data_path_refuses_unknown_names() -> None:
    with pytest.raises(ValidationError, match="no data file"):
        datasets.data_path("../../../etc/passwd")
    with pytest.raises(ValidationError):
        datasets.data_path("online_retail/online_retail.csv.gz")


def test_importing_custdata_reads_no_data_and_loads_no_metrics() -> None:
    code = (
        "import sys, custdata; assert 'custdata.datasets' not in sys.modules; "
        "import custdata.datasets; assert 'custdata.metrics' not in sys.modules, 'metrics imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------------------------------------ CDNOW
def test_cdnow_transactions_are_every_line_of_the_file() -> None:
    txs = datasets.load_cdnow_transactions()
    assert len(txs) == 6919
    assert len({t.customer_id for t in txs}) == 2357
    assert min(t.at for t in txs).date() == dt.date(1997, 1, 1)
    assert max(t.at for t in txs).date() == dt.date(1998, 6, 30)
    lines = datasets.data_path("cdnow/CDNOW_sample.txt").read_text().split("\n")
    fields = [line.split() for line in lines if line.strip()]
    assert len(fields) == len(txs)
    for t, (_full, sample_id, day, cds, amount) in zip(txs, fields, strict=True):
        assert t.customer_id == str(int(sample_id))
        assert t.at == dt.datetime.strptime(day, "%Y%m%d").replace(tzinfo=dt.timezone.utc)
        assert t.amount == Decimal(amount) and t.currency == "USD"
        assert [(i.sku, i.quantity) for i in t.items] == [("CD", Decimal(cds))]
    # the full data set's id relabels the sample id one to one (which is why it is not kept)
    assert len({(f[0], f[1]) for f in fields}) == len({f[0] for f in fields}) == len({f[1] for f in fields})


def test_cdnow_summary() -> None:
    summary = datasets.load_cdnow_summary()
    assert [s.customer_id for s in summary] == [str(i) for i in range(1, 2358)]
    assert sum(s.frequency > 0 for s in summary) == 946  # the repeat buyers of the Gamma-Gamma note
    rows = raw_rows("cdnow/cdnow_customers_summary_with_transactions.csv")
    for s, r in zip(summary, rows, strict=True):
        assert (s.frequency, s.recency, s.T, s.monetary_value) == (
            int(r["x"]),
            float(r["t_x"]),
            float(r["T"]),
            float(r["zbar"]),
        )
    assert all(s.monetary_value == 0 for s in summary if s.frequency == 0)


def test_cdnow_summary_is_summarize_of_the_transactions() -> None:
    from custdata.metrics import summarize

    got = summarize(datasets.load_cdnow_transactions(), observation_end=dt.date(1997, 9, 30), unit="W")
    want = datasets.load_cdnow_summary()
    assert [s.customer_id for s in got] == [s.customer_id for s in want]
    for g, w in zip(got, want, strict=True):
        assert g.frequency == w.frequency
        assert (g.recency, g.T, g.monetary_value) == pytest.approx(
            (w.recency, w.T, w.monetary_value), abs=0.006
        )


# ------------------------------------------------------------------------------------------------ Febrl
@pytest.mark.parametrize(
    ("n", "records", "people", "biggest"), [(1, 1000, 500, 2), (2, 5000, 4000, 6), (3, 5000, 2000, 6)]
)
def test_febrl_sizes_and_truth(n: int, records: int, people: int, biggest: int) -> None:
    ds = datasets.load_febrl(n)
    records_, truth = ds  # unpacks like a tuple
    assert len(records_) == records and len({r.id for r in records_}) == records
    assert set(truth) == {r.id for r in records_}
    assert len(groups(truth)) == people
    assert max(groups(truth).values()) == biggest
    assert sum(i.endswith("-org") for i in truth) == people  # one original per person
    for record_id, entity in truth.items():
        assert record_id.startswith(f"rec-{entity}-")
    assert len(ds.true_pairs()) == sum(k * (k - 1) // 2 for k in groups(truth).values())
    assert all(a < b and truth[a] == truth[b] for a, b in ds.true_pairs())
    clusters = ds.true_clusters()
    assert sorted(i for c in clusters for i in c) == sorted(truth)
    assert len(clusters) == people


def test_febrl_rows_are_all_there_and_rejected_values_kept() -> None:
    ds = datasets.load_febrl(3)
    rows = raw_rows("febrl/dataset3.csv")
    kept = 0
    for rec, row in zip(ds.records, rows, strict=True):
        assert rec.id == row["rec_id"]
        assert rec.name.given == (row["given_name"] or None) and rec.name.family == (row["surname"] or None)
        assert dict(rec.external_ids) == ({"ssn": row["soc_sec_id"]} if row["soc_sec_id"] else {})
        assert rec.addresses[0].city == (row["suburb"] or None)
        assert rec.addresses[0].postal_code == (row["postcode"] or None)
        if row["date_of_birth"]:
            if rec.birthday is None:
                assert rec.custom["birthday"] == row["date_of_birth"]
                kept += 1
            else:
                assert rec.birthday == dt.datetime.strptime(row["date_of_birth"], "%Y%m%d").date()
    assert kept > 0


@pytest.mark.parametrize("n", [0, 4, 5, -1, True, "3", 3.0])
def test_load_febrl_refuses_other_numbers(n: object) -> None:
    with pytest.raises(ValidationError, match="load_febrl4" if n == 4 else "1, 2 and 3"):
        datasets.load_febrl(n)  # type: ignore[arg-type]


def test_febrl4_links() -> None:
    left, right, links = datasets.load_febrl4()
    assert len(left) == len(right) == len(links) == 5000
    left_ids, right_ids = {r.id for r in left}, {r.id for r in right}
    assert {a for a, _ in links} == left_ids and {b for _, b in links} == right_ids  # one to one, all
    for a, b in links:
        assert a.endswith("-org") and b.endswith("-dup-0")
        assert a.split("-")[1] == b.split("-")[1]


# ----------------------------------------------------------------------------------------------- splink
def test_fake_1000() -> None:
    ds = datasets.load_fake_1000()
    assert len(ds.records) == 1000 and len(groups(ds.truth)) == 251
    rows = raw_rows("splink/fake_1000.csv")
    for rec, row in zip(ds.records, rows, strict=True):
        assert rec.id == row["unique_id"] and ds.truth[rec.id] == row["cluster"]
        assert_kept(rec, "birthday", row["dob"], lambda r: r.birthday and r.birthday.isoformat())
        assert_kept(rec, "email", row["email"], lambda r: r.emails[0].address if r.emails else None)
        assert_kept(rec, "city", row["city"], lambda r: r.addresses[0].city if r.addresses else None)


def test_historical_50k() -> None:
    ds = datasets.load_historical_50k()
    assert len(ds.records) == 50578 and len(groups(ds.truth)) == 5156
    rows = raw_rows("splink/historical_50k.csv.gz")
    kept = 0
    for rec, row in zip(ds.records, rows, strict=True):
        assert rec.id == row["unique_id"] and ds.truth[rec.id] == row["cluster"]
        assert rec.name.full == (row["full_name"] or None)
        assert rec.custom.get("birth_place") == (row["birth_place"] or None)
        assert rec.custom.get("occupation") == (row["occupation"] or None)
        kept += assert_kept(rec, "birthday", row["dob"], lambda r: r.birthday and r.birthday.isoformat())
        assert_kept(rec, "gender", row["gender"], lambda r: r.gender)
        assert_kept(
            rec, "postal_code", row["postcode_fake"], lambda r: r.addresses and r.addresses[0].postal_code
        )
        # left out because it is derivable: the docstring's claim
        assert row["first_and_surname"] == " ".join(x for x in (row["first_name"], row["surname"]) if x)
    assert kept == 2904  # the malformed dobs (such as 1856-86-18) of the source's README


def assert_kept(rec: Customer, key: str, raw: str, field: object) -> int:
    """The raw value is in its field or, when the record type rejected it, under custom[key]: never gone.
    Returns 1 when it went to custom."""
    value = field(rec)  # type: ignore[operator]
    if not raw:
        assert value in (None, ()) and key not in rec.custom
        return 0
    if value is None or value == ():
        assert rec.custom[key] == raw
        return 1
    assert key not in rec.custom
    return 0


# ------------------------------------------------------------------------------------ fast path = general
@pytest.mark.parametrize(
    ("name", "parts", "step"),
    [
        ("febrl/dataset1.csv", _load._febrl_parts, 1),
        ("febrl/dataset3.csv", _load._febrl_parts, 1),
        ("splink/fake_1000.csv", _load._fake_1000_parts, 1),
        ("splink/historical_50k.csv.gz", _load._historical_50k_parts, 5),
    ],
)
def test_one_go_build_equals_value_by_value(name: str, parts: object, step: int) -> None:
    """The loaders build each record in one go and try value by value only when the record type rejects
    something: pinned to the value-by-value path on the files (every 5th row of historical_50k), rows with
    rejected values included."""
    rejected = 0
    for row in raw_rows(name)[::step]:
        base, values = parts(row)  # type: ignore[operator]
        rec = _load._customer(base, values)
        assert rec == _load._customer_general(base, values), row
        rejected += any(k in rec.custom for k, _ in values)
    assert rejected > 0 or name == "splink/fake_1000.csv"


def test_one_go_build_falls_back_value_by_value() -> None:
    base = {"id": "x1", "name": {"given": "Ann"}}
    values = [("birthday", "1856-86-18"), ("city", "Leeds"), ("email", "ann@example.com"), ("gender", "")]
    rec = _load._customer(base, values)
    assert rec == _load._customer_general(base, values)
    assert rec.birthday is None and dict(rec.custom) == {"birthday": "1856-86-18"}
    assert rec.addresses[0].city == "Leeds" and rec.emails[0].address == "ann@example.com"
    assert rec.gender is None


# ------------------------------------------------------------------------------------ damaged files
def _fake_file(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    def fake_open(name: str) -> object:
        from contextlib import nullcontext

        return nullcontext(io.StringIO(text, newline=""))

    monkeypatch.setattr(_load, "_open", fake_open)


def test_a_damaged_csv_row_is_a_parse_error_naming_the_row(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_file(monkeypatch, "unique_id,first_name,surname,dob,city,email,cluster\n0,A,B,,,,0\n1,A,B\n")
    with pytest.raises(ParseError) as info:
        datasets.load_fake_1000()
    assert info.value.row == 3


def test_a_damaged_cdnow_line_is_a_parse_error_naming_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_file(monkeypatch, " 00004 0001 19970101  2   29.33\n 00004 0001 19971301  2   29.33\n")
    with pytest.raises(ParseError) as info:
        datasets.load_cdnow_transactions()
    assert info.value.row == 2


def test_pairs_from_true_clusters() -> None:
    ds = datasets.DedupeDataset([], {"a": "1", "b": "1", "c": "1", "d": "2"})
    assert ds.true_pairs() == {("a", "b"), ("a", "c"), ("b", "c")}
    assert ds.true_clusters() == [frozenset("abc"), frozenset("d")]
    assert set(itertools.chain.from_iterable(ds.true_clusters())) == set(ds.truth)


def test_path_helper_is_a_path() -> None:
    assert isinstance(datasets.data_path("febrl/dataset1.csv"), Path)
