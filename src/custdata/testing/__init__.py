"""Hypothesis strategies for custdata records, for your own tests (the ``testing`` extra).

Every strategy generates *valid* values: ``customers()`` draws `Customer` records that construct without
error and round-trip exactly through ``to_dict``/``from_dict``, JSON, CSV and JSON Lines. The text they
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
from decimal import Decimal
from typing import Any

from custdata.exceptions import MissingExtraError

try:
    from hypothesis import strategies as st
except ImportError as exc:  # pragma: no cover - only without the extra
    raise MissingExtraError("testing", "custdata.testing", ["hypothesis"]) from exc

import phonenumbers

from custdata._records import (
    Address,
    Channel,
    Consent,
    Customer,
    Email,
    EmailKind,
    Interaction,
    InteractionKind,
    LifecycleStage,
    LineItem,
    MonthDay,
    PersonName,
    Phone,
    PhoneKind,
    Transaction,
)
from custdata.testing._households import TrapSet, household_records, identical_copies, names_and_dates  # noqa: F401
from custdata.testing._security import audit_events, bindings, field_values, resident_ids  # noqa: F401 (security)
from custdata.testing._segments import profile_dicts, rules  # noqa: F401 (segment rules; not in __all__ yet)

__all__ = [
    "addresses",
    "awkward_text",
    "birthdays",
    "customers",
    "datetimes",
    "emails",
    "interactions",
    "json_values",
    "person_names",
    "phones",
    "tags",
    "transactions",
]

_FAMILY_CN = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "皇甫",
]
_GIVEN_CN = ["伟", "芳", "娜娜", "敏", "静", "强", "磊", "军", "洋", "䶮", "堃", "喆", "昇", "玥", "子涵"]
_FAMILY_LATIN = ["Smith", "Müller", "García", "O'Brien", "Nguyễn", "Łukasiewicz", "van der Berg", "Dubois"]
_GIVEN_LATIN = ["Ada", "Zoë", "José", "Chloé", "Søren", "Jean-Luc", "Åsa", "Mary Ann"]
_REGIONS = ["CN", "US", "GB", "DE", "FR", "JP", "AU", "HK", "TW", "SG", "IN", "BR"]
_CITIES = [
    ("北京市", "北京市", "朝阳区"),
    ("广东省", "深圳市", "南山区"),
    ("上海市", "上海市", "浦东新区"),
    ("浙江省", "杭州市", "西湖区"),
    ("四川省", "成都市", "武侯区"),
]


def awkward_text(*, min_size: int = 1, max_size: int = 30) -> st.SearchStrategy[str]:
    """Text that stresses serialisers: punctuation, quotes, newlines, formula-like starts, CJK."""
    plain = st.text(
        st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        min_size=min_size,
        max_size=max_size,
    )
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
        family, given = draw(st.sampled_from(_FAMILY_CN)), draw(st.sampled_from(_GIVEN_CN))
        full = family + given
    else:
        family, given = draw(st.sampled_from(_FAMILY_LATIN)), draw(st.sampled_from(_GIVEN_LATIN))
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
    region = draw(st.sampled_from(regions or _REGIONS))
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
        province, city, district = draw(st.sampled_from(_CITIES))
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
    """Full dates, year-less month-days (29 February included), or none."""
    month_days = st.dates(dt.date(2000, 1, 1), dt.date(2000, 12, 31)).map(lambda d: MonthDay(d.month, d.day))
    return st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2026, 12, 31)), month_days)


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
        st.text(max_size=10),
    )
    return st.recursive(
        leaves,
        lambda kids: st.one_of(
            st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=5), kids, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def _ids() -> st.SearchStrategy[str]:
    return st.one_of(st.from_regex(r"c[0-9]{1,6}", fullmatch=True), awkward_text(max_size=12))


@st.composite
def customers(draw: st.DrawFn, /, **overrides: Any) -> Customer:
    """Valid `Customer` records. Keyword arguments fix fields (``customers(channel="store")``)."""
    consent = st.builds(
        Consent,
        granted=st.booleans(),
        at=_opt(datetimes()),
        source=_opt(awkward_text()),
        expires=_opt(datetimes()),
    )
    fields: dict[str, Any] = {
        "id": draw(_ids()),
        "name": draw(person_names()),
        "phones": draw(st.lists(phones(), max_size=3)),
        "emails": draw(st.lists(emails(), max_size=2)),
        "addresses": draw(st.lists(addresses(), max_size=2)),
        "birthday": draw(birthdays()),
        "gender": draw(_opt(st.sampled_from(["女", "男", "female", "male", "non-binary"]))),
        "company": draw(_opt(awkward_text())),
        "title": draw(_opt(awkward_text())),
        "tags": draw(tags()),
        "channel": draw(_opt(st.sampled_from(list(Channel)))),
        "lifecycle_stage": draw(_opt(st.sampled_from(list(LifecycleStage)))),
        "owner": draw(_opt(awkward_text())),
        "consents": draw(
            st.dictionaries(
                st.sampled_from(["marketing_sms", "marketing_email", "profiling"]), consent, max_size=2
            )
        ),
        "external_ids": draw(
            st.dictionaries(st.sampled_from(["erp", "shop", "wechat"]), awkward_text(max_size=10), max_size=2)
        ),
        "custom": draw(st.dictionaries(st.text(min_size=1, max_size=8), json_values(), max_size=3)),
        "created_at": draw(_opt(datetimes())),
        "updated_at": draw(_opt(datetimes())),
        "version": draw(st.integers(0, 1000)),
    }
    fields.update(overrides)
    return Customer(**fields)


def _amounts() -> st.SearchStrategy[Decimal]:
    return st.decimals(
        allow_nan=False,
        allow_infinity=False,
        min_value=Decimal("-1e6"),
        max_value=Decimal("1e9"),
        places=None,
    ).filter(lambda d: d.is_finite())


@st.composite
def transactions(draw: st.DrawFn, customer_ids: list[str] | None = None) -> Transaction:
    """Valid `Transaction` records (refunds included); ``customer_ids`` to draw the customer from."""
    items = st.lists(
        st.builds(
            LineItem,
            sku=awkward_text(max_size=8),
            quantity=st.decimals(min_value=Decimal("0.001"), max_value=Decimal(1000), places=3),
            unit_price=_opt(_amounts()),
            name=_opt(awkward_text()),
            category=_opt(st.sampled_from(["books", "图书", "toys"])),
        ),
        max_size=3,
    )
    return Transaction(
        customer_id=draw(st.sampled_from(customer_ids) if customer_ids else _ids()),
        at=draw(datetimes()),
        amount=draw(_amounts()),
        currency=draw(_opt(st.sampled_from(["CNY", "USD", "EUR"]))),
        order_id=draw(_opt(awkward_text(max_size=10))),
        channel=draw(_opt(st.sampled_from(["web", "store", "app"]))),
        items=draw(items),
        id=draw(_opt(_ids())),
    )


@st.composite
def interactions(draw: st.DrawFn, customer_ids: list[str] | None = None) -> Interaction:
    """Valid `Interaction` records; ``customer_ids`` to draw the customer from."""
    return Interaction(
        customer_id=draw(st.sampled_from(customer_ids) if customer_ids else _ids()),
        at=draw(datetimes()),
        kind=draw(st.sampled_from(list(InteractionKind))),
        channel=draw(_opt(st.sampled_from(["phone", "wechat", "email", "store"]))),
        satisfaction=draw(_opt(st.one_of(st.integers(1, 5), st.floats(1, 5)))),
        nps=draw(_opt(st.integers(0, 10))),
        note=draw(_opt(awkward_text())),
        id=draw(_opt(_ids())),
    )
