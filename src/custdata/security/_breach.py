"""Breach impact: which customers and which kinds of personal data a leaked key or a principal's access
exposed, with counts — what a breach notice (PIPL art. 57, GDPR arts. 33 and 34) has to state."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import attrs

from custdata.exceptions import ValidationError
from custdata.security._audit import AuditLog

__all__ = ["EXPOSING_ACTIONS", "BreachReport", "breach_report"]

#: Audit actions that show a principal personal data (writes, erasures and refusals do not).
EXPOSING_ACTIONS = frozenset({"read", "find", "scan", "history", "export"})


@attrs.frozen
class BreachReport:
    """``customers`` exposed (sorted ids), ``fields``: how many of them had each kind of field exposed,
    ``entries``: the audit entries that matched (0 for a key), ``criteria``: what was asked."""

    criteria: dict[str, str]
    customers: tuple[str, ...]
    fields: dict[str, int]
    entries: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "criteria": dict(self.criteria),
            "customers": len(self.customers),
            "customer_ids": list(self.customers),
            "fields": dict(self.fields),
            "entries": self.entries,
        }

    def __str__(self) -> str:
        what = ", ".join(f"{k}={v}" for k, v in self.criteria.items())
        kinds = ", ".join(f"{f} {n}" for f, n in self.fields.items()) or "none"
        return f"breach report ({what}): {len(self.customers)} customers exposed; fields: {kinds}"


def _when(value: dt.datetime | str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{name} is not an ISO 8601 date-time", field=name) from None
    if not isinstance(value, dt.datetime):
        raise ValidationError(f"{name} must be a datetime or ISO 8601 text", field=name)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def _report(criteria: dict[str, str], exposed: dict[str, set[str]], entries: int) -> BreachReport:
    counts = Counter(f for fields in exposed.values() for f in fields)
    return BreachReport(
        criteria=criteria,
        customers=tuple(sorted(exposed)),
        fields=dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        entries=entries,
    )


def breach_report(
    store: Any = None,
    audit: AuditLog | None = None,
    *,
    key_id: str | None = None,
    since: dt.datetime | str | None = None,
    until: dt.datetime | str | None = None,
    principal: str | None = None,
) -> BreachReport:
    """Who and what a breach exposed.

    - ``key_id`` (with an encrypted ``store``): a leaked data key exposes every customer whose stored
      personal values it encrypts, with the fields it covers (history values included).
    - ``principal`` and/or ``since``/``until`` (with an ``audit`` log): the customers and fields that the
      audit log shows were read, found, scanned, shown in history or exported — by that principal, in that
      window (``since`` inclusive, ``until`` exclusive; naive times are UTC).

    A report is about a key or about audit entries, not both at once. Unverified audit logs are read as
    they are: run ``AuditLog.verify()`` first.
    """
    if key_id is not None:
        if principal is not None or since is not None or until is not None:
            raise ValidationError(
                "a breach report is about a key_id, or about a principal and/or time window: not both",
                field="key_id",
            )
        if not isinstance(key_id, str) or not key_id:
            raise ValidationError("key_id must be a key id (text)", field="key_id")
        exposure = getattr(store, "key_exposure", None)
        if not callable(exposure):
            raise ValidationError(
                f"{type(store).__name__} cannot report key exposure (an encrypted SQLite or PostgreSQL "
                "store can)",
                field="store",
            )
        return _report({"key_id": key_id}, {c: set(f) for c, f in exposure(key_id).items()}, 0)
    if principal is None and since is None and until is None:
        raise ValidationError("give key_id=, or principal= and/or since=/until=", field="key_id")
    if not isinstance(audit, AuditLog):
        raise ValidationError("a report on principals or times needs the AuditLog", field="audit")
    if principal is not None and (not isinstance(principal, str) or not principal):
        raise ValidationError("principal must be an actor name (text)", field="principal")
    start, end = _when(since, "since"), _when(until, "until")
    criteria: dict[str, str] = {}
    if principal is not None:
        criteria["principal"] = principal
    if start is not None:
        criteria["since"] = start.isoformat()
    if end is not None:
        criteria["until"] = end.isoformat()
    exposed: dict[str, set[str]] = {}
    matched = 0
    for entry in audit.entries():
        if entry.get("action") not in EXPOSING_ACTIONS or not entry.get("record_id"):
            continue
        if principal is not None and entry.get("actor") != principal:
            continue
        if start is not None or end is not None:
            at = _when(str(entry.get("at")), "at")
            if at is None or (start is not None and at < start) or (end is not None and at >= end):
                continue
        matched += 1
        exposed.setdefault(str(entry["record_id"]), set()).update(str(f) for f in entry.get("fields") or ())
    return _report(criteria, exposed, matched)
