"""What every backend shares: result records, lookup keys, change diffs, time stamps and body encoding.

Lookups go through an index of *lookup keys*. A lookup key is derived from a normalised value (an E.164
phone number, an e-mail match key, an external id) by a :class:`KeyDeriver`. Today the deriver is the
identity; with encryption at rest it becomes a keyed HMAC (a blind index), so the database never holds
the plain value while ``find(phone=...)`` still works. The record itself is kept as one text column (the
"body", written by :func:`body_text` and read by :func:`read_body` only), which can later hold ciphertext
instead of JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

import attrs

from custdata._bulk import Errors
from custdata._bulk import check_errors as check_errors  # the one check, used by the backends
from custdata._fields import compact_dict_writer, compact_writer, fields_of
from custdata._records import Customer
from custdata.exceptions import FieldError, InvalidEmailError, InvalidPhoneError, ValidationError

__all__ = [
    "STORE_SCHEMA_VERSION",
    "Errors",
    "FieldChange",
    "HistoryEntry",
    "KeyDeriver",
    "Lookup",
    "StoredCustomer",
    "UpsertProblem",
    "UpsertResult",
]

#: The version of the stored layout (tables, columns, body form) written by this custdata.
STORE_SCHEMA_VERSION = 5

#: Fields left out of the change history: bookkeeping the store itself maintains.
_UNTRACKED = frozenset({"schema", "id", "version", "updated_at"})

UTC = dt.timezone.utc


# --------------------------------------------------------------------------------------------- records
@attrs.frozen
class FieldChange:
    """One field of a customer changed from ``old`` to ``new`` (both in the record's dict form)."""

    field: str
    old: Any
    new: Any


@attrs.frozen
class HistoryEntry:
    """One write to a customer: when, from where (``source``), what (``action``) and which fields changed.

    ``action`` is ``"create"``, ``"update"``, ``"delete"`` (soft) or ``"restore"`` (a put on a soft-deleted
    customer). ``version`` is the version the write stored.
    """

    customer_id: str
    version: int
    at: dt.datetime
    action: str
    source: str | None = None
    changes: tuple[FieldChange, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "version": self.version,
            "at": self.at.isoformat(),
            "action": self.action,
            "source": self.source,
            "changes": [[c.field, c.old, c.new] for c in self.changes],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HistoryEntry:
        try:
            return cls(
                customer_id=str(data["customer_id"]),
                version=int(data["version"]),
                at=dt.datetime.fromisoformat(data["at"]),
                action=str(data["action"]),
                source=data.get("source"),
                changes=tuple(FieldChange(f, o, n) for f, o, n in data.get("changes") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"not a history entry: {exc}") from None


@attrs.frozen
class StoredCustomer:
    """A customer as a backup sees it: the record (with its stored version) and its store bookkeeping."""

    record: Customer
    stored_at: dt.datetime
    deleted_at: dt.datetime | None = None


@attrs.frozen
class UpsertProblem:
    """An item ``upsert_many`` could not write: its position in the input, its id if known, and why."""

    index: int
    id: str | None
    error: Exception

    def __str__(self) -> str:
        who = f" ({self.id})" if self.id else ""
        return f"item {self.index}{who}: {self.error}"


@attrs.frozen
class UpsertResult:
    """What ``upsert_many`` did: how many customers it inserted and updated, how many items it left out
    (``skipped``, under ``errors="skip"`` or ``"collect"``) and, under ``"collect"``, why (``problems``)."""

    inserted: int = 0
    updated: int = 0
    problems: tuple[UpsertProblem, ...] = ()
    skipped: int = attrs.field(default=attrs.Factory(lambda self: len(self.problems), takes_self=True))

    @property
    def written(self) -> int:
        return self.inserted + self.updated


# --------------------------------------------------------------------------------------------- time
def now() -> dt.datetime:
    """The store's clock: an aware UTC datetime."""
    return dt.datetime.now(UTC)


def ts(value: dt.datetime) -> str:
    """A fixed-width UTC text stamp that sorts like the instant it names (for text columns)."""
    if value.tzinfo is None:
        raise ValidationError("date-time must be timezone-aware", field="at")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def parse_ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# --------------------------------------------------------------------------------------------- bodies
_encode = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), check_circular=False).encode


def encode(data: Any) -> str:
    """Compact JSON text for a body column."""
    return _encode(data)


#: What a stored body leaves out: the version (the store keeps it in its own column).
_LEAVE_OUT = ("version",)
#: Both generated from Customer's field description; tests pin them to the general paths
#: (``custdata._fields.compact_dict`` and ``encode`` of it).
_compact = compact_dict_writer(Customer, _LEAVE_OUT)
_body = compact_writer(Customer, _LEAVE_OUT)


def compact_dict(c: Customer) -> dict[str, Any]:
    """The customer's dict form without its version and without the fields that hold their default
    (``from_dict`` fills them back in, so nothing is lost)."""
    return _compact(c)


_TEMPLATE: dict[str, Any] = {}


def expand(body: dict[str, Any]) -> dict[str, Any]:
    """A stored (compact) body with its empty fields put back, as ``to_dict`` has them."""
    if not _TEMPLATE:
        _TEMPLATE.update({k: v for k, v in Customer(id="x").to_dict().items() if k not in ("id", "version")})
    return {**_TEMPLATE, **body}


def body_text(customer: Customer) -> str:
    """**The one place a customer becomes its stored body** (every backend, every write path: ``put``,
    ``upsert_many``, ``restore``). Today compact ASCII JSON of :func:`compact_dict`, written directly by a
    writer generated from Customer's field description; encryption at rest wraps this function (and
    :func:`read_body`, its inverse)."""
    return _body(customer)


_UNSAFE_ESCAPE = re.compile(r"\\u(?:00[01]|d[89a-f])")


@functools.lru_cache(maxsize=4)
def sealed_writer(secret: tuple[str, ...]) -> Callable[[Customer], tuple[str | None, str] | None]:
    """A writer generated from Customer's field description (as :func:`body_text`'s) that splits a
    customer for an encrypted store in one pass: ``(secret text, rest)``, where *secret text* is the
    compact JSON object of the fields named in ``secret`` that are not empty (non-ASCII characters
    written as themselves, as ``json.dumps(..., ensure_ascii=False)`` does; None when all are empty) and
    *rest* is the body text of the other fields (``version`` left out). Returns None when it cannot write
    the secret text exactly so (a control character or a character outside the BMP): the caller then
    takes the general path (:func:`compact_dict` and the cipher's ``seal_body``), to which a property
    test pins this writer."""
    names = [f.name for f in fields_of(Customer)]
    unknown = set(secret) - set(names)
    if unknown:
        raise ValueError(f"not Customer fields: {sorted(unknown)}")
    rest = compact_writer(Customer, ("version", *secret))
    only = compact_writer(Customer, tuple(n for n in names if n not in secret))
    head = only(Customer(id="x"))[:-1]  # '{"schema":N', then the first field's comma
    if not head.startswith('{"schema":') or "," in head:  # pragma: no cover - a field always written
        raise ValueError("a secret field is written even when empty")
    skip = len(head)
    unsafe, unescape = _UNSAFE_ESCAPE.search, "raw_unicode_escape"

    def split(c: Customer) -> tuple[str | None, str] | None:
        text = only(c)
        if len(text) == skip + 1:
            return None, rest(c)
        text = "{" + text[skip + 1 :]
        if "\\u" in text:
            # the writer escapes every non-ASCII character (\uXXXX); the secret text keeps them as
            # they are. raw_unicode_escape decodes exactly the \u escapes (an escaped backslash
            # before "u" is left alone); control characters and surrogate pairs go the general way
            if unsafe(text):
                return None
            text = text.encode("ascii").decode(unescape)
        return text, rest(c)

    return split


def read_body(text: str | bytes) -> dict[str, Any]:
    """**The one place a stored body becomes data again**: the compact dict form :func:`body_text` wrote
    (without the version)."""
    data: dict[str, Any] = json.loads(text)
    return data


def body_of(customer: Customer) -> tuple[dict[str, Any], str]:
    """The compact dict form of ``customer`` without its version (the store keeps that beside the body),
    and its body text (:func:`body_text`). :func:`expand` gives the full dict form back."""
    return compact_dict(customer), body_text(customer)


def encode_keys(keys: list[tuple[str, str]]) -> str:
    """A customer's lookup keys as text for ``cd_customers.keys``: unit- and record-separated, or JSON
    when a value holds one of those separators."""
    text = "\x1e".join(f"{k}\x1f{v}" for k, v in keys)
    if text.count("\x1f") != len(keys) or text.count("\x1e") != max(len(keys) - 1, 0):
        return _encode(keys)
    return text


def decode_keys(text: str) -> list[tuple[str, str]]:
    if text.startswith("["):
        return [(k, v) for k, v in json.loads(text)]
    if not text:
        return []
    return [tuple(item.split("\x1f", 1)) for item in text.split("\x1e")]  # type: ignore[misc]


def decode_customer(body: str | bytes, version: int) -> Customer:
    d = read_body(body)
    d["version"] = version
    return Customer.from_dict(d)


def coerce_customer(item: object) -> Customer:
    """A Customer from a Customer or its dict form; anything else is a ValidationError."""
    if isinstance(item, Customer):
        return item
    if isinstance(item, Mapping):
        return Customer.from_dict(item)
    raise ValidationError(f"expected a Customer or its dict form, got {type(item).__name__}")


# --------------------------------------------------------------------------------------------- diffs
def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The tracked top-level fields that differ between two dict forms (``old=None``: none yet)."""
    if old is None:
        return ()
    return tuple(
        FieldChange(k, old.get(k), v) for k, v in new.items() if k not in _UNTRACKED and old.get(k) != v
    )


def _empty_forms() -> dict[str, Any]:
    """Each customer field's dict form when it holds its default (no value), from the field description."""
    out: dict[str, Any] = {}
    for f in fields_of(Customer):
        if f.factory is not None:
            out[f.name] = f.spec.dump(f.factory())
        elif f.default is not attrs.NOTHING:
            out[f.name] = f.spec.dump(f.default)
    return out


_EMPTY_FORMS = _empty_forms()


def _empty(field: str, value: Any) -> bool:
    return (
        value is None or value == [] or value == {} or value == "" or value == _EMPTY_FORMS.get(field, None)
    )


def creation_changes(state: Mapping[str, Any]) -> tuple[FieldChange, ...]:
    """The fields a customer was created with, as changes from nothing."""
    return tuple(
        FieldChange(k, None, v) for k, v in state.items() if k not in _UNTRACKED and not _empty(k, v)
    )


def changes_to_json(changes: Iterable[FieldChange]) -> str:
    return _encode([[c.field, c.old, c.new] for c in changes])


def changes_from_json(text: str | None) -> tuple[FieldChange, ...]:
    if not text:
        return ()
    return tuple(FieldChange(f, o, n) for f, o, n in json.loads(text))


def fill_creation(entries: list[HistoryEntry], current: Mapping[str, Any] | None) -> list[HistoryEntry]:
    """Give a ``create`` entry stored without its fields (to keep bulk loads small) the fields the customer
    was created with, found by walking the later changes back from the current state."""
    if current is None or not any(e.action == "create" and not e.changes for e in entries):
        return entries
    state = dict(current)
    out = list(entries)
    for i in range(len(out) - 1, -1, -1):
        e = out[i]
        if e.action == "create":
            if not e.changes:
                out[i] = attrs.evolve(e, changes=creation_changes(state))
            break
        for c in e.changes:
            state[c.field] = c.old
    return out


# --------------------------------------------------------------------------------------------- lookups
class KeyDeriver(Protocol):
    """Turns a normalised lookup value into the key stored in the index (``kind`` names the value's kind)."""

    def __call__(self, kind: str, value: str) -> str: ...


def plain_key(kind: str, value: str) -> str:
    """Today's deriver: the normalised value itself."""
    return value


_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_SIMPLE_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


class Lookup:
    """Normalises lookup values and derives their index keys.

    Phones are keyed by E.164 (:func:`custdata.normalize_phone` with the store's default ``region``), e-mails
    by their match key (:func:`custdata.normalize_email`), external ids by the id text. A value that does
    not normalise is keyed by its trimmed text, so it is still found by the same text. Values already in
    canonical form (E.164, a plain ASCII address at a domain without provider rules) skip the parser.
    """

    def __init__(self, *, region: str | None = "CN", derive: KeyDeriver = plain_key) -> None:
        from custdata.normalization import PROVIDERS

        self.region = region
        self.derive = derive
        self._providers = frozenset(PROVIDERS)

    def phone(self, text: str) -> str:
        t = text.strip()
        if _E164.fullmatch(t):
            return t
        from custdata.normalization import normalize_phone

        try:
            return normalize_phone(t, region=self.region).e164
        except InvalidPhoneError:
            return "?" + "".join(t.split())

    def email(self, text: str) -> str:
        t = text.strip()
        if _SIMPLE_EMAIL.fullmatch(t):
            local, _, domain = t.rpartition("@")
            domain = domain.lower()
            if domain not in self._providers:
                return f"{local.casefold()}@{domain}"
        from custdata.normalization import normalize_email

        try:
            return normalize_email(t).match_key
        except InvalidEmailError:
            return "?" + t.casefold()

    def keys(self, customer: Customer) -> set[tuple[str, str]]:
        """Every (kind, key) index entry of a customer."""
        d = self.derive
        if d is plain_key:
            out = {("phone", self.phone(p.number)) for p in customer.phones}
            out.update(("email", self.email(e.address)) for e in customer.emails)
            if customer.external_ids:
                out.update(("external_id", v) for v in customer.external_ids.values())
            return out
        out = {("phone", d("phone", self.phone(p.number))) for p in customer.phones}
        out.update(("email", d("email", self.email(e.address))) for e in customer.emails)
        out.update(("external_id", d("external_id", v)) for v in customer.external_ids.values())
        return out

    def sorted_keys(self, customer: Customer) -> list[tuple[str, str]]:
        """``sorted(self.keys(customer))``, without the set for the usual one phone and one e-mail."""
        ph, em = customer.phones, customer.emails
        if len(ph) == 1 and len(em) == 1 and not customer.external_ids:
            d = self.derive
            if d is plain_key:
                return [("email", self.email(em[0].address)), ("phone", self.phone(ph[0].number))]
            return [
                ("email", d("email", self.email(em[0].address))),
                ("phone", d("phone", self.phone(ph[0].number))),
            ]
        return sorted(self.keys(customer))

    def query(
        self, phone: str | None, email: str | None, external_id: str | tuple[str, str] | None
    ) -> tuple[list[tuple[str, str]], Callable[[Customer], bool] | None]:
        """The index keys a ``find`` call must all hit, and an extra check for a (system, id) pair."""
        d = self.derive
        keys: list[tuple[str, str]] = []
        check: Callable[[Customer], bool] | None = None
        if phone is not None:
            keys.append(("phone", d("phone", self.phone(phone))))
        if email is not None:
            keys.append(("email", d("email", self.email(email))))
        if external_id is not None:
            if isinstance(external_id, tuple):
                system, value = external_id
                keys.append(("external_id", d("external_id", value)))

                def check(c: Customer) -> bool:
                    return c.external_ids.get(system) == value

            else:
                keys.append(("external_id", d("external_id", external_id)))
        if not keys:
            raise ValidationError([FieldError("find", "give phone=, email= or external_id=")])
        return keys, check


# --------------------------------------------------------------------------------------------- scans
def scan_filter(
    *,
    tag: str | None,
    channel: str | None,
    lifecycle_stage: str | None,
    owner: str | None,
    where: Callable[[Customer], bool] | None,
) -> Callable[[Customer], bool] | None:
    """One predicate for the record-level filters of ``scan`` (None: keep everything)."""
    tests: list[Callable[[Customer], bool]] = []
    if tag is not None:
        tests.append(lambda c: tag in c.tags)
    if channel is not None:
        ch = str(getattr(channel, "value", channel))
        tests.append(lambda c: c.channel is not None and c.channel.value == ch)
    if lifecycle_stage is not None:
        st = str(getattr(lifecycle_stage, "value", lifecycle_stage))
        tests.append(lambda c: c.lifecycle_stage is not None and c.lifecycle_stage.value == st)
    if owner is not None:
        tests.append(lambda c: c.owner == owner)
    if where is not None:
        tests.append(where)
    if not tests:
        return None
    return lambda c: all(t(c) for t in tests)


def select_with(store: Any, rule: Any, as_of: Any) -> list[Customer]:
    """``Store.select``'s body for every backend: ``rule.select(store, as_of=...)``, which decides how to run
    the rule on that store (a custdata.segments.Rule; duck-typed, so storage never imports segments)."""
    selector = getattr(rule, "select", None)
    if not callable(selector):
        raise ValidationError(f"expected a custdata.segments.Rule, got {type(rule).__name__}", field="rule")
    return list(selector(store, as_of=as_of))


def take(
    items: Iterable[Customer], keep: Callable[[Customer], bool] | None, limit: int | None
) -> Iterator[Customer]:
    n = 0
    if limit is not None and limit <= 0:
        return
    for c in items:
        if keep is None or keep(c):
            yield c
            n += 1
            if limit is not None and n >= limit:
                return
