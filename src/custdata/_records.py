"""Typed, frozen customer records and their exact dict/JSON form.

Every record is a frozen, slotted attrs class whose fields are described once, in its class body: each
field's converter is a :class:`~custdata._fields.Spec` that also says how the value is written (dict form,
JSON, stored body), its CSV header synonyms and the strategy that draws it (see ``custdata._fields``).
Values are converted and validated when a record is built, and a bad value raises
:class:`~custdata.exceptions.ValidationError` naming the field. ``from_dict`` checks every field before it
fails, so one error lists every problem at once.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from importlib import resources
from typing import Any, ClassVar, TypeVar

import attrs

from custdata._fields import (
    FrozenMap,
    Spec,
    _Bad,
    choice,
    described,
    flag,
    json_map,
    many,
    number,
    one,
    opt_choice,
    opt_number,
    opt_text,
    opt_when,
    record_map,
    tag_set,
    text,
    text_map,
    to_date,
    to_datetime,
    to_decimal,
    to_record,
    when,
    whole,
)
from custdata.exceptions import FieldError, SchemaVersionError, ValidationError

__all__ = [
    "SCHEMA_VERSION",
    "Address",
    "Channel",
    "Consent",
    "Customer",
    "Email",
    "EmailKind",
    "FrozenMap",
    "Interaction",
    "InteractionKind",
    "LifecycleStage",
    "LineItem",
    "MonthDay",
    "PersonName",
    "Phone",
    "PhoneKind",
    "Transaction",
    "parse_datetime",
]

#: The version of the dict form written by ``to_dict``; ``from_dict`` refuses newer ones.
SCHEMA_VERSION = 1

T = TypeVar("T")
JSON = Any


def parse_datetime(value: Any) -> dt.datetime:
    """A timezone-aware datetime from a datetime or an ISO 8601 string (``Z`` allowed); anything else is a
    :class:`~custdata.exceptions.ValidationError`."""
    try:
        return to_datetime(value)
    except _Bad as exc:
        raise ValidationError(str(exc)) from None


_set = object.__setattr__
_SLOTS: dict[type, list[tuple[str, Any, Callable[[], Any] | None]]] = {}


def _slots(cls: type) -> list[tuple[str, Any, Callable[[], Any] | None]]:
    """(name, default, factory) of each attrs field of a record class, computed once per class."""
    try:
        return _SLOTS[cls]
    except KeyError:
        out = []
        for a in attrs.fields(cls):
            if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
                out.append((a.name, None, a.default.factory))
            else:
                out.append((a.name, a.default, None))
        _SLOTS[cls] = out
        return out


class _DictMixin:
    """``from_dict`` / ``evolve`` / ``to_json`` / ``from_json`` for described attrs records (``to_dict``
    and ``_CONVERTERS`` are generated from the field specs by ``@described``)."""

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]]

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError  # replaced by @described

    @classmethod
    def _check_schema(cls, schema: Any) -> None:
        if isinstance(schema, bool) or not isinstance(schema, int) or not 1 <= schema <= SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{cls.__name__} data has schema version {schema!r}; this custdata reads versions up to "
                f"{SCHEMA_VERSION} (upgrade custdata to read it)"
            )

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        """Build a record from its dict form. Missing keys take defaults; every bad field is reported."""
        # @described replaces this with a generated equivalent; this loop stays as the general path.
        if type(data) is not dict and not isinstance(data, Mapping):
            raise ValidationError(f"expected a mapping, got {type(data).__name__}")
        names: dict[str, Callable[[Any], Any]] = cls._CONVERTERS  # type: ignore[attr-defined]
        if "schema" in data:
            cls._check_schema(data["schema"])  # type: ignore[attr-defined]
        kwargs: dict[str, Any] = {}
        errors: list[FieldError] = []
        for key, value in data.items():
            if key == "schema":
                continue
            conv = names.get(key)
            if conv is None:
                errors.append(FieldError(key, f"unknown field for {cls.__name__}"))
                continue
            try:
                kwargs[key] = conv(value)
            except _Bad as exc:
                errors.append(FieldError(key, str(exc)))
            except ValidationError as exc:
                errors.extend(
                    FieldError(f"{key}.{e.field}" if e.field else key, e.reason) for e in exc.errors
                )
        # Every value is converted already: fill the slots directly instead of converting twice.
        inst = object.__new__(cls)
        for name, default, factory in _slots(cls):
            if name in kwargs:
                value = kwargs[name]
            elif factory is not None:
                value = factory()
            elif default is attrs.NOTHING:
                if name not in data:  # (a bad value is reported already)
                    errors.append(FieldError(name, "is required"))
                continue
            else:
                value = default
            _set(inst, name, value)
        if errors:
            raise ValidationError(errors)
        return inst

    _from_dict_general = from_dict

    def evolve(self: T, **changes: Any) -> T:
        """A copy with some fields changed; the new values are converted and validated like the
        constructor's, and every bad one is reported."""
        cls = type(self)
        convs: dict[str, Callable[[Any], Any]] = cls._CONVERTERS  # type: ignore[attr-defined]
        new = object.__new__(cls)
        for name, _, _ in _slots(cls):
            _set(new, name, getattr(self, name))
        errors: list[FieldError] = []
        for key, value in changes.items():
            conv = convs.get(key)
            if conv is None:
                errors.append(FieldError(key, f"unknown field for {cls.__name__}"))
                continue
            try:
                _set(new, key, conv(value))
            except _Bad as exc:
                errors.append(FieldError(key, str(exc)))
            except ValidationError as exc:
                errors.extend(
                    FieldError(f"{key}.{e.field}" if e.field else key, e.reason) for e in exc.errors
                )
        if errors:
            raise ValidationError(errors)
        return new

    def to_json(self) -> str:
        """The dict form as compact JSON text (UTF-8, non-ASCII kept)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls: type[T], text: str | bytes) -> T:
        """Parse ``to_json`` output."""
        try:
            data = json.loads(text)
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"not valid JSON: {exc}") from None
        except RecursionError:
            raise ValidationError("not valid JSON: nested too deeply") from None
        return cls.from_dict(data)  # type: ignore[attr-defined,no-any-return]


# --------------------------------------------------------------------------------------------- enums
class PhoneKind(str, enum.Enum):
    """What a phone number is for."""

    MOBILE = "mobile"
    HOME = "home"
    WORK = "work"
    FAX = "fax"
    OTHER = "other"


class EmailKind(str, enum.Enum):
    """What an e-mail address is for."""

    PERSONAL = "personal"
    WORK = "work"
    OTHER = "other"


class Channel(str, enum.Enum):
    """Where a customer came from."""

    WEBSITE = "website"
    SOCIAL = "social"
    EMAIL = "email"
    SURVEY = "survey"
    STORE = "store"
    EXPO = "expo"
    TELEMARKETING = "telemarketing"
    IMPORT = "import"
    OTHER = "other"


class LifecycleStage(str, enum.Enum):
    """Where a customer stands in the marketing/sales funnel (HubSpot's stages)."""

    SUBSCRIBER = "subscriber"
    LEAD = "lead"
    MARKETING_QUALIFIED = "marketing_qualified"
    SALES_QUALIFIED = "sales_qualified"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    EVANGELIST = "evangelist"
    OTHER = "other"


class InteractionKind(str, enum.Enum):
    """What kind of contact an interaction was."""

    CALL = "call"
    EMAIL = "email"
    VISIT = "visit"
    CHAT = "chat"
    COMPLAINT = "complaint"
    FEEDBACK = "feedback"
    SURVEY = "survey"
    OTHER = "other"


@attrs.frozen(order=True)
class MonthDay:
    """A birthday without a year. ISO 8601 form ``--MM-DD``; 29 February is allowed."""

    month: int
    day: int

    def __attrs_post_init__(self) -> None:
        if isinstance(self.month, bool) or not isinstance(self.month, int) or not 1 <= self.month <= 12:
            raise ValidationError(f"month must be 1-12, got {self.month!r}", field="month")
        if isinstance(self.day, bool) or not isinstance(self.day, int):
            raise ValidationError(f"day must be a whole number, got {self.day!r}", field="day")
        try:
            dt.date(2000, self.month, self.day)  # 2000 is a leap year
        except ValueError:
            raise ValidationError(f"no day {self.day} in month {self.month}", field="day") from None

    @classmethod
    def parse(cls, text: str) -> MonthDay:
        """Parse ``--MM-DD``."""
        t = text.strip()
        if len(t) == 7 and t.startswith("--") and t[4] == "-" and t[2:4].isdigit() and t[5:].isdigit():
            return cls(int(t[2:4]), int(t[5:]))
        raise ValidationError(f"not a --MM-DD month and day: {text!r}")

    def isoformat(self) -> str:
        return f"--{self.month:02d}-{self.day:02d}"

    def __str__(self) -> str:
        return self.isoformat()


def _latest_today() -> dt.date:
    """Today's date where it is latest on Earth (UTC+14): no birthday can be after it."""
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=14)).date()


_LATEST = [_latest_today()]  # refreshed only when a date beyond it comes (time moves on)


def _birthday(value: Any) -> dt.date | MonthDay | None:
    if value is None or value == "":
        return None
    if isinstance(value, MonthDay):
        return value
    if isinstance(value, str) and value.strip().startswith("--"):
        try:
            return MonthDay.parse(value)
        except ValidationError as exc:
            raise _Bad(str(exc)) from None
    if isinstance(value, Mapping) and set(value) == {"month", "day"}:
        try:
            return MonthDay(value["month"], value["day"])
        except ValidationError as exc:
            raise _Bad(str(exc)) from None
    try:
        day = to_date(value)
    except _Bad:
        raise _Bad(f"expected YYYY-MM-DD or --MM-DD, got {value!r}") from None
    if day > _LATEST[0]:
        _LATEST[0] = _latest_today()
        if day > _LATEST[0]:
            raise _Bad(f"a birthday cannot be in the future, got {day.isoformat()}")
    return day


def birthday(*, synonyms: tuple[str, ...] = ()) -> Spec:
    """A full date (not in the future) or a year-less ``MonthDay``."""
    return Spec(
        _birthday,
        dump=lambda v: None if v is None else v.isoformat(),
        dict_code="(None if {v} is None else {v}.isoformat())",
        json_code="(\"null\" if {v} is None else '\"' + {v}.isoformat() + '\"')",
        empty_code="{v} is None",
        kind="birthday",
        synonyms=synonyms,
    )


# --------------------------------------------------------------------------------------------- parts
def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f" for ch in text)


@described()
@attrs.frozen
class PersonName(_DictMixin):
    """A person's name. ``family`` is the surname; Chinese names are written family name first."""

    full: str | None = attrs.field(default=None, converter=opt_text())
    family: str | None = attrs.field(default=None, converter=opt_text())
    given: str | None = attrs.field(default=None, converter=opt_text())

    @property
    def display(self) -> str:
        """``full``, or the parts joined in their culture's order (``欧阳娜娜``, ``Ada Lovelace``)."""
        if self.full:
            return self.full
        fam, giv = self.family or "", self.given or ""
        if _is_cjk(fam + giv):
            return fam + giv
        return " ".join(x for x in (giv, fam) if x)

    def __bool__(self) -> bool:
        return bool(self.full or self.family or self.given)


@described()
@attrs.frozen
class Phone(_DictMixin):
    """A phone number as stored (normalise it to E.164 with :func:`custdata.normalize_phone`)."""

    number: str = attrs.field(converter=text())
    kind: PhoneKind = attrs.field(default=PhoneKind.OTHER, converter=choice(PhoneKind))
    primary: bool = attrs.field(default=False, converter=flag())
    verified_at: dt.datetime | None = attrs.field(default=None, converter=opt_when())


@described()
@attrs.frozen
class Email(_DictMixin):
    """An e-mail address as stored (normalise it with :func:`custdata.normalize_email`)."""

    address: str = attrs.field(converter=text())
    kind: EmailKind = attrs.field(default=EmailKind.OTHER, converter=choice(EmailKind))
    primary: bool = attrs.field(default=False, converter=flag())
    verified_at: dt.datetime | None = attrs.field(default=None, converter=opt_when())


@described()
@attrs.frozen
class Address(_DictMixin):
    """A postal address. ``province`` holds the first-level subdivision (province, state, region);
    ``country`` is an ISO 3166-1 alpha-2 code when known; ``raw`` keeps the text as given."""

    country: str | None = attrs.field(default=None, converter=opt_text())
    province: str | None = attrs.field(default=None, converter=opt_text())
    city: str | None = attrs.field(default=None, converter=opt_text())
    district: str | None = attrs.field(default=None, converter=opt_text())
    street: str | None = attrs.field(default=None, converter=opt_text())
    postal_code: str | None = attrs.field(default=None, converter=opt_text())
    raw: str | None = attrs.field(default=None, converter=opt_text())


@described()
@attrs.frozen
class Consent(_DictMixin):
    """A customer's consent for one purpose (e.g. ``marketing_sms``)."""

    granted: bool = attrs.field(converter=flag())
    at: dt.datetime | None = attrs.field(default=None, converter=opt_when())
    source: str | None = attrs.field(default=None, converter=opt_text())
    expires: dt.datetime | None = attrs.field(default=None, converter=opt_when())

    def is_valid(self, at: dt.datetime | None = None) -> bool:
        """Granted, and not expired at ``at`` (default: now)."""
        when = at or dt.datetime.now(dt.timezone.utc)
        return self.granted and (self.expires is None or when < self.expires)


def _name(value: Any) -> PersonName:
    if value is None:
        return PersonName()
    if isinstance(value, str):
        return PersonName(full=value)
    return _record_name(value)


_record_name = to_record(PersonName)
_record_phone = to_record(Phone)
_record_email = to_record(Email)
_record_address = to_record(Address)
_record_consent = to_record(Consent)


def _phone(value: Any) -> Phone:
    return Phone(value) if isinstance(value, str) else _record_phone(value)


def _email(value: Any) -> Email:
    return Email(value) if isinstance(value, str) else _record_email(value)


def _address(value: Any) -> Address:
    return Address(raw=value) if isinstance(value, str) else _record_address(value)


def _consents(value: Any) -> FrozenMap[str, Consent]:
    if value is None or (type(value) is dict and not value):
        return FrozenMap()
    if not isinstance(value, Mapping):
        raise _Bad(f"expected a mapping of purpose to consent, got {type(value).__name__}")
    out: dict[str, Consent] = {}
    errors: list[FieldError] = []
    for purpose, c in value.items():
        if not isinstance(purpose, str) or not purpose:
            errors.append(FieldError(str(purpose), "a purpose must be non-empty text"))
            continue
        try:
            out[purpose] = _record_consent(c)
        except _Bad as exc:
            errors.append(FieldError(purpose, str(exc)))
        except ValidationError as exc:
            errors.extend(FieldError(f"{purpose}.{e.field}", e.reason) for e in exc.errors)
    if errors:
        raise ValidationError(errors)
    try:
        return FrozenMap(out)
    except ValidationError as exc:
        raise _Bad(str(exc)) from None


def _new_id() -> str:
    return uuid.uuid4().hex


# --------------------------------------------------------------------------------------------- Customer
@described(SCHEMA_VERSION)
@attrs.frozen
class Customer(_DictMixin):
    """One customer.

    >>> c = Customer.from_dict({"id": "c1", "name": {"full": "欧阳娜娜"},
    ...                         "phones": [{"number": "+8613800138000"}]})
    >>> c.name.full, c.phones[0].number
    ('欧阳娜娜', '+8613800138000')
    """

    id: str = attrs.field(
        factory=_new_id,
        converter=text(
            synonyms=(
                "customer id",
                "customer_id",
                "cust id",
                "客户编号",
                "客户id",
                "客户号",
                "会员号",
                "会员编号",
                "编号",
                "uid",
            )
        ),
    )
    name: PersonName = attrs.field(
        factory=PersonName,
        converter=one(
            PersonName,
            _name,
            kind="person_names",
            synonyms=(
                "full name",
                "customer name",
                "contact",
                "contact name",
                "姓名",
                "名字",
                "客户名称",
                "客户姓名",
                "联系人",
                "会员姓名",
            ),
        ),
    )
    phones: tuple[Phone, ...] = attrs.field(default=(), converter=many(Phone, _phone, kind="phones"))
    emails: tuple[Email, ...] = attrs.field(default=(), converter=many(Email, _email, kind="emails"))
    addresses: tuple[Address, ...] = attrs.field(
        default=(), converter=many(Address, _address, kind="addresses")
    )
    birthday: dt.date | MonthDay | None = attrs.field(
        default=None,
        converter=birthday(
            synonyms=("birth date", "birthdate", "date of birth", "dob", "生日", "出生日期", "出生年月日")
        ),
    )
    gender: str | None = attrs.field(default=None, converter=opt_text(synonyms=("sex", "性别")))
    company: str | None = attrs.field(
        default=None,
        converter=opt_text(
            synonyms=(
                "organization",
                "organisation",
                "employer",
                "company name",
                "公司",
                "单位",
                "公司名称",
                "工作单位",
            )
        ),
    )
    title: str | None = attrs.field(
        default=None, converter=opt_text(synonyms=("job title", "position", "role", "职位", "职务", "头衔"))
    )
    tags: frozenset[str] = attrs.field(
        default=frozenset(), converter=tag_set(synonyms=("labels", "tag", "标签"))
    )
    channel: Channel | None = attrs.field(
        default=None,
        converter=opt_choice(
            Channel, synonyms=("source", "lead source", "来源", "渠道", "来源渠道", "获客渠道")
        ),
    )
    lifecycle_stage: LifecycleStage | None = attrs.field(
        default=None,
        converter=opt_choice(
            LifecycleStage, synonyms=("stage", "lifecycle", "lifecycle stage", "阶段", "生命周期", "客户阶段")
        ),
    )
    owner: str | None = attrs.field(
        default=None,
        converter=opt_text(synonyms=("account owner", "sales rep", "负责人", "客户经理", "销售", "归属人")),
    )
    consents: FrozenMap[str, Consent] = attrs.field(
        factory=FrozenMap, converter=record_map(Consent, _consents, kind="consents")
    )
    external_ids: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=text_map())
    custom: FrozenMap[str, JSON] = attrs.field(factory=FrozenMap, converter=json_map())
    created_at: dt.datetime | None = attrs.field(
        default=None,
        converter=opt_when(
            synonyms=("created", "created on", "signup date", "创建时间", "注册时间", "注册日期")
        ),
    )
    updated_at: dt.datetime | None = attrs.field(
        default=None,
        converter=opt_when(synonyms=("updated", "modified", "last modified", "更新时间", "修改时间")),
    )
    version: int = attrs.field(default=0, converter=whole(0, 2**63 - 2, kind="version"))

    @property
    def primary_phone(self) -> Phone | None:
        """The phone marked primary, else the first, else None."""
        return next((p for p in self.phones if p.primary), self.phones[0] if self.phones else None)

    @property
    def primary_email(self) -> Email | None:
        """The e-mail marked primary, else the first, else None."""
        return next((e for e in self.emails if e.primary), self.emails[0] if self.emails else None)


# --------------------------------------------------------------------------------------------- activity
def _quantity(value: Any) -> Decimal:
    d = to_decimal(value)
    if d <= 0:
        raise _Bad(f"must be more than 0, got {value!r}")
    return d


def _load_currencies() -> frozenset[str]:
    lines = resources.files("custdata").joinpath("data/iso4217.txt").read_text(encoding="utf-8")
    return frozenset(line.split()[0] for line in lines.splitlines() if line and not line.startswith("#"))


#: The ISO 4217 codes a transaction may name (custdata/data/iso4217.txt: List One, with its source).
CURRENCIES = _load_currencies()


def _currency(value: Any) -> str | None:
    if value is None or value == "":
        return None
    code = value.strip().upper() if isinstance(value, str) else None
    if code not in CURRENCIES:
        raise _Bad(f"expected an ISO 4217 currency code in use, such as CNY or USD; got {value!r}")
    return code


@described()
@attrs.frozen
class LineItem(_DictMixin):
    """One line of an order."""

    sku: str = attrs.field(converter=text())
    quantity: Decimal = attrs.field(default=Decimal(1), converter=number(_quantity, kind="quantity"))
    unit_price: Decimal | None = attrs.field(default=None, converter=opt_number())
    name: str | None = attrs.field(default=None, converter=opt_text())
    category: str | None = attrs.field(default=None, converter=opt_text())


@described(SCHEMA_VERSION, lead=("id",))
@attrs.frozen
class Transaction(_DictMixin):
    """A purchase (or, with a negative amount, a refund) by one customer."""

    customer_id: str = attrs.field(
        converter=text(
            synonyms=(
                "customer",
                "cust id",
                "member id",
                "客户编号",
                "客户id",
                "会员号",
                "会员编号",
                "客户号",
            )
        )
    )
    at: dt.datetime = attrs.field(
        converter=when(
            synonyms=(
                "date",
                "time",
                "datetime",
                "timestamp",
                "order date",
                "purchase date",
                "日期",
                "时间",
                "下单时间",
                "交易时间",
                "订单时间",
                "购买日期",
                "消费时间",
            )
        )
    )
    amount: Decimal = attrs.field(
        converter=number(
            synonyms=(
                "total",
                "value",
                "revenue",
                "sales",
                "金额",
                "消费金额",
                "订单金额",
                "交易金额",
                "实付金额",
            )
        )
    )
    currency: str | None = attrs.field(
        default=None,
        converter=Spec(_currency, empty_code="{v} is None", kind="currency", synonyms=("币种", "货币")),
    )
    order_id: str | None = attrs.field(
        default=None, converter=opt_text(synonyms=("order", "order no", "order number", "订单号", "订单编号"))
    )
    channel: str | None = attrs.field(
        default=None, converter=opt_text(synonyms=("source", "store", "渠道", "来源", "门店"))
    )
    items: tuple[LineItem, ...] = attrs.field(default=(), converter=many(LineItem, kind="line_items"))
    id: str | None = attrs.field(
        default=None, converter=opt_text(synonyms=("transaction id", "txn id", "交易编号", "流水号"))
    )


def _score(lo: int, hi: int, whole: bool) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Bad(f"expected a number from {lo} to {hi}, got {value!r}")
        if whole and not isinstance(value, int):
            raise _Bad(f"expected a whole number from {lo} to {hi}, got {value!r}")
        if not (lo <= value <= hi):  # NaN fails this too
            raise _Bad(f"must be from {lo} to {hi}, got {value if abs(value) < 1e6 else 'a larger number'}")
        return int(value) if whole else value

    return convert


@described(SCHEMA_VERSION, lead=("id",))
@attrs.frozen
class Interaction(_DictMixin):
    """A contact with a customer: a call, a visit, a complaint, a survey answer …

    ``satisfaction`` is a CSAT score from 1 to 5; ``nps`` the 0–10 answer to "would you recommend us?".
    """

    customer_id: str = attrs.field(
        converter=text(synonyms=("customer", "cust id", "客户编号", "客户id", "会员号", "客户号"))
    )
    at: dt.datetime = attrs.field(
        converter=when(synonyms=("date", "time", "datetime", "timestamp", "日期", "时间", "联系时间"))
    )
    kind: InteractionKind = attrs.field(
        default=InteractionKind.OTHER,
        converter=choice(InteractionKind, synonyms=("type", "interaction type", "类型", "方式", "联系方式")),
    )
    channel: str | None = attrs.field(default=None, converter=opt_text(synonyms=("source", "渠道")))
    satisfaction: float | None = attrs.field(
        default=None,
        converter=Spec(
            _score(1, 5, False),
            empty_code="{v} is None",
            kind="csat",
            synonyms=("csat", "satisfaction score", "满意度", "满意度评分"),
        ),
    )
    nps: int | None = attrs.field(
        default=None,
        converter=Spec(
            _score(0, 10, True),
            empty_code="{v} is None",
            kind="nps",
            synonyms=("nps score", "recommend", "推荐度", "净推荐值"),
        ),
    )
    note: str | None = attrs.field(
        default=None,
        converter=opt_text(synonyms=("notes", "comment", "comments", "remark", "备注", "内容", "记录")),
    )
    id: str | None = attrs.field(default=None, converter=opt_text(synonyms=("interaction id", "编号")))
