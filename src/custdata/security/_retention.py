"""Retention: keep personal data no longer than needed (GDPR art. 5(1)(e), PIPL art. 19).

A :class:`RetentionPolicy` says, per kind of data, after how many days it goes: customers not active for N
days, customers soft-deleted N days ago, transactions, interactions and history entries older than N days.
:func:`apply_retention` with ``dry_run=True`` reports exactly what would go (counts and ids) and changes
nothing; with ``dry_run=False`` it removes exactly that in one store transaction (all or nothing) and
leaves audit entries.

A customer's *last activity* is the latest of their transactions, interactions and their record's
``created_at`` (when the record has none: when the store first saw it). A customer who goes takes their
history, transactions and interactions along (the store's ``purge``); the report counts those apart.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from custdata.exceptions import StoreError, ValidationError
from custdata.security._audit import AuditLog

__all__ = ["RETENTION_KINDS", "RetentionPolicy", "RetentionReport", "apply_retention"]

#: The kinds of data a policy names, in the order reports list them.
RETENTION_KINDS = ("inactive_customers", "deleted_customers", "transactions", "interactions", "history")
_ROWS = ("transactions", "interactions", "history")
_MAX_DAYS = 3_000_000  # about 8,200 years: further back than any date a store can hold

OldRow = tuple[str, "str | int | None", dt.datetime]


def _days(kind: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(
            f"a number of days (a whole number) or null, got {type(value).__name__}", field=kind
        )
    if not 0 <= value <= _MAX_DAYS:
        raise ValidationError(f"days must be from 0 to {_MAX_DAYS}, got {value}", field=kind)
    return value


def _check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _days(attribute.name, value)


@attrs.frozen
class RetentionPolicy:
    """Days each kind of data is kept (``None``: kept for good).

    >>> policy = RetentionPolicy(inactive_customers=3 * 365, transactions=5 * 365, history=365)
    >>> RetentionPolicy.from_dict(policy.to_dict()) == policy
    True
    """

    inactive_customers: int | None = attrs.field(default=None, validator=_check)
    deleted_customers: int | None = attrs.field(default=None, validator=_check)
    transactions: int | None = attrs.field(default=None, validator=_check)
    interactions: int | None = attrs.field(default=None, validator=_check)
    history: int | None = attrs.field(default=None, validator=_check)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetentionPolicy:
        """A policy from its dict form (the kinds of :data:`RETENTION_KINDS` mapped to days or null)."""
        if not isinstance(data, Mapping):
            raise ValidationError("a retention policy is a mapping of kind to days", field="policy")
        unknown = sorted(str(k) for k in data if k not in RETENTION_KINDS)
        if unknown:
            raise ValidationError(
                f"unknown kinds {unknown}; a policy names {', '.join(RETENTION_KINDS)}", field="policy"
            )
        return cls(**{str(k): v for k, v in data.items()})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RetentionPolicy:
        """A policy from a JSON file holding its dict form."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationError(
                f"cannot read the policy file ({type(exc).__name__})", field="path"
            ) from None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise ValidationError("the policy file is not JSON", field="path") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, int | None]:
        return {k: getattr(self, k) for k in RETENTION_KINDS}


def _row_dict(kind: str, row: OldRow) -> dict[str, Any]:
    cid, key, at = row
    return {"customer_id": cid, ("version" if kind == "history" else "id"): key, "at": at.isoformat()}


@attrs.frozen
class RetentionReport:
    """What a retention run removed (or, ``dry_run``, would remove): customer ids, and each old
    transaction, interaction and history entry as ``(customer_id, id or version, at)``; ``with_customers``
    counts the rows that go along with the customers removed; ``cutoffs`` the moment before which each
    kind goes."""

    as_of: dt.datetime
    dry_run: bool
    cutoffs: Mapping[str, dt.datetime]
    inactive_customers: tuple[str, ...] = ()
    deleted_customers: tuple[str, ...] = ()
    transactions: tuple[OldRow, ...] = ()
    interactions: tuple[OldRow, ...] = ()
    history: tuple[OldRow, ...] = ()
    with_customers: Mapping[str, int] = attrs.field(factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """How many of each kind (customers by rule, rows of the other kinds)."""
        return {k: len(getattr(self, k)) for k in RETENTION_KINDS}

    @property
    def customers(self) -> tuple[str, ...]:
        """Every customer removed, in id order."""
        return tuple(sorted({*self.inactive_customers, *self.deleted_customers}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "cutoffs": {k: v.isoformat() for k, v in self.cutoffs.items()},
            "counts": self.counts,
            "with_customers": dict(self.with_customers),
            "inactive_customers": list(self.inactive_customers),
            "deleted_customers": list(self.deleted_customers),
            **{k: [_row_dict(k, r) for r in getattr(self, k)] for k in _ROWS},
        }

    def __str__(self) -> str:
        c = self.counts
        along = ", ".join(f"{n} {k}" for k, n in self.with_customers.items() if n)
        verb = "would remove" if self.dry_run else "removed"
        return (
            f"retention as of {self.as_of.isoformat()}: {verb} {c['inactive_customers']} inactive and "
            f"{c['deleted_customers']} deleted customers"
            + (f" (with their {along})" if along else "")
            + f", {c['transactions']} transactions, {c['interactions']} interactions, "
            f"{c['history']} history entries"
        )


def _as_of(value: dt.datetime | dt.date | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.timezone.utc)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError("as_of must be timezone-aware (or a date)", field="as_of")
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0), dt.timezone.utc)
    raise ValidationError(f"as_of must be a datetime or a date, got {type(value).__name__}", field="as_of")


def _cut(as_of: dt.datetime, days: int) -> dt.datetime:
    try:
        return as_of - dt.timedelta(days=days)
    except OverflowError:
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)


_HOOKS = ("activity_times", "rows_before", "remove_before", "scan", "purge", "transaction")


def apply_retention(
    store: Any,
    policy: RetentionPolicy,
    *,
    dry_run: bool,
    as_of: dt.datetime | dt.date | None = None,
    actor: str = "retention",
    audit: AuditLog | None = None,
) -> RetentionReport:
    """Apply ``policy`` to ``store`` as of ``as_of`` (default: now; a date: its start, UTC).

    ``dry_run=True`` only reports; ``dry_run=False`` removes what the report lists, in one transaction,
    then (with ``audit``) leaves an entry ``purge`` per customer removed and one ``retention`` entry per
    kind with its count and cut-off. If the store changed between listing and removing (another writer
    added old rows), nothing is removed and :class:`~custdata.exceptions.StoreError` says to run again.
    ``dry_run`` has no default: say which you mean.
    """
    if not isinstance(policy, RetentionPolicy):
        raise ValidationError(f"expected a RetentionPolicy, got {type(policy).__name__}", field="policy")
    if not isinstance(dry_run, bool):
        raise ValidationError("dry_run must be True or False", field="dry_run")
    if not isinstance(actor, str) or not actor:
        raise ValidationError("actor must be non-empty text", field="actor")
    if audit is not None and not isinstance(audit, AuditLog):
        raise ValidationError(f"expected an AuditLog, got {type(audit).__name__}", field="audit")
    missing = [h for h in _HOOKS if not callable(getattr(store, h, None))]
    if missing:
        raise ValidationError(
            f"{type(store).__name__} cannot apply a retention policy (SQLite, PostgreSQL and memory stores "
            "can)",
            field="store",
        )
    when = _as_of(as_of)
    cutoffs = {k: _cut(when, d) for k in RETENTION_KINDS if (d := getattr(policy, k)) is not None}
    with store.transaction():
        inactive, deleted = _customers(store, cutoffs)
        gone = set(inactive) | set(deleted)
        along = {"history": 0, "transactions": 0, "interactions": 0}
        for cid in sorted(gone):
            along["history"] += len(store.history(cid))
            along["transactions"] += len(store.transactions(cid))
            along["interactions"] += len(store.interactions(cid))
        rows: dict[str, tuple[OldRow, ...]] = {}
        for kind in _ROWS:
            if kind in cutoffs:
                rows[kind] = tuple(r for r in store.rows_before(kind, cutoffs[kind]) if r[0] not in gone)
        report = RetentionReport(
            as_of=when,
            dry_run=dry_run,
            cutoffs=cutoffs,
            inactive_customers=tuple(inactive),
            deleted_customers=tuple(deleted),
            with_customers=along,
            **rows,
        )
        if dry_run:
            return report
        for cid in report.customers:
            store.purge(cid)
        for kind, listed in rows.items():
            removed = store.remove_before(kind, cutoffs[kind])
            if removed != len(listed):
                raise StoreError(
                    f"{store.url}: the store changed during the retention run ({kind}: {len(listed)} listed, "
                    f"{removed} found); nothing was removed: run it again"
                )
        if audit is not None:
            _audit(audit, actor, report)
    return report


def _customers(store: Any, cutoffs: Mapping[str, dt.datetime]) -> tuple[list[str], list[str]]:
    """Ids of the customers the inactivity rule and the deletion rule remove (each id in one list)."""
    inactive: list[str] = []
    deleted: list[str] = []
    cut_idle = cutoffs.get("inactive_customers")
    cut_del = cutoffs.get("deleted_customers")
    if cut_idle is None and cut_del is None:
        return inactive, deleted
    page: list[Any] = []

    def flush() -> None:
        times = store.activity_times([c.id for c in page])
        for c in page:
            got = times.get(c.id)
            if got is None:
                continue
            first_seen, deleted_at, last_t, last_i = got
            if cut_del is not None and deleted_at is not None and deleted_at < cut_del:
                deleted.append(c.id)
                continue
            if cut_idle is not None:
                start = c.created_at or first_seen
                last = max(t for t in (start, last_t, last_i) if t is not None)
                if last < cut_idle:
                    inactive.append(c.id)
        page.clear()

    for c in store.scan(include_deleted=True):
        page.append(c)
        if len(page) >= 500:
            flush()
    flush()
    return inactive, deleted


def _audit(audit: AuditLog, actor: str, report: RetentionReport) -> None:
    purpose = "retention policy"
    for cid in report.customers:
        audit.record(
            actor=actor,
            action="purge",
            record_id=cid,
            fields=["record", "history", "transactions", "interactions"],
            purpose=purpose,
        )
    counts = report.counts
    for kind, cut in report.cutoffs.items():
        audit.record(
            actor=actor,
            action="retention",
            record_id=None,
            fields=[kind],
            purpose=purpose,
            details={"removed": counts[kind], "before": cut.isoformat(), "as_of": report.as_of.isoformat()},
        )
