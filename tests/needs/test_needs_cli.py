"""custdata recommend: reads transactions with line items, writes ranked lists, honours the customers'
profiling consent."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from custdata import Consent, Customer
from custdata.cli import _main
from custdata.io import write_jsonl
from custdata.needs import Recommender
from custdata.testing import needs_sample


def test_recommend_writes_the_same_lists_as_the_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    txs = needs_sample(customers=30, items=20, seed=4)
    src = tmp_path / "tx.jsonl"
    write_jsonl(txs, src)
    people = tmp_path / "people.jsonl"
    write_jsonl([Customer(id="C0001", consents={"profiling": Consent(granted=False)})], people)
    out = tmp_path / "recs.csv"
    args = ["recommend", str(src), "--lam", "20", "-n", "3", "--customers", str(people), "-o", str(out)]
    args += ["--customer", "C0000", "--customer", "C0001"]
    with pytest.raises(SystemExit) as info:
        _main.run(args)
    assert not info.value.code, capsys.readouterr().err
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    lib = Recommender("ease", lam=20).fit(
        txs, customers=[Customer(id="C0001", consents={"profiling": {"granted": False}})]
    )
    for cid in ("C0000", "C0001"):
        assert [r["sku"] for r in rows if r["customer_id"] == cid] == [r.sku for r in lib.recommend(cid, 3)]
    assert {r["personalised"] for r in rows if r["customer_id"] == "C0001"} == {"False"}
    assert {r["personalised"] for r in rows if r["customer_id"] == "C0000"} == {"True"}
