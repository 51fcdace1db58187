"""The command line: one-line user errors with exit 2, validate, convert."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("click")

from custdata import Customer, read_jsonl, write_csv
from custdata.cli._main import run


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def test_missing_file_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "validate", "/no/such/customers-2024.csv")
    assert code == 2
    assert out == ""
    assert err == "custdata: /no/such/customers-2024.csv: no such file\n"


@pytest.mark.parametrize(
    "args", [["nosuch"], ["validate"], ["convert", "a.csv"], ["validate", "--kind", "x", "f"]]
)
def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _out, err = _run(capsys, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("custdata: ")
    assert "Traceback" not in err


def test_validate_reports_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "c.csv"
    p.write_text("id,name,birthday\na,Ann,1990-01-02\nb,Bob,1990-02-30\n", encoding="utf-8")
    code, out, _err = _run(capsys, "validate", str(p))
    assert code == 1
    assert "row 3, birthday" in out
    assert "2 rows, 1 valid, 1 with problems" in out
    p.write_text("id,name\na,Ann\n", encoding="utf-8")
    assert _run(capsys, "validate", str(p))[0] == 0


def test_convert_csv_to_jsonl_and_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cs = [Customer(id="a", name="张三", company="=evil()"), Customer(id="b", tags=frozenset({"vip"}))]
    write_csv(cs, tmp_path / "in.csv")
    code, out, _ = _run(capsys, "convert", str(tmp_path / "in.csv"), str(tmp_path / "out.jsonl"))
    assert code == 0
    assert "wrote 2 records" in out
    assert list(read_jsonl(tmp_path / "out.jsonl")) == cs
    code, _, err = _run(capsys, "convert", str(tmp_path / "out.jsonl"), str(tmp_path / "out.xlsx"))
    assert code == 2
    assert "cannot tell the format" in err


def test_unreadable_row_in_convert_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("id,version\na,-3\n", encoding="utf-8")
    code, _, err = _run(capsys, "convert", str(p), str(tmp_path / "o.jsonl"))
    assert code == 2
    assert "row 2" in err
    assert len(err.strip().splitlines()) == 1


def test_console_script_runs() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "custdata.cli", "--version"], capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr
    assert "custdata" in r.stdout
