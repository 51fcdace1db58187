"""Reading never loses or invents rows: quotes, short rows, joined exports, encodings, ids, contacts,
deep JSON, phones with remarks, floats from DataFrames, workbooks, naive times (issue 17 §2)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata
from custdata import Customer, read_csv, read_jsonl
from custdata.exceptions import InvalidPhoneError, ParseError, ValidationError
from custdata.io import detect_encoding, set_default_tz
from custdata.normalization import normalize_phone
from custdata.normalization._phone import split_note
from custdata.testing import phones
from custdata.testing._io import chinese_text, csv_rows, encodings, latin_text, phone_cells

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
HEADER = ["id", "name", "note"]


def _text(rows: list[list[str]], header: list[str] = HEADER) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _read(tmp_path: Path, text: str, name: str = "in.csv", **kw: object) -> tuple[list[Customer], list[str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    reader = read_csv(path, errors="collect", **kw)  # type: ignore[arg-type]
    records = list(reader)
    return records, [str(p) for p in reader.problems]


# ------------------------------------------------------------------------------------ quotes
def test_unclosed_quote_is_reported_where_it_opens_and_later_rows_are_read(tmp_path: Path) -> None:
    text = 'id,name,phone\n1,"Zhang,13800138000\n2,Li,13900139000\n3,Wang,13700137000\n'
    records, problems = _read(tmp_path, text)
    assert [r.id for r in records] == ["2", "3"]
    assert len(problems) == 1 and problems[0].startswith("row 2:") and "quote" in problems[0]


def test_stray_quote_closed_rows_later_does_not_swallow_them(tmp_path: Path) -> None:
    text = 'id,name,phone\n1,Zhang,"13800138000\n2,Li,13900139000\n3,Wang,x"y\n4,Zhao,13600136000\n'
    records, problems = _read(tmp_path, text, check_contacts=False)
    assert [r.id for r in records] == ["2", "3", "4"]
    assert [p.split(":")[0] for p in problems] == ["row 2"]


def test_a_quoted_cell_with_line_breaks_is_still_one_cell(tmp_path: Path) -> None:
    text = 'id,name,address\n1,Zhang,"Room 1\nBeijing"\n2,Li,Shanghai\n'
    records, problems = _read(tmp_path, text)
    assert problems == []
    assert records[0].addresses[0].raw == "Room 1\nBeijing"


def test_unclosed_quote_raises_at_its_row_with_errors_raise(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('id,name\n1,ok\n2,"broken\n3,fine\n', encoding="utf-8")
    with pytest.raises(ParseError) as info:
        list(read_csv(path))
    assert info.value.row == 3


@SETTINGS
@given(rows=csv_rows(), data=st.data())
def test_property_one_stray_quote_loses_only_its_row(
    tmp_path: Path, rows: list[list[str]], data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, len(rows) - 1))
    col = data.draw(st.sampled_from([1, 2]))
    text = _text(rows)
    lines = text.split("\n")
    cells = lines[k + 1].split(",")
    cells[col] = '"' + cells[col]  # a quote that opens and never closes
    lines[k + 1] = ",".join(cells)
    records, problems = _read(tmp_path, "\n".join(lines))
    assert [r.id for r in records] == [r[0] for i, r in enumerate(rows) if i != k]
    assert [p.split(":")[0] for p in problems] == [f"row {k + 2}"]


# ------------------------------------------------------------------------------------ row shapes
def test_short_row_is_a_problem(tmp_path: Path) -> None:
    records, problems = _read(tmp_path, "id,name,phone\n1,Zhang\n2,Li,13900139000\n")
    assert [r.id for r in records] == ["2"]
    assert problems == ["row 2: 2 cells but 3 columns in the header"]


@SETTINGS
@given(rows=csv_rows(), data=st.data())
def test_property_short_and_long_rows_are_reported_never_read(
    tmp_path: Path, rows: list[list[str]], data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, len(rows) - 1))
    rows[k] = rows[k][:-1] if data.draw(st.booleans()) else [*rows[k], "extra"]
    records, problems = _read(tmp_path, _text(rows))
    assert [r.id for r in records] == [r[0] for i, r in enumerate(rows) if i != k]
    assert [p.split(":")[0] for p in problems] == [f"row {k + 2}"]


@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_joined_exports_header_again_is_skipped_and_reported(tmp_path: Path, bom: str) -> None:
    text = f"id,name,phone\n1,Zhang,13800138000\n{bom}id,name,phone\n2,Li,13900139000\n"
    records, problems = _read(tmp_path, text)
    assert [r.id for r in records] == ["1", "2"]
    assert problems == ["row 3: the header row again (two files joined?)"]
    assert all(r.name is None or r.name.full != "name" for r in records)


# ------------------------------------------------------------------------------------ encodings
@SETTINGS
@given(text=chinese_text(), enc=encodings())
def test_property_encodings_are_detected_exactly(tmp_path: Path, text: str, enc: tuple[str, bytes]) -> None:
    codec, bom = enc
    path = tmp_path / "e.csv"
    path.write_bytes(bom + text.encode(codec))
    try:
        found = detect_encoding(path)
    except ParseError:
        # without a BOM, text with too few ASCII characters cannot be told apart as UTF-16/32: refused
        assert not bom and codec.startswith("utf-") and codec not in ("utf-8",)
        return
    with open(path, encoding=found, newline="") as fh:
        assert fh.read() == text


@SETTINGS
@given(text=latin_text(), codec=st.sampled_from(["cp1252", "latin-1"]))
def test_property_latin_text_is_refused_never_misdecoded(tmp_path: Path, text: str, codec: str) -> None:
    path = tmp_path / "l.csv"
    path.write_bytes(text.encode(codec))
    with pytest.raises(ParseError, match="encoding="):
        detect_encoding(path)
    assert read_csv(path, encoding=codec) is not None  # the hint works


def test_big5_and_shift_jis_are_refused(tmp_path: Path) -> None:
    for text, codec in [
        ("姓名,城市\n陳大文,臺北\n林美玲,高雄\n", "big5"),
        ("名前\n山田太郎\n佐藤花子\n", "shift_jis"),
    ]:
        path = tmp_path / f"{codec}.csv"
        path.write_bytes(text.encode(codec))
        with pytest.raises(ParseError, match="encoding="):
            detect_encoding(path)


def test_utf32_bom_is_not_taken_for_utf16(tmp_path: Path) -> None:
    path = tmp_path / "u32.csv"
    path.write_bytes("name\n张三\n".encode("utf-32"))
    assert [c.name.full for c in read_csv(path) if c.name] == ["张三"]


def test_workbook_given_to_read_csv_says_so(tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"  # a workbook under a .csv name
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    for encoding in ("auto", "utf-8"):
        with pytest.raises(ParseError, match=r"Excel workbook \(\.xlsx\)"):
            read_csv(path, encoding=encoding)


# ------------------------------------------------------------------------------------ ids
def test_rows_without_id_get_stable_ids(tmp_path: Path) -> None:
    text = "name,phone\nZhang,13800138000\nZhang,13800138000\nLi,13900139000\n"
    first, _ = _read(tmp_path, text)
    again, _ = _read(tmp_path, text)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == 3  # equal rows are not merged by reading
    other, _ = _read(tmp_path, text, source="another-export")
    assert {c.id for c in other}.isdisjoint(c.id for c in first)
    old, _ = _read(tmp_path, text, missing_id="random")
    assert {c.id for c in old}.isdisjoint(c.id for c in first)
    none, problems = _read(tmp_path, text, missing_id="error")
    assert none == [] and problems == [f"row {i}, id: the row has no id" for i in (2, 3, 4)]


def test_reimport_updates_instead_of_duplicating(tmp_path: Path) -> None:
    text = "name,phone\nZhang,13800138000\nLi,13900139000\n"
    store = custdata.open_store("memory://")
    for _ in range(2):
        records, _ = _read(tmp_path, text)
        store.upsert_many(records)
    assert store.count() == 2


@SETTINGS
@given(rows=csv_rows())
def test_property_derived_ids_are_stable_and_distinct(tmp_path: Path, rows: list[list[str]]) -> None:
    rows = [r[1:] for r in rows]  # no id column
    text = _text(rows, ["name", "note"])
    a, _ = _read(tmp_path, text)
    b, _ = _read(tmp_path, text)
    assert [c.id for c in a] == [c.id for c in b]
    assert len({c.id for c in a}) == len(rows)


# ------------------------------------------------------------------------------------ contacts
@pytest.mark.parametrize(
    ("column", "value"),
    [("phone", "abc-def"), ("phone", "电话待补"), ("email", "wang#qq.com"), ("email", "zhangsan@")],
)
def test_invalid_phones_and_emails_are_problems(tmp_path: Path, column: str, value: str) -> None:
    records, problems = _read(tmp_path, f"id,{column}\n1,{value}\n2,\n")
    assert [r.id for r in records] == ["2"]
    assert len(problems) == 1 and problems[0].startswith("row 2, ")
    assert value not in problems[0]  # no PII in the reason
    records, problems = _read(tmp_path, f"id,{column}\n1,{value}\n", check_contacts=False)
    assert len(records) == 1


def test_validate_command_reports_invalid_contacts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("click")
    from custdata.cli._main import run

    path = tmp_path / "c.csv"
    path.write_text("id,phone,email\n1,abc-def,a@example.com\n2,13800138000,wang#qq.com\n3,13800138000,\n")
    with pytest.raises(SystemExit) as info:
        run(["validate", str(path)])
    out = capsys.readouterr().out
    assert info.value.code == 1
    assert "3 rows, 1 valid, 2 with problems" in out


@SETTINGS
@given(cell=phone_cells())
def test_property_remarks_around_a_number_are_kept_aside(cell: tuple[str, str, str]) -> None:
    text, number, remark = cell
    assert split_note(text) == (number, remark)

    def outcome(t: str) -> tuple[str | None, ...]:
        try:
            p = normalize_phone(t)
        except InvalidPhoneError as exc:  # a national form of another region: the same answer either way
            return ("invalid", exc.reason)
        return (p.e164, p.extension)

    assert outcome(text) == outcome(number)
    if outcome(number)[0] != "invalid":
        assert normalize_phone(text).note == remark


@pytest.mark.parametrize(
    ("cell", "number", "note"),
    [
        ("13800138000（同号）", "+8613800138000", "同号"),
        ("13800138000 微信同号", "+8613800138000", "微信同号"),
        ("(010) 6234 5678 (office)", "+861062345678", "office"),
        ("138-0013-8000 ext. 123", "+8613800138000;ext=123", None),
    ],
)
def test_phone_cells_with_remarks_read(tmp_path: Path, cell: str, number: str, note: str | None) -> None:
    records, problems = _read(tmp_path, f'id,phone\n1,"{cell}"\n')
    assert problems == []
    assert normalize_phone(records[0].phones[0].number).number == number
    assert records[0].custom.get("phone_note") == note


# ------------------------------------------------------------------------------------ deep JSON
@pytest.mark.parametrize("depth", [1_100, 5_000])
def test_deeply_nested_json_is_a_row_problem(tmp_path: Path, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    path = tmp_path / "d.jsonl"
    path.write_text(f'{{"id":"a"}}\n{{"id":"b","custom":{{"x":{deep}}}}}\n{{"id":"c"}}\n', encoding="utf-8")
    reader = read_jsonl(path, errors="collect")
    assert [c.id for c in reader] == ["a", "c"]
    assert [p.row for p in reader.problems] == [2]
    cell = '"{""x"":' + deep + '}"'
    records, problems = _read(tmp_path, f"id,custom\na,\nb,{cell}\nc,\n")
    assert [c.id for c in records] == ["a", "c"]
    assert [p.split(",")[0] for p in problems] == ["row 3"]
    with pytest.raises(ValidationError):
        Customer.from_json(f'{{"id":"b","custom":{{"x":{deep}}}}}')


# ------------------------------------------------------------------------------------ DataFrames
@SETTINGS
@given(phone=phones(regions=["CN"]))
def test_property_dataframe_float_phones_read_back_as_the_number(phone: custdata.Phone) -> None:
    pd = pytest.importorskip("pandas")
    import custdata.pandas as cpd

    digits = "".join(ch for ch in phone.number if ch.isdigit())
    df = pd.DataFrame({"id": ["a", "b"], "mobile": [float(digits), None]})
    assert df["mobile"].dtype == "float64"
    records = list(cpd.from_dataframe(df))
    assert records[0].phones[0].number == str(int(digits))


def test_dataframe_float_of_17_digits_is_a_problem_not_a_wrong_number() -> None:
    pd = pytest.importorskip("pandas")
    import custdata.pandas as cpd

    df = pd.DataFrame({"id": ["a", "b"], "mobile": [12345678901234567.0, None]})
    reader = cpd.from_dataframe(df, errors="collect")
    assert [c.id for c in reader] == ["b"]
    assert reader.problems[0].field == "mobile"


# ------------------------------------------------------------------------------------ naive times
def test_naive_times_use_the_reader_wide_default(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("customer_id,at,amount\nc1,2024-05-01 10:00,5\n", encoding="utf-8")
    [utc] = read_csv(path, kind="transaction")
    assert utc.at == dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)
    previous = set_default_tz("Asia/Shanghai")
    try:
        [local] = read_csv(path, kind="transaction")
        [given] = read_csv(path, kind="transaction", default_tz="UTC")
    finally:
        set_default_tz(previous)
    assert local.at == dt.datetime(2024, 5, 1, 2, tzinfo=dt.timezone.utc)
    assert given.at == utc.at


def test_validate_checks_json_lines_contacts_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("click")
    from custdata.cli._main import run

    path = tmp_path / "c.jsonl"
    custdata.write_jsonl(
        [Customer(id="a", phones=["电话待补"]), Customer(id="b", emails=["b@example.com"])], path
    )
    assert [c.id for c in read_jsonl(path)] == ["a", "b"]  # read_jsonl takes its own records as they are
    with pytest.raises(SystemExit) as info:
        run(["validate", str(path)])
    assert info.value.code == 1
    assert "2 rows, 1 valid, 1 with problems" in capsys.readouterr().out
