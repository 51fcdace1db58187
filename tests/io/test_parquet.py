"""Parquet files and Arrow tables: typed columns, exact round trips, per-row problems, analytics export."""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import custdata.testing as st
from custdata import Customer, Interaction, MonthDay, Transaction
from custdata._fields import fields_of
from custdata.exceptions import MissingExtraError, ParseError, ValidationError
from custdata.io import from_arrow, pseudonymize_record, read_parquet, to_arrow, write_parquet
from custdata.io._parquet import _rules

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

_KIND = {Customer: "customer", Transaction: "transaction", Interaction: "interaction"}


def _round_trip(records: list[Any], cls: type) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.parquet"
        assert write_parquet(records, path, kind=_KIND[cls]) == len(records)  # type: ignore[arg-type]
        back = list(read_parquet(path, kind=_KIND[cls]))  # type: ignore[arg-type]
    assert back == records
    assert [r.to_dict() for r in back] == [r.to_dict() for r in records]  # offsets, exponents kept


@settings(max_examples=40)
@given(hs.lists(st.customers(), max_size=4))
def test_property_customers_round_trip_exactly(records: list[Customer]) -> None:
    _round_trip(records, Customer)


@settings(max_examples=40)
@given(hs.lists(st.transactions(), max_size=4))
def test_property_transactions_round_trip_exactly(records: list[Transaction]) -> None:
    _round_trip(records, Transaction)


@settings(max_examples=40)
@given(hs.lists(st.interactions(), max_size=4))
def test_property_interactions_round_trip_exactly(records: list[Interaction]) -> None:
    _round_trip(records, Interaction)


@settings(max_examples=30)
@given(hs.lists(st.customers(), max_size=4))
def test_property_arrow_tables_round_trip(records: list[Customer]) -> None:
    table = to_arrow(records, kind="customer")
    assert table.num_rows == len(records)
    back = list(from_arrow(table))
    assert [r.to_dict() for r in back] == [r.to_dict() for r in records]


def test_columns_are_typed() -> None:
    c = Customer.from_dict(
        {
            "id": "00123",
            "name": {"full": "张三"},
            "phones": [{"number": "13800138000", "kind": "mobile"}],
            "birthday": "1990-05-01",
            "tags": ["vip"],
            "external_ids": {"erp": "E1"},
            "custom": {"level": 3},
            "created_at": "2024-01-02T10:00:00+08:00",
        }
    )
    schema = to_arrow([c]).schema
    assert schema.field("id").type == pa.string()
    assert schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("created_at_utc_offset").type == pa.int32()
    assert schema.field("birthday").type == pa.date32()
    assert pa.types.is_list(schema.field("phones").type)
    assert schema.field("phones").type.value_type.field("number").type == pa.string()
    assert pa.types.is_map(schema.field("external_ids").type)
    assert pa.types.is_list(schema.field("tags").type)
    t = to_arrow(
        [Transaction(customer_id="c1", at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), amount="12.50")]
    )
    assert t.schema.field("amount").type == pa.decimal128(34, 18)
    row = t.to_pylist()[0]
    assert row["amount"] == Decimal("12.5") and row["amount_exponent"] == -2
    assert to_arrow([c]).to_pylist()[0]["created_at"] == dt.datetime(2024, 1, 2, 2, 0, tzinfo=dt.timezone.utc)


def test_every_field_has_a_column() -> None:
    for cls in (Customer, Transaction, Interaction):
        names = set(to_arrow([], kind=_KIND[cls]).schema.names)  # type: ignore[arg-type]
        assert {f.name for f in fields_of(cls)} <= names


def test_year_less_birthday_and_offsets_come_back(tmp_path: Path) -> None:
    tz = dt.timezone(dt.timedelta(hours=5, minutes=45))
    c = Customer(id="c1", birthday=MonthDay(2, 29), created_at=dt.datetime(2024, 1, 1, 9, 0, tzinfo=tz))
    write_parquet([c], tmp_path / "c.parquet")
    [back] = read_parquet(tmp_path / "c.parquet")
    assert back.birthday == MonthDay(2, 29)
    assert back.created_at.isoformat() == "2024-01-01T09:00:00+05:45"


def _bad_table() -> Any:
    good = [
        Transaction(
            customer_id="c1", at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), amount="1", currency="CNY"
        )
        for _ in range(3)
    ]
    table = to_arrow(good)
    currency = pa.array(["CNY", "XYZ", "USD"])
    return table.set_column(table.schema.get_field_index("currency"), "currency", currency)


def test_bad_rows_follow_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(_bad_table(), path)
    reader = read_parquet(path, kind="transaction", errors="collect")
    records = list(reader)
    assert [r.currency for r in records] == ["CNY", "USD"]
    assert [(p.row, p.field) for p in reader.problems] == [(2, "currency")]
    assert reader.rows == 3 and reader.skipped == 1
    assert len(list(read_parquet(path, kind="transaction", errors="skip"))) == 2
    with pytest.raises(ParseError) as info:
        list(read_parquet(path, kind="transaction"))
    assert info.value.row == 2


def test_missing_required_column_is_a_row_problem() -> None:
    table = pa.table({"customer_id": ["c1"], "amount": [Decimal(1)]})
    reader = from_arrow(table, kind="transaction", errors="collect")
    assert list(reader) == []
    assert [p.field for p in reader.problems] == ["at"]


def test_unknown_columns_are_noted_and_left_out() -> None:
    table = pa.table({"id": ["c1"], "shoe_size": [42]})
    reader = from_arrow(table)
    assert [c.id for c in reader] == ["c1"]
    assert reader.columns == {"id": "id", "shoe_size": None}


def test_files_that_are_not_parquet_or_of_another_kind(tmp_path: Path) -> None:
    (tmp_path / "x.parquet").write_text("id,name\nc1,a\n")
    with pytest.raises(ParseError, match="not a Parquet file"):
        read_parquet(tmp_path / "x.parquet")
    with pytest.raises(ParseError, match="no such file"):
        read_parquet(tmp_path / "missing.parquet")
    write_parquet(
        [Interaction(customer_id="c1", at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))],
        tmp_path / "i.parquet",
    )
    with pytest.raises(ParseError, match="kind='interaction'"):
        read_parquet(tmp_path / "i.parquet")


def test_writes_are_atomic_and_refuse_what_is_not_a_record(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    write_parquet([Customer(id="c1")], path)
    before = path.read_bytes()
    with pytest.raises(ValidationError, match=r"records\[1\]"):
        write_parquet([Customer(id="c2"), "not a record"], path)  # type: ignore[list-item]
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.parquet"]
    with pytest.raises(ValidationError):
        write_parquet([Customer(id="c2")], path, compression="zip")


def test_missing_pyarrow_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingExtraError, match=r"custdata\[parquet\]"):
        write_parquet([Customer(id="c1")], tmp_path / "c.parquet")


# ------------------------------------------------------------------------------------ analytics export
def _pseudonymizer() -> Any:
    from custdata.security import Keyring, Pseudonymizer

    return Pseudonymizer(Keyring.generate())


_PEOPLE = [
    Customer.from_dict(
        {
            "id": "cust-000917",
            "name": {"full": "欧阳娜娜", "family": "欧阳", "given": "娜娜"},
            "phones": [{"number": "+8613812345678", "kind": "mobile"}],
            "emails": [{"address": "nana.ouyang@example.com"}],
            "addresses": [
                {
                    "country": "CN",
                    "city": "上海",
                    "street": "南京西路1266号",
                    "postal_code": "200040",
                    "raw": "上海市南京西路1266号",
                }
            ],
            "birthday": "1990-06-15",
            "company": "恒隆广场有限公司",
            "owner": "Li Wei",
            "external_ids": {"erp": "ERP-55501"},
            "custom": {"remark": "VIP via Zhang Qiang 13900001111"},
            "tags": ["vip"],
            "channel": "store",
        }
    ),
    Customer.from_dict({"id": "cust-000918", "name": "John Smithson", "phones": ["+14155550123"]}),
]
_SECRETS = [
    "cust-000917",
    "cust-000918",
    "欧阳娜娜",
    "娜娜",
    "John Smithson",
    "13812345678",
    "4155550123",
    "nana.ouyang",
    "南京西路",
    "200040",
    "恒隆广场",
    "Li Wei",
    "ERP-55501",
    "Zhang Qiang",
    "13900001111",
    "1990-06-15",
]


def test_pseudonymised_export_holds_no_direct_identifiers(tmp_path: Path) -> None:
    p = _pseudonymizer()
    txn = Transaction(
        customer_id="cust-000917",
        at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
        amount="99.00",
        order_id="SO-77731",
    )
    write_parquet(_PEOPLE, tmp_path / "c.parquet", pseudonymize=p, compression="none")
    write_parquet([txn], tmp_path / "t.parquet", pseudonymize=p, compression="none")
    raw = (tmp_path / "c.parquet").read_bytes() + (tmp_path / "t.parquet").read_bytes()
    for secret in [*_SECRETS, "SO-77731"]:
        assert secret.encode("utf-8") not in raw, secret
    plain = tmp_path / "plain.parquet"
    write_parquet(_PEOPLE, plain, compression="none")  # the check can fail: the plain file has them
    assert all(s.encode("utf-8") in plain.read_bytes() for s in ("欧阳娜娜", "南京西路", "13812345678"))
    [c1, _] = read_parquet(tmp_path / "c.parquet")
    [t] = read_parquet(tmp_path / "t.parquet", kind="transaction")
    assert t.customer_id == c1.id == p("cust-000917", field="customer_id")  # exports still join
    assert c1.phones[0].kind.value == "mobile" and c1.addresses[0].city == "上海"
    assert c1.tags == {"vip"} and c1.channel is not None and t.amount == Decimal("99.00")
    assert pq.read_schema(tmp_path / "c.parquet").metadata[b"custdata.pseudonymized"] == b"true"


@settings(max_examples=40)
@given(st.customers())
def test_property_pseudonymised_customers_keep_no_name_or_contact(c: Customer) -> None:
    p = _pseudonymizer()
    out = pseudonymize_record(c, p)
    assert not out.name and out.birthday is None and not out.custom and out.company is None
    assert [x.number for x in out.phones] == [p(x.number, field="phone") for x in c.phones]
    assert [x.address for x in out.emails] == [p(x.address, field="email") for x in c.emails]
    assert all(a.street is None and a.raw is None and a.postal_code is None for a in out.addresses)


def test_every_field_is_decided_for_the_export() -> None:
    """A field added to a record is left out of the export until someone names it in the rules."""
    p = _pseudonymizer()
    for cls, left_out in (
        (Customer, {"name", "birthday", "company", "title", "custom"}),
        (Transaction, set()),
        (Interaction, {"note"}),
    ):
        names = {f.name for f in fields_of(cls)}
        assert set(_rules(p, cls)) == names - left_out
