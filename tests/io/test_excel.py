"""read_excel / write_excel (issue 23): exact round trips for every record type, the same records and
problems as the CSV path, workbooks as shop systems make them (title rows, merged cells, phones stored as
numbers, serial dates in both date systems, several sheets), and clear errors for files that are not
workbooks."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata.testing as cst
from custdata import Customer, Interaction, Transaction, read_csv, read_excel, write_csv, write_excel
from custdata.exceptions import MissingExtraError, ParseError, ValidationError

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _texts(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _texts(v)


def _holdable(records: list[Any]) -> bool:
    """Whether every text of the records can be a workbook cell (no lone surrogate, U+FFFE, U+FFFF)."""
    return not any("\ud800" <= ch <= "\udfff" for r in records for t in _texts(r.to_dict()) for ch in t)


# ------------------------------------------------------------------------------------ round trips
@SETTINGS
@given(
    cs=st.lists(cst.customers(), max_size=4, unique_by=lambda c: c.id),
    layout=st.sampled_from(["flat", "json"]),
)
def test_property_customers_round_trip(tmp_path: Path, cs: list[Customer], layout: str) -> None:
    path = tmp_path / "rt.xlsx"
    if not _holdable(cs):
        with pytest.raises(ValidationError, match="surrogate"):
            write_excel(cs, path, layout=layout)  # type: ignore[arg-type]
        assert not path.exists()
        return
    assert write_excel(cs, path, layout=layout) == len(cs)  # type: ignore[arg-type]
    assert list(read_excel(path)) == cs


@SETTINGS
@given(
    txs=st.lists(cst.transactions(), max_size=4),
    its=st.lists(cst.interactions(), max_size=4),
)
def test_property_activities_round_trip(
    tmp_path: Path, txs: list[Transaction], its: list[Interaction]
) -> None:
    for records, kind in ((txs, "transaction"), (its, "interaction")):
        path = tmp_path / f"{kind}.xlsx"
        if not _holdable(records):
            with pytest.raises(ValidationError):
                write_excel(records, path, kind=kind)  # type: ignore[arg-type]
            continue
        assert write_excel(records, path, kind=kind) == len(records)  # type: ignore[arg-type]
        assert list(read_excel(path, kind=kind)) == records  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(st.lists(cst.customers(), max_size=4, unique_by=lambda c: c.id))
def test_property_same_records_as_the_csv_path(cs: list[Customer]) -> None:
    """The workbook path is pinned to the CSV path: the same records through both."""
    if not _holdable(cs):
        return
    with tempfile.TemporaryDirectory() as tmp:
        write_csv(cs, Path(tmp) / "c.csv")
        write_excel(cs, Path(tmp) / "c.xlsx")
        assert list(read_excel(Path(tmp) / "c.xlsx")) == list(read_csv(Path(tmp) / "c.csv"))


def test_written_workbook_is_text_cells_guarded_and_frozen(tmp_path: Path) -> None:
    c = Customer(
        id="00123",
        name="王䶮",
        company='=HYPERLINK("http://evil","click")',
        title="＝1+1",
        phones=["13800138000", "+8613800138000"],
        birthday="--12-10",
        external_ids={"erp": "1234567890123456789"},
    )
    path = tmp_path / "out.xlsx"
    write_excel([c], path)
    ws = openpyxl.load_workbook(path).active
    assert ws.freeze_panes == "A2"
    header = [cell.value for cell in ws[1]]
    row = dict(zip(header, ws[2], strict=True))
    for col, text in [
        ("id", "00123"),
        ("phone_1", "13800138000"),
        ("phone_2", "'+8613800138000"),
        ("birthday", "'--12-10"),
        ("external_ids.erp", "1234567890123456789"),
        ("company", '\'=HYPERLINK("http://evil","click")'),
        ("title", "'＝1+1"),
    ]:
        assert row[col].value == text
        assert row[col].data_type == "s"  # a text cell, never a number or a formula
    assert list(read_excel(path)) == [c]


@pytest.mark.parametrize("name", ["=0", "+1", "-x", "@cmd", "＝1", "\tx", "00123"])
def test_a_custom_attribute_named_like_a_formula_is_no_formula_header(tmp_path: Path, name: str) -> None:
    """Found by the property test above in CI: a custom attribute ``=0`` became the header cell
    ``=0``, which the workbook held as a formula, so the name came back as ``""``. Such names (and
    those the digit guard would change) now go as ``custom.<name>``, in CSV too."""
    c = Customer(id="1", name="Ada Smith", custom={name: "v"})
    write_excel([c], tmp_path / "c.xlsx")
    write_csv([c], tmp_path / "c.csv")
    header = [cell.value for cell in openpyxl.load_workbook(tmp_path / "c.xlsx").active[1]]
    assert f"custom.{name}" in header
    assert all(cell.data_type == "s" for cell in openpyxl.load_workbook(tmp_path / "c.xlsx").active[1])
    assert list(read_excel(tmp_path / "c.xlsx")) == [c]
    assert list(read_csv(tmp_path / "c.csv")) == [c]


@pytest.mark.parametrize(
    "text", ["a\rb", "line\r\nbreak", "x\x01y\x1f", "a_x0041_b", "_x005F_", "_x000D_", "\t lead "]
)
def test_text_xml_cannot_carry_round_trips_exactly(tmp_path: Path, text: str) -> None:
    c = Customer(id="a", name="n" + text, custom={"note" + text: text})
    write_excel([c], tmp_path / "x.xlsx")
    assert list(read_excel(tmp_path / "x.xlsx")) == [c]


def test_non_records_and_unholdable_values_write_nothing(tmp_path: Path) -> None:
    path = tmp_path / "never.xlsx"
    with pytest.raises(ValidationError, match=r"records\[1\]"):
        write_excel([Customer(id="a"), None, Customer(id="b")], path)
    with pytest.raises(ValidationError, match="32767"):
        write_excel([Customer(id="a", custom={"note": "x" * 40_000})], path)
    with pytest.raises(ValidationError, match=r"records\[0\]: a lone surrogate or U\+FFFE"):
        write_excel([Customer(id="a", name="\ufffe")], path)
    with pytest.raises(ValidationError, match="sheet"):
        write_excel([Customer(id="a")], path, sheet="a/b")
    assert not path.exists()


# ------------------------------------------------------------------------------------ shop workbooks
def _shop(path: Path, *, epoch1904: bool = False) -> None:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    if epoch1904:
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "一月"
    ws.append(["2024年1月 会员名单"])
    ws.merge_cells("A1:F1")
    ws.append(["会员号", "姓名", "手机", "电话", "生日", "门店"])
    ws.append(["m1", "张三", 13800138000, 1062345678, 32875, "静安店"])  # serial 32875: 1990-01-02 (1900)
    ws.append(["m2", "李四", 13900139000, None, dt.date(1985, 6, 7), None])  # merged with the store above
    ws.merge_cells("F3:F4")
    ws.append(["m3", "王五", 13800000000, None, None, "徐汇店"])  # 1.38E+10: digits lost
    ws.append(["m4", "赵六", "1.38E+10", None, None, "徐汇店"])
    ws.append(["m5", "钱七", "1.3800138000E+10", None, 45292, "徐汇店"])  # every digit written
    ws.append(["m8", "吴十", 13600136000, None, 45292.5, "徐汇店"])  # a birthday with a time of day
    ws2 = wb.create_sheet("二月")
    ws2.append(["会员号", "姓名", "手机"])
    ws2.append(["m6", "孙八", 13700137000])
    ws2.append(["m7", "周九", 12.5])
    hidden = wb.create_sheet("说明")
    hidden.append(["不要导入"])
    hidden.sheet_state = "hidden"
    wb.save(path)


def test_title_row_merged_cells_numeric_phones_and_serial_dates(tmp_path: Path) -> None:
    path = tmp_path / "shop.xlsx"
    _shop(path)
    reader = read_excel(path, errors="collect")
    got = {c.id: c for c in reader}
    assert sorted(got) == ["m1", "m2", "m5"]
    assert [p.number for p in got["m1"].phones] == ["13800138000", "01062345678"]  # the 0 put back
    assert got["m1"].birthday == dt.date(1990, 1, 2)
    assert got["m2"].birthday == dt.date(1985, 6, 7)
    assert got["m2"].custom["门店"] == got["m1"].custom["门店"] == "静安店"  # merged cell filled down
    assert got["m5"].phones[0].number == "13800138000"
    assert got["m5"].birthday == dt.date(2024, 1, 1)
    assert [(p.sheet, p.row, p.field) for p in reader.problems] == [
        ("一月", 5, "mobile"),
        ("一月", 6, "mobile"),
        ("一月", 8, "birthday"),
    ]
    assert "rounded" in reader.problems[0].reason and "lost" in reader.problems[1].reason
    assert "13800" not in " ".join(str(p) for p in reader.problems)  # no phone digits in messages


def test_date_serials_in_the_1904_system(tmp_path: Path) -> None:
    path = tmp_path / "mac.xlsx"
    _shop(path, epoch1904=True)
    got = {c.id: c for c in read_excel(path, errors="skip")}
    # the raw serial 32875 counts from 1904-01-01 here; a date cell is a date in either system
    assert got["m1"].birthday == dt.date(1904, 1, 1) + dt.timedelta(days=32875)
    assert got["m2"].birthday == dt.date(1985, 6, 7)


def test_sheets_first_named_indexed_and_all(tmp_path: Path) -> None:
    path = tmp_path / "shop.xlsx"
    _shop(path)
    assert [c.id for c in read_excel(path, errors="skip")] == ["m1", "m2", "m5"]
    assert [c.id for c in read_excel(path, "二月", errors="skip")] == ["m6"]
    assert [c.id for c in read_excel(path, 1, errors="skip")] == ["m6"]
    reader = read_excel(path, "*", errors="collect")
    assert [c.id for c in reader] == ["m1", "m2", "m5", "m6"]  # the hidden sheet is not read
    assert [(p.sheet, p.row) for p in reader.problems][-1] == ("二月", 3)
    with pytest.raises(ParseError, match="no sheet named"):
        read_excel(path, "三月")
    with pytest.raises(ParseError, match="no sheet 9"):
        read_excel(path, 9)


def test_errors_raise_names_the_sheet_and_row(tmp_path: Path) -> None:
    path = tmp_path / "shop.xlsx"
    _shop(path)
    with pytest.raises(ParseError, match=r"row 5") as info:
        list(read_excel(path))
    assert info.value.row == 5
    assert [c.id for c in read_excel(path, errors="skip")] == ["m1", "m2", "m5"]


def test_the_header_again_is_a_problem_of_its_row(tmp_path: Path) -> None:
    path = tmp_path / "pasted.xlsx"
    wb = openpyxl.Workbook()
    for row in (["会员号", "姓名"], ["m1", "张三"], ["会员号", "姓名"], ["m2", "李四"]):
        wb.active.append(row)
    wb.save(path)
    reader = read_excel(path, errors="collect")
    assert [c.id for c in reader] == ["m1", "m2"]
    assert [(p.row, p.reason) for p in reader.problems] == [
        (3, "the header row again (two sheets pasted together?)")
    ]


def test_header_row_can_be_given(tmp_path: Path) -> None:
    path = tmp_path / "shop.xlsx"
    _shop(path)
    [c] = read_excel(path, "二月", header_row=1, errors="skip")
    assert c.id == "m6"
    with pytest.raises(ValidationError, match="header_row"):
        read_excel(path, header_row=0)
    with pytest.raises(ValidationError, match="region"):
        read_excel(path, region="XX")


def test_urls_read_and_write(tmp_path: Path) -> None:
    c = Customer(id="u1", name="张三", phones=["13800138000"])
    assert write_excel([c], "memory://excel/c.xlsx") == 1
    assert list(read_excel("memory://excel/c.xlsx")) == [c]
    with pytest.raises(ParseError, match="no such file"):
        read_excel("memory://excel/missing.xlsx")


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        (13800138000, "CN", "13800138000"),  # a mobile: no trunk 0 in China
        (1062345678, "CN", "01062345678"),  # Beijing landline: 010 …
        (7400123456, "GB", "07400123456"),  # a UK mobile lost its 0
        (2079460000, "GB", "02079460000"),  # a London number
        (8613800138000, "CN", "8613800138000"),  # written with the country code
        (8613800138000, None, "8613800138000"),
    ],
)
def test_a_lost_leading_zero_is_put_back_when_certain(
    tmp_path: Path, value: int, region: str | None, expected: str
) -> None:
    path = tmp_path / "p.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["id", "phone"])
    wb.active.append(["a", value])
    wb.save(path)
    [c] = read_excel(path, region=region)
    assert c.phones[0].number == expected


@pytest.mark.parametrize(
    ("value", "region", "reason"),
    [
        (13800138000, None, "pass region="),  # without a plan the 0 cannot be told
        (12345, "CN", "not a valid number"),
        (138001380.5, "CN", "not a whole number"),
        (1.2345678901234567e17, "CN", "16 or more digits"),
    ],
)
def test_a_phone_number_that_is_not_certain_is_a_problem(
    tmp_path: Path, value: float, region: str | None, reason: str
) -> None:
    path = tmp_path / "p.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["id", "phone"])
    wb.active.append(["a", value])
    wb.save(path)
    reader = read_excel(path, region=region, errors="collect")
    assert list(reader) == []
    assert reason in reader.problems[0].reason


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        (2134, "US", "02134"),
        (10010, "CN", "010010"),
        (200000, "CN", "200000"),
        (2134, "GB", None),
        (123456, "US", None),
    ],
)
def test_postal_codes_stored_as_numbers(
    tmp_path: Path, value: int, region: str, expected: str | None
) -> None:
    path = tmp_path / "z.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["id", "zip"])
    wb.active.append(["a", value])
    wb.save(path)
    reader = read_excel(path, region=region, errors="collect")
    got = [c.addresses[0].postal_code for c in reader]
    assert got == ([expected] if expected else [])
    assert bool(reader.problems) is (expected is None)


def test_ids_and_amounts_stored_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "orders.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["会员号", "下单时间", "金额", "订单号"])
    ws.append([1001, dt.datetime(2024, 5, 1, 10, 0), 88.5, 20240501001])
    ws.append([1002, 45413.75, 12, 1.2345678901234567e18])  # a serial date-time; an id no longer exact
    wb.save(path)
    reader = read_excel(path, kind="transaction", errors="collect", default_tz="Asia/Shanghai")
    [t] = reader
    assert (t.customer_id, t.order_id, str(t.amount)) == ("1001", "20240501001", "88.5")
    assert t.at.isoformat() == "2024-05-01T10:00:00+08:00"
    assert reader.problems[0].row == 3 and "16 or more digits" in reader.problems[0].reason


# ------------------------------------------------------------------------------------ wrong files
def test_files_that_are_not_workbooks_are_parse_errors(tmp_path: Path) -> None:
    csv_named = tmp_path / "export.xlsx"
    csv_named.write_text("姓名,手机\n张三,13800138000\n", encoding="utf-8")
    with pytest.raises(ParseError, match="read_csv"):
        read_excel(csv_named)
    truncated = tmp_path / "cut.xlsx"
    write_excel([Customer(id="a")], truncated)
    truncated.write_bytes(truncated.read_bytes()[:300])
    with pytest.raises(ParseError, match="damaged"):
        read_excel(truncated)
    other_zip = tmp_path / "a.xlsx"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ParseError, match="ZIP archive, not a workbook"):
        read_excel(other_zip)
    broken_xml = tmp_path / "b.xlsx"
    write_excel([Customer(id="a")], broken_xml)
    with zipfile.ZipFile(broken_xml) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts["xl/worksheets/sheet1.xml"] = b"<worksheet><sheetData><row><c"
    with zipfile.ZipFile(broken_xml, "w") as z:
        for n, b in parts.items():
            z.writestr(n, b)
    with pytest.raises(ParseError, match="damaged"):
        list(read_excel(broken_xml))
    empty = tmp_path / "e.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(ParseError, match="empty"):
        read_excel(empty)
    with pytest.raises(ParseError, match="no such file"):
        read_excel(tmp_path / "missing.xlsx")


def test_a_password_protected_workbook_is_a_parse_error(tmp_path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile  # the test dependency group has it: no skip

    plain = tmp_path / "plain.xlsx"
    write_excel([Customer(id="a")], plain)
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as src, locked.open("wb") as out:
        OOXMLFile(src).encrypt("secret", out)
    with pytest.raises(ParseError, match="password-protected"):
        read_excel(locked)


def test_missing_extra_names_the_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "python_calamine", None)
    with pytest.raises(MissingExtraError, match=r"custdata\[excel\]"):
        read_excel(tmp_path / "x.xlsx")
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(MissingExtraError, match=r"custdata\[excel\]"):
        write_excel([], tmp_path / "x.xlsx")


# ------------------------------------------------------------------------------------ properties of the cell readers
_REGIONS = ["CN", "GB", "DE", "FR", "US", "JP", "AU", "IN", "BR", "IT"]


@st.composite
def _national_numbers(draw: st.DrawFn) -> tuple[str, str, str]:
    """(region, the national digits as dialled at home, E.164) of a valid number, varied from the
    region's example numbers."""
    import phonenumbers

    region = draw(st.sampled_from(_REGIONS))
    kind = draw(
        st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE])
    )
    example = phonenumbers.example_number_for_type(region, kind) or phonenumbers.example_number(region)
    nsn = phonenumbers.national_significant_number(example)
    tail = draw(st.integers(0, 10**4 - 1))
    candidate = nsn[:-4] + f"{tail:04d}"
    number = phonenumbers.parse(candidate, region)
    if not phonenumbers.is_valid_number(number):
        number = example
    national = "".join(
        ch
        for ch in phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if ch.isdigit()
    )
    return region, national, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=60, deadline=None)
@given(_national_numbers())
def test_property_a_phone_stored_as_a_number_is_never_silently_wrong(case: tuple[str, str, str]) -> None:
    """A number typed at home (0 and all) and stored by a spreadsheet as a number reads back as the same
    number (what normalize_phone makes of it in the region), or as a problem of its row: never another."""
    from custdata import normalize_phone
    from custdata.io._excel import _CellProblem, _phone_number

    region, national, e164 = case
    try:
        text = _phone_number(float(int(national)), region)
    except _CellProblem:
        return
    assert normalize_phone(text, region=region).e164 == e164
    if national.startswith("0") and region == "CN":
        assert text == national  # China's plan makes the trunk 0 certain


@settings(max_examples=60, deadline=None)
@given(
    when=st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 30)),
    system1904=st.booleans(),
)
def test_property_date_serials_read_back_as_written(when: dt.datetime, system1904: bool) -> None:
    """An Excel serial (days since the epoch of the workbook's date system, the time as a fraction of a
    day) reads back as the date-time it stands for, to the millisecond Excel keeps."""
    from custdata.io._excel import _serial

    when = when.replace(microsecond=when.microsecond // 1000 * 1000)
    epoch = dt.datetime(1904, 1, 1) if system1904 else dt.datetime(1899, 12, 30)
    if when < epoch:
        return
    delta = when - epoch
    serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    got = dt.datetime.fromisoformat(_serial(serial, system1904, birthday=False))
    assert got == when
