"""The rule tree: field references, predicates, ``&``/``|``/``~``, Python evaluation, JSON and text forms.

A rule is an immutable tree. Leaves (predicates) read one field of a profile; ``And``, ``Or`` and ``Not``
combine them. Evaluation is two-valued: a predicate on a missing value (``None``, empty text, an empty
collection) is false, except :meth:`Field.is_missing`, and ``~`` is plain negation, so De Morgan's laws hold
on every profile.

Values are kept in one canonical form so that the three forms of a rule (Python objects, JSON, text)
round-trip exactly: ``float`` becomes ``Decimal`` (from its shortest repr), dates become ISO text.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

from custdata._records import MonthDay
from custdata.exceptions import RuleSyntaxError, ValidationError

__all__ = [
    "COMPARISONS",
    "And",
    "Compare",
    "Contains",
    "F",
    "Field",
    "In",
    "Missing",
    "Not",
    "Or",
    "Present",
    "Rule",
    "StartsWith",
    "Value",
    "WithinLast",
    "WithinNext",
]

#: A rule's literal value: text, a whole number, an exact decimal, or true/false.
Value = str | int | Decimal | bool

_N = TypeVar("_N", int, Decimal)

COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
#: Words the text form reserves; they cannot be field names.
RESERVED = frozenset({"and", "or", "not", "true", "false"})


# --------------------------------------------------------------------------------------------- values
def canonical_value(value: Any, *, what: str = "value") -> Value:
    """The canonical form of a literal: text, int, Decimal or bool. Floats become Decimals (shortest repr),
    dates become ISO text; anything else is a ValidationError."""
    if isinstance(value, (bool, int, str)) and not isinstance(value, MonthDay):
        if isinstance(value, str):
            _check_text(value)
        elif not isinstance(value, bool):
            _check_number(value, what)
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(f"a rule {what} must be finite, got {value!r}")
        return _check_number(Decimal(repr(value)), what)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationError(f"a rule {what} must be finite, got {value!r}")
        return _check_number(value, what)
    if isinstance(value, (dt.date, MonthDay)):
        return value.isoformat()
    raise ValidationError(
        f"a rule {what} must be text, a number, a date or true/false; got {type(value).__name__}"
    )


#: The largest number (in magnitude) a rule may hold: the stores compare amounts as whole millionths in
#: 64 bits, so every number, whole or not, stays within (2**63 - 1) / 10**6.
MAX_NUMBER = Decimal(2**63 - 1).scaleb(-6)


def _check_number(value: _N, what: str) -> _N:
    if abs(value) > MAX_NUMBER:
        raise ValidationError(
            f"a rule {what} must be within ±{MAX_NUMBER:,} (the stores compare amounts as millionths in "
            "64 bits)"
        )
    return value


def _check_text(text: str) -> None:
    """Rule text must be text every store can hold: valid Unicode, without NUL characters."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("rule text values must be valid Unicode (no lone surrogates)") from None
    if "\x00" in text:
        raise ValidationError("rule text values cannot hold a NUL character (no store can hold it)")


def _days(days: Any) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValidationError(f"days must be a whole number, 0 or more; got {days!r}")
    return days


def _field_name(name: Any) -> str:
    if not isinstance(name, str) or not name.isidentifier() or name.lower() in RESERVED:
        raise ValidationError(f"not a field name: {name!r} (letters, digits and _, not a reserved word)")
    return name


# --------------------------------------------------------------------------------------------- evaluation
_MISSING = object()


def field_value(profile: Any, name: str) -> Any:
    """A field of a profile: a mapping's key or an object's attribute (``None`` when absent)."""
    if isinstance(profile, Mapping):
        return profile.get(name)
    return getattr(profile, name, None)


def is_missing(value: Any) -> bool:
    """``None``, empty text and empty collections are missing."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, (list, tuple, set, frozenset, dict, Mapping)):
        return len(value) == 0
    return False


def _is_collection(value: Any) -> bool:
    return isinstance(value, (list, tuple, set, frozenset))


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10]) if len(value) >= 10 else None
        except ValueError:
            return None
    return None


def _type_error(field: str, value: Any, literal: Any, op: str) -> ValidationError:
    return ValidationError(
        f"cannot apply {op} to field {field!r} ({type(value).__name__}) and {type(literal).__name__}",
        field=field,
    )


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def coerce_pair(field: str, value: Any, literal: Value, op: str) -> tuple[Any, Any]:
    """The field's value and the literal in comparable forms, or a ValidationError."""
    if isinstance(value, bool) or isinstance(literal, bool):
        if isinstance(value, bool) and isinstance(literal, bool):
            return value, literal
        raise _type_error(field, value, literal, op)
    if _number(value) and _number(literal):
        return value, literal
    if isinstance(value, str) and isinstance(literal, str):
        return value, literal
    if isinstance(value, (dt.date, dt.datetime)) and isinstance(literal, str):
        day = _as_date(literal)
        if day is None:
            raise ValidationError(
                f"{literal!r} is not an ISO date (YYYY-MM-DD) for field {field!r}", field=field
            )
        return _as_date(value), day
    raise _type_error(field, value, literal, op)


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_NUMBERS = (int, Decimal, float)  # exact types: bool is not among them


def _get(p: Any, name: str) -> Any:
    t = type(p)
    if t is dict:
        return p.get(name)
    if getattr(t, "_custdata_profile", False):
        return getattr(p, name, None)
    return field_value(p, name)


def getter(name: str) -> Callable[[Any], Any]:
    """A fast :func:`field_value` for one field: dicts and profiles without the generic checks."""

    def get(p: Any) -> Any:
        t = type(p)
        if t is dict:
            return p.get(name)
        if getattr(t, "_custdata_profile", False):
            return getattr(p, name, None)
        return field_value(p, name)

    return get


def _compare(op: str, a: Any, b: Any) -> bool:
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)


def next_occurrence(month: int, day: int, on_or_after: dt.date) -> dt.date:
    """The next date on or after ``on_or_after`` with this month and day. 29 February falls on 28 February
    in common years."""
    for year in (on_or_after.year, on_or_after.year + 1):
        d = 28 if month == 2 and day == 29 and not _leap(year) else day
        when = dt.date(year, month, d)
        if when >= on_or_after:
            return when
    raise AssertionError("unreachable: a month-day recurs within a year")  # pragma: no cover


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def month_day(value: Any) -> tuple[int, int] | None:
    """The (month, day) of a date, date-time, year-less birthday or ISO text, else None."""
    if isinstance(value, MonthDay):
        return value.month, value.day
    if isinstance(value, (dt.date, dt.datetime)):
        return value.month, value.day
    if isinstance(value, str):
        t = value.strip()
        if t.startswith("--"):
            try:
                md = MonthDay.parse(t)
            except ValidationError:
                return None
            return md.month, md.day
        d = _as_date(t)
        return None if d is None else (d.month, d.day)
    return None


def as_of_of(profile: Any, as_of: dt.date | None) -> dt.date:
    """The date a rule's windows are measured from: ``as_of`` if given, else the profile's ``as_of``,
    else today."""
    if as_of is not None:
        return as_of
    value = field_value(profile, "as_of")
    day = _as_date(value) if value is not None else None
    return day if day is not None else dt.date.today()


# --------------------------------------------------------------------------------------------- the tree
class Rule:
    """A rule over customer profiles. Build one with :data:`F`, :meth:`parse` or :meth:`from_json`.

    Every form gives the same rule: ``Rule.parse(str(r)) == r`` and ``Rule.from_json(r.to_json()) == r``
    (rules compare by their canonical JSON).
    """

    __slots__ = ("_fn", "_json")
    op: ClassVar[str] = ""

    # ---- combination
    def __and__(self, other: Rule) -> Rule:
        return And(self, _rule(other))

    def __or__(self, other: Rule) -> Rule:
        return Or(self, _rule(other))

    def __invert__(self) -> Rule:
        return Not(self)

    def __bool__(self) -> bool:
        raise TypeError("a rule has no truth value: combine rules with &, | and ~, not and/or/not")

    # ---- evaluation
    def matches(self, profile: Any, *, as_of: dt.date | None = None) -> bool:
        """Does ``profile`` (a mapping or an object with the fields) satisfy the rule? Date windows count
        from ``as_of``, else the profile's own ``as_of``, else today."""
        try:
            fn, needs_date = getattr(self, "_fn")  # noqa: B009 (a slot set on first use)
        except AttributeError:
            fn, needs_date = self._compile(), self._needs_date()
            object.__setattr__(self, "_fn", (fn, needs_date))
        return bool(fn(profile, as_of_of(profile, as_of) if needs_date else dt.date.min))

    def _eval(self, profile: Any, today: dt.date) -> bool:
        raise NotImplementedError

    def _compile(self) -> Callable[[Any, dt.date], bool]:
        """A function evaluating the rule (the same answers as :meth:`_eval`, with fast paths)."""
        return self._eval

    def _needs_date(self) -> bool:
        return any(isinstance(p, (WithinNext, WithinLast)) for p in self.predicates())

    def select(self, store: Any, *, as_of: dt.date | str, bins: int = 5) -> list[Any]:
        """The customers of ``store`` this rule selects as of ``as_of``, evaluated inside the database when
        the store speaks SQL (see :func:`custdata.segments.select`); what ``store.select(rule, as_of=...)``
        calls."""
        from custdata.segments._select import select

        return select(store, self, as_of=as_of, bins=bins)

    def filter(self, profiles: Iterable[Any], *, as_of: dt.date | None = None) -> Iterable[Any]:
        """The profiles the rule matches, lazily."""
        return (p for p in profiles if self.matches(p, as_of=as_of))

    def predicates(self) -> list[Predicate]:
        """The leaves of the rule, left to right."""
        raise NotImplementedError

    def fields(self) -> set[str]:
        """The names of the fields the rule reads."""
        return {p.field for p in self.predicates()}

    # ---- forms
    def to_obj(self) -> dict[str, Any]:
        """The JSON form as Python data (decimals as :class:`~decimal.Decimal`)."""
        raise NotImplementedError

    def to_json(self) -> str:
        """The JSON form as text: canonical (sorted keys, no spaces), so equal rules give equal text."""
        try:
            return str(getattr(self, "_json"))  # noqa: B009 (a slot set on first use)
        except AttributeError:
            text = _dump(self.to_obj())
            object.__setattr__(self, "_json", text)
            return text

    @classmethod
    def from_json(cls, obj: str | bytes | Mapping[str, Any], *, schema: Any = None) -> Rule:
        """A rule from its JSON form (text or the parsed object). With ``schema`` (field names, or a mapping
        of field name to kind), unknown fields and values of the wrong kind are errors."""
        from custdata.segments._json import rule_from_json

        return rule_from_json(obj, schema=schema)

    @classmethod
    def parse(cls, text: str, *, schema: Any = None) -> Rule:
        """A rule from its text form, read by custdata's own grammar (never run as Python). Bad text raises
        :class:`~custdata.exceptions.RuleSyntaxError` pointing at the token. With ``schema`` (field names,
        or a mapping of field name to kind), an unknown field is an error with a "did you mean"."""
        from custdata.segments._parse import parse

        return parse(text, schema=schema)

    def __str__(self) -> str:
        return self._text(0)

    def _text(self, context: int) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"Rule.parse({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rule):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("rules are immutable")


def _rule(obj: Any) -> Rule:
    if not isinstance(obj, Rule):
        raise ValidationError(f"expected a rule, got {type(obj).__name__} (did you forget F.?)")
    return obj


def _init(obj: Any, **values: Any) -> None:
    for k, v in values.items():
        object.__setattr__(obj, k, v)


# precedence contexts for the text form: 0 top level / inside or, 1 inside and, 2 inside not
class _Group(Rule):
    __slots__ = ("rules",)
    rules: tuple[Rule, ...]
    word: ClassVar[str] = ""
    level: ClassVar[int] = 0

    def __init__(self, *rules: Rule) -> None:
        flat: list[Rule] = []
        for r in rules:
            r = _rule(r)
            if type(r) is type(self):
                flat.extend(r.rules)
            else:
                flat.append(r)
        if len(flat) < 2:
            raise ValidationError(f"{self.word} needs at least two rules")
        _init(self, rules=tuple(flat))

    def predicates(self) -> list[Predicate]:
        return [p for r in self.rules for p in r.predicates()]

    def to_obj(self) -> dict[str, Any]:
        return {"op": self.op, "rules": [r.to_obj() for r in self.rules]}

    def _text(self, context: int) -> str:
        inner = f" {self.word} ".join(r._text(self.level + 1) for r in self.rules)
        return f"({inner})" if context > self.level else inner


class And(_Group):
    """Every rule matches."""

    __slots__ = ()
    op = "and"
    word = "and"
    level = 1

    def _eval(self, profile: Any, today: dt.date) -> bool:
        return all(r._eval(profile, today) for r in self.rules)

    def _compile(self) -> Callable[[Any, dt.date], bool]:
        fns = tuple(r._compile() for r in self.rules)

        def every(p: Any, today: dt.date) -> bool:
            for fn in fns:  # noqa: SIM110 (a loop is faster than all() over a generator)
                if not fn(p, today):
                    return False
            return True

        return every


class Or(_Group):
    """At least one rule matches."""

    __slots__ = ()
    op = "or"
    word = "or"
    level = 0

    def _eval(self, profile: Any, today: dt.date) -> bool:
        return any(r._eval(profile, today) for r in self.rules)

    def _compile(self) -> Callable[[Any, dt.date], bool]:
        fns = tuple(r._compile() for r in self.rules)

        def some(p: Any, today: dt.date) -> bool:
            for fn in fns:  # noqa: SIM110 (a loop is faster than any() over a generator)
                if fn(p, today):
                    return True
            return False

        return some


class Not(Rule):
    """The rule does not match."""

    __slots__ = ("rule",)
    op = "not"
    rule: Rule

    def __init__(self, rule: Rule) -> None:
        _init(self, rule=_rule(rule))

    def _eval(self, profile: Any, today: dt.date) -> bool:
        return not self.rule._eval(profile, today)

    def _compile(self) -> Callable[[Any, dt.date], bool]:
        fn = self.rule._compile()
        return lambda p, today: not fn(p, today)

    def predicates(self) -> list[Predicate]:
        return self.rule.predicates()

    def to_obj(self) -> dict[str, Any]:
        return {"op": "not", "rule": self.rule.to_obj()}

    def _text(self, context: int) -> str:
        return f"not {self.rule._text(2)}"


class Predicate(Rule):
    """A leaf: a test of one field."""

    __slots__ = ("field",)
    field: str

    def predicates(self) -> list[Predicate]:
        return [self]

    def _text(self, context: int) -> str:
        return self._leaf_text()

    def _leaf_text(self) -> str:
        raise NotImplementedError


class Compare(Predicate):
    """``field <op> value`` with op one of ``== != < <= > >=``; false when the field is missing."""

    __slots__ = ("cmp", "value")
    op = "compare"
    cmp: str
    value: Value

    def __init__(self, field: str, cmp: str, value: Any) -> None:
        if cmp not in COMPARISONS:
            raise ValidationError(f"not a comparison: {cmp!r} (one of {', '.join(COMPARISONS)})")
        if value is None:
            raise ValidationError("compare with None: use F.x.is_missing() or F.x.is_present()")
        _init(self, field=_field_name(field), cmp=cmp, value=canonical_value(value))

    def _eval(self, profile: Any, today: dt.date) -> bool:
        v = _get(profile, self.field)
        if is_missing(v):
            return False
        if _is_collection(v):
            raise _type_error(self.field, v, self.value, self.cmp)
        a, b = coerce_pair(self.field, v, self.value, self.cmp)
        return _compare(self.cmp, a, b)

    def _compile(self) -> Callable[[Any, dt.date], bool]:
        get = getter(self.field)
        lit = self.value
        cmp = _OPERATORS[self.cmp]
        slow = self._eval
        lit_num = type(lit) in _NUMBERS
        lit_text = type(lit) is str

        def compare(p: Any, today: dt.date) -> bool:
            v = get(p)
            if v is None:
                return False
            tv = type(v)
            if lit_num and tv in _NUMBERS:
                return bool(cmp(v, lit))
            if lit_text and tv is str:
                return v != "" and bool(cmp(v, lit))
            return slow(p, today)

        return compare

    def to_obj(self) -> dict[str, Any]:
        return {"op": self.cmp, "field": self.field, "value": self.value}

    def _leaf_text(self) -> str:
        return f"{self.field} {self.cmp} {format_value(self.value)}"


class In(Predicate):
    """The field's value is one of the values (a collection field: any of its items is)."""

    __slots__ = ("values",)
    op = "in"
    values: tuple[Value, ...]

    def __init__(self, field: str, values: Iterable[Any]) -> None:
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise ValidationError("is_in takes a list of values")
        vals = []
        for v in values:
            if v is None:
                raise ValidationError("is_in with None: combine with F.x.is_missing() instead")
            vals.append(canonical_value(v))
        _init(self, field=_field_name(field), values=tuple(vals))

    def _eval(self, profile: Any, today: dt.date) -> bool:
        v = _get(profile, self.field)
        if is_missing(v):
            return False
        items = v if _is_collection(v) else (v,)
        for item in items:
            for lit in self.values:
                a, b = coerce_pair(self.field, item, lit, "in")
                if a == b:
                    return True
        return False

    def to_obj(self) -> dict[str, Any]:
        return {"op": "in", "field": self.field, "values": list(self.values)}

    def _leaf_text(self) -> str:
        return f"{self.field} in [{', '.join(format_value(v) for v in self.values)}]"


class Contains(Predicate):
    """A collection field holds the value (a tag in the tags), or a text field contains it."""

    __slots__ = ("value",)
    op = "contains"
    value: str

    def __init__(self, field: str, value: Any) -> None:
        if not isinstance(value, str):
            raise ValidationError(f"contains takes text, got {type(value).__name__}")
        _init(self, field=_field_name(field), value=canonical_value(value))

    def _eval(self, profile: Any, today: dt.date) -> bool:
        v = _get(profile, self.field)
        if is_missing(v):
            return False
        if _is_collection(v):
            return self.value in v
        if isinstance(v, str):
            return self.value in v
        raise _type_error(self.field, v, self.value, "contains")

    def to_obj(self) -> dict[str, Any]:
        return {"op": "contains", "field": self.field, "value": self.value}

    def _leaf_text(self) -> str:
        return f"{self.field} contains {format_value(self.value)}"


class StartsWith(Predicate):
    """A text field starts with the prefix (a collection field: any of its items does)."""

    __slots__ = ("value",)
    op = "startswith"
    value: str

    def __init__(self, field: str, value: Any) -> None:
        if not isinstance(value, str):
            raise ValidationError(f"startswith takes text, got {type(value).__name__}")
        _init(self, field=_field_name(field), value=canonical_value(value))

    def _eval(self, profile: Any, today: dt.date) -> bool:
        v = _get(profile, self.field)
        if is_missing(v):
            return False
        items = v if _is_collection(v) else (v,)
        for item in items:
            if not isinstance(item, str):
                raise _type_error(self.field, item, self.value, "startswith")
            if item.startswith(self.value):
                return True
        return False

    def to_obj(self) -> dict[str, Any]:
        return {"op": "startswith", "field": self.field, "value": self.value}

    def _leaf_text(self) -> str:
        return f"{self.field} startswith {format_value(self.value)}"


class Missing(Predicate):
    """The field is missing: None, empty text or an empty collection."""

    __slots__ = ()
    op = "missing"

    def __init__(self, field: str) -> None:
        _init(self, field=_field_name(field))

    def _eval(self, profile: Any, today: dt.date) -> bool:
        return is_missing(_get(profile, self.field))

    def to_obj(self) -> dict[str, Any]:
        return {"op": "missing", "field": self.field}

    def _leaf_text(self) -> str:
        return f"{self.field} is missing"


class Present(Predicate):
    """The field has a value (the opposite of :class:`Missing`)."""

    __slots__ = ()
    op = "present"

    def __init__(self, field: str) -> None:
        _init(self, field=_field_name(field))

    def _eval(self, profile: Any, today: dt.date) -> bool:
        return not is_missing(_get(profile, self.field))

    def to_obj(self) -> dict[str, Any]:
        return {"op": "present", "field": self.field}

    def _leaf_text(self) -> str:
        return f"{self.field} is not missing"


class WithinNext(Predicate):
    """The next yearly occurrence of the field's month and day (a birthday, an anniversary) falls within
    the next ``days`` days: from the as-of date up to and including ``as_of + days``. Year-less birthdays
    count; 29 February falls on 28 February in common years."""

    __slots__ = ("days",)
    op = "within_next"
    days: int

    def __init__(self, field: str, days: int) -> None:
        _init(self, field=_field_name(field), days=_days(days))

    def _eval(self, profile: Any, today: dt.date) -> bool:
        v = _get(profile, self.field)
        if is_missing(v):
            return False
        md = month_day(v)
        if md is None:
            raise ValidationError(
                f"field {self.field!r} holds no date ({type(v).__name__})", field=self.field
            )
        return (next_occurrence(md[0], md[1], today) - today).days <= self.days

    def to_obj(self) -> dict[str, Any]:
        return {"op": "within_next", "field": self.field, "days": self.days}

    def _leaf_text(self) -> str:
        return f"{self.field} within next {self.days} days"


class WithinLast(Predicate):
    """The field's date lies within the last ``days`` days: from ``as_of - days`` up to and including the
    as-of date. A year-less date never does."""

    __slots__ = ("days",)
    op = "within_last"
    days: int

    def __init__(self, field: str, days: int) -> None:
        _init(self, field=_field_name(field), days=_days(days))

    def _eval(self, profile: Any, today: dt.date) -> bool:
        v = _get(profile, self.field)
        if is_missing(v) or isinstance(v, MonthDay) or (isinstance(v, str) and v.startswith("--")):
            return False
        d = _as_date(v)
        if d is None:
            raise ValidationError(
                f"field {self.field!r} holds no date ({type(v).__name__})", field=self.field
            )
        return 0 <= (today - d).days <= self.days

    def to_obj(self) -> dict[str, Any]:
        return {"op": "within_last", "field": self.field, "days": self.days}

    def _leaf_text(self) -> str:
        return f"{self.field} within last {self.days} days"


# --------------------------------------------------------------------------------------------- F
class Field:
    """A reference to a profile field, ``F.total_spend`` (or ``F["total_spend"]``): compare it, or call one
    of its tests, to get a :class:`Rule`."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", _field_name(name))

    name: str

    def __eq__(self, value: object) -> Rule:  # type: ignore[override]
        return Compare(self.name, "==", value)

    def __ne__(self, value: object) -> Rule:  # type: ignore[override]
        return Compare(self.name, "!=", value)

    def __lt__(self, value: Any) -> Rule:
        return Compare(self.name, "<", value)

    def __le__(self, value: Any) -> Rule:
        return Compare(self.name, "<=", value)

    def __gt__(self, value: Any) -> Rule:
        return Compare(self.name, ">", value)

    def __ge__(self, value: Any) -> Rule:
        return Compare(self.name, ">=", value)

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise TypeError(f"F.{self.name} has no truth value: compare it (F.{self.name} >= 3) or test it")

    def is_in(self, values: Iterable[Any]) -> Rule:
        """The value is one of ``values`` (a collection field: any item is)."""
        return In(self.name, values)

    def contains(self, value: str) -> Rule:
        """A tag (or item) in a collection field, or a substring of a text field."""
        return Contains(self.name, value)

    def startswith(self, prefix: str) -> Rule:
        """A text field starts with ``prefix``."""
        return StartsWith(self.name, prefix)

    def is_missing(self) -> Rule:
        """None, empty text or an empty collection."""
        return Missing(self.name)

    def is_present(self) -> Rule:
        """Not missing."""
        return Present(self.name)

    def within_next(self, days: int) -> Rule:
        """The date's next yearly occurrence (birthday, anniversary) is within ``days`` days of as-of."""
        return WithinNext(self.name, days)

    def within_last(self, days: int) -> Rule:
        """The date lies within the last ``days`` days up to as-of."""
        return WithinLast(self.name, days)

    def __repr__(self) -> str:
        return f"F.{self.name}"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("field references are immutable")


class _FieldFactory:
    """``F.name`` and ``F["name"]`` make :class:`Field` references."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Field:
        if name.startswith("__"):
            raise AttributeError(name)
        return Field(name)

    def __getitem__(self, name: str) -> Field:
        return Field(name)

    def __repr__(self) -> str:
        return "F"


#: Field references: ``F.total_spend >= 5000``.
F = _FieldFactory()


# --------------------------------------------------------------------------------------------- text
def format_value(value: Value) -> str:
    """A literal in the text form."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return str(value)
    out = ["'"]
    for ch in value:
        if ch == "'":
            out.append("\\'")
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append("'")
    return "".join(out)


# --------------------------------------------------------------------------------------------- JSON
def _dump(obj: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, non-ASCII kept, decimals written as JSON numbers."""
    if isinstance(obj, dict):
        return "{" + ",".join(f"{_dump(k)}:{_dump(obj[k])}" for k in sorted(obj)) + "}"
    if isinstance(obj, (list, tuple)):
        return "[" + ",".join(_dump(v) for v in obj) + "]"
    if isinstance(obj, Decimal):
        return str(obj)  # finite (checked at construction), so a valid JSON number
    return json.dumps(obj, ensure_ascii=False)


def _loads(text: str | bytes) -> Any:
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_bad_constant)
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise RuleSyntaxError(f"rule JSON does not parse: {exc}") from None


def _bad_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a rule can hold")


def leaves(rule: Rule) -> Sequence[Predicate]:
    return rule.predicates()
