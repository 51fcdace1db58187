"""The bundled sample data: reproducible from its script, readable, and the demo runs on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import custdata
from custdata._sample import SAMPLE_FILES, sample_path

ROOT = Path(__file__).resolve().parents[2]


def test_sample_files_are_what_the_script_makes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sample_data.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in SAMPLE_FILES:
        assert (tmp_path / name).read_bytes() == sample_path(name).read_bytes(), name


def test_sample_customers_read_with_three_known_problems() -> None:
    reader = custdata.read_csv(sample_path("sample_customers.csv"), errors="collect")
    customers = list(reader)
    assert len(customers) > 3000
    assert reader.encoding == "utf-8-sig"
    assert {p.field for p in reader.problems} == {"birthday"}
    assert len(reader.problems) == 3
    assert any("䶮" in (c.name.full or "") for c in customers)  # a rare character survived
    assert reader.columns["备注"] is None  # an unknown column, kept as a custom attribute
    assert any("备注" in c.custom for c in customers)


def test_unknown_sample_name() -> None:
    with pytest.raises(ValueError, match="no sample file"):
        sample_path("nope.csv")


def test_demo_runs() -> None:
    pytest.importorskip("click")
    r = subprocess.run(
        [sys.executable, "-m", "custdata.cli", "demo"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout
    assert "Loaded" in out
    assert "done." in out
