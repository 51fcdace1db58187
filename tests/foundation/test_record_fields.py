"""Records' fields are described once: every generated fast path is pinned to its general path, and a
record refuses at construction what some backend or file format could not keep."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata.testing as cst
from custdata import (
    Address,
    Consent,
    Customer,
    Email,
    FrozenMap,
    Interaction,
    LineItem,
    PersonName,
    Phone,
    Transaction,
)
from custdata import _fields as fields
from custdata.exceptions import ValidationError
from custdata.normalization import _record as norm
from custdata.storage import _core

RECORD_CLASSES = [Customer, PersonName, Phone, Email, Address, Consent, Transaction, LineItem, Interaction]


# --------------------------------------------------------------------------------------------- pins
@pytest.mark.parametrize("cls", RECORD_CLASSES, ids=lambda c: c.__name__)
@given(data=st.data())
@settings(max_examples=60)
def test_generated_to_dict_and_json_writer_match_the_general_path(cls: type, data: st.DataObject) -> None:
    r = data.draw(cst.records(cls))
    d = r.to_dict()  # generated
    assert d == fields.dict_of(r)  # general: each field's dump in a loop
    assert list(d) == list(fields.dict_of(r))  # the same key order, so the same JSON text
    text = fields.json_writer(cls)(r)  # generated
    assert text == fields.encode(d)
    assert cls.from_dict(json.loads(text)) == r  # type: ignore[attr-defined]


def _general(cls: type, data: Any) -> Any:
    return cls._from_dict_general.__func__(cls, data)  # type: ignore[attr-defined]


def _outcome(build: Any) -> Any:
    try:
        d = build().to_dict()
    except ValidationError as exc:
        return sorted((e.field, e.reason) for e in exc.errors)
    if isinstance(d.get("id"), str) and len(d["id"]) == 32:
        del d["id"]  # a fresh random id (the default factory)
    return d


@pytest.mark.parametrize("cls", RECORD_CLASSES, ids=lambda c: c.__name__)
@given(data=st.data())
@settings(max_examples=60)
def test_generated_from_dict_matches_the_general_loop(cls: type, data: st.DataObject) -> None:
    r = data.draw(cst.records(cls))
    d = r.to_dict()
    assert cls.from_dict(d) == _general(cls, d) == r  # type: ignore[attr-defined]
    # damaged dicts: the same problems, field by field
    names = [f.name for f in fields.fields_of(cls)]
    junk = st.one_of(st.none(), st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2))
    broken = dict(d)
    for name in data.draw(st.lists(st.sampled_from([*names, "zz"]), max_size=4)):
        if data.draw(st.booleans()):
            broken.pop(name, None)
        else:
            broken[name] = data.draw(junk)
    assert _outcome(lambda: cls.from_dict(broken)) == _outcome(lambda: _general(cls, broken))  # type: ignore[attr-defined]


@given(cst.customers())
@settings(max_examples=200)
def test_store_body_is_the_general_compact_form(c: Customer) -> None:
    general = fields.compact_dict(c, leave_out=["version"])
    assert _core.compact_dict(c) == general
    assert _core.body_text(c) == fields.encode(general)
    assert _core.decode_customer(_core.body_text(c), c.version) == c
    full = c.to_dict()
    del full["version"]
    assert _core.expand(_core.read_body(_core.body_text(c))) == full


def test_the_body_leaves_out_defaults_only() -> None:
    c = Customer(id="x", version=4)
    assert _core.body_text(c) == '{"schema":1,"id":"x"}'
    assert _core.decode_customer(_core.body_text(c), 4) == c


def _values(record: Any) -> list[Any]:
    return [getattr(record, a.name) for a in attrs.fields(type(record))]


@given(cst.person_names(), cst.phones(), cst.emails(), cst.addresses())
def test_normalize_builders_build_what_the_constructor_builds(
    n: PersonName, p: Phone, e: Email, a: Address
) -> None:
    assert norm._new_name(*_values(n)) == PersonName(*_values(n))
    assert norm._new_phone(*_values(p)) == Phone(*_values(p))
    assert norm._new_email(*_values(e)) == Email(*_values(e))
    assert norm._new_address(*_values(a)) == Address(*_values(a))


@given(cst.customers(), cst.customers())
@settings(max_examples=50)
def test_normalize_replace_is_evolve_of_the_parts(old: Customer, new: Customer) -> None:
    parts = {name: getattr(new, name) for name in norm._PARTS}
    assert norm._replace(old, *parts.values()) == attrs.evolve(old, **parts)


_LOOK = norm._direct("CN")


@given(cst.phones(), st.booleans())
def test_normalize_one_phone_shortcut_is_the_loop(p: Phone, drop: bool) -> None:
    fast_issues: list[norm.Issue] = []
    loop_issues: list[norm.Issue] = []
    fast = norm._phones((p,), drop, fast_issues, _LOOK.phone)
    assert fast == norm._phones_loop((p,), drop, loop_issues, _LOOK.phone)
    assert fast_issues == loop_issues


@given(st.one_of(cst.emails(), cst.records(Email)), st.booleans())
def test_normalize_one_email_shortcut_is_the_loop(e: Email, drop: bool) -> None:
    fast_issues: list[norm.Issue] = []
    loop_issues: list[norm.Issue] = []
    fast = norm._emails((e,), drop, fast_issues, _LOOK.email)
    assert fast == norm._emails_loop((e,), drop, loop_issues, _LOOK.email)
    assert fast_issues == loop_issues


@pytest.mark.parametrize("number", ["13800138000", "12345", "+8613800138000", "电话待补"])
def test_normalize_one_phone_shortcut_examples(number: str) -> None:
    p = Phone(number)
    a: list[norm.Issue] = []
    b: list[norm.Issue] = []
    assert norm._phones((p,), False, a, _LOOK.phone) == norm._phones_loop((p,), False, b, _LOOK.phone)
    assert a == b


def test_every_field_has_a_strategy() -> None:
    for cls in RECORD_CLASSES:
        for f in fields.fields_of(cls):
            assert cst.field_strategy(cls, f.name) is not None


# --------------------------------------------------------------------------------------------- refusals
BAD_TEXT = ["a\x00b", "\ud800", "ok\udfffok", "\x00"]


@pytest.mark.parametrize("bad", BAD_TEXT)
@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda t: Customer(id=t), "id"),
        (lambda t: Customer(id="x", name=t), "name.full"),
        (lambda t: Customer(id="x", phones=[t]), "phones.0.number"),
        (lambda t: Customer(id="x", emails=[{"address": t}]), "emails.0.address"),
        (lambda t: Customer(id="x", addresses=[{"street": t}]), "addresses.0.street"),
        (lambda t: Customer(id="x", company=t), "company"),
        (lambda t: Customer(id="x", tags=[t]), "tags"),
        (lambda t: Customer(id="x", external_ids={"erp": t}), "external_ids"),
        (lambda t: Customer(id="x", external_ids={t: "1"}), "external_ids"),
        (lambda t: Customer(id="x", custom={"k": t}), "custom"),
        (lambda t: Customer(id="x", custom={t: 1}), "custom"),
        (lambda t: Customer(id="x", custom={"k": [{"n": t}]}), "custom"),
        (lambda t: Customer.from_dict({"id": "x", "owner": t}), "owner"),
        (lambda t: Transaction(customer_id="c", at="2026-01-01T00:00:00Z", amount=1, order_id=t), "order_id"),
        (lambda t: Interaction(customer_id="c", at="2026-01-01T00:00:00Z", note=t), "note"),
    ],
)
def test_text_no_store_can_hold_is_refused(build: Any, field: str, bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        build(bad)
    assert field in info.value.fields
    assert bad not in str(info.value)  # the value itself (maybe PII) stays out of the message


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, [1.0, math.nan], {"a": math.inf}])
def test_frozen_map_refuses_non_finite_numbers(bad: Any) -> None:
    with pytest.raises(ValidationError):
        FrozenMap({"x": bad})
    with pytest.raises(ValidationError, match="custom"):
        Customer(id="x", custom={"x": bad})
    with pytest.raises(ValidationError, match="custom"):
        Customer.from_dict({"id": "x", "custom": {"x": bad}})


def test_frozen_map_refuses_bad_text() -> None:
    with pytest.raises(ValidationError):
        FrozenMap({"x": "\x00"})
    with pytest.raises(ValidationError):
        FrozenMap({"\ud800": 1})


@pytest.mark.parametrize("amount", ["1e400", "-1e400", "1e-400", "1" + "0" * 20, Decimal("1E+16"), 1e300])
def test_amounts_have_a_bounded_exponent(amount: object) -> None:
    with pytest.raises(ValidationError, match="amount"):
        Transaction(customer_id="c", at="2026-01-01T00:00:00Z", amount=amount)
    with pytest.raises(ValidationError, match="unit_price"):
        LineItem(sku="a", unit_price=amount)


@pytest.mark.parametrize("amount", ["0.01", "-199.90", "9999999999999999", "0.000000000000000001", "0E-400"])
def test_ordinary_amounts_are_kept(amount: str) -> None:
    t = Transaction(customer_id="c", at="2026-01-01T00:00:00Z", amount=amount)
    assert t.amount == Decimal(amount)
    assert math.isfinite(float(t.amount))
    assert Transaction.from_dict(t.to_dict()) == t


@pytest.mark.parametrize("code", ["中国人", "XYZ", "RMB", "US", "usd1", 840])
def test_currencies_come_from_iso_4217(code: object) -> None:
    with pytest.raises(ValidationError, match="currency"):
        Transaction(customer_id="c", at="2026-01-01T00:00:00Z", amount=1, currency=code)


def test_currency_codes_are_upper_cased() -> None:
    assert (
        Transaction(customer_id="c", at="2026-01-01T00:00:00Z", amount=1, currency=" cny ").currency == "CNY"
    )


def test_birthdays_are_not_in_the_future() -> None:
    with pytest.raises(ValidationError, match="birthday"):
        Customer(id="x", birthday="9999-01-01")
    with pytest.raises(ValidationError, match="future"):
        Customer(id="x", birthday=dt.date.today() + dt.timedelta(days=2))
    assert Customer(id="x", birthday=dt.date.today()).birthday == dt.date.today()
    assert Customer(id="x", birthday="--12-31").birthday is not None


def test_huge_whole_numbers_are_validation_errors() -> None:
    huge = 10**5000
    for build in (
        lambda: Customer(id="x", version=huge),
        lambda: Customer(id="x", custom={"n": huge}),
        lambda: Customer(id="x", custom={"n": [2**63]}),
        lambda: Transaction(customer_id="c", at="2026-01-01T00:00:00Z", amount=huge),
        lambda: Interaction(customer_id="c", at="2026-01-01T00:00:00Z", nps=huge),
        lambda: Interaction(customer_id="c", at="2026-01-01T00:00:00Z", satisfaction=huge),
        lambda: Customer.from_json('{"id": "x", "version": ' + "9" * 5000 + "}"),
    ):
        with pytest.raises(ValidationError):
            build()
    assert Customer(id="x", custom={"n": 2**63 - 1}).custom["n"] == 2**63 - 1


def test_date_times_must_exist_in_utc() -> None:
    minus12 = dt.timezone(dt.timedelta(hours=-12))
    with pytest.raises(ValidationError, match="created_at"):
        Customer(id="x", created_at=dt.datetime(9999, 12, 31, 20, tzinfo=minus12))
    plus14 = dt.timezone(dt.timedelta(hours=14))
    with pytest.raises(ValidationError, match="updated_at"):
        Customer(id="x", updated_at=dt.datetime(1, 1, 1, 1, tzinfo=plus14))
