"""Round-trip properties over the public strategies in custdata.testing."""

from __future__ import annotations

import json

import custdata.testing as st
from hypothesis import given

from custdata import Customer, Interaction, Transaction


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
