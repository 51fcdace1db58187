"""How a record's fields are described once, and everything generated from that description.

Each field of a record class is declared once, in the class body::

    nickname: str | None = attrs.field(default=None, converter=opt_text(synonyms=("昵称",)))

The converter is a :class:`Spec`: besides converting and checking a value (the attrs converter), it says
how the value is written in the dict form (``dump``), as JSON text (``json``), when it counts as empty (left
out of a compact stored body), which CSV header synonyms name it, and which Hypothesis strategy draws it.
:func:`described` reads the specs of an attrs class and derives from them:

* ``_CONVERTERS`` (``from_dict`` and ``evolve``) and the field names in errors;
* ``to_dict``, generated as one dict display (the general path, :func:`dict_of`, loops over the specs);
* :func:`json_writer` / :func:`compact_writer`: the JSON text of a record, and of its compact form
  (empty fields left out), generated as string concatenation (general path: :func:`compact_dict`);
* :func:`fields_of`: the description itself, for CSV columns and strategies.

Generated code is an optimisation only: the property tests pin every generated function to its general
path, so a drift is a test failure.

The one rule for what a record may hold (so every backend and file format can store it): text has no NUL
character and no lone surrogate; numbers in ``custom`` and ``FrozenMap`` values are finite; whole numbers
fit in 64 bits; amounts are finite with a bounded exponent. Checked at construction.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar

import attrs

from custdata.exceptions import FieldError, ValidationError

__all__ = [
    "FrozenMap",
    "Spec",
    "compact_dict",
    "compact_dict_writer",
    "compact_writer",
    "described",
    "dict_of",
    "fields_of",
    "json_writer",
]

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
C = TypeVar("C", bound=type)

#: Whole numbers a record holds fit a signed 64-bit column (SQLite INTEGER, PostgreSQL bigint).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
#: Amounts: at most this many digits before the point and after it (34 significant digits in all).
AMOUNT_INT_DIGITS, AMOUNT_PLACES = 16, 18


class _Bad(Exception):
    """Raised by a converter; turned into a ValidationError naming the field."""


# --------------------------------------------------------------------------------------------- checks
def check_text(value: str) -> str:
    """``value`` if every backend and file format can hold it: no NUL, no lone surrogate."""
    if "\x00" in value:
        raise _Bad(f"contains a NUL character (at position {value.index(chr(0))}), which cannot be stored")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _Bad(
                f"contains a lone surrogate (at position {exc.start}), which is not text any file or "
                "database can hold"
            ) from None
    return value


def _check_json(value: Any, path: str) -> None:
    if value is None or value is True or value is False:
        return
    t = type(value)
    if t is str:
        try:
            check_text(value)
        except _Bad as exc:
            raise _Bad(f"{path}: {exc}") from None
        return
    if t is int:
        if not INT_MIN <= value <= INT_MAX:
            raise _Bad(f"{path}: whole numbers must fit in 64 bits (-2**63 to 2**63-1)")
        return
    if t is float:
        if not math.isfinite(value):
            raise _Bad(f"{path}: {value!r} is not a finite number")
        return
    if t is list or t is tuple:
        for i, v in enumerate(value):
            _check_json(v, f"{path}[{i}]")
        return
    if t is dict:
        for k, v in value.items():
            if type(k) is not str:
                raise _Bad(f"{path}: key {k!r} is not text")
            try:
                check_text(k)
            except _Bad as exc:
                raise _Bad(f"{path}: a key {exc}") from None
            _check_json(v, f"{path}.{k}")
        return
    raise _Bad(f"{path}: {t.__name__} is not JSON-safe (use text, numbers, lists, dicts)")


def _check_value(value: Any, path: str) -> None:
    """A FrozenMap value: floats must be finite, text storable, also inside lists and dicts."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"{path}: {value!r} is not a finite number", field=path)
    elif isinstance(value, str):
        try:
            check_text(value)
        except _Bad as exc:
            raise ValidationError(str(exc), field=path) from None
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_value(v, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_value(k, path)
            _check_value(v, f"{path}.{k}")


# --------------------------------------------------------------------------------------------- FrozenMap
class FrozenMap(Mapping[K, V], Generic[K, V]):
    """An immutable mapping, used for the mapping fields of frozen records.

    It refuses what no store could keep: non-finite floats (NaN, infinity) and text with a NUL character
    or a lone surrogate, as keys or values, also inside nested lists and dicts
    (:class:`~custdata.exceptions.ValidationError`).
    """

    __slots__ = ("_d", "_h")

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        try:
            d: dict[K, V] = dict(data)
        except (TypeError, ValueError):
            raise ValidationError(
                f"must be a mapping or (key, value) pairs, got {type(data).__name__}", field="data"
            ) from None
        for k, v in d.items():
            if type(k) is str:
                if "\x00" in k or not k.isascii():  # type: ignore[operator,attr-defined]
                    _check_value(k, "key")
            elif isinstance(k, (float, str, tuple)):
                _check_value(k, "key")
            tv = type(v)
            if tv is str:
                if "\x00" in v or not v.isascii():  # type: ignore[operator,attr-defined]
                    _check_value(v, str(k))
            elif tv is int or tv is bool or v is None:
                pass
            elif isinstance(v, (float, str, list, tuple, dict)):
                _check_value(v, str(k))
        self._d = d
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


# --------------------------------------------------------------------------------------------- the spec
class Spec:
    """One field's description (see the module docstring). Used as the field's attrs converter.

    ``convert`` turns an input value into the field's value or raises ``_Bad``/``ValidationError``;
    ``dump`` gives its dict form; ``arg`` is the enum or nested record class, if any.
    ``dict_code``/``json_code``/``empty_code`` are the dict form, the JSON text and "is empty" as Python
    expression templates over ``{v}``, for the generated fast paths (``None``: call ``dump``, and for
    JSON text encode the dumped value). ``kind`` names the strategy that draws values
    (``custdata.testing`` resolves it); ``synonyms`` are extra CSV header names for the field.
    """

    __slots__ = ("arg", "convert", "dict_code", "dump", "empty_code", "json_code", "kind", "name", "synonyms")

    def __init__(
        self,
        convert: Callable[[Any], Any],
        *,
        dump: Callable[[Any], Any] | None = None,
        dict_code: str | None = None,
        json_code: str | None = None,
        empty_code: str | None = None,
        kind: str = "",
        arg: Any = None,
        synonyms: Iterable[str] = (),
    ) -> None:
        self.convert = convert
        self.arg = arg
        self.dump: Callable[[Any], Any] = dump if dump is not None else _identity
        self.dict_code = dict_code if dict_code is not None else ("{v}" if dump is None else None)
        self.json_code = json_code
        self.empty_code = empty_code
        self.kind = kind
        self.synonyms = tuple(synonyms)
        self.name = "?"

    def __call__(self, value: Any) -> Any:
        """The attrs converter: ``convert``, with errors naming the field."""
        try:
            return self.convert(value)
        except _Bad as exc:
            raise ValidationError(str(exc), field=self.name) from None
        except ValidationError as exc:  # a nested record: prefix the path
            raise ValidationError(
                [FieldError(f"{self.name}.{e.field}" if e.field else self.name, e.reason) for e in exc.errors]
            ) from None

    def __repr__(self) -> str:
        return f"Spec({self.name!r}, kind={self.kind!r})"


def _identity(value: Any) -> Any:
    return value


# --------------------------------------------------------------------------------------------- converters
def _opt(fn: Callable[[Any], T]) -> Callable[[Any], T | None]:
    """Optional value: None stays None, and so does empty text (stored as None, so CSV round-trips)."""

    def convert(value: Any) -> T | None:
        return None if value is None or value == "" else fn(value)

    return convert


def to_text(value: Any) -> str:
    if type(value) is not str:
        if not isinstance(value, str):
            raise _Bad(f"expected text, got {type(value).__name__}")
        value = str.__str__(value)  # a plain str from a str subclass
    text: str = value
    if "\x00" in text or not text.isascii():
        check_text(text)
    return text


def to_nonempty_text(value: Any) -> str:
    text = to_text(value)
    if not text.strip():
        raise _Bad("must not be empty")
    return text


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Bad(f"expected true or false, got {value!r}")


def to_int(value: Any, lo: int = INT_MIN, hi: int = INT_MAX) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"expected a whole number, got {type(value).__name__}")
    if not lo <= value <= hi:
        if value.bit_length() > 64:
            raise _Bad(f"must be from {lo} to {hi}, got a number of {value.bit_length()} bits")
        raise _Bad(f"must be from {lo} to {hi}, got {value}")
    return int(value)


_MIN_UTC = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def to_datetime(value: Any) -> dt.datetime:
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
    if value.year in (1, 9999):  # the UTC instant must exist (stores keep UTC stamps)
        try:
            value.astimezone(dt.timezone.utc)
        except OverflowError:
            raise _Bad(f"{value.isoformat()} is outside the years 1-9999 in UTC") from None
    return value


def to_date(value: Any) -> dt.date:
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


def to_decimal(value: Any) -> Decimal:
    """A finite Decimal with at most 16 digits before the point and 18 after it (so every backend, file
    format and float computation keeps it: ``1e400`` would be infinity as a float)."""
    if isinstance(value, bool):
        raise _Bad(f"expected a number, got {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Bad(f"must be finite, got {value!r}")
        value = repr(value)
    if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
        raise _Bad(f"must have at most {AMOUNT_INT_DIGITS} digits before the point")
    if isinstance(value, (int, str, Decimal)):
        if isinstance(value, str) and len(value) > 100:
            raise _Bad(f"not a number of at most {AMOUNT_INT_DIGITS + AMOUNT_PLACES} digits")
        try:
            d = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise _Bad(f"not a number: {value!r}") from None
        if not d.is_finite():
            raise _Bad(f"must be finite, got {value!r}")
        if d:
            exponent = d.as_tuple().exponent
            assert isinstance(exponent, int)
            if d.adjusted() >= AMOUNT_INT_DIGITS:
                raise _Bad(f"must have at most {AMOUNT_INT_DIGITS} digits before the point, got {d:.3e}")
            if exponent < -AMOUNT_PLACES:
                raise _Bad(f"must have at most {AMOUNT_PLACES} digits after the point, got {d:.3e}")
        elif d.as_tuple().exponent not in range(-AMOUNT_PLACES, AMOUNT_INT_DIGITS):
            d = Decimal(0)
        return d
    raise _Bad(f"expected a number, got {type(value).__name__}")


def to_enum(cls: type[enum.Enum]) -> Callable[[Any], Any]:
    allowed = ", ".join(m.value for m in cls)
    members = cls._value2member_map_

    def convert(value: Any) -> Any:
        if isinstance(value, cls):
            return value
        found = members.get(value.strip().lower()) if isinstance(value, str) else None
        if found is None:
            if isinstance(value, str) or type(value) not in (int, float):
                raise _Bad(f"must be one of {allowed}; got {type(value).__name__} {str(value)[:20]!r}")
            found = members.get(value)  # an enum of numbers
            if found is None:
                raise _Bad(f"must be one of {allowed}; got {value!r}")
        return found

    return convert


def to_tuple_of(item: Callable[[Any], T]) -> Callable[[Any], tuple[T, ...]]:
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


def to_tags(value: Any) -> frozenset[str]:
    if value is None or (type(value) is list and not value):
        return frozenset()
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise _Bad(f"expected a collection of text tags, got {type(value).__name__}")
    out = set()
    for tag in value:
        if not isinstance(tag, str) or not tag:
            raise _Bad(f"every tag must be non-empty text, got {type(tag).__name__}")
        out.add(to_text(tag))
    return frozenset(out)


def to_text_map(value: Any) -> FrozenMap[str, str]:
    if value is None or (type(value) is dict and not value):
        return FrozenMap()
    if not isinstance(value, Mapping):
        raise _Bad(f"expected a mapping, got {type(value).__name__}")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise _Bad(f"keys and values must be text, got {type(k).__name__}: {type(v).__name__}")
        to_text(k)
        to_text(v)
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


def to_json_map(value: Any) -> FrozenMap[str, Any]:
    """JSON-safe custom values, as a private deep copy."""
    if value is None or (type(value) is dict and not value):
        return FrozenMap()
    if not isinstance(value, Mapping):
        raise _Bad(f"expected a mapping, got {type(value).__name__}")
    for k, v in value.items():
        if not isinstance(k, str):
            raise _Bad(f"key {k!r} is not text")
        try:
            check_text(k)
        except _Bad as exc:
            raise _Bad(f"a key {exc}") from None
        try:
            _check_json(v, k)
        except RecursionError:  # Python 3.12+ parses deeper JSON than this walk can recurse
            raise _Bad("nested too deeply") from None
    if isinstance(value, FrozenMap) and all(type(v) not in (list, dict) for v in value.values()):
        return value
    try:
        copy = json.loads(json.dumps(dict(value)))
    except RecursionError:
        raise _Bad("nested too deeply") from None
    return FrozenMap(copy)


def to_record(cls: type[T]) -> Callable[[Any], T]:
    def convert(value: Any) -> T:
        if type(value) is dict:
            return cls.from_dict(value)  # type: ignore[attr-defined,no-any-return]
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)  # type: ignore[attr-defined,no-any-return]
        raise _Bad(f"expected a {cls.__name__} or a mapping, got {type(value).__name__}")

    return convert


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _deep_copy(value: Any) -> Any:
    """A custom mapping's dict form: a deep copy (so callers cannot change the record's nested values)."""
    return json.loads(json.dumps(dict(value))) if value else {}


# --------------------------------------------------------------------------------------------- spec kinds
def text(*, synonyms: Iterable[str] = ()) -> Spec:
    """Required, non-empty text."""
    return Spec(to_nonempty_text, json_code="_q({v})", kind="text", synonyms=synonyms)


def opt_text(*, synonyms: Iterable[str] = ()) -> Spec:
    """Optional text (empty text is None)."""
    return Spec(
        _opt(to_text),
        json_code='("null" if {v} is None else _q({v}))',
        empty_code="{v} is None",
        kind="opt_text",
        synonyms=synonyms,
    )


def flag(*, synonyms: Iterable[str] = ()) -> Spec:
    return Spec(to_bool, json_code='("true" if {v} else "false")', kind="bool", synonyms=synonyms)


def whole(lo: int = INT_MIN, hi: int = INT_MAX, *, kind: str = "int", synonyms: Iterable[str] = ()) -> Spec:
    return Spec(lambda v: to_int(v, lo, hi), json_code="str({v})", kind=kind, synonyms=synonyms)


def choice(cls: type[enum.Enum], *, synonyms: Iterable[str] = ()) -> Spec:
    return Spec(
        to_enum(cls),
        dump=lambda v: v.value,
        dict_code="{v}._value_",
        json_code="_q({v}._value_)",
        kind="enum",
        arg=cls,
        synonyms=synonyms,
    )


def opt_choice(cls: type[enum.Enum], *, synonyms: Iterable[str] = ()) -> Spec:
    return Spec(
        _opt(to_enum(cls)),
        dump=lambda v: None if v is None else v.value,
        dict_code="(None if {v} is None else {v}._value_)",
        json_code='("null" if {v} is None else _q({v}._value_))',
        empty_code="{v} is None",
        kind="opt_enum",
        arg=cls,
        synonyms=synonyms,
    )


def when(*, synonyms: Iterable[str] = ()) -> Spec:
    return Spec(
        to_datetime,
        dump=lambda v: v.isoformat(),
        dict_code="{v}.isoformat()",
        json_code="('\"' + {v}.isoformat() + '\"')",
        kind="datetime",
        synonyms=synonyms,
    )


def opt_when(*, synonyms: Iterable[str] = ()) -> Spec:
    return Spec(
        _opt(to_datetime),
        dump=_iso,
        dict_code="(None if {v} is None else {v}.isoformat())",
        json_code="(\"null\" if {v} is None else '\"' + {v}.isoformat() + '\"')",
        empty_code="{v} is None",
        kind="opt_datetime",
        synonyms=synonyms,
    )


def number(
    convert: Callable[[Any], Decimal] = to_decimal, *, kind: str = "decimal", synonyms: Iterable[str] = ()
) -> Spec:
    return Spec(
        convert,
        dump=str,
        dict_code="str({v})",
        json_code="('\"' + str({v}) + '\"')",
        kind=kind,
        synonyms=synonyms,
    )


def opt_number(convert: Callable[[Any], Decimal] = to_decimal) -> Spec:
    return Spec(
        _opt(convert),
        dump=lambda v: None if v is None else str(v),
        dict_code="(None if {v} is None else str({v}))",
        json_code="(\"null\" if {v} is None else '\"' + str({v}) + '\"')",
        empty_code="{v} is None",
        kind="opt_decimal",
    )


def one(
    cls: type, convert: Callable[[Any], Any] | None = None, *, kind: str = "", synonyms: Iterable[str] = ()
) -> Spec:
    """A nested record."""
    return Spec(
        convert or to_record(cls),
        dump=lambda v: v.to_dict(),
        dict_code="{v}.to_dict()",
        json_code=f"_json_{cls.__name__}({{v}})",
        empty_code="not {v}",
        kind=kind or "record",
        arg=cls,
        synonyms=synonyms,
    )


def many(
    cls: type, item: Callable[[Any], Any] | None = None, *, kind: str = "", synonyms: Iterable[str] = ()
) -> Spec:
    """A tuple of nested records."""
    return Spec(
        to_tuple_of(item or to_record(cls)),
        dump=lambda v: [x.to_dict() for x in v],
        dict_code="[x.to_dict() for x in {v}]",
        json_code=f'("[" + ",".join(map(_json_{cls.__name__}, {{v}})) + "]")',
        empty_code="not {v}",
        kind=kind or "records",
        arg=cls,
        synonyms=synonyms,
    )


def record_map(cls: type, convert: Callable[[Any], Any], *, kind: str = "") -> Spec:
    """A FrozenMap of text to nested records."""
    return Spec(
        convert,
        dump=lambda v: {k: x.to_dict() for k, x in v.items()},
        dict_code="{{k: x.to_dict() for k, x in {v}.items()}}",
        json_code='("{{" + ",".join(_q(k) + ":" + _json_NAME(x) for k, x in {v}.items()) + "}}")'.replace(
            "NAME", cls.__name__
        ),
        empty_code="not {v}",
        kind=kind or "record_map",
        arg=cls,
    )


def tag_set(*, synonyms: Iterable[str] = ()) -> Spec:
    return Spec(
        to_tags,
        dump=sorted,
        dict_code="sorted({v})",
        json_code='("[" + ",".join(map(_q, sorted({v}))) + "]")',
        empty_code="not {v}",
        kind="tags",
        synonyms=synonyms,
    )


def text_map() -> Spec:
    return Spec(
        to_text_map,
        dump=dict,
        dict_code="dict({v})",
        json_code="_encode({v}._d)",
        empty_code="not {v}",
        kind="text_map",
    )


def json_map() -> Spec:
    return Spec(
        to_json_map,
        dump=_deep_copy,
        dict_code="_deep_copy({v})",
        json_code="_encode({v}._d)",
        empty_code="not {v}",
        kind="json_map",
    )


# --------------------------------------------------------------------------------------------- described
#: JSON text helpers of the generated writers (the same C encoders ``json`` uses, ASCII-only output).
_q: Callable[[str], str] = json.encoder.encode_basestring_ascii
_encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), check_circular=False).encode


@attrs.frozen
class FieldInfo:
    """One field of a described record: its name, spec and default (``attrs.NOTHING`` when required;
    ``factory`` when the default is made per record)."""

    name: str
    spec: Spec
    default: Any
    factory: Callable[[], Any] | None

    def is_default(self, value: Any) -> bool:
        """The general rule for a compact form: a value equal to the field's default is left out."""
        if self.factory is not None:
            return bool(value == self.factory())
        return self.default is not attrs.NOTHING and bool(value == self.default)


_DESCRIBED: dict[type, tuple[FieldInfo, ...]] = {}
_SCHEMA: dict[type, int | None] = {}
_BY_NAME: dict[str, type] = {}
_WRITERS: dict[type, Callable[[Any], str]] = {}
_NS: dict[str, Any] = {"_q": _q, "_encode": _encode, "_deep_copy": _deep_copy}
_NESTED = re.compile(r"\b_json_(\w+)\b")


def fields_of(cls: type) -> tuple[FieldInfo, ...]:
    """The description of a record class (its fields in the order of the dict form)."""
    return _DESCRIBED[cls]


def described(schema: int | None = None, *, lead: tuple[str, ...] = ()) -> Callable[[C], C]:
    """Class decorator (above ``@attrs.frozen``): derive ``_CONVERTERS`` and ``to_dict`` from the field
    specs, and register the class for :func:`json_writer`. ``schema``: the dict form starts with
    ``"schema": schema`` (top-level records); ``lead``: fields written first in the dict form (else the
    order is the class's)."""

    def wrap(cls: C) -> C:
        infos = []
        for a in attrs.fields(cls):
            spec = a.converter
            if not isinstance(spec, Spec):
                raise TypeError(f"{cls.__name__}.{a.name}: the converter must be a Spec")
            spec.name = a.name
            if isinstance(a.default, attrs.Factory):  # type: ignore[arg-type]
                infos.append(FieldInfo(a.name, spec, attrs.NOTHING, a.default.factory))
            else:
                infos.append(FieldInfo(a.name, spec, a.default, None))
        infos.sort(key=lambda i: (i.name not in lead, lead.index(i.name) if i.name in lead else 0))
        _DESCRIBED[cls] = tuple(infos)
        _SCHEMA[cls] = schema
        _BY_NAME[cls.__name__] = cls
        cls._CONVERTERS = {i.name: i.spec.convert for i in infos}  # type: ignore[attr-defined]
        to_dict = _generate_to_dict(cls)
        to_dict.__doc__ = "The JSON-safe dict form; ``from_dict`` gives the record back exactly."
        cls.to_dict = to_dict  # type: ignore[attr-defined]
        if hasattr(cls, "_from_dict_general"):
            from_dict = _generate_from_dict(cls)
            from_dict.__doc__ = cls.from_dict.__doc__  # type: ignore[attr-defined]
            cls.from_dict = classmethod(from_dict)  # type: ignore[attr-defined]
        return cls

    return wrap


def _exec(src: str, name: str, label: str, extra: dict[str, Any]) -> Any:
    ns = dict(_NS)
    ns.update(extra)
    for nested in set(_NESTED.findall(src)):  # the writers of nested records, generated first
        ns[f"_json_{nested}"] = json_writer(_BY_NAME[nested])
    exec(compile(src, f"<custdata generated {label}>", "exec"), ns)
    return ns[name]


def _dict_expr(info: FieldInfo, v: str, extra: dict[str, Any]) -> str:
    code = info.spec.dict_code
    if code is None:
        extra[f"_dump_{info.name}"] = info.spec.dump
        return f"_dump_{info.name}({v})"
    return "(" + code.format(v=v) + ")"


def _json_expr(info: FieldInfo, v: str, extra: dict[str, Any]) -> str:
    code = info.spec.json_code
    if code is None:
        extra[f"_dump_{info.name}"] = info.spec.dump
        return f"_encode(_dump_{info.name}({v}))"
    return "(" + code.format(v=v) + ")"


def _generate_to_dict(cls: type) -> Callable[[Any], dict[str, Any]]:
    extra: dict[str, Any] = {}
    items = [] if _SCHEMA[cls] is None else [f'"schema": {_SCHEMA[cls]!r}']
    items += [f"{i.name!r}: {_dict_expr(i, 'self.' + i.name, extra)}" for i in fields_of(cls)]
    src = "def to_dict(self):\n    return {\n        " + ",\n        ".join(items) + ",\n    }\n"
    fn: Callable[[Any], dict[str, Any]] = _exec(src, "to_dict", f"{cls.__name__}.to_dict", extra)
    return fn


_MISSING = object()


def _field_errors(errors: list[FieldError] | None, name: str, exc: Exception) -> list[FieldError]:
    out = [] if errors is None else errors
    if isinstance(exc, ValidationError):
        out.extend(FieldError(f"{name}.{e.field}" if e.field else name, e.reason) for e in exc.errors)
    else:
        out.append(FieldError(name, str(exc)))
    return out


def _unknown(errors: list[FieldError] | None, cls: type, data: Mapping[str, Any]) -> list[FieldError]:
    out = [] if errors is None else errors
    known = cls._CONVERTERS  # type: ignore[attr-defined]
    out.extend(
        FieldError(str(k), f"unknown field for {cls.__name__}")
        for k in data
        if k != "schema" and k not in known
    )
    return out


def _generate_from_dict(cls: type) -> Callable[..., Any]:
    """``from_dict`` as one function with a block per field (generated, as attrs generates ``__init__``):
    a converter call and a slot store each, no loop over the fields. Pinned to ``_from_dict_general``."""
    extra: dict[str, Any] = {
        "_cls": cls,
        "_new": object.__new__,
        "_M": _MISSING,
        "_Bad": _Bad,
        "_VE": ValidationError,
        "_FE": FieldError,
        "_Mapping": Mapping,
        "_errs": _field_errors,
        "_unknown": _unknown,
        "_general": cls._from_dict_general,  # type: ignore[attr-defined]
        "_check_schema": cls._check_schema,  # type: ignore[attr-defined]
    }
    lines = [
        "def from_dict(cls, data):",
        "    if cls is not _cls:",
        "        return _general.__func__(cls, data)",
        "    if type(data) is not dict and not isinstance(data, _Mapping):",
        '        raise _VE(f"expected a mapping, got {type(data).__name__}")',
        "    get = data.get",
        "    used = 0",
        '    if "schema" in data:',
        '        _check_schema(data["schema"])',
        "        used = 1",
        "    obj = _new(_cls)",
        "    errors = None",
    ]
    for n, info in enumerate(fields_of(cls)):
        extra[f"_c{n}"] = info.spec.convert
        extra[f"_s{n}"] = getattr(cls, info.name).__set__
        lines.append(f"    v = get({info.name!r}, _M)")
        lines.append("    if v is _M:")
        if info.factory is not None:
            extra[f"_f{n}"] = info.factory
            lines.append(f"        _s{n}(obj, _f{n}())")
        elif info.default is attrs.NOTHING:
            lines.append(f'        errors = _errs(errors, {info.name!r}, _Bad("is required"))')
        else:
            extra[f"_d{n}"] = info.default
            lines.append(f"        _s{n}(obj, _d{n})")
        lines += [
            "    else:",
            "        used += 1",
            "        try:",
            f"            _s{n}(obj, _c{n}(v))",
            "        except (_Bad, _VE) as exc:",
            f"            errors = _errs(errors, {info.name!r}, exc)",
        ]
    lines += [
        "    if used != len(data):",
        "        errors = _unknown(errors, _cls, data)",
        "    if errors:",
        "        raise _VE(errors)",
        "    return obj",
    ]
    fn: Callable[..., Any] = _exec("\n".join(lines) + "\n", "from_dict", f"{cls.__name__}.from_dict", extra)
    return fn


def dict_of(obj: Any) -> dict[str, Any]:
    """The general path of ``to_dict``: each field's ``dump``, in a loop."""
    cls = type(obj)
    out: dict[str, Any] = {} if _SCHEMA[cls] is None else {"schema": _SCHEMA[cls]}
    for info in fields_of(cls):
        out[info.name] = info.spec.dump(getattr(obj, info.name))
    return out


def json_writer(cls: type) -> Callable[[Any], str]:
    """Generated: the dict form of a ``cls`` record as compact ASCII JSON text, written directly (no dict
    built). Equal to :func:`encode` of ``obj.to_dict()``."""
    found = _WRITERS.get(cls)
    if found is not None:
        return found
    extra: dict[str, Any] = {}
    schema = _SCHEMA[cls]
    pieces = []
    for n, info in enumerate(fields_of(cls)):
        key = ("," if n or schema is not None else "") + json.dumps(info.name) + ":"
        pieces.append(f"{key!r} + {_json_expr(info, 'o.' + info.name, extra)}")
    head = "{" + ("" if schema is None else f'"schema":{schema}')
    src = f"def write(o):\n    return {head!r} + " + " + ".join(pieces) + ' + "}"\n'
    fn: Callable[[Any], str] = _exec(src, "write", f"{cls.__name__} JSON writer", extra)
    _WRITERS[cls] = fn
    return fn


def compact_dict(obj: Any, leave_out: Iterable[str] = ()) -> dict[str, Any]:
    """The general path of a compact form: the dict form without the fields in ``leave_out`` and without
    the fields that hold their default (``from_dict`` fills those back in)."""
    skip = set(leave_out)
    d = dict_of(obj)
    for info in fields_of(type(obj)):
        if info.name in skip or info.is_default(getattr(obj, info.name)):
            del d[info.name]
    return d


def _compact_lines(
    cls: type, leave_out: Iterable[str], store: Callable[[FieldInfo, dict[str, Any]], str]
) -> tuple[list[str], dict[str, Any]]:
    """The per-field lines of a compact form: ``store(info, extra)`` is the statement that writes the
    field's value ``v``, run only when the field is not empty (its spec's ``empty_code``)."""
    skip = set(leave_out)
    extra: dict[str, Any] = {}
    lines = []
    for info in fields_of(cls):
        if info.name in skip:
            continue
        lines.append(f"    v = o.{info.name}")
        empty = info.spec.empty_code
        if empty is None:
            lines.append(f"    {store(info, extra)}")
        else:
            lines.append(f"    if not ({empty.format(v='v')}):")
            lines.append(f"        {store(info, extra)}")
    return lines, extra


def compact_writer(cls: type, leave_out: Iterable[str] = ()) -> Callable[[Any], str]:
    """Generated: :func:`encode` of :func:`compact_dict`, written directly. For top-level records (with
    a schema); a field without an ``empty_code`` is always written."""
    schema = _SCHEMA[cls]
    if schema is None:
        raise TypeError(f"{cls.__name__} has no schema: compact forms are for top-level records")
    body, extra = _compact_lines(
        cls,
        leave_out,
        lambda info, ns: f"out.append({',' + json.dumps(info.name) + ':'!r} + {_json_expr(info, 'v', ns)})",
    )
    head = '{"schema":' + str(schema)
    src = "\n".join(["def write(o):", f"    out = [{head!r}]", *body, '    out.append("}")'])
    fn: Callable[[Any], str] = _exec(src + '\n    return "".join(out)\n', "write", "compact writer", extra)
    return fn


def compact_dict_writer(cls: type, leave_out: Iterable[str] = ()) -> Callable[[Any], dict[str, Any]]:
    """Generated: :func:`compact_dict` as one function with a test per field (no factory calls)."""
    schema = _SCHEMA[cls]
    body, extra = _compact_lines(
        cls, leave_out, lambda info, ns: f"d[{info.name!r}] = {_dict_expr(info, 'v', ns)}"
    )
    head = "    d = {}" if schema is None else f'    d = {{"schema": {schema!r}}}'
    src = "\n".join(["def compact(o):", head, *body, "    return d"]) + "\n"
    fn: Callable[[Any], dict[str, Any]] = _exec(src, "compact", "compact dict", extra)
    return fn


def encode(data: Any) -> str:
    """The general JSON text the writers above match: compact, ASCII-only."""
    return _encode(data)
