"""`custdata normalize`, `custdata quality` and the demo step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("click")

from custdata import Customer, read_jsonl, write_csv
from custdata.cli._common import DemoContext
from custdata.cli._main import run
from custdata.cli._normalize import demo


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def _input(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    write_csv(
        [
            Customer(
                id="c1", name="  欧阳娜娜 女士", phones=["手机：138 0013 8000"], emails=["Li.Na＠Example.COM"]
            ),
            Customer(id="c2", name="Zhang Wei", phones=["+86 138-0013-8000"], emails=["zw@gmail.com"]),
            Customer(id="c3", name="李四", phones=["12345"], emails=["bad"]),
        ],
        path,
    )
    return path


def test_normalize_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _input(tmp_path)
    out = tmp_path / "out.jsonl"
    issues = tmp_path / "issues.csv"
    code, stdout, _ = _run(capsys, "normalize", str(src), "-o", str(out), "--issues", str(issues))
    assert code == 0
    assert "3 customers: 3 changed, 1 with values that could not be normalised" in stdout
    assert f"wrote 3 customers to {out}" in stdout
    records = list(read_jsonl(out))
    assert records[0].phones[0].number == "+8613800138000"
    assert records[0].name.family == "欧阳"
    assert "c3,phones.0.number,12345,too_short" in issues.read_text(encoding="utf-8-sig")


def test_normalize_skip_and_raise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _input(tmp_path)
    out = tmp_path / "out.csv"
    code, stdout, _ = _run(capsys, "normalize", str(src), "-o", str(out), "--errors", "skip")
    assert code == 0
    assert "wrote 2 customers" in stdout
    code, _, err = _run(capsys, "normalize", str(src), "-o", str(tmp_path / "x.csv"), "--errors", "raise")
    assert code == 2
    assert err.startswith("custdata: ") and "customer 'c3'" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "x.csv").exists()


def test_normalize_refuses_to_overwrite_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _input(tmp_path)
    code, _, err = _run(capsys, "normalize", str(src), "-o", str(src))
    assert code == 2
    assert "must not be the input" in err


def test_quality_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _input(tmp_path)
    code, stdout, _ = _run(capsys, "quality", str(src))
    assert code == 0
    assert stdout.startswith("Data quality of 3 customers")
    assert "+8613800138000" in stdout
    code, stdout, _ = _run(capsys, "quality", str(src), "--json")
    assert code == 0
    d = json.loads(stdout)
    assert d["total"] == 3
    assert d["invalid"]["phone"] == {"too_short": 1}


def test_demo_step_replaces_customers(tmp_path: Path) -> None:
    lines: list[str] = []
    ctx = DemoContext(
        customers=[Customer(id="a", phones=["138 0013 8000"]), Customer(id="b", emails=["x"])],
        transactions=[],
        interactions=[],
        workdir=tmp_path,
        echo=lines.append,
    )
    demo(ctx)
    assert ctx.customers[0].phones[0].number == "+8613800138000"
    assert ctx.results["normalize"] == {"records": 2, "changed": 1, "with_issues": 1}
    text = "\n".join(lines)
    assert "== Normalisation" in text
    assert "== Data quality" in text
    assert "Data quality of 2 customers" in text
