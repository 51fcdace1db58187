"""The metrics commands (custdata clv, custdata retention) and the demo step."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path

import pytest

pytest.importorskip("click")
pytest.importorskip("scipy")

from custdata import Transaction, datasets
from custdata.cli._common import DemoContext
from custdata.cli._main import run
from custdata.cli._metrics import demo


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cdnow") / "transactions.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "at", "amount", "currency"])
        for t in datasets.load_cdnow_transactions():
            w.writerow([t.customer_id, t.at.isoformat(), t.amount, t.currency])
    return path


def test_clv_command(cdnow_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_csv, model_json = tmp_path / "clv.csv", tmp_path / "m.json"
    code, out, _ = _run(
        capsys,
        "clv",
        str(cdnow_csv),
        "--observation-end",
        "1997-09-30",
        "--horizon",
        "39",
        "-o",
        str(out_csv),
        "--save-model",
        str(model_json),
    )
    assert code == 0, out
    assert "r=0.2426" in out and "Gamma-Gamma" in out and "top 10 customers by clv" in out
    with open(out_csv, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2357 and rows[0]["customer_id"] == "1"
    assert float(rows[0]["expected_purchases"]) == pytest.approx(1.226, abs=1e-3)  # FHL 2005's example
    assert json.loads(model_json.read_text())["model"] == "BetaGeoModel"
    code, out, _ = _run(capsys, "clv", str(cdnow_csv), "--observation-end", "1997-09-30", "--model", "pareto")
    assert code == 0 and "Pareto/NBD" in out


def test_clv_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "clv", str(tmp_path / "missing.csv"))
    assert code == 2 and err.count("\n") == 1
    one = tmp_path / "one.csv"
    one.write_text("customer_id,at,amount\na,2026-01-01T00:00:00+00:00,5\n")
    code, _, err = _run(capsys, "clv", str(one))
    assert code == 2 and "repeat purchase" in err and err.count("\n") == 1
    code, _, err = _run(capsys, "clv", str(one), "--observation-end", "yesterday")
    assert code == 2 and "YYYY-MM-DD" in err


def test_retention_command(cdnow_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_csv = tmp_path / "cohorts.csv"
    code, out, _ = _run(capsys, "retention", str(cdnow_csv), "--period", "Q", "-o", str(out_csv))
    assert code == 0
    assert "1997-Q2" in out and "22.2%" in out and "pooled retention" in out
    with open(out_csv, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["cohort"] == "1997-Q1" and rows[0]["size"] == "2357" and rows[0]["0"] == "1.0"


def test_demo_step(tmp_path: Path) -> None:
    rnd = random.Random(3)
    txs = []
    for i in range(80):  # a small shop: customers buy at their own pace until they drift away
        day = dt.datetime(2026, 1, 1, 10, tzinfo=dt.timezone.utc) + dt.timedelta(days=rnd.randint(0, 60))
        rate, leave = rnd.uniform(0.02, 0.3), rnd.uniform(0.05, 0.5)
        while day < dt.datetime(2026, 6, 30, tzinfo=dt.timezone.utc):
            txs.append(Transaction(customer_id=f"c{i}", at=day, amount=rnd.randint(10, 200)))
            if rnd.random() < leave:
                break
            day += dt.timedelta(days=rnd.expovariate(rate))
    lines: list[str] = []
    ctx = DemoContext(customers=[], transactions=txs, interactions=[], workdir=tmp_path, echo=lines.append)
    demo(ctx)
    text = "\n".join(lines)
    assert "retention" in text and "top customers by predicted" in text, text
    assert len(ctx.results["clv"]) == 80  # type: ignore[arg-type]
