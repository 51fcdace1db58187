"""``custdata dedupe``: a cluster id per row, golden records, explanations, a saved matcher."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

pytest.importorskip("click")

from custdata import Customer, read_csv, write_csv
from custdata.cli._main import run
from custdata.matching import Matcher


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


PEOPLE = [
    Customer.from_dict(
        {
            "id": "a",
            "name": {"full": "张伟"},
            "phones": [{"number": "138 0013 8000"}],
            "birthday": "1990-01-02",
        }
    ),
    Customer.from_dict(
        {
            "id": "b",
            "name": {"family": "张", "given": "伟"},
            "phones": [{"number": "+8613800138000"}],
            "emails": [{"address": "zw@qq.com"}],
        }
    ),
    Customer.from_dict({"id": "c", "name": {"full": "李娜"}, "phones": [{"number": "13900139000"}]}),
]


def test_dedupe_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, dst, golden, model = (tmp_path / n for n in ("in.csv", "out.csv", "golden.csv", "m.json"))
    write_csv(PEOPLE, src)
    code, out, _ = _run(
        capsys,
        "dedupe",
        str(src),
        "-o",
        str(dst),
        "--golden",
        str(golden),
        "--explain",
        "--save-matcher",
        str(model),
    )
    assert code == 0
    assert "3 records, 2 customers" in out
    assert "a vs b: match probability" in out
    with open(dst, encoding="utf-8-sig", newline="") as fh:
        rows = {r["id"]: r["cluster_id"] for r in csv.DictReader(fh)}
    assert rows == {"a": "a", "b": "a", "c": "c"}
    assert {r.id for r in read_csv(dst)} == {"a", "b", "c"}  # still a customer file
    merged = {g.id: g for g in read_csv(golden)}
    assert set(merged) == {"a", "c"} and len(merged["a"].emails) == 1
    assert Matcher.load(model).score(PEOPLE[0], PEOPLE[1]) > 0.9


def test_dedupe_command_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    write_csv(PEOPLE, src)
    code, _, err = _run(capsys, "dedupe", str(src), "-o", str(src))
    assert code == 2 and err.startswith("custdata: ") and len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, "dedupe", str(src), "-o", str(tmp_path / "o.csv"), "--threshold", "2")
    assert code == 2


def test_dedupe_csv_output_is_written_atomically(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os
    import stat

    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    write_csv(PEOPLE, src)
    dst.write_text("old", encoding="utf-8")
    os.chmod(dst, 0o640)
    code, _, _ = _run(capsys, "dedupe", str(src), "-o", str(dst))
    assert code == 0
    assert stat.S_IMODE(os.stat(dst).st_mode) == 0o640  # a replaced file keeps its permissions
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]  # no temporary file left
    code, _, err = _run(capsys, "dedupe", str(src), "-o", str(tmp_path / "nothere" / "o.csv"))
    assert code == 2 and err.startswith("custdata: ") and ".tmp" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_dedupe_workers_reaches_the_library_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import custdata.cli._dedupe as cli_dedupe
    from custdata.cli._main import cli

    seen: list[object] = []
    real = cli_dedupe.dedupe

    def spy(*args: object, **kw: object) -> object:
        seen.append(kw.get("workers"))
        return real(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(cli_dedupe, "dedupe", spy)
    src = tmp_path / "in.csv"
    write_csv(PEOPLE, src)
    outs = []
    for workers in ("1", "2"):
        dst = tmp_path / f"out{workers}.csv"
        result = CliRunner().invoke(cli, ["dedupe", str(src), "-o", str(dst), "--workers", workers])
        assert result.exit_code == 0, result.output
        outs.append(dst.read_text(encoding="utf-8-sig"))
    assert seen == [1, 2]
    assert outs[0] == outs[1]
    result = CliRunner().invoke(cli, ["dedupe", str(src), "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 0 and seen[-1] is None  # not given: the library's default
    bad = CliRunner().invoke(cli, ["dedupe", str(src), "-o", str(tmp_path / "y.csv"), "--workers", "0"])
    assert bad.exit_code == 2 and "--workers" in bad.output
