"""Records: construction, validation, dict/JSON round-trips."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

import custdata
from custdata import Customer, Interaction, MonthDay, Transaction
from custdata.exceptions import CustdataError, SchemaVersionError, ValidationError

SAMPLE = {
    "schema": 1,
    "id": "c1",
    "name": {"full": "欧阳娜娜", "family": "欧阳", "given": "娜娜"},
    "phones": [{"number": "+8613800138000", "kind": "mobile", "primary": True, "verified_at": None}],
    "emails": [{"address": "nana@example.com", "kind": "personal", "primary": True, "verified_at": None}],
    "addresses": [
        {
            "country": "CN",
            "province": "北京市",
            "city": "北京市",
            "district": "朝阳区",
            "street": "建国路 88 号",
            "postal_code": "100022",
            "raw": None,
        }
    ],
    "birthday": "1990-01-02",
    "gender": None,
    "company": None,
    "title": None,
    "tags": ["vip"],
    "channel": "store",
    "lifecycle_stage": "customer",
    "owner": None,
    "consents": {
        "marketing_sms": {
            "granted": True,
            "at": "2026-01-02T03:04:05+00:00",
            "source": "web form",
            "expires": None,
        }
    },
    "external_ids": {"erp": "A-1001"},
    "custom": {"vip_level": 3, "notes": ["a", {"b": None}]},
    "created_at": "2026-01-02T03:04:05+00:00",
    "updated_at": "2026-01-02T03:04:05+00:00",
    "version": 1,
}


def test_design_dict_shape_round_trips_exactly() -> None:
    c = Customer.from_dict(SAMPLE)
    assert c.to_dict() == SAMPLE
    assert Customer.from_json(c.to_json()) == c


def test_subset_takes_defaults() -> None:
    c = Customer.from_dict({"id": "x"})
    assert c.phones == () and c.tags == frozenset() and c.version == 0 and not c.name


def test_missing_id_gets_a_fresh_one() -> None:
    a, b = Customer(), Customer()
    assert a.id and b.id and a.id != b.id


def test_year_less_birthday() -> None:
    c = Customer.from_dict({"id": "x", "birthday": "--02-29"})
    assert c.birthday == MonthDay(2, 29)
    assert c.to_dict()["birthday"] == "--02-29"


@pytest.mark.parametrize("bad", ["--02-30", "--13-01", "1990-02-30", "yesterday", 19900102])
def test_bad_birthday(bad: object) -> None:
    with pytest.raises(ValidationError, match="birthday"):
        Customer.from_dict({"id": "x", "birthday": bad})


def test_every_failing_field_is_reported_at_once() -> None:
    bad = dict(SAMPLE, created_at="not a time", phones=[{"number": ""}], channel="carrier pigeon", zz=1)
    with pytest.raises(ValidationError) as info:
        Customer.from_dict(bad)
    assert set(info.value.fields) == {"created_at", "phones.0.number", "channel", "zz"}
    assert isinstance(info.value, ValueError) and isinstance(info.value, CustdataError)


def test_constructor_names_the_field() -> None:
    with pytest.raises(ValidationError, match="version"):
        Customer(id="x", version=-1)
    with pytest.raises(ValidationError, match="tags"):
        Customer(id="x", tags="vip")  # a string is not a collection of tags


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        Customer(id="x", created_at=dt.datetime(2026, 1, 1))


def test_custom_must_be_json_safe() -> None:
    with pytest.raises(ValidationError, match="custom"):
        Customer(id="x", custom={"when": dt.date(2026, 1, 1)})
    with pytest.raises(ValidationError, match="custom"):
        Customer(id="x", custom={"x": float("nan")})


def test_custom_is_a_private_copy() -> None:
    data = {"list": [1, 2]}
    c = Customer(id="x", custom=data)
    data["list"].append(3)
    assert c.custom["list"] == [1, 2]


def test_records_are_frozen_and_hashable() -> None:
    c = Customer.from_dict({k: v for k, v in SAMPLE.items() if k != "custom"})
    with pytest.raises(AttributeError):
        c.id = "y"  # type: ignore[misc]
    assert hash(c) == hash(Customer.from_dict(c.to_dict()))


def test_empty_text_is_none() -> None:
    assert Customer(id="x", company="").company is None


def test_unknown_schema_version() -> None:
    with pytest.raises(SchemaVersionError, match="schema version 99"):
        Customer.from_dict({"schema": 99, "id": "x"})


def test_transaction_round_trip_keeps_decimal_and_offset() -> None:
    t = Transaction.from_dict(
        {
            "customer_id": "c1",
            "at": "2026-03-04T05:06:07.123456+08:00",
            "amount": "1234.5600",
            "currency": "cny",
            "items": [{"sku": "A1", "quantity": "2", "unit_price": "617.28"}],
        }
    )
    assert t.amount == Decimal("1234.5600") and t.currency == "CNY"
    d = t.to_dict()
    assert d["amount"] == "1234.5600" and d["at"] == "2026-03-04T05:06:07.123456+08:00"
    assert Transaction.from_dict(json.loads(json.dumps(d))) == t


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "abc", True, None])
def test_transaction_bad_amount(amount: object) -> None:
    with pytest.raises(ValidationError, match="amount"):
        Transaction.from_dict({"customer_id": "c1", "at": "2026-01-01T00:00:00Z", "amount": amount})


def test_interaction_scores_are_checked() -> None:
    ok = Interaction.from_dict(
        {"customer_id": "c1", "at": "2026-01-01T00:00:00Z", "kind": "survey", "satisfaction": 4.5, "nps": 9}
    )
    assert Interaction.from_dict(ok.to_dict()) == ok
    with pytest.raises(ValidationError, match="nps"):
        Interaction.from_dict({"customer_id": "c1", "at": "2026-01-01T00:00:00Z", "nps": 11})
    with pytest.raises(ValidationError, match="satisfaction"):
        Interaction.from_dict({"customer_id": "c1", "at": "2026-01-01T00:00:00Z", "satisfaction": 0})


def test_display_name_follows_culture() -> None:
    assert custdata.PersonName(family="欧阳", given="娜娜").display == "欧阳娜娜"
    assert custdata.PersonName(family="Lovelace", given="Ada").display == "Ada Lovelace"


def test_primary_contact_points() -> None:
    c = Customer.from_dict({"id": "x", "phones": [{"number": "1"}, {"number": "2", "primary": True}]})
    assert c.primary_phone is not None and c.primary_phone.number == "2"
    assert Customer(id="y").primary_email is None
