"""Whole customer records: :func:`normalize` one, :func:`normalize_many` a stream (optionally in processes).

Every contact point and name is run through its normaliser; a value that cannot be normalised is kept
as it was (or dropped with ``drop_invalid=True``) and reported as an :class:`Issue`. Normalising a clean
record again changes nothing (idempotent).
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import functools
import gc
import itertools
import logging
import operator
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple, TypeVar

import attrs

from custdata._bulk import DEFAULT_ERRORS, Errors, check_errors, items_of
from custdata._records import Address, Customer, Email, PersonName, Phone, PhoneKind
from custdata.exceptions import FieldError, ValidationError
from custdata.exceptions import _ReasonError as ReasonError
from custdata.normalization._address import normalize_address
from custdata.normalization._email import normalize_email
from custdata.normalization._name import normalize_name
from custdata.normalization._phone import normalize_phone

__all__ = ["Errors", "Issue", "NormalizeResult", "normalize", "normalize_many"]

log = logging.getLogger(__name__)

T = TypeVar("T")

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
    cls: tuple(a.name for a in attrs.fields(cls))
    for cls in (Customer, PersonName, Phone, Email, Address, NormalizeResult)
}


# The slot setters of each record class, to fill a new instance without its (converting) __init__.
_SETTERS: dict[type, tuple[tuple[str, Any], ...]] = {
    cls: tuple((name, getattr(cls, name).__set__) for name in names) for cls, names in _FIELDS.items()
}


def _maker(cls: type[T], copied: tuple[str, ...] = ()) -> Callable[..., T]:
    """A function that builds a ``cls`` record from values already valid for it, without running its
    converters again: ``make(*fields)``, or with ``copied`` fields ``make(old, *other_fields)``, which
    takes those from the record ``old``. Generated with one slot store per field, as attrs generates
    its own ``__init__``: a loop over the fields costs twice as much, and millions of records are built."""
    names = _FIELDS[cls]
    assert "old" not in names
    assert set(copied) <= set(names)
    params = (["old"] if copied else []) + [n for n in names if n not in copied]
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    body = ["    obj = _new(_cls)"]
    for i, (name, setter) in enumerate(_SETTERS[cls]):
        ns[f"_set{i}"] = setter
        body.append(f"    _set{i}(obj, {'old.' + name if name in copied else name})")
    src = f"def make({', '.join(params)}):\n" + "\n".join(body) + "\n    return obj\n"
    exec(compile(src, f"<custdata.normalize {cls.__name__} maker>", "exec"), ns)
    make: Callable[..., T] = ns["make"]
    return make


_new_name = _maker(PersonName)  # (full, family, given)
_new_phone = _maker(Phone)  # (number, kind, primary, verified_at)
_new_email = _maker(Email)  # (address, kind, primary, verified_at)
_new_address = _maker(Address)  # its fields in order
_result = _maker(NormalizeResult)  # (record, issues, changed)

#: The fields normalize() reads and may change, in the order of Customer's fields.
_PARTS = ("name", "phones", "emails", "addresses", "gender", "company", "title")
assert tuple(n for n in _FIELDS[Customer] if n in _PARTS) == _PARTS
#: (old, *parts): a copy of old with the _PARTS fields replaced.
_replace = _maker(Customer, tuple(n for n in _FIELDS[Customer] if n not in _PARTS))


# ------------------------------------------------------------------------------------- single values
# Each kind of value is normalised to plain data: the part of the normaliser's answer a record needs,
# or a _Fail with what an Issue needs. These are pure functions of the text (and region), so they may
# run in another process; the record is then put together by the same code either way.


class _Fail(NamedTuple):
    """A value that could not be normalised: the Issue's ``value``, ``reason`` and ``message``, and for
    addresses the failing field (``sub``)."""

    value: object
    reason: str
    message: str
    sub: str = ""


PhoneValue = tuple[str, bool] | _Fail  # (the stored number, whether it is a mobile number)
EmailValue = str | _Fail  # the normalised address
NameValue = tuple[str, str | None, str | None] | _Fail  # (full, family, given)
AddressValue = Address | _Fail


class _Looks(NamedTuple):
    """Where the normalised values come from: the normalisers themselves, or a chunk's precomputed table."""

    phone: Callable[[str], PhoneValue]
    email: Callable[[str], EmailValue]
    name: Callable[[str], NameValue]
    address: Callable[[Address], AddressValue]


def _fail(exc: ReasonError, sub: str = "") -> _Fail:
    return _Fail(exc.value, exc.reason, exc.errors[0].reason if exc.errors else str(exc), sub)


def _phone_value(text: str, region: str | None) -> PhoneValue:
    try:
        n = normalize_phone(text, region=region)
    except ReasonError as exc:
        return _fail(exc)
    return n.number, n.kind == "mobile"


def _email_value(text: str) -> EmailValue:
    try:
        return normalize_email(text).address
    except ReasonError as exc:
        return _fail(exc)


def _name_value(text: str) -> NameValue:
    try:
        n = normalize_name(text)
    except ReasonError as exc:
        return _fail(exc)
    return n.full, n.family, n.given


def _address_value(a: Address, region: str | None) -> AddressValue:
    try:
        return normalize_address(a, region=region)
    except ReasonError as exc:
        return _fail(exc, exc.errors[0].field if exc.errors and exc.errors[0].field else "raw")


@functools.lru_cache(maxsize=64)
def _direct(region: str | None) -> _Looks:
    """The normalisers themselves, for ``region``."""
    return _Looks(
        functools.partial(_phone_value, region=region),
        _email_value,
        _name_value,
        functools.partial(_address_value, region=region),
    )


# ------------------------------------------------------------------------------------------ records


def _issue(field: str, f: _Fail) -> Issue:
    return Issue(field, f.value, f.reason, f.message)


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    t = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    return t or None


def _name_text(name: PersonName) -> str | None:
    """The text of a name to normalise; None for no name at all."""
    full = name.full
    if full:
        return full
    if not name:
        return None
    fam, giv = _text(name.family) or "", _text(name.given) or ""
    return name.display if (fam or giv) else ""


def _name(name: PersonName, issues: list[Issue], look: Callable[[str], NameValue]) -> PersonName:
    text = _name_text(name)
    if text is None:
        return name
    n = look(text)
    if isinstance(n, _Fail):
        issues.append(_issue("name.full", n))
        return name
    n_full, n_family, n_given = n
    family = _text(name.family) if name.family else n_family
    given = _text(name.given) if name.given else n_given
    if name.family and name.given and name.full is None:
        family, given = n_family or family, n_given or given
    if (n_full, family, given) == (name.full, name.family, name.given):
        return name
    clean: PersonName = _new_name(n_full, family, given)
    return clean


def _phones(
    phones: tuple[Phone, ...], drop: bool, issues: list[Issue], look: Callable[[str], PhoneValue]
) -> tuple[Phone, ...]:
    if len(phones) == 1:  # the common case, as the loop below would do it
        p = phones[0]
        n = look(p.number)
        if isinstance(n, _Fail):
            issues.append(_issue("phones.0.number", n))
            return () if drop else phones
        number, mobile = n
        kind = PhoneKind.MOBILE if mobile and p.kind is PhoneKind.OTHER else p.kind
        if number == p.number and kind is p.kind:
            return phones
        return (_new_phone(number, kind, p.primary, p.verified_at),)
    return _phones_loop(phones, drop, issues, look)


def _phones_loop(
    phones: tuple[Phone, ...], drop: bool, issues: list[Issue], look: Callable[[str], PhoneValue]
) -> tuple[Phone, ...]:
    """The general path of :func:`_phones` (tests pin its one-phone shortcut to this)."""
    out: dict[str, Phone] = {}
    kept: list[Phone] = []
    for i, p in enumerate(phones):
        n = look(p.number)
        if isinstance(n, _Fail):
            issues.append(_issue(f"phones.{i}.number", n))
            if not drop:
                kept.append(p)
            continue
        number, mobile = n
        kind = PhoneKind.MOBILE if mobile and p.kind is PhoneKind.OTHER else p.kind
        prev = out.get(number)
        if prev is not None:  # the same number twice: keep one, with the stronger flags
            out[number] = _new_phone(
                number, prev.kind, prev.primary or p.primary, _latest(prev.verified_at, p.verified_at)
            )
            continue
        if number == p.number and kind is p.kind:
            out[number] = p
        else:
            out[number] = _new_phone(number, kind, p.primary, p.verified_at)
        kept.append(out[number])
    return tuple(out.get(p.number, p) if p.number in out else p for p in kept)


def _latest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _emails(
    emails: tuple[Email, ...], drop: bool, issues: list[Issue], look: Callable[[str], EmailValue]
) -> tuple[Email, ...]:
    if len(emails) == 1:  # the common case, as the loop below would do it
        e = emails[0]
        address = look(e.address)
        if isinstance(address, _Fail):
            issues.append(_issue("emails.0.address", address))
            return () if drop else emails
        if address == e.address:
            return emails
        return (_new_email(address, e.kind, e.primary, e.verified_at),)
    return _emails_loop(emails, drop, issues, look)


def _emails_loop(
    emails: tuple[Email, ...], drop: bool, issues: list[Issue], look: Callable[[str], EmailValue]
) -> tuple[Email, ...]:
    """The general path of :func:`_emails` (tests pin its one-address shortcut to this)."""
    out: dict[str, Email] = {}
    kept: list[Email] = []
    for i, e in enumerate(emails):
        address = look(e.address)
        if isinstance(address, _Fail):
            issues.append(_issue(f"emails.{i}.address", address))
            if not drop:
                kept.append(e)
            continue
        prev = out.get(address)
        if prev is not None:
            out[address] = _new_email(
                address, prev.kind, prev.primary or e.primary, _latest(prev.verified_at, e.verified_at)
            )
            continue
        if address == e.address:
            out[address] = e
        else:
            out[address] = _new_email(address, e.kind, e.primary, e.verified_at)
        kept.append(out[address])
    return tuple(out.get(e.address, e) if e.address in out else e for e in kept)


def _addresses(
    addresses: tuple[Address, ...], drop: bool, issues: list[Issue], look: Callable[[Address], AddressValue]
) -> tuple[Address, ...]:
    out: list[Address] = []
    for i, a in enumerate(addresses):
        clean = look(a)
        if isinstance(clean, _Fail):
            issues.append(_issue(f"addresses.{i}.{clean.sub}", clean))
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
    _check_args(region, drop_invalid)
    if not isinstance(customer, Customer):
        raise ValidationError(f"expected a Customer, got {type(customer).__name__}", field="customer")
    return _normalize(customer, drop_invalid, _direct(region))


def _check_args(region: object, drop_invalid: object) -> None:
    """The arguments ``normalize`` and ``normalize_many`` share (their types only: cheap)."""
    if region is not None and not isinstance(region, str):
        raise ValidationError(f"must be a region code or None, got {type(region).__name__}", field="region")
    if not isinstance(drop_invalid, bool):
        raise ValidationError(
            f"must be True or False, got {type(drop_invalid).__name__}", field="drop_invalid"
        )


def _not_a_customer(item: object, index: int) -> NormalizeResult:
    """What ``normalize_many`` reports for an item that is not a Customer: the item as it was (nothing
    could be normalised) with one issue naming its position."""
    message = f"customers[{index}] is a {type(item).__name__}, not a Customer"
    return NormalizeResult(item, (Issue("", None, "not_a_customer", message),), False)  # type: ignore[arg-type]


def _each(customers: Iterable[Customer], drop: bool, look: _Looks) -> Iterator[NormalizeResult]:
    """``_normalize`` over a stream; an item that is not a Customer is reported, not a crash (found
    where it fails, so good items pay nothing for the check)."""
    for i, c in enumerate(customers):
        try:
            yield _normalize(c, drop, look)
        except (AttributeError, TypeError):
            if isinstance(c, Customer):
                raise
            yield _not_a_customer(c, i)


def _normalize(c: Customer, drop: bool, look: _Looks) -> NormalizeResult:
    """The result for one record, with the values normalised by ``look``."""
    issues: list[Issue] = []
    name, phones, emails, addresses = c.name, c.phones, c.emails, c.addresses
    gender, company, title = c.gender, c.company, c.title
    new = (
        _name(name, issues, look.name),
        _phones(phones, drop, issues, look.phone) if phones else phones,
        _emails(emails, drop, issues, look.email) if emails else emails,
        _addresses(addresses, drop, issues, look.address) if addresses else addresses,
        _gender(gender) if gender else gender,
        _text(company) if company else company,
        _text(title) if title else title,
    )
    old = (name, phones, emails, addresses, gender, company, title)
    if new == old:  # compares by identity first: cheap when nothing was touched
        return _result(c, tuple(issues), False)
    # a value equal to the old one keeps the old object
    n0, n1, n2, n3, n4, n5, n6 = new
    return _result(
        _replace(
            c,
            name if n0 == name else n0,
            phones if n1 == phones else n1,
            emails if n2 == emails else n2,
            addresses if n3 == addresses else n3,
            gender if n4 == gender else n4,
            company if n5 == company else n5,
            title if n6 == title else n6,
        ),
        tuple(issues),
        True,
    )


def _raise_for(result: NormalizeResult) -> None:
    if not isinstance(result.record, Customer):
        raise ValidationError([FieldError("customers", i.message) for i in result.issues])
    raise ValidationError(
        [
            FieldError(i.field, f"customer {result.record.id!r}: {i.message or i.reason}")
            for i in result.issues
        ]
    )


# ---------------------------------------------------------------------------------- process workers
#: More processes than this is a mistake (the operating system refuses such pools with its own errors).
_MAX_WORKERS = 1024
# Only the distinct texts of a chunk cross the process boundary (as lists of plain strings), and only
# the normalised values come back (plain strings and tuples). The worker normalises values; the calling
# process puts the records together with the same code as normalize(), so the results are the same.


def _worker_init() -> None:
    """Set up a worker process. A forked worker inherits the caller's whole heap (often the very records
    being normalised): freezing it keeps the worker's cyclic garbage collector from scanning, and
    copying, all of it. The worker's own objects (strings and small tuples) form no reference cycles,
    so it collects rarely. Only the worker process is changed, never the caller's."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 50)


_ADDRESS_FIELDS = operator.attrgetter(*_FIELDS[Address])
Texts = tuple[list[str], list[str], list[str], list[tuple[Any, ...]]]
Values = tuple[list[PhoneValue], list[EmailValue], list[NameValue], list[tuple[str | None, ...] | _Fail]]


def _values(
    region: str | None,
    phones: list[str],
    emails: list[str],
    names: list[str],
    addresses: list[tuple[Any, ...]],
) -> Values:
    """Worker side: the normalised values of a chunk's distinct texts, in the same order."""
    look = _direct(region)
    address_values: list[tuple[str | None, ...] | _Fail] = []
    for fields in addresses:
        a = look.address(_new_address(*fields))
        address_values.append(a if isinstance(a, _Fail) else _ADDRESS_FIELDS(a))
    return (
        [look.phone(t) for t in phones],
        [look.email(t) for t in emails],
        [look.name(t) for t in names],
        address_values,
    )


class _Texts:
    """The distinct texts to normalise in a chunk of records, in order of first appearance."""

    __slots__ = ("addresses", "emails", "names", "phones")

    def __init__(self, chunk: list[Customer]) -> None:
        phones: dict[str, None] = {}
        emails: dict[str, None] = {}
        names: dict[str, None] = {}
        addresses: dict[Address, None] = {}
        for c in chunk:
            text = _name_text(c.name)
            if text is not None:
                names[text] = None
            for p in c.phones:
                phones[p.number] = None
            for e in c.emails:
                emails[e.address] = None
            for a in c.addresses:
                addresses[a] = None
        self.phones, self.emails, self.names, self.addresses = phones, emails, names, addresses

    def args(self) -> Texts:
        """What a worker gets: the texts, and each address as its field values."""
        return (
            list(self.phones),
            list(self.emails),
            list(self.names),
            [_ADDRESS_FIELDS(a) for a in self.addresses],
        )

    def looks(self, values: Values) -> _Looks:
        """Look-ups of the values computed for these texts."""
        phones, emails, names, addresses = values
        clean = [a if isinstance(a, _Fail) else _new_address(*a) for a in addresses]
        return _Looks(
            dict(zip(self.phones, phones, strict=True)).__getitem__,
            dict(zip(self.emails, emails, strict=True)).__getitem__,
            dict(zip(self.names, names, strict=True)).__getitem__,
            dict(zip(self.addresses, clean, strict=True)).__getitem__,
        )


def normalize_many(
    customers: Iterable[Customer],
    *,
    region: str | None = "CN",
    errors: Errors = DEFAULT_ERRORS,
    workers: int | None = None,
    chunk_size: int = 2000,
    drop_invalid: bool = False,
) -> Iterator[NormalizeResult]:
    """Normalise a stream of customers lazily, in input order.

    ``errors``: ``"raise"`` (the default) stops at the first record with issues with a
    :class:`~custdata.exceptions.ValidationError` naming the record and every field; ``"skip"`` leaves
    out records with issues; ``"collect"`` yields every result with its issues. ``workers`` > 1
    spreads chunks of ``chunk_size`` records over that many processes (a few chunks in flight at a time,
    so memory stays bounded); the output order is the input order.

    >>> from custdata import Customer
    >>> batch = [Customer(id="a", phones=["138 0013 8000"]), Customer(id="b", emails=["x"])]
    >>> rs = list(normalize_many(batch, errors="collect"))
    >>> [(r.record.id, r.ok) for r in rs]
    [('a', True), ('b', False)]
    """
    check_errors(errors)
    _check_args(region, drop_invalid)
    for name, value in (("workers", workers), ("chunk_size", chunk_size)):
        if (value is not None or name == "chunk_size") and (type(value) is not int):
            raise ValidationError(f"must be a whole number, got {type(value).__name__}", field=name)
    if workers is not None and workers > _MAX_WORKERS:
        raise ValidationError(f"at most {_MAX_WORKERS} processes, got {workers}", field="workers")
    customers = items_of(customers, "customers", "Customers")
    if workers is not None and workers > 1:
        results: Iterator[NormalizeResult] = _in_processes(
            customers, region, drop_invalid, workers, chunk_size
        )
    else:
        look = _direct(region)
        results = _each(customers, drop_invalid, look)
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
    it = enumerate(customers)
    with cf.ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
        pending: deque[tuple[list[tuple[int, Customer]], _Texts, cf.Future[Values]]] = deque()
        in_flight = workers * 3
        while True:
            while len(pending) < in_flight:
                chunk = list(itertools.islice(it, max(1, chunk_size)))
                if not chunk:
                    break
                texts = _Texts([c for _, c in chunk if isinstance(c, Customer)])
                pending.append((chunk, texts, pool.submit(_values, region, *texts.args())))
            if not pending:
                return
            chunk, texts, future = pending.popleft()
            look = texts.looks(future.result())
            for i, c in chunk:
                yield _normalize(c, drop, look) if isinstance(c, Customer) else _not_a_customer(c, i)
