"""The checks every built-in store makes on its arguments, and on the options of its URL.

One module, so a wrong type or an impossible value gets the same :class:`~custdata.exceptions.ValidationError`
(naming the argument) from memory, SQLite and PostgreSQL alike, before any backend sees it. Text a
record can never hold (a NUL character, a lone surrogate) is refused here too: PostgreSQL cannot store
it and SQLite's driver cannot encode it, so no backend could ever find it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from custdata._bulk import items_of
from custdata.exceptions import ValidationError

__all__ = [
    "aware",
    "callable_arg",
    "check_find",
    "check_scan",
    "flag",
    "ids",
    "iterable",
    "limit_arg",
    "optional_text",
    "sensitive_names",
    "text",
    "url_options",
]

T = TypeVar("T")


def _kind(value: object) -> str:
    return type(value).__name__


def text(name: str, value: object) -> str:
    """A str that a store can hold (no NUL, no lone surrogate)."""
    if not isinstance(value, str):
        raise ValidationError(f"must be text, got {_kind(value)}", field=name)
    if "\x00" in value:
        raise ValidationError("must not contain a NUL character", field=name)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("holds a lone surrogate (not valid Unicode text)", field=name) from None
    return value


def optional_text(name: str, value: object) -> str | None:
    return None if value is None else text(name, value)


def flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"must be True or False, got {_kind(value)}", field=name)
    return value


def aware(name: str, value: object) -> dt.datetime | None:
    """None or a timezone-aware datetime."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        raise ValidationError(f"must be a timezone-aware datetime, got {_kind(value)}", field=name)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("must be timezone-aware (give it a tzinfo)", field=name)
    return value


def limit_arg(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"must be a whole number, got {_kind(value)}", field="limit")
    if value < 0:
        raise ValidationError("must not be negative", field="limit")
    return value


def callable_arg(name: str, value: object) -> Any:
    if value is not None and not callable(value):
        raise ValidationError(f"must be a function of a Customer, got {_kind(value)}", field=name)
    return value


def iterable(name: str, value: object) -> Iterable[Any]:
    """An iterable of items (a str or a mapping is refused: it is one item, not many)."""
    return items_of(value, name, "items")  # type: ignore[arg-type]


def ids(value: object) -> list[str]:
    """Customer ids, each checked, duplicates dropped (first order kept)."""
    return list(dict.fromkeys(text("customer_ids", i) for i in iterable("customer_ids", value)))


def sensitive_names(value: object) -> tuple[str, ...] | None:
    """The custom attribute names of ``sensitive_custom=`` (None: not given), sorted, duplicates dropped.
    A single str is refused (it would read as its letters)."""
    if value is None:
        return None
    return tuple(sorted({text("sensitive_custom", n) for n in iterable("sensitive_custom", value)}))


def check_find(phone: object, email: object, external_id: object) -> None:
    optional_text("phone", phone)
    optional_text("email", email)
    if isinstance(external_id, tuple):
        if len(external_id) != 2:
            raise ValidationError("must be an id or a (system, id) pair", field="external_id")
        text("external_id", external_id[0])
        text("external_id", external_id[1])
    else:
        optional_text("external_id", external_id)


def check_scan(
    after: object,
    limit: object,
    tag: object,
    channel: object,
    lifecycle_stage: object,
    owner: object,
    changed_since: object,
    where: object,
    include_deleted: object,
) -> None:
    """The arguments of ``Store.scan``."""
    optional_text("after", after)
    limit_arg(limit)
    for name, value in (("tag", tag), ("channel", channel), ("lifecycle_stage", lifecycle_stage)):
        optional_text(name, value)
    optional_text("owner", owner)
    aware("changed_since", changed_since)
    callable_arg("where", where)
    flag("include_deleted", include_deleted)


# ------------------------------------------------------------------------------------------ URL options
def _number(name: str, raw: object, *, minimum: float, positive: bool = False) -> float:
    try:
        if isinstance(raw, bool):
            raise TypeError
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(f"must be a number, got {raw!r}", field=name) from None
    if not math.isfinite(value) or value < minimum or (positive and value <= minimum):
        bound = f"more than {minimum:g}" if positive else f"at least {minimum:g}"
        raise ValidationError(f"must be a finite number {bound}, got {raw!r}", field=name)
    return value


def seconds(name: str, raw: object) -> float:
    """A non-negative, finite number of seconds (text from a URL accepted)."""
    return _number(name, raw, minimum=0.0)


def positive(name: str, raw: object) -> float:
    return _number(name, raw, minimum=0.0, positive=True)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def boolean(name: str, raw: object) -> bool:
    """True or False (``true``/``false``, ``1``/``0``, ``yes``/``no`` from a URL accepted)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    raise ValidationError(f"must be true or false, got {raw!r}", field=name)


def option_text(name: str, raw: object) -> str:
    return text(name, raw)


def optional_option_text(name: str, raw: object) -> str | None:
    return None if raw is None else text(name, raw)


def url_options(
    url: str,
    given: Mapping[str, Any],
    spec: Mapping[str, Callable[[str, Any], Any]],
    *,
    passthrough: bool = False,
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The backend's options from the URL's query and the keyword arguments (those win), each converted
    by ``spec[name](name, value)``. An unknown name is a ValidationError listing the known ones, unless
    ``passthrough`` (then URL parameters not in ``spec`` come back as the second value, for a driver)."""
    try:
        query = parse_qsl(urlsplit(url).query, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise ValidationError(f"not a valid store URL query: {exc}", field="url") from None
    known = ", ".join(sorted(spec))
    merged: dict[str, Any] = {}
    rest: list[tuple[str, str]] = []
    for key, value in query:
        if key in spec:
            merged.setdefault(key, value)
        elif passthrough:
            rest.append((key, value))
        else:
            raise ValidationError(f"not an option of this store (known: {known})", field=key)
    for key, value in given.items():
        if key not in spec:
            raise ValidationError(f"not an option of this store (known: {known})", field=key)
        merged[key] = value
    return {k: spec[k](k, v) for k, v in merged.items()}, rest
