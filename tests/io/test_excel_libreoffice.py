"""read_excel on workbooks LibreOffice wrote (issue 23): the shop workbook of test_excel.py saved again
by LibreOffice as .xlsx, .ods and .xls, and a CSV export opened in LibreOffice and saved as .xlsx (the
way phones become numbers and lose their leading 0, and 1.38E+10 loses its digits). LibreOffice is
installed through apt when missing; if it cannot be, the tests fail with the reason (never a skip).
The files are made once per session."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from custdata import read_excel
from tests.io.test_excel import _shop

pytestmark = pytest.mark.spreadsheet


def _install() -> str:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("LibreOffice is not installed and this run cannot install it (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=1800, check=False)
    known = subprocess.run(
        ["apt-cache", "show", "libreoffice-calc-nogui"], env=env, capture_output=True, check=False
    )
    package = "libreoffice-calc-nogui" if known.returncode == 0 else "libreoffice-calc"
    r = subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", package],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if r.returncode != 0:
        pytest.fail(
            f"apt-get install {package} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
        )
    found = shutil.which("soffice")
    if not found:
        pytest.fail(f"{package} was installed but soffice is not on PATH")
    return found


def _convert(
    soffice: str, source: Path, fmt: str, out: Path, profile: Path, infilter: str | None = None
) -> Path:
    cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless"]
    if infilter:
        cmd.append(f"--infilter={infilter}")
    cmd += ["--convert-to", fmt, "--outdir", str(out), str(source)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    made = out / f"{source.stem}.{fmt}"
    assert r.returncode == 0 and made.exists(), (r.stdout, r.stderr)
    return made


@pytest.fixture(scope="session")
def libreoffice_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The workbooks LibreOffice made, by name: shop.xlsx/.ods/.xls and export.xlsx."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice") or _install()
    base = tmp_path_factory.mktemp("libreoffice")
    profile = base / "profile"
    src = base / "src"
    src.mkdir()
    _shop(src / "shop.xlsx")
    (src / "export.csv").write_text(
        "会员号,姓名,手机,电话,生日\n"
        "e1,张三,13800138000,01062345678,1990-01-02\n"
        "e2,李四,1.38E+10,,1985-06-07\n",
        encoding="utf-8",
    )
    out = base / "out"
    files = {
        f"shop.{fmt}": _convert(soffice, src / "shop.xlsx", fmt, out / fmt, profile)
        for fmt in ("xlsx", "ods", "xls")
    }
    files["export.xlsx"] = _convert(soffice, src / "export.csv", "xlsx", out / "csv", profile, "CSV:44,34,76")
    return files


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "xls"])
def test_the_shop_workbook_saved_by_libreoffice(libreoffice_files: dict[str, Path], fmt: str) -> None:
    reader = read_excel(libreoffice_files[f"shop.{fmt}"], "*", errors="collect")
    got = {c.id: c for c in reader}
    assert sorted(got) == ["m1", "m2", "m5", "m6"]  # the title row passed over, the hidden sheet not read
    assert [p.number for p in got["m1"].phones] == ["13800138000", "01062345678"]
    assert got["m1"].birthday == dt.date(1990, 1, 2)  # a raw serial number
    assert got["m2"].birthday == dt.date(1985, 6, 7)  # a date cell
    assert got["m5"].birthday == dt.date(2024, 1, 1)
    assert got["m5"].phones[0].number == "13800138000"  # 1.3800138000E+10 written with every digit
    assert got["m1"].custom["门店"] == "静安店"
    assert got["m2"].custom["门店"] == "静安店"  # merged cell filled down (in .ods from content.xml)
    assert [(p.sheet, p.row, p.field) for p in reader.problems] == [
        ("一月", 5, "mobile"),
        ("一月", 6, "mobile"),
        ("一月", 8, "birthday"),
        ("二月", 3, "mobile"),
    ]


def test_a_csv_export_opened_in_libreoffice(libreoffice_files: dict[str, Path]) -> None:
    """LibreOffice reads 13800138000 and 01062345678 as numbers (the second loses its 0) and 1.38E+10
    as 13800000000: read_excel puts the 0 back (certain in CN) and reports the rounded phone."""
    reader = read_excel(libreoffice_files["export.xlsx"], errors="collect")
    [e1] = reader
    assert [p.number for p in e1.phones] == ["13800138000", "01062345678"]
    assert e1.birthday == dt.date(1990, 1, 2)
    assert [(p.row, p.field) for p in reader.problems] == [(3, "mobile")]
    assert "rounded" in reader.problems[0].reason
