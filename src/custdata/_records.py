"""Typed, frozen customer records and their exact dict/JSON form.

Every record is a frozen, slotted attrs class. Values are converted and validated when a record is
built, and a bad value raises :class:`~custdata.exceptions.ValidationError` naming the field.
``from_dict`` checks every field before it fails, so one error lists every problem at once.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Generic, TypeVar

import attrs

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

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
JSON = Any


# --------------------------------------------------------------------------------------------- helpers
class FrozenMap(Mapping[K, V], Generic[K, V]):
    """An immutable mapping, used for the mapping fields of frozen records."""

    __slots__ = ("_d", "_h")

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._d: dict[K, V] = dict(data)
        self._h: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._d[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenMap):
            return self._d == other._d
        if isinstance(other, Mapping):
            return self._d == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        if self._h is None:
            self._h = hash(frozenset((k, _hashable(v)) for k, v in self._d.items()))
        return self._h

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return frozenset((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


class _Bad(Exception):
    """Raised by a converter; turned into a ValidationError naming the field."""


def _field_converter(fn: Callable[[Any], Any]) -> attrs.Converter[Any, Any]:
    def convert(value: Any, field: attrs.Attribute[Any]) -> Any:
        try:
            return fn(value)
        except _Bad as exc:
            raise ValidationError(str(exc), field=field.name) from None
        except ValidationError as exc:  # nested record: prefix the path
            raise ValidationError(
                [
                    FieldError(f"{field.name}.{e.field}" if e.field else field.name, e.reason)
                    for e in exc.errors
                ]
            ) from None

    return attrs.Converter(convert, takes_field=True)


def _opt(fn: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """Optional value: None stays None, and so does empty text (stored as None, so CSV round-trips)."""

    def convert(value: Any) -> T | None:
        return None if value is None or value == "" else fn(value)

    return convert


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected text, got {type(value).__name__} {value!r}")
    return value


def _nonempty_text(value: Any) -> str:
    text = _text(value)
    if not text.strip():
        raise _Bad("must not be empty")
    return text


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Bad(f"expected true or false, got {value!r}")


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"expected a whole number, got {value!r}")
    return value


def _version(value: Any) -> int:
    number = _int(value)
    if number < 0:
        raise _Bad(f"must be 0 or more, got {number}")
    return number


def parse_datetime(value: Any) -> dt.datetime:
    """A timezone-aware datetime from a datetime or an ISO 8601 string (``Z`` allowed)."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _Bad(f"not an ISO 8601 date-time: {value!r}") from None
    if not isinstance(value, dt.datetime):
        raise _Bad(f"expected a date-time, got {type(value).__name__} {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise _Bad(
            f"date-time must be timezone-aware (add an offset such as +08:00), got {value.isoformat()}"
        )
    return value


def _datetime_or_none(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    return parse_datetime(value)


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise _Bad(f"expected a date, got a date-time {value!r}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise _Bad(f"not an ISO 8601 date (YYYY-MM-DD): {value!r}") from None
    raise _Bad(f"expected a date, got {type(value).__name__} {value!r}")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _Bad(f"expected a number, got {value!r}")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, (int, str, Decimal)):
        try:
            d = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise _Bad(f"not a number: {value!r}") from None
        if not d.is_finite():
            raise _Bad(f"must be finite, got {value!r}")
        return d
    raise _Bad(f"expected a number, got {type(value).__name__} {value!r}")


def _enum(cls: type[enum.Enum]) -> Callable[[Any], Any]:
    allowed = ", ".join(m.value for m in cls)

    def convert(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        try:
            return cls(value.strip().lower() if isinstance(value, str) else value)
        except ValueError:
            raise _Bad(f"must be one of {allowed}; got {value!r}") from None

    return convert


def _tuple_of(item: Callable[[Any], T]) -> Callable[[Any], tuple[T, ...]]:
    def convert(value: Any) -> tuple[T, ...]:
        if value is None:
            return ()
        if type(value) not in (list, tuple) and (
            isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable)
        ):
            raise _Bad(f"expected a list, got {type(value).__name__}")
        out: list[T] = []
        errors: list[FieldError] = []
        for i, v in enumerate(value):
            try:
                out.append(item(v))
            except _Bad as exc:
                errors.append(FieldError(str(i), str(exc)))
            except ValidationError as exc:
                errors.extend(
                    FieldError(f"{i}.{e.field}" if e.field else str(i), e.reason) for e in exc.errors
                )
        if errors:
            raise ValidationError(errors)
        return tuple(out)

    return convert


def _tags(value: Any) -> frozenset[str]:
    if value is None or (type(value) is list and not value):
        return frozenset()
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _Bad(f"expected a collection of text tags, got {type(value).__name__}")
    out = set()
    for tag in value:
        if not isinstance(tag, str) or not tag:
            raise _Bad(f"every tag must be non-empty text, got {tag!r}")
        out.add(tag)
    return frozenset(out)


def _str_map(value: Any) -> FrozenMap[str, str]:
    if value is None or (type(value) is dict and not value):
        return FrozenMap()
    if not isinstance(value, Mapping):
        raise _Bad(f"expected a mapping, got {type(value).__name__}")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise _Bad(f"keys and values must be text, got {k!r}: {v!r}")
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


def _check_json(value: Any, path: str) -> None:
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Bad(f"{path}: {value!r} is not JSON-safe")
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check_json(v, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise _Bad(f"{path}: key {k!r} is not text")
            _check_json(v, f"{path}.{k}")
        return
    raise _Bad(f"{path}: {type(value).__name__} {value!r} is not JSON-safe (use text, numbers, lists, dicts)")


def _custom(value: Any) -> FrozenMap[str, JSON]:
    if value is None or (type(value) is dict and not value):
        return FrozenMap()
    if not isinstance(value, Mapping):
        raise _Bad(f"expected a mapping, got {type(value).__name__}")
    if isinstance(value, FrozenMap):
        return value
    for k, v in value.items():
        if not isinstance(k, str):
            raise _Bad(f"key {k!r} is not text")
        _check_json(v, k)
    return FrozenMap(json.loads(json.dumps(dict(value))))  # a private deep copy


def _record(cls: type[T]) -> Callable[[Any], T]:
    def convert(value: Any) -> T:
        if type(value) is dict:
            return cls.from_dict(value)  # type: ignore[attr-defined,no-any-return]
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)  # type: ignore[attr-defined,no-any-return]
        raise _Bad(f"expected a {cls.__name__} or a mapping, got {type(value).__name__} {value!r}")

    return convert


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


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
    """``to_dict`` / ``from_dict`` / ``to_json`` / ``from_json`` for attrs records."""

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]]

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        """Build a record from its dict form. Missing keys take defaults; every bad field is reported."""
        if type(data) is not dict and not isinstance(data, Mapping):
            raise ValidationError(f"expected a mapping, got {type(data).__name__}")
        names: dict[str, Callable[[Any], Any]] = cls._CONVERTERS  # type: ignore[attr-defined]
        schema = data.get("schema", SCHEMA_VERSION)
        if isinstance(schema, bool) or not isinstance(schema, int) or not 1 <= schema <= SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{cls.__name__} data has schema version {schema!r}; this custdata reads versions up to "
                f"{SCHEMA_VERSION} (upgrade custdata to read it)"
            )
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
                errors.append(FieldError(name, "is required"))
                continue
            else:
                value = default
            _set(inst, name, value)
        if errors:
            raise ValidationError(errors)
        return inst

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


# --------------------------------------------------------------------------------------------- values
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
        return _date(value)
    except _Bad:
        raise _Bad(f"expected YYYY-MM-DD or --MM-DD, got {value!r}") from None


# --------------------------------------------------------------------------------------------- parts
def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f" for ch in text)


@attrs.frozen
class PersonName(_DictMixin):
    """A person's name. ``family`` is the surname; Chinese names are written family name first."""

    full: str | None = attrs.field(default=None, converter=_field_converter(_opt(_text)))
    family: str | None = attrs.field(default=None, converter=_field_converter(_opt(_text)))
    given: str | None = attrs.field(default=None, converter=_field_converter(_opt(_text)))

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "full": _opt(_text),
        "family": _opt(_text),
        "given": _opt(_text),
    }

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

    def to_dict(self) -> dict[str, Any]:
        return {"full": self.full, "family": self.family, "given": self.given}


_PHONE_KIND = _enum(PhoneKind)
_EMAIL_KIND = _enum(EmailKind)


@attrs.frozen
class Phone(_DictMixin):
    """A phone number as stored (normalise it to E.164 with :func:`custdata.normalize_phone`)."""

    number: str = attrs.field(converter=_field_converter(_nonempty_text))
    kind: PhoneKind = attrs.field(default=PhoneKind.OTHER, converter=_field_converter(_PHONE_KIND))
    primary: bool = attrs.field(default=False, converter=_field_converter(_bool))
    verified_at: dt.datetime | None = attrs.field(default=None, converter=_field_converter(_datetime_or_none))

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "number": _nonempty_text,
        "kind": _PHONE_KIND,
        "primary": _bool,
        "verified_at": _datetime_or_none,
    }

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind.value,
            "primary": self.primary,
            "verified_at": _iso(self.verified_at),
        }


@attrs.frozen
class Email(_DictMixin):
    """An e-mail address as stored (normalise it with :func:`custdata.normalize_email`)."""

    address: str = attrs.field(converter=_field_converter(_nonempty_text))
    kind: EmailKind = attrs.field(default=EmailKind.OTHER, converter=_field_converter(_EMAIL_KIND))
    primary: bool = attrs.field(default=False, converter=_field_converter(_bool))
    verified_at: dt.datetime | None = attrs.field(default=None, converter=_field_converter(_datetime_or_none))

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "address": _nonempty_text,
        "kind": _EMAIL_KIND,
        "primary": _bool,
        "verified_at": _datetime_or_none,
    }

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "kind": self.kind.value,
            "primary": self.primary,
            "verified_at": _iso(self.verified_at),
        }


_OPT_TEXT = _opt(_text)


@attrs.frozen
class Address(_DictMixin):
    """A postal address. ``province`` holds the first-level subdivision (province, state, region);
    ``country`` is an ISO 3166-1 alpha-2 code when known; ``raw`` keeps the text as given."""

    country: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    province: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    city: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    district: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    street: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    postal_code: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    raw: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]] = dict.fromkeys(
        ("country", "province", "city", "district", "street", "postal_code", "raw"), _OPT_TEXT
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "country": self.country,
            "province": self.province,
            "city": self.city,
            "district": self.district,
            "street": self.street,
            "postal_code": self.postal_code,
            "raw": self.raw,
        }


@attrs.frozen
class Consent(_DictMixin):
    """A customer's consent for one purpose (e.g. ``marketing_sms``)."""

    granted: bool = attrs.field(converter=_field_converter(_bool))
    at: dt.datetime | None = attrs.field(default=None, converter=_field_converter(_datetime_or_none))
    source: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    expires: dt.datetime | None = attrs.field(default=None, converter=_field_converter(_datetime_or_none))

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "granted": _bool,
        "at": _datetime_or_none,
        "source": _OPT_TEXT,
        "expires": _datetime_or_none,
    }

    def is_valid(self, at: dt.datetime | None = None) -> bool:
        """Granted, and not expired at ``at`` (default: now)."""
        when = at or dt.datetime.now(dt.timezone.utc)
        return self.granted and (self.expires is None or when < self.expires)

    def to_dict(self) -> dict[str, Any]:
        return {
            "granted": self.granted,
            "at": _iso(self.at),
            "source": self.source,
            "expires": _iso(self.expires),
        }


def _name(value: Any) -> PersonName:
    if value is None:
        return PersonName()
    if isinstance(value, str):
        return PersonName(full=value)
    return _record(PersonName)(value)


def _phone(value: Any) -> Phone:
    return Phone(value) if isinstance(value, str) else _record(Phone)(value)


def _email(value: Any) -> Email:
    return Email(value) if isinstance(value, str) else _record(Email)(value)


def _address(value: Any) -> Address:
    return Address(raw=value) if isinstance(value, str) else _record(Address)(value)


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
            out[purpose] = _record(Consent)(c)
        except _Bad as exc:
            errors.append(FieldError(purpose, str(exc)))
        except ValidationError as exc:
            errors.extend(FieldError(f"{purpose}.{e.field}", e.reason) for e in exc.errors)
    if errors:
        raise ValidationError(errors)
    return FrozenMap(out)


def _new_id() -> str:
    return uuid.uuid4().hex


_CHANNEL = _enum(Channel)
_STAGE = _enum(LifecycleStage)


# --------------------------------------------------------------------------------------------- Customer
@attrs.frozen
class Customer(_DictMixin):
    """One customer.

    >>> c = Customer.from_dict({"id": "c1", "name": {"full": "欧阳娜娜"},
    ...                         "phones": [{"number": "+8613800138000"}]})
    >>> c.name.full, c.phones[0].number
    ('欧阳娜娜', '+8613800138000')
    """

    id: str = attrs.field(factory=_new_id, converter=_field_converter(_nonempty_text))
    name: PersonName = attrs.field(factory=PersonName, converter=_field_converter(_name))
    phones: tuple[Phone, ...] = attrs.field(default=(), converter=_field_converter(_tuple_of(_phone)))
    emails: tuple[Email, ...] = attrs.field(default=(), converter=_field_converter(_tuple_of(_email)))
    addresses: tuple[Address, ...] = attrs.field(default=(), converter=_field_converter(_tuple_of(_address)))
    birthday: dt.date | MonthDay | None = attrs.field(default=None, converter=_field_converter(_birthday))
    gender: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    company: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    title: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    tags: frozenset[str] = attrs.field(default=frozenset(), converter=_field_converter(_tags))
    channel: Channel | None = attrs.field(default=None, converter=_field_converter(_opt(_CHANNEL)))
    lifecycle_stage: LifecycleStage | None = attrs.field(
        default=None, converter=_field_converter(_opt(_STAGE))
    )
    owner: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    consents: FrozenMap[str, Consent] = attrs.field(factory=FrozenMap, converter=_field_converter(_consents))
    external_ids: FrozenMap[str, str] = attrs.field(factory=FrozenMap, converter=_field_converter(_str_map))
    custom: FrozenMap[str, JSON] = attrs.field(factory=FrozenMap, converter=_field_converter(_custom))
    created_at: dt.datetime | None = attrs.field(default=None, converter=_field_converter(_datetime_or_none))
    updated_at: dt.datetime | None = attrs.field(default=None, converter=_field_converter(_datetime_or_none))
    version: int = attrs.field(default=0, converter=_field_converter(_version))

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "id": _nonempty_text,
        "name": _name,
        "phones": _tuple_of(_phone),
        "emails": _tuple_of(_email),
        "addresses": _tuple_of(_address),
        "birthday": _birthday,
        "gender": _OPT_TEXT,
        "company": _OPT_TEXT,
        "title": _OPT_TEXT,
        "tags": _tags,
        "channel": _opt(_CHANNEL),
        "lifecycle_stage": _opt(_STAGE),
        "owner": _OPT_TEXT,
        "consents": _consents,
        "external_ids": _str_map,
        "custom": _custom,
        "created_at": _datetime_or_none,
        "updated_at": _datetime_or_none,
        "version": _version,
    }

    @property
    def primary_phone(self) -> Phone | None:
        """The phone marked primary, else the first, else None."""
        return next((p for p in self.phones if p.primary), self.phones[0] if self.phones else None)

    @property
    def primary_email(self) -> Email | None:
        """The e-mail marked primary, else the first, else None."""
        return next((e for e in self.emails if e.primary), self.emails[0] if self.emails else None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe dict form (shape in the docs); ``from_dict`` gives the record back exactly."""
        b = self.birthday
        return {
            "schema": SCHEMA_VERSION,
            "id": self.id,
            "name": self.name.to_dict(),
            "phones": [p.to_dict() for p in self.phones],
            "emails": [e.to_dict() for e in self.emails],
            "addresses": [a.to_dict() for a in self.addresses],
            "birthday": None if b is None else b.isoformat(),
            "gender": self.gender,
            "company": self.company,
            "title": self.title,
            "tags": sorted(self.tags),
            "channel": None if self.channel is None else self.channel.value,
            "lifecycle_stage": None if self.lifecycle_stage is None else self.lifecycle_stage.value,
            "owner": self.owner,
            "consents": {k: v.to_dict() for k, v in self.consents.items()},
            "external_ids": dict(self.external_ids),
            "custom": json.loads(json.dumps(dict(self.custom))) if self.custom else {},
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "version": self.version,
        }


# --------------------------------------------------------------------------------------------- activity
def _quantity(value: Any) -> Decimal:
    d = _decimal(value)
    if d <= 0:
        raise _Bad(f"must be more than 0, got {value!r}")
    return d


def _currency(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
        raise _Bad(f"expected a three-letter ISO 4217 code such as CNY or USD, got {value!r}")
    return value.strip().upper()


@attrs.frozen
class LineItem(_DictMixin):
    """One line of an order."""

    sku: str = attrs.field(converter=_field_converter(_nonempty_text))
    quantity: Decimal = attrs.field(default=Decimal(1), converter=_field_converter(_quantity))
    unit_price: Decimal | None = attrs.field(default=None, converter=_field_converter(_opt(_decimal)))
    name: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    category: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "sku": _nonempty_text,
        "quantity": _quantity,
        "unit_price": _opt(_decimal),
        "name": _OPT_TEXT,
        "category": _OPT_TEXT,
    }

    def to_dict(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "quantity": str(self.quantity),
            "unit_price": None if self.unit_price is None else str(self.unit_price),
            "name": self.name,
            "category": self.category,
        }


def _item(value: Any) -> LineItem:
    return _record(LineItem)(value)


@attrs.frozen
class Transaction(_DictMixin):
    """A purchase (or, with a negative amount, a refund) by one customer."""

    customer_id: str = attrs.field(converter=_field_converter(_nonempty_text))
    at: dt.datetime = attrs.field(converter=_field_converter(parse_datetime))
    amount: Decimal = attrs.field(converter=_field_converter(_decimal))
    currency: str | None = attrs.field(default=None, converter=_field_converter(_currency))
    order_id: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    channel: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    items: tuple[LineItem, ...] = attrs.field(default=(), converter=_field_converter(_tuple_of(_item)))
    id: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "customer_id": _nonempty_text,
        "at": parse_datetime,
        "amount": _decimal,
        "currency": _currency,
        "order_id": _OPT_TEXT,
        "channel": _OPT_TEXT,
        "items": _tuple_of(_item),
        "id": _OPT_TEXT,
    }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "id": self.id,
            "customer_id": self.customer_id,
            "at": self.at.isoformat(),
            "amount": str(self.amount),
            "currency": self.currency,
            "order_id": self.order_id,
            "channel": self.channel,
            "items": [i.to_dict() for i in self.items],
        }


def _score(lo: int, hi: int, whole: bool) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Bad(f"expected a number from {lo} to {hi}, got {value!r}")
        if whole and not isinstance(value, int):
            raise _Bad(f"expected a whole number from {lo} to {hi}, got {value!r}")
        if not (lo <= value <= hi):
            raise _Bad(f"must be from {lo} to {hi}, got {value!r}")
        return value

    return convert


_KIND = _enum(InteractionKind)
_CSAT = _score(1, 5, False)
_NPS = _score(0, 10, True)


@attrs.frozen
class Interaction(_DictMixin):
    """A contact with a customer: a call, a visit, a complaint, a survey answer …

    ``satisfaction`` is a CSAT score from 1 to 5; ``nps`` the 0–10 answer to "would you recommend us?".
    """

    customer_id: str = attrs.field(converter=_field_converter(_nonempty_text))
    at: dt.datetime = attrs.field(converter=_field_converter(parse_datetime))
    kind: InteractionKind = attrs.field(default=InteractionKind.OTHER, converter=_field_converter(_KIND))
    channel: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    satisfaction: float | None = attrs.field(default=None, converter=_field_converter(_CSAT))
    nps: int | None = attrs.field(default=None, converter=_field_converter(_NPS))
    note: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))
    id: str | None = attrs.field(default=None, converter=_field_converter(_OPT_TEXT))

    _CONVERTERS: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "customer_id": _nonempty_text,
        "at": parse_datetime,
        "kind": _KIND,
        "channel": _OPT_TEXT,
        "satisfaction": _CSAT,
        "nps": _NPS,
        "note": _OPT_TEXT,
        "id": _OPT_TEXT,
    }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "id": self.id,
            "customer_id": self.customer_id,
            "at": self.at.isoformat(),
            "kind": self.kind.value,
            "channel": self.channel,
            "satisfaction": self.satisfaction,
            "nps": self.nps,
            "note": self.note,
        }
