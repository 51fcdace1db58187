"""CSV and JSON Lines: encodings, headers, formula guard, per-row errors, atomic writes."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

import custdata
from custdata import (
    Customer,
    Interaction,
    MonthDay,
    Transaction,
    read_csv,
    read_jsonl,
    write_csv,
    write_jsonl,
)
from custdata.exceptions import ParseError, ValidationError
from custdata.io import guard_cell, unguard_cell


def _write(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_gb18030_with_chinese_headers_keeps_rare_characters(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "客户.csv",
        [
            ["姓名", "手机", "邮箱", "城市", "备注"],
            ["王䶮", "13800138000", "wang@example.com", "上海", "老客户"],
        ],
        "gb18030",
    )
    reader = read_csv(p)
    [c] = list(reader)
    assert reader.encoding == "gb18030"
    assert c.name.full == "王䶮"
    assert c.phones[0].number == "13800138000" and c.phones[0].kind.value == "mobile"
    assert c.emails[0].address == "wang@example.com"
    assert c.addresses[0].city == "上海"
    assert c.custom == {"备注": "老客户"}  # an unknown column is kept, not lost


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-8"])
def test_boms_and_utf8(tmp_path: Path, encoding: str) -> None:
    p = _write(
        tmp_path / "in.csv",
        [["name", "phone", "email"], ["Zoë Müller", "+49 30 1234567", "zoe@example.de"]],
        encoding,
    )
    [c] = list(read_csv(p))
    assert c.name.full == "Zoë Müller"


def test_gbk_is_read_as_gb18030(tmp_path: Path) -> None:
    p = _write(tmp_path / "in.csv", [["姓名"], ["王䶮"]], "gb18030")
    [c] = list(read_csv(p, encoding="gbk"))
    assert c.name.full == "王䶮"


def test_write_defaults_to_utf8_with_bom(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    write_csv([Customer(id="a", name="张三")], out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("cell", ["=1+1", "+86138", "-2", "@SUM(A1)", "\t=x", "\r=x", "'=x", "''+y"])
def test_guard_is_reversible(cell: str) -> None:
    guarded = guard_cell(cell)
    assert not guarded.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unguard_cell(guarded) == cell


def test_plain_cells_untouched() -> None:
    assert guard_cell("张三") == "张三" and unguard_cell("'quoted'") == "'quoted'"


def test_formula_injection_round_trip(tmp_path: Path) -> None:
    c = Customer.from_dict(
        {
            "id": "c1",
            "name": {"full": "+cmd|' /C calc'!A0"},
            "company": '=HYPERLINK("x")',
            "title": "-2+3",
            "owner": "@SUM(1+1)",
            "tags": ["\t=1+1", "\r=1+1"],
            "birthday": "--01-02",
            "phones": [{"number": "+8613800138000"}],
        }
    )
    out = tmp_path / "out.csv"
    write_csv([c], out)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert list(read_csv(out)) == [c]


def test_full_customer_csv_and_jsonl_round_trip(tmp_path: Path) -> None:
    from tests.foundation.test_records import SAMPLE

    c = Customer.from_dict(SAMPLE)
    write_csv([c, Customer(id="empty")], tmp_path / "a.csv")
    assert list(read_csv(tmp_path / "a.csv")) == [c, Customer(id="empty")]
    write_jsonl([c], tmp_path / "a.jsonl")
    assert list(read_jsonl(tmp_path / "a.jsonl")) == [c]


def test_transactions_and_interactions_round_trip(tmp_path: Path) -> None:
    t = Transaction.from_dict(
        {
            "customer_id": "c1",
            "at": "2026-01-02T03:04:05+08:00",
            "amount": "-12.50",
            "currency": "CNY",
            "items": [{"sku": "X", "quantity": "1.5"}],
        }
    )
    write_csv([t], tmp_path / "t.csv")
    assert list(read_csv(tmp_path / "t.csv", kind="transaction")) == [t]
    i = Interaction.from_dict(
        {
            "customer_id": "c1",
            "at": "2026-01-02T03:04:05+08:00",
            "kind": "complaint",
            "note": "=cmd",
            "nps": 3,
        }
    )
    write_csv([i], tmp_path / "i.csv")
    assert list(read_csv(tmp_path / "i.csv", kind="interaction")) == [i]


def test_transactions_from_a_chinese_export(tmp_path: Path) -> None:
    p = _write(
        tmp_path / "orders.csv",
        [
            ["会员号", "下单时间", "订单金额", "订单号"],
            ["c1", "2024/3/5 14:30", "¥1,234.50", "A1"],
            ["c2", "2024年3月6日", "88", "A2"],
        ],
    )
    t1, t2 = read_csv(p, kind="transaction", default_tz="Asia/Shanghai")
    assert t1.amount == Decimal("1234.50") and t1.order_id == "A1"
    assert t1.at.utcoffset() == dt.timedelta(hours=8) and t1.at.hour == 14
    assert t2.at.date() == dt.date(2024, 3, 6)


def test_transactions_need_a_customer_id_column(tmp_path: Path) -> None:
    p = _write(tmp_path / "t.csv", [["date", "amount"], ["2024-01-01", "3"]])
    with pytest.raises(ParseError, match="customer id"):
        list(read_csv(p, kind="transaction"))


def _messy(tmp_path: Path) -> Path:
    return _write(
        tmp_path / "messy.csv",
        [
            ["id", "name", "birthday", "created_at"],
            ["a", "Ann", "1990-01-02", "2026-01-01T00:00:00+00:00"],
            ["b", "Bob", "1990-02-30", "yesterday"],
            ["c", "Cy", "--03-04", ""],
            ["d", "Di", "", "", "surplus"],
        ],
    )


def test_errors_raise_names_row_and_field(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"row 3.*birthday") as info:
        list(read_csv(_messy(tmp_path)))
    assert info.value.row == 3 and isinstance(info.value, ValueError)


def test_errors_collect_reports_every_problem_and_keeps_going(tmp_path: Path) -> None:
    reader = read_csv(_messy(tmp_path), errors="collect")
    assert [c.id for c in reader] == ["a", "c"]
    assert {(p.row, p.field) for p in reader.problems} == {(3, "birthday"), (3, "created_at"), (5, "")}
    assert reader.rows == 4 and reader.skipped == 2
    assert reader.problems[0].value is not None


def test_errors_skip(tmp_path: Path) -> None:
    reader = read_csv(_messy(tmp_path), errors="skip")
    assert [c.id for c in reader] == ["a", "c"] and reader.problems == []
    assert isinstance(Customer.from_dict({"id": "c", "birthday": "--03-04"}).birthday, MonthDay)


def test_mapping_overrides_synonyms_and_can_ignore(tmp_path: Path) -> None:
    p = _write(tmp_path / "m.csv", [["客户代码", "Handy", "secret"], ["k1", "+49 151 1234567", "x"]])
    [c] = list(read_csv(p, mapping={"客户代码": "id", "Handy": "mobile", "secret": None}))
    assert c.id == "k1" and c.phones[0].number == "+49 151 1234567" and c.custom == {}


def test_huge_field_is_reported_not_a_crash(tmp_path: Path) -> None:
    p = tmp_path / "huge.csv"
    p.write_text("id,name\nx," + "a" * 200_000 + "\ny,Yan\n", encoding="utf-8")
    with pytest.raises(ParseError, match="row 2"):
        list(read_csv(p))
    reader = read_csv(p, errors="collect")
    rows = list(reader)
    assert reader.problems and reader.problems[0].row == 2
    assert [c.id for c in rows] in (["y"], [])


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="nope.csv: no such file"):
        read_csv(tmp_path / "nope.csv")


def test_undecodable_file(tmp_path: Path) -> None:
    p = tmp_path / "bin.csv"
    p.write_bytes(b"id,name\n1,\x80\xff\xfe\x81\x30\n")
    with pytest.raises(ParseError, match="encoding"):
        list(read_csv(p))


def test_bad_jsonl_lines(tmp_path: Path) -> None:
    p = tmp_path / "c.jsonl"
    p.write_text('{"id": "a"}\nnot json\n{"id": ""}\n\n{"id": "d"}\n', encoding="utf-8")
    reader = read_jsonl(p, errors="collect")
    assert [c.id for c in reader] == ["a", "d"]
    assert [p.row for p in reader.problems] == [2, 3]
    with pytest.raises(ParseError, match="row 2"):
        list(read_jsonl(p))


def test_write_is_atomic(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    write_csv([Customer(id="old")], out)
    before = out.read_bytes()

    def boom():  # a generator that fails half-way
        yield Customer(id="new")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_csv(boom(), out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary file left behind


def test_mixed_records_refused(tmp_path: Path) -> None:
    t = Transaction(customer_id="a", at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), amount=Decimal(1))
    with pytest.raises(ValidationError, match=r"records\[1\]"):
        write_csv([Customer(id="a"), t], tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


def test_reader_streams(tmp_path: Path) -> None:
    p = tmp_path / "big.csv"
    with open(p, "w", encoding="utf-8", newline="") as fh:
        fh.write("id,name\n")
        for i in range(10_000):
            fh.write(f"c{i},name {i}\n")
    reader = read_csv(p)
    assert next(reader).id == "c0"  # the first record comes before the file is read to the end
    reader.close()


def test_public_names() -> None:
    for name in custdata.__all__:
        if name in (
            "normalize",
            "normalize_address",
            "normalize_date",
            "normalize_email",
            "normalize_many",
            "normalize_name",
            "normalize_phone",
            "NormalizeResult",
            "NormalizedEmail",
            "NormalizedPhone",
            "QualityReport",
            "quality_report",
            "dedupe",
            "link",
            "Matcher",
            "DedupeResult",
            "LinkResult",
            "Store",
            "open_store",
            "summarize",
            "CustomerSummary",
        ):
            continue  # capability modules have their own tests
        assert getattr(custdata, name) is not None, name
