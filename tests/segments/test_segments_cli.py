"""custdata segment / rfm / remind: outputs, and one-line errors with exit code 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import custdata
from custdata.cli import _main

pytest.importorskip("click")


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        _main.run(args)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    people = [
        custdata.Customer(
            id="a",
            tags=["vip"],
            birthday="--07-01",
            phones=["13800138000"],
            consents={"marketing_sms": {"granted": True}},
        ),
        custdata.Customer(id="b", addresses=[{"city": "上海市"}]),
        custdata.Customer(id="=cmd", addresses=[{"city": "北京市"}]),
    ]
    txs = [
        custdata.Transaction(customer_id=c, at=f"2026-06-{d:02d}T10:00:00+08:00", amount=a)
        for c, d, a in [("a", 1, "500"), ("a", 20, "300"), ("b", 2, "20"), ("=cmd", 3, "80")]
    ]
    paths = {"customers": str(tmp_path / "c.jsonl"), "transactions": str(tmp_path / "t.jsonl")}
    custdata.write_jsonl(people, paths["customers"])
    custdata.write_jsonl(txs, paths["transactions"])
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"vip": "tags contains 'vip'", "sh": "city == '上海市'"}), encoding="utf-8")
    paths["rules"] = str(rules)
    paths["dir"] = str(tmp_path)
    return paths


def test_segment_writes_one_row_per_customer(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(Path(files["dir"]) / "seg.csv")
    code, stdout, _ = _run(
        [
            "segment",
            files["customers"],
            "--transactions",
            files["transactions"],
            "--rules",
            files["rules"],
            "--as-of",
            "2026-06-30",
            "-o",
            out,
        ],
        capsys,
    )
    assert code == 0 and "vip: 1" in stdout and "sh: 1" in stdout
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["id"], r["segment"]) for r in rows] == [("a", "vip"), ("b", "sh"), ("'=cmd", "")]


def test_rfm_and_remind(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    out = str(Path(files["dir"]) / "rfm.jsonl")
    code, stdout, _ = _run(
        ["rfm", files["transactions"], "--as-of", "2026-06-30", "--bins", "3", "-o", out], capsys
    )
    assert code == 0 and "wrote 3 customers" in stdout
    rows = [json.loads(line) for line in Path(out).read_text(encoding="utf-8").splitlines()]
    assert {r["customer_id"]: r["score"] for r in rows}["a"] == "333"
    code, stdout, _ = _run(["remind", files["customers"], "--days", "3", "--as-of", "2026-06-29"], capsys)
    assert code == 0 and "birthday" in stdout and "via sms" in stdout


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ('{"x": "total_spend >> 3"}', "got '>' (at character 14"),
        ('{"x": "ctiy == 1"}', "did you mean 'city'"),
        ("[1", "does not parse"),
    ],
)
def test_bad_rules_are_one_line_exit_2(
    files: dict[str, str], capsys: pytest.CaptureFixture[str], rules: str, message: str
) -> None:
    bad = Path(files["dir"]) / "bad.json"
    bad.write_text(rules, encoding="utf-8")
    code, _, err = _run(["segment", files["customers"], "--rules", str(bad), "-o", str(bad) + ".csv"], capsys)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not Path(str(bad) + ".csv").exists()
