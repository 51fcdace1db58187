"""Round-trip properties over the public strategies in custdata.testing."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as hs

import custdata.testing as st
from custdata import Customer, Interaction, Transaction, read_csv, read_jsonl, write_csv, write_jsonl
from custdata.io import guard_cell, unguard_cell


@given(st.customers())
def test_property_customer_dict_and_json_round_trip(c: Customer) -> None:
    assert Customer.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert Customer.from_json(c.to_json()).to_dict() == c.to_dict()


@given(st.transactions())
def test_property_transaction_round_trip(t: Transaction) -> None:
    assert Transaction.from_dict(json.loads(json.dumps(t.to_dict()))) == t


@given(st.interactions())
def test_property_interaction_round_trip(i: Interaction) -> None:
    assert Interaction.from_dict(json.loads(json.dumps(i.to_dict()))) == i


@settings(max_examples=30)
@given(hs.lists(st.customers(), max_size=4))
def test_property_customers_csv_and_jsonl_round_trip(customers: list[Customer]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_csv(customers, Path(tmp) / "c.csv")
        assert list(read_csv(Path(tmp) / "c.csv")) == customers
        write_jsonl(customers, Path(tmp) / "c.jsonl")
        assert list(read_jsonl(Path(tmp) / "c.jsonl")) == customers


@settings(max_examples=30)
@given(hs.lists(st.transactions(), max_size=4), hs.lists(st.interactions(), max_size=4))
def test_property_activity_csv_round_trip(txs: list[Transaction], its: list[Interaction]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_csv(txs, Path(tmp) / "t.csv", kind="transaction")
        assert list(read_csv(Path(tmp) / "t.csv", kind="transaction")) == txs
        write_csv(its, Path(tmp) / "i.csv", kind="interaction")
        assert list(read_csv(Path(tmp) / "i.csv", kind="interaction")) == its


@given(hs.text())
@example("00")
@example("=1+1")
@example("13800138000")
def test_property_formula_guard_is_safe_and_reversible(text: str) -> None:
    guarded = guard_cell(text)
    # The one formula a guarded cell may start with: a constant string of digits (="00123"), which keeps a
    # digit string as text in a spreadsheet and cannot run anything.
    constant = re.fullmatch(r'="[0-9]+"', guarded) is not None
    assert constant or not guarded.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unguard_cell(guarded) == text
