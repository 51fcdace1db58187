"""Whole customer records: :func:`normalize` one, :func:`normalize_many` a stream (optionally in processes).

Every contact point and name is run through its normaliser; a value that cannot be normalised is kept
as it was (or dropped with ``drop_invalid=True``) and reported as an :class:`Issue`. Normalising a clean
record again changes nothing (idempotent).
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import gc
import itertools
import logging
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import attrs

from custdata._records import Address, Customer, Email, EmailKind, PersonName, Phone, PhoneKind
from custdata.exceptions import FieldError, ValidationError
from custdata.exceptions import _ReasonError as ReasonError
from custdata.normalize._address import normalize_address
from custdata.normalize._email import normalize_email
from custdata.normalize._name import normalize_name
from custdata.normalize._phone import normalize_phone

__all__ = ["Errors", "Issue", "NormalizeResult", "normalize", "normalize_many"]

log = logging.getLogger(__name__)

Errors = Literal["raise", "skip", "collect"]

_SPACES = re.compile(r"\s+")
_GENDERS = {
    "male": "male", "m": "male", "man": "male", "男": "male", "男性": "male", "先生": "male",
    "female": "female", "f": "female", "woman": "female", "女": "female", "女性": "female", "女士": "female",
}  # fmt: skip


@attrs.frozen
class Issue:
    """One value that could not be normalised: the dotted ``field`` path (``phones.0.number``), the
    ``value`` as found, a machine-readable ``reason`` (``too_short``, ``no_at_sign`` …) and a ``message``."""

    field: str
    value: object
    reason: str
    message: str = ""

    def __str__(self) -> str:
        return f"{self.field}: {self.message or self.reason}"


@attrs.frozen
class NormalizeResult:
    """The clean ``record`` and the ``issues`` found on the way. ``ok`` when there are none;
    ``changed`` when the record differs from the input."""

    record: Customer
    issues: tuple[Issue, ...] = ()
    changed: bool = False

    @property
    def ok(self) -> bool:
        return not self.issues


_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(a.name for a in attrs.fields(cls)) for cls in (Customer, PersonName, Phone, Email, Address)
}


# The slot setters of each record class, to fill a new instance without its (converting) __init__.
_SETTERS: dict[type, tuple[tuple[str, Any], ...]] = {
    cls: tuple((name, getattr(cls, name).__set__) for name in names) for cls, names in _FIELDS.items()
}


def _field_names(cls: type[Any]) -> tuple[str, ...]:
    return _FIELDS[cls]


def _build(cls: type[Any], **values: Any) -> Any:
    """A record from values already valid for it, without running its converters again."""
    obj = object.__new__(cls)
    for name, setter in _SETTERS[cls]:
        setter(obj, values[name])
    return obj


def _issue(field: str, exc: ReasonError) -> Issue:
    message = exc.errors[0].reason if exc.errors else str(exc)
    return Issue(field, exc.value, exc.reason, message)


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    t = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    return t or None


def _name(name: PersonName, issues: list[Issue]) -> PersonName:
    if not name:
        return name
    full = name.full
    if not full:
        fam, giv = _text(name.family) or "", _text(name.given) or ""
        full = name.display if (fam or giv) else ""
    try:
        n = normalize_name(full)
    except ReasonError as exc:
        issues.append(_issue("name.full", exc))
        return name
    family = _text(name.family) if name.family else n.family
    given = _text(name.given) if name.given else n.given
    if name.family and name.given and name.full is None:
        family, given = n.family or family, n.given or given
    if (n.full, family, given) == (name.full, name.family, name.given):
        return name
    clean: PersonName = _build(PersonName, full=n.full, family=family, given=given)
    return clean


def _phones(
    phones: tuple[Phone, ...], region: str | None, drop: bool, issues: list[Issue]
) -> tuple[Phone, ...]:
    out: dict[str, Phone] = {}
    kept: list[Phone] = []
    for i, p in enumerate(phones):
        try:
            n = normalize_phone(p.number, region=region)
        except ReasonError as exc:
            issues.append(_issue(f"phones.{i}.number", exc))
            if not drop:
                kept.append(p)
            continue
        kind = PhoneKind.MOBILE if p.kind is PhoneKind.OTHER and n.kind == "mobile" else p.kind
        number = n.number
        prev = out.get(number)
        if prev is not None:  # the same number twice: keep one, with the stronger flags
            out[number] = _build(
                Phone,
                number=number,
                kind=prev.kind,
                primary=prev.primary or p.primary,
                verified_at=_latest(prev.verified_at, p.verified_at),
            )
            continue
        if number == p.number and kind is p.kind:
            out[number] = p
        else:
            out[number] = _build(
                Phone, number=number, kind=kind, primary=p.primary, verified_at=p.verified_at
            )
        kept.append(out[number])
    return tuple(out.get(p.number, p) if p.number in out else p for p in kept)


def _latest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _emails(emails: tuple[Email, ...], drop: bool, issues: list[Issue]) -> tuple[Email, ...]:
    out: dict[str, Email] = {}
    kept: list[Email] = []
    for i, e in enumerate(emails):
        try:
            n = normalize_email(e.address)
        except ReasonError as exc:
            issues.append(_issue(f"emails.{i}.address", exc))
            if not drop:
                kept.append(e)
            continue
        address = n.address
        prev = out.get(address)
        if prev is not None:
            out[address] = _build(
                Email,
                address=address,
                kind=prev.kind,
                primary=prev.primary or e.primary,
                verified_at=_latest(prev.verified_at, e.verified_at),
            )
            continue
        if address == e.address:
            out[address] = e
        else:
            out[address] = _build(
                Email, address=address, kind=e.kind, primary=e.primary, verified_at=e.verified_at
            )
        kept.append(out[address])
    return tuple(out.get(e.address, e) if e.address in out else e for e in kept)


def _addresses(
    addresses: tuple[Address, ...], region: str | None, drop: bool, issues: list[Issue]
) -> tuple[Address, ...]:
    out: list[Address] = []
    for i, a in enumerate(addresses):
        try:
            clean = normalize_address(a, region=region)
        except ReasonError as exc:
            sub = exc.errors[0].field if exc.errors and exc.errors[0].field else "raw"
            issues.append(_issue(f"addresses.{i}.{sub}", exc))
            if not drop:
                out.append(a)
            continue
        if clean not in out:
            out.append(clean)
    return tuple(out)


def _gender(value: str | None) -> str | None:
    if value is None:
        return None
    t = _text(value)
    return _GENDERS.get(t.casefold(), t) if t else None


def normalize(
    customer: Customer, *, region: str | None = "CN", drop_invalid: bool = False
) -> NormalizeResult:
    """Normalise one customer's name, phones, e-mails, addresses, gender, company and title.

    ``region`` is the default for phone numbers written without a country code and for addresses that
    name no country. Values that cannot be normalised stay as they were (or are dropped with
    ``drop_invalid=True``) and are listed in ``issues``. Duplicate phones and e-mails collapse into one.

    >>> from custdata import Customer
    >>> r = normalize(Customer(id="c1", name="  欧阳娜娜 女士", phones=["手机：138 0013 8000", "12345"]))
    >>> r.record.name.family, r.record.phones[0].number, r.record.phones[0].kind.value
    ('欧阳', '+8613800138000', 'mobile')
    >>> [(i.field, i.reason) for i in r.issues]
    [('phones.1.number', 'too_short')]
    """
    c = customer
    parts = {name: getattr(c, name) for name in _PARTS}
    changes, issues = _normalize_parts(parts, region, drop_invalid)
    record = c
    changed = bool(changes)
    if changed:
        values = {name: getattr(c, name) for name in _field_names(Customer)}
        values.update(changes)
        record = _build(Customer, **values)
    return NormalizeResult(record, issues, changed)


#: The fields normalize() reads and may change.
_PARTS = ("name", "phones", "emails", "addresses", "gender", "company", "title")


def _normalize_parts(
    parts: dict[str, Any], region: str | None, drop: bool
) -> tuple[dict[str, Any], tuple[Issue, ...]]:
    """(the parts that changed, the issues) for a record's normalisable fields."""
    issues: list[Issue] = []
    name, phones, emails, addresses = parts["name"], parts["phones"], parts["emails"], parts["addresses"]
    gender, company, title = parts["gender"], parts["company"], parts["title"]
    new = {
        "name": _name(name, issues),
        "phones": _phones(phones, region, drop, issues) if phones else phones,
        "emails": _emails(emails, drop, issues) if emails else emails,
        "addresses": _addresses(addresses, region, drop, issues) if addresses else addresses,
        "gender": _gender(gender) if gender else gender,
        "company": _text(company) if company else company,
        "title": _text(title) if title else title,
    }
    changes = {k: v for k, v in new.items() if v is not parts[k] and v != parts[k]}
    return changes, tuple(issues)


def _raise_for(result: NormalizeResult) -> None:
    raise ValidationError(
        [
            FieldError(i.field, f"customer {result.record.id!r}: {i.message or i.reason}")
            for i in result.issues
        ]
    )


# ---------------------------------------------------------------------------------- process workers
# Records cross the process boundary as plain tuples of the fields normalisation reads and writes:
# pickling attrs records costs several times more than normalising them.
_PHONE_KINDS = {k.value: k for k in PhoneKind}
_EMAIL_KINDS = {k.value: k for k in EmailKind}
Packed = tuple[Any, ...]
Sent = tuple[tuple[tuple[str, Any], ...], tuple[tuple[str, object, str, str], ...]] | None


def _new(cls: type[Any], *values: Any) -> Any:
    """A record from its field values in order (already valid), without its converting __init__."""
    obj = object.__new__(cls)
    for (_, setter), value in zip(_SETTERS[cls], values, strict=True):
        setter(obj, value)
    return obj


_PACK: dict[str, Any] = {
    "name": lambda n: (n.full, n.family, n.given),
    "phones": lambda ps: tuple((p.number, p.kind.value, p.primary, p.verified_at) for p in ps),
    "emails": lambda es: tuple((e.address, e.kind.value, e.primary, e.verified_at) for e in es),
    "addresses": lambda xs: tuple(
        (a.country, a.province, a.city, a.district, a.street, a.postal_code, a.raw) for a in xs
    ),
}
_UNPACK: dict[str, Any] = {
    "name": lambda t: _new(PersonName, *t),
    "phones": lambda ps: tuple(_new(Phone, p[0], _PHONE_KINDS[p[1]], p[2], p[3]) for p in ps),
    "emails": lambda es: tuple(_new(Email, e[0], _EMAIL_KINDS[e[1]], e[2], e[3]) for e in es),
    "addresses": lambda xs: tuple(_new(Address, *a) for a in xs),
}


def _pack(c: Customer) -> Packed:
    n = c.name
    return (
        (n.full, n.family, n.given),
        _PACK["phones"](c.phones),
        _PACK["emails"](c.emails),
        _PACK["addresses"](c.addresses),
        c.gender,
        c.company,
        c.title,
    )


def _unpack(t: Packed) -> dict[str, Any]:
    name, phones, emails, addresses, gender, company, title = t
    return {
        "name": _UNPACK["name"](name),
        "phones": _UNPACK["phones"](phones),
        "emails": _UNPACK["emails"](emails),
        "addresses": _UNPACK["addresses"](addresses),
        "gender": gender,
        "company": company,
        "title": title,
    }


def _worker_init() -> None:
    """Set up a worker process. A forked worker inherits the caller's whole heap (often the very records
    being normalised): freezing it keeps the worker's cyclic garbage collector from scanning, and
    copying, all of it. The worker's own objects (records, tuples, strings) form no reference cycles,
    so it collects rarely. Only the worker process is changed, never the caller's."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 50)


def _chunk(packed: list[Packed], region: str | None, drop: bool) -> list[Sent]:
    """Worker side: normalise packed records and send back only what changed, and the issues;
    None for a record that needs no change and has no issue."""
    out: list[Sent] = []
    for t in packed:
        changes, issues = _normalize_parts(_unpack(t), region, drop)
        if not changes and not issues:
            out.append(None)
            continue
        sent = tuple((k, _PACK[k](v) if k in _PACK else v) for k, v in changes.items())
        out.append((sent, tuple((i.field, i.value, i.reason, i.message) for i in issues)))
    return out


def _merge(c: Customer, done: Sent) -> NormalizeResult:
    """Main side: the result for ``c`` from what the worker sent back."""
    if done is None:
        return NormalizeResult(c, (), False)
    sent, issues = done
    record = c
    if sent:
        changes = {k: _UNPACK[k](v) if k in _UNPACK else v for k, v in sent}
        record = object.__new__(Customer)
        for name, setter in _SETTERS[Customer]:
            setter(record, changes[name] if name in changes else getattr(c, name))
    return NormalizeResult(record, tuple(Issue(*i) for i in issues), bool(sent))


def normalize_many(
    customers: Iterable[Customer],
    *,
    region: str | None = "CN",
    errors: Errors = "collect",
    workers: int | None = None,
    chunk_size: int = 2000,
    drop_invalid: bool = False,
) -> Iterator[NormalizeResult]:
    """Normalise a stream of customers lazily, in input order.

    ``errors``: ``"collect"`` yields every result with its issues; ``"skip"`` leaves out records with
    issues; ``"raise"`` stops at the first record with issues with a
    :class:`~custdata.exceptions.ValidationError` naming the record and every field. ``workers`` > 1
    spreads chunks of ``chunk_size`` records over that many processes (a few chunks in flight at a time,
    so memory stays bounded); the output order is the input order.

    >>> from custdata import Customer
    >>> batch = [Customer(id="a", phones=["138 0013 8000"]), Customer(id="b", emails=["x"])]
    >>> rs = list(normalize_many(batch))
    >>> [(r.record.id, r.ok) for r in rs]
    [('a', True), ('b', False)]
    """
    if errors not in ("raise", "skip", "collect"):
        raise ValueError(f"errors must be 'raise', 'skip' or 'collect', got {errors!r}")
    if workers is not None and workers > 1:
        results: Iterator[NormalizeResult] = _in_processes(
            customers, region, drop_invalid, workers, chunk_size
        )
    else:
        results = (normalize(c, region=region, drop_invalid=drop_invalid) for c in customers)
    for r in results:
        if r.issues:
            if errors == "raise":
                _raise_for(r)
            if errors == "skip":
                continue
        yield r


def _in_processes(
    customers: Iterable[Customer], region: str | None, drop: bool, workers: int, chunk_size: int
) -> Iterator[NormalizeResult]:
    it = iter(customers)
    with cf.ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
        pending: deque[tuple[list[Customer], cf.Future[Any]]] = deque()
        in_flight = workers * 3
        while True:
            while len(pending) < in_flight:
                chunk = list(itertools.islice(it, max(1, chunk_size)))
                if not chunk:
                    break
                pending.append((chunk, pool.submit(_chunk, [_pack(c) for c in chunk], region, drop)))
            if not pending:
                return
            chunk, future = pending.popleft()
            for c, done in zip(chunk, future.result(), strict=True):
                yield _merge(c, done)
