"""Consent per purpose and channel with expiry: the one model reminders and marketing exports use."""

from __future__ import annotations

import datetime as dt
import doctest
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import custdata.security._consent as consent_module
import custdata.testing as cst
from custdata import Customer
from custdata.exceptions import ValidationError
from custdata.security import (
    CONSENT_REASONS,
    REACHABLE,
    ConsentStatus,
    consent_key,
    consent_status,
    consented,
    contact_channel,
    may_contact,
    record_consent,
)
from custdata.segments import birthday_reminders, care_reminders
from custdata.testing._privacy import CHANNELS, PURPOSES

UTC = dt.timezone.utc
purposes = st.sampled_from(PURPOSES)
channels = st.none() | st.sampled_from(CHANNELS)
moments = st.datetimes(
    min_value=dt.datetime(2024, 6, 1), max_value=dt.datetime(2028, 6, 1), timezones=st.just(UTC)
)
days = st.dates(min_value=dt.date(2024, 6, 1), max_value=dt.date(2028, 6, 1))


def person(consents: dict[str, Any], **kw: Any) -> Customer:
    return Customer.from_dict({"id": kw.pop("id", "c1"), "consents": consents, **kw})


def _expected(entry: dict[str, Any] | None, at: dt.datetime) -> str:
    """The rule, written out independently of the module."""
    if entry is None:
        return "no_consent"
    if not entry["granted"]:
        return "withdrawn"
    if entry["at"] is not None and dt.datetime.fromisoformat(entry["at"]) > at:
        return "no_consent"
    if entry["expires"] is not None and dt.datetime.fromisoformat(entry["expires"]) <= at:
        return "expired"
    return "valid"


# --------------------------------------------------------------------------------------------- the rule
@given(cst.consent_maps(), purposes, channels, moments)
def test_the_channel_entry_decides_else_the_purpose_wide_one(
    consents: dict[str, Any], purpose: str, channel: str | None, at: dt.datetime
) -> None:
    c = person(consents)
    entry = consents.get(consent_key(purpose, channel))
    if entry is None and channel is not None:
        entry = consents.get(purpose)
    assert consent_status(c, purpose, channel, at=at).value == _expected(entry, at)
    assert may_contact(c, purpose, channel, at=at) == (_expected(entry, at) == "valid")
    assert consent_status(c.to_dict(), purpose, channel, at=at) == consent_status(c, purpose, channel, at=at)


@given(cst.consent_maps(), purposes, channels, days, st.integers(0, 24 * 60 - 1))
def test_a_date_means_the_whole_utc_day(
    consents: dict[str, Any], purpose: str, channel: str | None, day: dt.date, minute: int
) -> None:
    c = person(consents)
    start = dt.datetime.combine(day, dt.time(0), UTC)
    inside = start + dt.timedelta(minutes=minute)
    if may_contact(c, purpose, channel, at=day):
        assert may_contact(c, purpose, channel, at=start)
        assert may_contact(c, purpose, channel, at=inside)
        assert may_contact(
            c, purpose, channel, at=start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
        )
    elif consent_status(c, purpose, channel, at=day) is ConsentStatus.EXPIRED:
        assert not may_contact(c, purpose, channel, at=start + dt.timedelta(days=1))


@given(cst.consent_maps(), purposes, channels, moments, st.integers(1, 10_000))
def test_validity_never_comes_back_later_without_a_new_consent(
    consents: dict[str, Any], purpose: str, channel: str | None, at: dt.datetime, later: int
) -> None:
    c = person(consents)
    if not may_contact(c, purpose, channel, at=at):
        status = consent_status(c, purpose, channel, at=at)
        if status in (ConsentStatus.EXPIRED, ConsentStatus.WITHDRAWN):
            assert not may_contact(c, purpose, channel, at=at + dt.timedelta(hours=later))


@given(cst.consent_maps(), purposes, st.sampled_from(CHANNELS), moments, st.booleans())
def test_recording_a_consent_or_a_withdrawal_takes_effect(
    consents: dict[str, Any], purpose: str, channel: str, at: dt.datetime, granted: bool
) -> None:
    c = record_consent(person(consents), purpose, channel, granted=granted, at=at, source="test")
    assert may_contact(c, purpose, channel, at=at + dt.timedelta(seconds=1)) is granted
    if not granted:
        assert consent_status(c, purpose, channel, at=at).value == "withdrawn"
    untouched = {k: v for k, v in consents.items() if k != consent_key(purpose, channel)}
    assert {k: v.to_dict() for k, v in c.consents.items() if k != consent_key(purpose, channel)} == untouched


def test_an_expiry_before_the_grant_is_refused() -> None:
    at = dt.datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match="expire after"):
        record_consent(Customer(id="c1"), "marketing", "sms", at=at, expires=at)


# --------------------------------------------------------------------------------------------- groups
@given(st.lists(cst.consent_maps(), max_size=12), purposes, channels, moments)
def test_consented_keeps_or_counts_every_customer(
    maps: list[dict[str, Any]], purpose: str, channel: str | None, at: dt.datetime
) -> None:
    people = [person(m, id=f"c{i}") for i, m in enumerate(maps)]
    split = consented(people, purpose, channel, at=at)
    assert len(split.kept) + split.left_out_total == len(people)
    assert [c.id for c in split.kept] == [c.id for c in people if may_contact(c, purpose, channel, at=at)]
    assert set(split.left_out) <= set(CONSENT_REASONS) and all(split.left_out.values())
    for reason, ids in split.left_out_ids.items():
        assert len(ids) == split.left_out[reason]
        assert all(consent_status(people[int(i[1:])], purpose, channel, at=at).value == reason for i in ids)


contacts = st.fixed_dictionaries(
    {},
    optional={
        "phones": st.just(["+8613800138000"]),
        "emails": st.just(["a@example.com"]),
        "external_ids": st.just({"wechat": "wx1"}),
    },
)


@given(
    cst.consent_maps(),
    contacts,
    purposes,
    st.lists(st.sampled_from(CHANNELS), min_size=1, unique=True),
    moments,
)
def test_contact_channel_is_the_first_usable_one_or_says_why_not(
    consents: dict[str, Any], details: dict[str, Any], purpose: str, order: list[str], at: dt.datetime
) -> None:
    c = person(consents, **details)
    ch, why = contact_channel(c, purpose, order, at=at)
    usable = [x for x in order if may_contact(c, purpose, x, at=at) and REACHABLE[x](c)]
    if usable:
        assert (ch, why) == (usable[0], None)
        return
    assert ch is None
    statuses = {consent_status(c, purpose, x, at=at).value for x in order}
    if "valid" in statuses:
        assert why == "unreachable"
    else:
        assert why == next(r for r in ("withdrawn", "expired", "no_consent") if r in statuses)


def test_reminders_report_why_customers_were_left_out() -> None:
    day = dt.date(2026, 6, 30)
    bday = "1990-07-02"
    people = [
        Customer(
            id="ok", birthday=bday, phones=["13800138000"], consents={"marketing_sms": {"granted": True}}
        ),
        Customer(
            id="wide", birthday=bday, emails=["w@example.com"], consents={"marketing": {"granted": True}}
        ),
        Customer(id="no", birthday=bday, phones=["13800138000"]),
        Customer(
            id="off", birthday=bday, phones=["13800138000"], consents={"marketing_sms": {"granted": False}}
        ),
        Customer(
            id="old",
            birthday=bday,
            phones=["13800138000"],
            consents={"marketing_sms": {"granted": True, "expires": "2026-06-30T12:00:00+00:00"}},
        ),
        Customer(id="far", birthday=bday, consents={"marketing_sms": {"granted": True}}),
    ]
    got = birthday_reminders(people, as_of=day, days=7)
    assert [(r.customer_id, r.channel) for r in got] == [("ok", "sms"), ("wide", "email")]
    assert got.left_out == 4
    assert got.left_out_by_reason == {"no_consent": 1, "withdrawn": 1, "expired": 1, "unreachable": 1}
    care = care_reminders(people, [], as_of=day, days=30, purpose="marketing", channels=("sms", "email"))
    assert len(care) == 2 and care.left_out == 4 and sum(care.left_out_by_reason.values()) == 4


# --------------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: consent_key(""), "purpose"),
        (lambda: consent_key("marketing", " "), "channel"),
        (lambda: consent_status(Customer(id="c"), 3, "sms"), "purpose"),  # type: ignore[arg-type]
        (lambda: may_contact(Customer(id="c"), "m", at=dt.datetime(2026, 1, 1)), "at"),
        (lambda: may_contact(Customer(id="c"), "m", at="2026-01-01"), "at"),  # type: ignore[arg-type]
        (lambda: may_contact("c1", "m"), "customer"),  # type: ignore[arg-type]
        (lambda: consented("abc", "m"), "customers"),  # type: ignore[arg-type]
        (lambda: contact_channel(Customer(id="c"), "m", "sms"), "channels"),  # type: ignore[arg-type]
        (lambda: record_consent(Customer(id="c"), "m", granted=1), "granted"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_are_validation_errors(call: Any, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        call()
    assert info.value.errors[0].field == field


def test_docstring_examples() -> None:
    result = doctest.testmod(consent_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_custdata_remind_says_why(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from custdata import write_jsonl
    from custdata.cli._main import _register_parts, cli

    _register_parts()
    people = [
        Customer(
            id="ok", birthday="--07-02", phones=["13800138000"], consents={"marketing_sms": {"granted": True}}
        ),
        Customer(id="no", birthday="--07-02", phones=["13800138000"]),
        Customer(
            id="off",
            birthday="--07-02",
            phones=["13800138000"],
            consents={"marketing_sms": {"granted": False}},
        ),
    ]
    path = str(tmp_path / "c.jsonl")
    write_jsonl(people, path)
    result = CliRunner().invoke(cli, ["remind", path, "--as-of", "2026-06-30"])
    assert result.exit_code == 0, result.output
    assert "1 reminders; 2 left out for lack of consent on a usable channel (1 no consent, 1 withdrawn)" in (
        result.output
    )
