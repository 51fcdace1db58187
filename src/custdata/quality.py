"""Data-quality report over a collection of customers.

One pass over the records gives: how complete each field is, which values are invalid and why (by the
normalisers' reason codes), which phone numbers and e-mail addresses are shared by several customers
(after normalisation, so ``138 0013 8000`` and ``+86 138-0013-8000`` are one number), and which records
are stale (neither updated nor verified for ``stale_after_days``).

>>> from custdata import Customer
>>> report = quality_report([
...     Customer(id="a", name="张伟", phones=["138 0013 8000"], emails=["zw@example.com"]),
...     Customer(id="b", name="李娜", phones=["+86 138-0013-8000"], emails=["not an e-mail"]),
... ])
>>> report.completeness["phone"], report.invalid["email"]
(1.0, {'no_at_sign': 1})
>>> report.shared_phones
{'+8613800138000': ('a', 'b')}
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

import attrs

from custdata._bulk import items_of
from custdata._records import Customer
from custdata.exceptions import ValidationError
from custdata.normalization import normalize, normalize_email

__all__ = ["FIELDS", "QualityReport", "quality_report"]

log = logging.getLogger(__name__)

#: The fields whose completeness is measured, with how "present" is decided.
FIELDS = (
    "name", "phone", "email", "address", "birthday", "gender", "company", "title", "channel",
    "lifecycle_stage", "owner", "consents", "external_ids", "updated_at",
)  # fmt: skip
_KINDS = {"phones": "phone", "emails": "email", "name": "name", "addresses": "address"}


def _present(c: Customer) -> dict[str, bool]:
    return {
        "name": bool(c.name),
        "phone": bool(c.phones),
        "email": bool(c.emails),
        "address": bool(c.addresses),
        "birthday": c.birthday is not None,
        "gender": bool(c.gender),
        "company": bool(c.company),
        "title": bool(c.title),
        "channel": c.channel is not None,
        "lifecycle_stage": c.lifecycle_stage is not None,
        "owner": bool(c.owner),
        "consents": bool(c.consents),
        "external_ids": bool(c.external_ids),
        "updated_at": c.updated_at is not None,
    }


def _last_seen(c: Customer) -> dt.datetime | None:
    """The latest of updated_at, created_at and any contact point's verified_at."""
    stamps = [c.updated_at, c.created_at]
    stamps.extend(p.verified_at for p in c.phones)
    stamps.extend(e.verified_at for e in c.emails)
    known = [s for s in stamps if s is not None]
    return max(known) if known else None


@attrs.frozen
class QualityReport:
    """The result of :func:`quality_report`. Plain data: counts, reasons, ids.

    ``present`` counts records with each field filled in (``completeness`` gives fractions);
    ``invalid`` maps a kind of value (``phone``, ``email``, ``name``, ``address``) to counts by reason;
    ``examples`` keeps up to three invalid values per kind and reason; ``records_with_issues`` counts
    records with at least one invalid value; ``shared_phones`` / ``shared_emails`` map a normalised
    contact point (E.164, e-mail match key) to the ids of the customers sharing it; ``stale`` lists the
    ids of records not updated or verified since ``now - stale_after_days``; ``undated`` those with no
    timestamp at all; ``duplicate_ids`` ids that occur more than once.
    """

    total: int
    present: dict[str, int]
    invalid: dict[str, dict[str, int]]
    examples: dict[str, dict[str, tuple[str, ...]]]
    records_with_issues: int
    shared_phones: dict[str, tuple[str, ...]]
    shared_emails: dict[str, tuple[str, ...]]
    stale: tuple[str, ...]
    undated: tuple[str, ...]
    duplicate_ids: tuple[str, ...]
    now: dt.datetime
    stale_after_days: int

    @property
    def completeness(self) -> dict[str, float]:
        """Field -> fraction of records that have it (0.0 for an empty collection)."""
        return {f: (n / self.total if self.total else 0.0) for f, n in self.present.items()}

    @property
    def invalid_total(self) -> int:
        """How many invalid values were found, of every kind."""
        return sum(sum(r.values()) for r in self.invalid.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the whole report."""
        return {
            "total": self.total,
            "completeness": {f: round(v, 4) for f, v in self.completeness.items()},
            "present": dict(self.present),
            "invalid": {k: dict(v) for k, v in self.invalid.items()},
            "examples": {k: {r: list(xs) for r, xs in v.items()} for k, v in self.examples.items()},
            "records_with_issues": self.records_with_issues,
            "shared_phones": {k: list(v) for k, v in self.shared_phones.items()},
            "shared_emails": {k: list(v) for k, v in self.shared_emails.items()},
            "stale": list(self.stale),
            "undated": list(self.undated),
            "duplicate_ids": list(self.duplicate_ids),
            "now": self.now.isoformat(),
            "stale_after_days": self.stale_after_days,
        }

    def __str__(self) -> str:
        lines = [f"Data quality of {self.total} customers"]
        lines.append("")
        lines.append("Completeness")
        for f, v in sorted(self.completeness.items(), key=lambda kv: -kv[1]):
            bar = "#" * round(v * 20)
            lines.append(f"  {f:<16} {v:>6.1%}  {bar}")
        lines.append("")
        issues_share = self.records_with_issues / self.total if self.total else 0.0
        lines.append(
            f"Invalid values: {self.invalid_total} ({self.records_with_issues} records, {issues_share:.1%})"
        )
        for kind, reasons in sorted(self.invalid.items()):
            for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
                ex = ", ".join(repr(x) for x in self.examples.get(kind, {}).get(reason, ()))
                lines.append(f"  {kind:<8} {reason:<22} {n:>6}   e.g. {ex}")
        lines.append("")
        lines.append(
            f"Shared contact points: {len(self.shared_phones)} phones, {len(self.shared_emails)} e-mails"
        )
        for label, shared in (("phone", self.shared_phones), ("e-mail", self.shared_emails)):
            top = sorted(shared.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:5]
            for value, ids in top:
                more = f" +{len(ids) - 4} more" if len(ids) > 4 else ""
                lines.append(f"  {label:<7} {value:<32} {len(ids)} customers: {', '.join(ids[:4])}{more}")
        lines.append("")
        lines.append(
            f"Stale (not updated or verified for {self.stale_after_days} days): {len(self.stale)}; "
            f"no timestamp: {len(self.undated)}"
        )
        if self.duplicate_ids:
            lines.append(f"Duplicate ids: {len(self.duplicate_ids)} ({', '.join(self.duplicate_ids[:5])})")
        return "\n".join(lines)


def quality_report(
    customers: Iterable[Customer],
    *,
    now: dt.datetime | None = None,
    stale_after_days: int = 365,
    region: str | None = "CN",
) -> QualityReport:
    """Measure the quality of a collection of customers in one pass (it may be a stream).

    ``now`` (default: the current UTC time) and ``stale_after_days`` decide which records are stale;
    ``region`` is the default region for phone numbers and addresses without a country.
    """
    if now is not None and not (isinstance(now, dt.datetime) and now.utcoffset() is not None):
        raise ValidationError(f"must be an aware datetime or None, got {type(now).__name__}", field="now")
    if type(stale_after_days) is not int or stale_after_days < 0:
        raise ValidationError("must be a whole number of days, 0 or more", field="stale_after_days")
    if region is not None and not isinstance(region, str):
        raise ValidationError(f"must be a region code or None, got {type(region).__name__}", field="region")
    customers = items_of(customers, "customers", "Customers")
    when = now or dt.datetime.now(dt.timezone.utc)
    try:
        cutoff = when - dt.timedelta(days=stale_after_days)
    except OverflowError:
        cutoff = dt.datetime.min.replace(tzinfo=dt.timezone.utc)  # nothing is that old: none is stale
    total = 0
    present: Counter[str] = Counter()
    invalid: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    with_issues = 0
    phones: dict[str, dict[str, None]] = defaultdict(dict)
    emails: dict[str, dict[str, None]] = defaultdict(dict)
    stale: list[str] = []
    undated: list[str] = []
    seen: set[str] = set()
    dupes: dict[str, None] = {}
    for i, c in enumerate(customers):
        if not isinstance(c, Customer):
            raise ValidationError(f"is a {type(c).__name__}, not a Customer", field=f"customers[{i}]")
        total += 1
        if c.id in seen:
            dupes[c.id] = None
        seen.add(c.id)
        for f, ok in _present(c).items():
            if ok:
                present[f] += 1
        result = normalize(c, region=region)
        if result.issues:
            with_issues += 1
        bad_phones: set[str] = set()
        bad_emails: set[str] = set()
        for issue in result.issues:
            kind = _KINDS.get(issue.field.split(".", 1)[0], issue.field)
            invalid[kind][issue.reason] += 1
            ex = examples[kind][issue.reason]
            if len(ex) < 3:
                ex.append(str(issue.value))
            if kind == "phone":
                bad_phones.add(str(issue.value))
            elif kind == "email":
                bad_emails.add(str(issue.value))
        for p in result.record.phones:
            if p.number not in bad_phones:
                phones[p.number][c.id] = None
        for e in result.record.emails:
            if e.address not in bad_emails:
                emails[_email_key(e.address)][c.id] = None
        last = _last_seen(c)
        if last is None:
            undated.append(c.id)
        elif last < cutoff:
            stale.append(c.id)
    log.debug("quality report over %d customers", total)
    return QualityReport(
        total=total,
        present={f: present.get(f, 0) for f in FIELDS},
        invalid={k: dict(v) for k, v in sorted(invalid.items())},
        examples={k: {r: tuple(xs) for r, xs in v.items()} for k, v in examples.items()},
        records_with_issues=with_issues,
        shared_phones={k: tuple(v) for k, v in sorted(phones.items()) if len(v) > 1},
        shared_emails={k: tuple(v) for k, v in sorted(emails.items()) if len(v) > 1},
        stale=tuple(stale),
        undated=tuple(undated),
        duplicate_ids=tuple(dupes),
        now=when,
        stale_after_days=stale_after_days,
    )


def _email_key(address: str) -> str:
    return normalize_email(address).match_key
