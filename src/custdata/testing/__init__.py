"""Hypothesis strategies for custdata records, for your own tests (the ``testing`` extra).

Every strategy generates *valid* values: ``customers()`` draws `Customer` records that construct without
error and round-trip exactly through ``to_dict``/``from_dict``, JSON, CSV, JSON Lines and every store.
The record strategies are derived from the records' field descriptions (:func:`records`): a field added
to a record is drawn without a change here. The text they
draw is meant to be awkward: quotes, commas, newlines, cells that look like spreadsheet formulas, Chinese
names with rare characters, Latin names with accents.

>>> from hypothesis import given
>>> import custdata.testing as cst
>>> @given(cst.customers())
... def test_round_trip(c):
...     assert type(c).from_dict(c.to_dict()) == c
>>> test_round_trip()
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from custdata.exceptions import MissingExtraError

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - only without the extra
    raise MissingExtraError("testing", "custdata.testing", ["hypothesis"]) from exc

import phonenumbers

from custdata._fields import FieldInfo, fields_of
from custdata._records import (
    CURRENCIES,
    Address,
    Consent,
    Customer,
    Email,
    EmailKind,
    Interaction,
    LineItem,
    MonthDay,
    PersonName,
    Phone,
    PhoneKind,
    Transaction,
)
from custdata.testing._households import TrapSet, household_records, identical_copies, names_and_dates
from custdata.testing._io import (
    REMARKS,
    chinese_text,
    csv_rows,
    encodings,
    latin_text,
    phone_cells,
    plain_cells,
)
from custdata.testing._matching import misspellings
from custdata.testing._names import (
    AWKWARD_CITIES_CN,
    AWKWARD_FAMILY_CN,
    AWKWARD_FAMILY_LATIN,
    AWKWARD_GIVEN_CN,
    AWKWARD_GIVEN_LATIN,
    PHONE_REGIONS,
)
from custdata.testing._needs import needs_sample
from custdata.testing._privacy import consent_maps, consents, retention_policies
from custdata.testing._security import audit_events, bindings, field_values, resident_ids
from custdata.testing._segments import profile_dicts, rules, segment_data

R = TypeVar("R")

__all__ = [
    "REMARKS",
    "TrapSet",
    "addresses",
    "audit_events",
    "awkward_text",
    "bindings",
    "birthdays",
    "chinese_text",
    "consent_maps",
    "consents",
    "csv_rows",
    "customers",
    "datetimes",
    "emails",
    "encodings",
    "field_strategy",
    "field_values",
    "household_records",
    "identical_copies",
    "interactions",
    "json_values",
    "latin_text",
    "misspellings",
    "names_and_dates",
    "needs_sample",
    "person_names",
    "phone_cells",
    "phones",
    "plain_cells",
    "profile_dicts",
    "records",
    "resident_ids",
    "retention_policies",
    "rules",
    "segment_data",
    "storable_text",
    "tags",
    "transactions",
]


def storable_text(*, min_size: int = 0, max_size: int = 10) -> st.SearchStrategy[str]:
    """Any text a record can hold: every character but NUL and lone surrogates."""
    return st.text(
        st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        min_size=min_size,
        max_size=max_size,
    )


def awkward_text(*, min_size: int = 1, max_size: int = 30) -> st.SearchStrategy[str]:
    """Text that stresses serialisers: punctuation, quotes, newlines, formula-like starts, CJK."""
    plain = storable_text(min_size=min_size, max_size=max_size)
    tricky = st.sampled_from(
        [
            "=1+1",
            "+86 138",
            "-2",
            "@SUM(A1)",
            "\t=x",
            "\r=x",
            "'=x",
            "a,b",
            'say "hi"',
            "line\nbreak",
            "  padded  ",
            "[not json",
            "{x",
            "张三; 李四",
            "a|b",
            "--01-02",
        ]
    )
    return st.one_of(plain, tricky).filter(
        lambda s: min_size == 0 or (len(s) >= min_size and s.strip() != "")
    )


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


def datetimes() -> st.SearchStrategy[dt.datetime]:
    """Timezone-aware datetimes with whole-minute offsets from -12:00 to +14:00."""
    offsets = st.integers(-12 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
    return st.builds(
        lambda naive, tz: naive.replace(tzinfo=tz),
        st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2200, 12, 30)),
        offsets,
    )


@st.composite
def person_names(draw: st.DrawFn) -> PersonName:
    """Chinese names (two-character family names and rare characters included) and Latin ones."""
    if draw(st.booleans()):
        family, given = draw(st.sampled_from(AWKWARD_FAMILY_CN)), draw(st.sampled_from(AWKWARD_GIVEN_CN))
        full = family + given
    else:
        family, given = (
            draw(st.sampled_from(AWKWARD_FAMILY_LATIN)),
            draw(st.sampled_from(AWKWARD_GIVEN_LATIN)),
        )
        full = f"{given} {family}"
    parts = draw(st.sampled_from(["all", "full", "parts", "odd"]))
    if parts == "full":
        return PersonName(full=full)
    if parts == "parts":
        return PersonName(family=family, given=given)
    if parts == "odd":
        return PersonName(full=draw(awkward_text()))
    return PersonName(full=full, family=family, given=given)


@st.composite
def phones(draw: st.DrawFn, *, regions: list[str] | None = None) -> Phone:
    """Valid numbers of several regions in E.164 (as a normaliser writes them), or as people type them."""
    region = draw(st.sampled_from(regions or PHONE_REGIONS))
    kind = draw(
        st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE])
    )
    example = phonenumbers.example_number_for_type(region, kind) or phonenumbers.example_number(region)
    assert example is not None
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    style = draw(st.sampled_from(["e164", "international", "national"]))
    number = (
        e164
        if style == "e164"
        else phonenumbers.format_number(
            example,
            phonenumbers.PhoneNumberFormat.INTERNATIONAL
            if style == "international"
            else phonenumbers.PhoneNumberFormat.NATIONAL,
        )
    )
    return Phone(
        number=number,
        kind=draw(st.sampled_from(list(PhoneKind))),
        primary=draw(st.booleans()),
        verified_at=draw(_opt(datetimes())),
    )


@st.composite
def emails(draw: st.DrawFn) -> Email:
    """Plausible addresses: dots, +tags, mixed case, internationalised domains."""
    local = draw(st.from_regex(r"[A-Za-z0-9]{1,8}(\.[A-Za-z0-9]{1,6})?(\+[a-z0-9]{1,5})?", fullmatch=True))
    domain = draw(
        st.sampled_from(
            [
                "example.com",
                "Gmail.com",
                "googlemail.com",
                "qq.com",
                "163.com",
                "例子.中国",
                "mail.example.co.uk",
            ]
        )
    )
    return Email(
        address=f"{local}@{domain}",
        kind=draw(st.sampled_from(list(EmailKind))),
        primary=draw(st.booleans()),
        verified_at=draw(_opt(datetimes())),
    )


@st.composite
def addresses(draw: st.DrawFn) -> Address:
    """Chinese addresses from a few real divisions, and free-form ones."""
    if draw(st.booleans()):
        province, city, district = draw(st.sampled_from(AWKWARD_CITIES_CN))
        return Address(
            country="CN",
            province=province,
            city=city,
            district=district,
            street=draw(_opt(awkward_text())),
            postal_code=draw(_opt(st.from_regex(r"\d{6}", fullmatch=True))),
        )
    return Address(
        country=draw(_opt(st.sampled_from(["AU", "US", "DE", "GB"]))),
        province=draw(_opt(awkward_text())),
        city=draw(_opt(awkward_text())),
        street=draw(_opt(awkward_text())),
        raw=draw(_opt(awkward_text())),
    )


def birthdays() -> st.SearchStrategy[dt.date | MonthDay | None]:
    """Full dates (up to today: a birthday is never in the future), year-less month-days (29 February
    included), or none."""
    month_days = st.dates(dt.date(2000, 1, 1), dt.date(2000, 12, 31)).map(lambda d: MonthDay(d.month, d.day))
    return st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date.today()), month_days)


def tags() -> st.SearchStrategy[frozenset[str]]:
    """Sets of tags, some with separators, spaces or formula-like starts."""
    return st.frozensets(
        st.one_of(st.sampled_from(["vip", "book-lover", "会员", "新客"]), awkward_text()), max_size=4
    )


def json_values(max_leaves: int = 6) -> st.SearchStrategy[Any]:
    """JSON-safe values for custom attributes (finite floats, nested lists and dicts)."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53), 2**53),
        st.floats(allow_nan=False, allow_infinity=False),
        storable_text(max_size=10),
    )
    return st.recursive(
        leaves,
        lambda kids: st.one_of(
            st.lists(kids, max_size=3), st.dictionaries(storable_text(max_size=5), kids, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def _ids() -> st.SearchStrategy[str]:
    return st.one_of(st.from_regex(r"c[0-9]{1,6}", fullmatch=True), awkward_text(max_size=12))


def _amounts() -> st.SearchStrategy[Decimal]:
    """Amounts as a record holds them: finite, up to 6 places here (a record allows 18)."""
    return st.integers(0, 6).flatmap(
        lambda places: st.decimals(
            allow_nan=False,
            allow_infinity=False,
            min_value=Decimal("-1e6"),
            max_value=Decimal("1e9"),
            places=places,
        )
    )


def _consents() -> st.SearchStrategy[Any]:
    return st.dictionaries(
        st.sampled_from(["marketing_sms", "marketing_email", "profiling"]), records(Consent), max_size=2
    )


#: The strategy of each kind of field (``Spec.kind``); a field of a new kind needs an entry here.
_KINDS: dict[str, Callable[[FieldInfo], st.SearchStrategy[Any]]] = {
    "text": lambda f: _ids() if f.name.endswith("id") else awkward_text(),
    "opt_text": lambda f: _opt(awkward_text(max_size=10) if f.name.endswith("id") else awkward_text()),
    "bool": lambda f: st.booleans(),
    "int": lambda f: st.integers(-(2**63), 2**63 - 1),
    "version": lambda f: st.integers(0, 1000),
    "enum": lambda f: st.sampled_from(list(f.spec.arg)),
    "opt_enum": lambda f: _opt(st.sampled_from(list(f.spec.arg))),
    "datetime": lambda f: datetimes(),
    "opt_datetime": lambda f: _opt(datetimes()),
    "birthday": lambda f: birthdays(),
    "decimal": lambda f: _amounts(),
    "opt_decimal": lambda f: _opt(_amounts()),
    "quantity": lambda f: st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3),
    "currency": lambda f: _opt(st.sampled_from(sorted(CURRENCIES))),
    "csat": lambda f: _opt(st.one_of(st.integers(1, 5), st.floats(1, 5))),
    "nps": lambda f: _opt(st.integers(0, 10)),
    "tags": lambda f: tags(),
    "text_map": lambda f: st.dictionaries(
        st.sampled_from(["erp", "shop", "wechat"]), awkward_text(max_size=10), max_size=2
    ),
    "json_map": lambda f: st.dictionaries(storable_text(min_size=1, max_size=8), json_values(), max_size=3),
    "person_names": lambda f: person_names(),
    "phones": lambda f: st.lists(phones(), max_size=3),
    "emails": lambda f: st.lists(emails(), max_size=2),
    "addresses": lambda f: st.lists(addresses(), max_size=2),
    "consents": lambda f: _consents(),
    "line_items": lambda f: st.lists(records(LineItem), max_size=3),
    "record": lambda f: records(f.spec.arg),
    "records": lambda f: st.lists(records(f.spec.arg), max_size=2),
}


def field_strategy(cls: type, name: str) -> st.SearchStrategy[Any]:
    """The strategy that draws the values of field ``name`` of record class ``cls`` (from its kind)."""
    for f in fields_of(cls):
        if f.name == name:
            try:
                return _KINDS[f.spec.kind](f)
            except KeyError:
                raise LookupError(f"{cls.__name__}.{name}: no strategy for kind {f.spec.kind!r}") from None
    raise LookupError(f"{cls.__name__} has no field {name!r}")


def records(cls: type[R], /, **overrides: Any) -> st.SearchStrategy[R]:
    """Valid records of any record class, every field drawn by the strategy of its kind (the class's
    field description says which). Keyword arguments fix fields (``records(Customer, channel="store")``)."""
    fields = {
        f.name: st.just(overrides[f.name]) if f.name in overrides else field_strategy(cls, f.name)
        for f in fields_of(cls)
    }
    unknown = set(overrides) - set(fields)
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {sorted(unknown)[0]!r}")
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


def customers(**overrides: Any) -> st.SearchStrategy[Customer]:
    """Valid `Customer` records. Keyword arguments fix fields (``customers(channel="store")``)."""
    return records(Customer, **overrides)


def transactions(customer_ids: list[str] | None = None) -> st.SearchStrategy[Transaction]:
    """Valid `Transaction` records (refunds included); ``customer_ids`` to draw the customer from."""
    if customer_ids:
        return st.sampled_from(customer_ids).flatmap(lambda cid: records(Transaction, customer_id=cid))
    return records(Transaction)


def interactions(customer_ids: list[str] | None = None) -> st.SearchStrategy[Interaction]:
    """Valid `Interaction` records; ``customer_ids`` to draw the customer from."""
    if customer_ids:
        return st.sampled_from(customer_ids).flatmap(lambda cid: records(Interaction, customer_id=cid))
    return records(Interaction)
