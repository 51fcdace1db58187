"""DataFrame interop."""

from __future__ import annotations

import pytest

pd = pytest.importorskip("pandas")

import custdata.pandas as cpd  # noqa: E402
from custdata import Customer, Transaction  # noqa: E402
from custdata.exceptions import ParseError  # noqa: E402
from tests.foundation.test_records import SAMPLE  # noqa: E402


def test_customers_round_trip() -> None:
    cs = [Customer.from_dict(SAMPLE), Customer(id="bare")]
    df = cpd.to_dataframe(cs)
    assert list(df["id"]) == ["c1", "bare"]
    assert str(df["created_at"].dtype).startswith("datetime64")
    assert list(cpd.from_dataframe(df)) == cs


def test_transactions_are_typed() -> None:
    ts = [Transaction.from_dict({"customer_id": "c1", "at": "2026-01-02T03:04:05+08:00", "amount": "12.5"})]
    df = cpd.to_dataframe(ts)
    assert df["amount"].dtype.kind == "f"
    assert list(cpd.from_dataframe(df, kind="transaction")) == ts


def test_user_headers_and_errors() -> None:
    df = pd.DataFrame({"姓名": ["张三", "李四"], "生日": ["1990-01-02", "1990-02-30"]})
    reader = cpd.from_dataframe(df, errors="collect")
    assert [c.name.full for c in reader] == ["张三"]
    assert [(p.row, p.field) for p in reader.problems] == [(3, "birthday")]
    with pytest.raises(ParseError, match="row 3"):
        list(cpd.from_dataframe(df))
