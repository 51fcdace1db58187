"""Consent per purpose and channel, with expiry: one model for every marketing operation.

Consents live on the record, in ``Customer.consents``: a mapping of a *consent key* to a
:class:`~custdata.Consent` (``granted``, ``at``, ``source``, ``expires``). The key of a purpose on one
channel is ``f"{purpose}_{channel}"`` (``marketing_sms``, ``service_phone``); a key that is the purpose
alone (``marketing``, ``profiling``) covers every channel that has no entry of its own. So a customer who
consented to ``marketing`` but withdrew ``marketing_sms`` may get e-mails, not texts.

A consent is valid at a moment when it is granted, was given at or before that moment (or its time is
unknown), and has not expired (``expires`` after the moment). A *date* asks about the whole day (UTC): the
consent must already hold when the day starts and still hold when it ends.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from custdata._records import Consent, Customer
from custdata.exceptions import ValidationError

__all__ = [
    "CONSENT_REASONS",
    "REACHABLE",
    "ConsentSplit",
    "ConsentStatus",
    "consent_key",
    "consent_status",
    "consented",
    "contact_channel",
    "may_contact",
    "record_consent",
]


class ConsentStatus(str, enum.Enum):
    """Where a customer stands for one purpose and channel at one moment."""

    VALID = "valid"
    NO_CONSENT = "no_consent"  # nothing recorded for the purpose (and channel), or given only later
    WITHDRAWN = "withdrawn"  # recorded with granted=False
    EXPIRED = "expired"  # granted, but its expiry has passed


#: Why a customer is left out of a marketing operation, in the order reports list them.
#: ``unreachable``: consented on a channel, but the record holds nothing to reach them there.
CONSENT_REASONS = ("no_consent", "withdrawn", "expired", "unreachable")

#: Channel -> what the customer record must hold to be reached on it (channels not named: anything).
REACHABLE: Mapping[str, Callable[[Customer], bool]] = {
    "sms": lambda c: bool(c.phones),
    "phone": lambda c: bool(c.phones),
    "wechat": lambda c: "wechat" in c.external_ids or bool(c.phones),
    "email": lambda c: bool(c.emails),
}

_WORST = {ConsentStatus.WITHDRAWN: 0, ConsentStatus.EXPIRED: 1, ConsentStatus.NO_CONSENT: 2}


def _name(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be non-empty text", field=field)
    return value


def consent_key(purpose: str, channel: str | None = None) -> str:
    """The key of ``Customer.consents`` for a purpose, on one channel or (``channel=None``) on all.

    >>> consent_key("marketing", "sms"), consent_key("profiling")
    ('marketing_sms', 'profiling')
    """
    _name(purpose, "purpose")
    if channel is None:
        return purpose
    return f"{purpose}_{_name(channel, 'channel')}"


def _span(at: dt.datetime | dt.date | None) -> tuple[dt.datetime, dt.datetime]:
    """The moments a consent must cover: one instant, or a whole UTC day."""
    if at is None:
        now = dt.datetime.now(dt.timezone.utc)
        return now, now
    if isinstance(at, dt.datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValidationError("at must be timezone-aware (or a date)", field="at")
        return at, at
    if isinstance(at, dt.date):
        start = dt.datetime.combine(at, dt.time(0), dt.timezone.utc)
        try:
            end = start + dt.timedelta(days=1)
        except OverflowError:
            end = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
        return start, end
    raise ValidationError(f"at must be a datetime or a date, got {type(at).__name__}", field="at")


def _status(consent: Consent, start: dt.datetime, end: dt.datetime) -> ConsentStatus:
    if not consent.granted:
        return ConsentStatus.WITHDRAWN
    if consent.at is not None and consent.at > start:
        return ConsentStatus.NO_CONSENT  # given after the moment asked about
    if consent.expires is not None and consent.expires <= end:
        return ConsentStatus.EXPIRED
    return ConsentStatus.VALID


def _customer(value: Any) -> Customer:
    if isinstance(value, Customer):
        return value
    if isinstance(value, Mapping):
        return Customer.from_dict(dict(value))
    raise ValidationError(
        f"expected a Customer or its dict form, got {type(value).__name__}", field="customer"
    )


def consent_status(
    customer: Customer | Mapping[str, Any],
    purpose: str,
    channel: str | None = None,
    *,
    at: dt.datetime | dt.date | None = None,
) -> ConsentStatus:
    """The customer's consent status for ``purpose`` on ``channel`` at ``at`` (default: now; a date: the
    whole UTC day). The channel's own entry decides when there is one; otherwise the purpose-wide entry.

    >>> from custdata import Customer
    >>> c = Customer(id="c1", consents={
    ...     "marketing": {"granted": True, "at": "2026-01-01T00:00:00+00:00"},
    ...     "marketing_sms": {"granted": False, "at": "2026-03-01T00:00:00+00:00"},
    ... })
    >>> consent_status(c, "marketing", "sms").value, consent_status(c, "marketing", "email").value
    ('withdrawn', 'valid')
    """
    c = _customer(customer)
    key = consent_key(purpose, channel)
    start, end = _span(at)
    found = c.consents.get(key)
    if found is None and channel is not None:
        found = c.consents.get(purpose)
    if found is None:
        return ConsentStatus.NO_CONSENT
    return _status(found, start, end)


def may_contact(
    customer: Customer | Mapping[str, Any],
    purpose: str,
    channel: str | None = None,
    *,
    at: dt.datetime | dt.date | None = None,
) -> bool:
    """May the customer be contacted for ``purpose`` through ``channel`` at ``at`` (a date: all day)?

    >>> import datetime as dt
    >>> from custdata import Customer
    >>> c = Customer(id="c1", consents={"marketing_sms": {
    ...     "granted": True, "at": "2026-01-01T00:00:00+08:00", "expires": "2026-07-01T00:00:00+08:00"}})
    >>> may_contact(c, "marketing", "sms", at=dt.date(2026, 6, 29))
    True
    >>> may_contact(c, "marketing", "sms", at=dt.date(2026, 6, 30))  # expires during that day (UTC)
    False
    """
    return consent_status(customer, purpose, channel, at=at) is ConsentStatus.VALID


def contact_channel(
    customer: Customer | Mapping[str, Any],
    purpose: str,
    channels: Sequence[str],
    *,
    at: dt.datetime | dt.date | None = None,
) -> tuple[str | None, str | None]:
    """``(channel, None)``: the first of ``channels`` the customer consented to for ``purpose`` and can be
    reached on (see :data:`REACHABLE`); or ``(None, reason)`` with the reason from
    :data:`CONSENT_REASONS`: ``unreachable`` when some channel has consent but no contact detail, else
    ``withdrawn``, ``expired`` or ``no_consent``, the strongest over the channels in that order."""
    if isinstance(channels, str) or not isinstance(channels, Sequence) or not channels:
        raise ValidationError("channels must be a list of channel names", field="channels")
    c = _customer(customer)
    worst: ConsentStatus | None = None
    unreachable = False
    for ch in channels:
        status = consent_status(c, purpose, ch, at=at)
        if status is ConsentStatus.VALID:
            reach = REACHABLE.get(ch)
            if reach is None or reach(c):
                return ch, None
            unreachable = True
        elif worst is None or _WORST[status] < _WORST[worst]:
            worst = status
    if unreachable:
        return None, "unreachable"
    assert worst is not None
    return None, worst.value


@attrs.frozen
class ConsentSplit:
    """Customers split by consent: ``kept`` (may be contacted), and the rest counted and named by reason
    (``left_out``: reason -> count, ``left_out_ids``: reason -> ids; reasons of :data:`CONSENT_REASONS`
    with at least one customer)."""

    kept: tuple[Customer, ...]
    left_out: Mapping[str, int]
    left_out_ids: Mapping[str, tuple[str, ...]]

    @property
    def left_out_total(self) -> int:
        return sum(self.left_out.values())

    def __str__(self) -> str:
        why = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in self.left_out.items())
        return f"{len(self.kept)} may be contacted; {self.left_out_total} left out" + (
            f" ({why})" if why else ""
        )


class ReasonCounter:
    """Counts left-out customers by reason, in :data:`CONSENT_REASONS` order (used by every marketing
    operation, so they all report alike)."""

    def __init__(self, keep_ids: bool = True) -> None:
        self._counts: Counter[str] = Counter()
        self._ids: dict[str, list[str]] = {}
        self._keep_ids = keep_ids

    def add(self, reason: str, customer_id: str) -> None:
        self._counts[reason] += 1
        if self._keep_ids:
            self._ids.setdefault(reason, []).append(customer_id)

    def counts(self) -> dict[str, int]:
        return {r: self._counts[r] for r in CONSENT_REASONS if self._counts[r]}

    def ids(self) -> dict[str, tuple[str, ...]]:
        return {r: tuple(self._ids[r]) for r in CONSENT_REASONS if r in self._ids}


def consented(
    customers: Iterable[Customer | Mapping[str, Any]],
    purpose: str,
    channel: str | None = None,
    *,
    at: dt.datetime | dt.date | None = None,
) -> ConsentSplit:
    """Split ``customers`` into those with valid consent for ``purpose`` on ``channel`` at ``at`` and
    those left out, counted by reason (never silently dropped).

    >>> from custdata import Customer
    >>> people = [Customer(id="a", consents={"marketing_email": {"granted": True}}),
    ...           Customer(id="b", consents={"marketing_email": {"granted": False}}), Customer(id="c")]
    >>> split = consented(people, "marketing", "email")
    >>> [c.id for c in split.kept], split.left_out
    (['a'], {'no_consent': 1, 'withdrawn': 1})
    """
    consent_key(purpose, channel)
    _span(at)
    if isinstance(customers, (str, bytes, Mapping)) or not isinstance(customers, Iterable):
        raise ValidationError("customers must be an iterable of customers", field="customers")
    when = dt.datetime.now(dt.timezone.utc) if at is None else at
    kept: list[Customer] = []
    left = ReasonCounter()
    for item in customers:
        c = _customer(item)
        status = consent_status(c, purpose, channel, at=when)
        if status is ConsentStatus.VALID:
            kept.append(c)
        else:
            left.add(status.value, c.id)
    return ConsentSplit(tuple(kept), left.counts(), left.ids())


def record_consent(
    customer: Customer,
    purpose: str,
    channel: str | None = None,
    *,
    granted: bool = True,
    at: dt.datetime | None = None,
    source: str | None = None,
    expires: dt.datetime | None = None,
) -> Customer:
    """A copy of ``customer`` with a consent (``granted=True``) or a withdrawal (``granted=False``) for
    ``purpose`` on ``channel`` recorded at ``at`` (default: now); the store's history keeps the earlier
    state when the copy is put. A withdrawal clears ``expires``.

    >>> from custdata import Customer
    >>> c = record_consent(Customer(id="c1"), "marketing", "sms", source="web form")
    >>> may_contact(record_consent(c, "marketing", "sms", granted=False), "marketing", "sms")
    False
    """
    if not isinstance(customer, Customer):
        raise ValidationError(f"expected a Customer, got {type(customer).__name__}", field="customer")
    if not isinstance(granted, bool):
        raise ValidationError("granted must be True or False", field="granted")
    key = consent_key(purpose, channel)
    when = dt.datetime.now(dt.timezone.utc) if at is None else at
    entry = Consent(granted=granted, at=when, source=source, expires=expires if granted else None)
    if entry.expires is not None and entry.at is not None and entry.expires <= entry.at:
        raise ValidationError("a consent must expire after it is given", field="expires")
    return customer.evolve(consents={**customer.consents, key: entry})
