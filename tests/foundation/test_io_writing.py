"""Writing never drops records and suits spreadsheets (issue 17 §3): non-records refused by position,
the flat layout read back exactly, long digit strings kept as text by LibreOffice, the formula guard with
full-width characters, permissions kept, errors naming the target."""

from __future__ import annotations

import csv
import errno
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata.testing as cst
from custdata import Customer, read_csv, write_csv, write_jsonl
from custdata.exceptions import ValidationError
from custdata.io import guard_cell, unguard_cell

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _customers(n: int = 3) -> list[Customer]:
    return [Customer(id=f"c{i}", name=f"客户{i}", phones=[f"1380013800{i}"]) for i in range(n)]


# ------------------------------------------------------------------------------------ refusing
@pytest.mark.parametrize("bad", [None, "c1", {"id": "c1"}, 42])
@pytest.mark.parametrize("position", [0, 2])
def test_non_records_are_refused_by_position_and_nothing_is_written(
    tmp_path: Path, bad: object, position: int
) -> None:
    items: list[Any] = _customers()
    items.insert(position, bad)
    for writer, name in ((write_csv, "out.csv"), (write_jsonl, "out.jsonl")):
        target = tmp_path / name
        target.write_text("before", encoding="utf-8")
        with pytest.raises(ValidationError, match=rf"records\[{position}\]") as info:
            writer(items, target)  # type: ignore[operator]
        assert info.value.fields == (f"records[{position}]",)
        assert target.read_text(encoding="utf-8") == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "out.jsonl"]


# ------------------------------------------------------------------------------------ flat layout
def test_flat_layout_is_one_column_per_value(tmp_path: Path) -> None:
    c = Customer.from_dict(
        {
            "id": "c1",
            "name": {"full": "张三"},
            "phones": [
                {"number": "13800138000", "kind": "mobile", "primary": True},
                {"number": "010-62345678"},
            ],
            "emails": [{"address": "zs@example.com"}],
            "addresses": [{"country": "CN", "city": "上海市", "street": "南京路 1 号"}],
            "consents": {"marketing_sms": {"granted": True}},
            "external_ids": {"erp": "A-1"},
            "custom": {"会员等级": "金卡", "points": 120},
        }
    )
    path = tmp_path / "flat.csv"
    write_csv([c], path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header, row = list(csv.reader(fh))
    cells = dict(zip(header, row, strict=True))
    assert cells["phone_1"] == '="13800138000"' and cells["phone_1_kind"] == "mobile"
    assert cells["phone_1_primary"] == "true" and "phone_2_primary" not in cells
    assert cells["phone_2"] == "010-62345678"
    assert cells["email_1"] == "zs@example.com"
    assert cells["address_1_city"] == "上海市" and cells["address_1_street"] == "南京路 1 号"
    assert cells["consents.marketing_sms"] == "true"
    assert cells["external_ids.erp"] == "A-1"
    assert cells["会员等级"] == "金卡" and cells["custom.points"] == "120"
    assert not any(v.startswith(("[", "{")) for v in row)  # no JSON cells
    assert list(read_csv(path)) == [c]


def test_json_layout_is_still_available(tmp_path: Path) -> None:
    path = tmp_path / "json.csv"
    cs = _customers()
    write_csv(cs, path, layout="json")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        assert next(csv.reader(fh))[:6] == ["id", "name", "family_name", "given_name", "phones", "emails"]
    assert list(read_csv(path)) == cs
    with pytest.raises(ValidationError, match="layout"):
        write_csv(cs, path, layout="wide")  # type: ignore[arg-type]


@SETTINGS
@given(
    cs=st.lists(cst.customers(), max_size=4, unique_by=lambda c: c.id),
    layout=st.sampled_from(["flat", "json"]),
)
def test_property_customers_round_trip_in_both_layouts(
    tmp_path: Path, cs: list[Customer], layout: str
) -> None:
    path = tmp_path / "rt.csv"
    assert write_csv(cs, path, layout=layout) == len(cs)  # type: ignore[arg-type]
    assert list(read_csv(path)) == cs
    assert write_csv(iter(cs), path, layout=layout) == len(cs)  # type: ignore[arg-type]
    assert list(read_csv(path)) == cs


# ------------------------------------------------------------------------------------ the guard
_DANGEROUS = tuple("=+-@\t\r＝＋－＠")


@given(st.text())
def test_property_guard_round_trips_and_neutralises(text: str) -> None:
    guarded = guard_cell(text)
    assert unguard_cell(guarded) == text
    if guarded.startswith("="):  # only the constant-text form that keeps digit strings
        assert guarded == f'="{text}"' and text.isascii() and text.isdigit()
    else:
        assert not guarded.startswith(_DANGEROUS)


@pytest.mark.parametrize("text", ["＝1+1", "＋cmd", "－2+3", "＠SUM(1)", "'＝x"])
def test_full_width_formula_characters_are_guarded(tmp_path: Path, text: str) -> None:
    c = Customer(id="c1", company=text)
    path = tmp_path / "g.csv"
    write_csv([c], path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert f"'{text}" in cells
    assert list(read_csv(path)) == [c]


# ------------------------------------------------------------------------------------ the file
def test_replacing_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    write_csv(_customers(), target)
    assert (target.stat().st_mode & 0o777) == 0o600  # new: the owner's only (customer data)
    target.chmod(0o640)
    write_csv(_customers(), target)
    write_jsonl(_customers(), tmp_path / "out.jsonl")
    assert (target.stat().st_mode & 0o777) == 0o640


def test_a_failed_write_names_the_target_not_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.csv"

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".out.csv.x.tmp"))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space left") as info:
        write_csv(_customers(), target)
    assert info.value.filename == str(target)
    assert ".tmp" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------ LibreOffice
def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail("LibreOffice is not installed and this run cannot install it (needs root and apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "libreoffice-calc-nogui"],
    ):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800, check=False)
        if r.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    found = shutil.which("soffice")
    if not found:
        pytest.fail("LibreOffice was installed but soffice is not on PATH")
    return found


def _open_in_libreoffice(path: Path) -> list[dict[str, Any]]:
    """Convert a CSV to .xlsx with LibreOffice (UTF-8, the default column types: what a user gets when
    they open it) and read the cell values back with openpyxl."""
    openpyxl = pytest.importorskip("openpyxl")
    out = path.parent / "xlsx"
    cmd = [
        _soffice(),
        "--headless",
        "--infilter=CSV:44,34,76",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(out),
        str(path),
    ]
    env = {**os.environ, "HOME": str(path.parent)}  # a private profile
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    xlsx = out / (path.stem + ".xlsx")
    assert r.returncode == 0 and xlsx.exists(), (r.stdout, r.stderr)
    rows = list(openpyxl.load_workbook(xlsx, data_only=True).active.iter_rows(values_only=True))
    header = [str(h).lstrip("\ufeff") for h in rows[0]]
    return [dict(zip(header, r, strict=True)) for r in rows[1:]]


def _digit_strings(rng: random.Random) -> str:
    kind = rng.choice(["id", "phone", "zeros"])
    if kind == "id":
        return str(rng.randint(10**15, 10**19))  # 16 to 20 digits
    if kind == "phone":
        return "1" + "".join(rng.choice("3456789") + str(rng.randint(0, 9)) for _ in range(5))  # 11 digits
    return "0" * rng.randint(1, 3) + str(rng.randint(0, 10**6))


@pytest.mark.spreadsheet
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32))
def test_property_long_digit_strings_survive_a_spreadsheet(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    records = [
        Customer(
            id=_digit_strings(rng),
            name="王䶮",
            phones=[_digit_strings(rng)],
            addresses=[{"country": "CN", "postal_code": _digit_strings(rng)}],
            external_ids={"erp": _digit_strings(rng)},
            custom={"card": _digit_strings(rng)},
        )
        for _ in range(25)
    ]
    path = tmp_path / "digits.csv"
    write_csv(records, path)
    cells = _open_in_libreoffice(path)
    for c, row in zip(records, cells, strict=True):
        sent = {
            "id": c.id,
            "phone_1": c.phones[0].number,
            "address_1_postal_code": c.addresses[0].postal_code,
            "external_ids.erp": c.external_ids["erp"],
            "card": c.custom["card"],
            "name": "王䶮",
        }
        assert {k: row[k] for k in sent} == sent
        assert all(isinstance(row[k], str) for k in sent)


@pytest.mark.parametrize("bad", [None, b"x.csv", "", "a\x00b.csv", "\ud800.csv", 5])
def test_a_path_no_file_can_have_is_a_validation_error_naming_it(bad: Any, tmp_path: Path) -> None:
    from custdata import read_jsonl
    from custdata.io import detect_encoding

    for call in (
        lambda: write_csv([Customer(id="c1")], bad),
        lambda: write_jsonl([Customer(id="c1")], bad),
        lambda: read_csv(bad),
        lambda: read_jsonl(bad),
        lambda: detect_encoding(bad),
    ):
        with pytest.raises(ValidationError) as info:
            call()
        assert info.value.fields == ("path",)


def test_detect_encoding_reports_a_missing_file_and_a_folder_as_read_csv_does(tmp_path: Path) -> None:
    from custdata.exceptions import ParseError
    from custdata.io import detect_encoding

    for path in (tmp_path / "nothere.csv", tmp_path):
        with pytest.raises(ParseError):
            detect_encoding(path)


def test_writers_refuse_a_folder_and_an_unknown_encoding_and_write_nothing(tmp_path: Path) -> None:
    from custdata.exceptions import ParseError

    with pytest.raises(ParseError):
        write_csv([Customer(id="c1")], tmp_path)
    with pytest.raises(ValidationError):
        write_csv([Customer(id="c1")], tmp_path / "x.csv", encoding="nosuch")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [None, 5, [b"=1"]])
def test_guard_cell_refuses_what_is_not_text(bad: Any) -> None:
    for fn in (guard_cell, unguard_cell):
        with pytest.raises(ValidationError):
            fn(bad)


def test_to_rows_and_from_rows_name_the_bad_item() -> None:
    from custdata.io import from_rows, to_rows

    with pytest.raises(ValidationError, match=r"records\[1\]"):
        list(to_rows([Customer(id="c1"), None]))
    with pytest.raises(ValidationError, match=r"rows\[0\]"):
        list(from_rows(["id,name"]))
    with pytest.raises(ValidationError, match=r"rows\[1\]: has a header that is not text"):
        list(from_rows([{"id": "c1"}, {0: "c2"}]))  # type: ignore[dict-item]
    with pytest.raises(ValidationError):
        list(to_rows(None))  # type: ignore[arg-type]
