"""Data-subject requests: everything held about one person (access, portability), and erasure."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from custdata.exceptions import ValidationError
from custdata.security._audit import AuditLog

__all__ = ["erase_subject", "export_subject"]

EXPORT_FORMAT = "custdata-subject-export"


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{name} must be non-empty text", field=name)
    return value


def export_subject(store: Any, customer_id: str, *, audit: AuditLog | None = None) -> dict[str, Any]:
    """Everything ``store`` holds about one customer as one JSON-safe document: the record (deleted ones
    included), its change history, transactions, interactions, consents, and the audit log's entries
    about the customer when ``audit`` is given. Raises NotFoundError for an id never stored.

    The document round-trips through ``json.dumps`` (GDPR art. 15 and 20, PIPL art. 45).
    """
    _text(customer_id, "customer_id")
    record = store.get(customer_id, include_deleted=True)
    doc: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "customer_id": customer_id,
        "record": record.to_dict(),
        "consents": record.to_dict().get("consents", {}),
        "history": [e.to_dict() for e in store.history(customer_id)],
        "transactions": [t.to_dict() for t in store.transactions(customer_id)],
        "interactions": [i.to_dict() for i in store.interactions(customer_id)],
    }
    if audit is not None:
        doc["audit"] = [e for e in audit.entries() if e.get("record_id") == customer_id]
    json.dumps(doc)  # JSON-safe, or a bug of ours: never hand out a document that will not serialise
    return doc


def erase_subject(
    store: Any,
    customer_id: str,
    *,
    actor: str,
    audit: AuditLog | None = None,
    purpose: str | None = "erasure request",
) -> dict[str, int]:
    """Remove one customer for good: the record, its index entries, history, transactions and
    interactions (the store's ``purge``), then leave an audit entry (``action="erase"``). Returns what was
    removed, by kind. Raises NotFoundError for an id never stored.

    In an encrypted store this also destroys the customer's own data key, so backups written before the
    erasure (``storage.export``) can no longer be read for them (crypto-shredding, docs/security.md);
    backups of a plaintext store still hold the customer in the clear.
    """
    _text(customer_id, "customer_id")
    _text(actor, "actor")
    store.get(customer_id, include_deleted=True)  # NotFoundError before anything is touched
    counts = {
        "customer": 1,
        "history": len(store.history(customer_id)),
        "transactions": len(store.transactions(customer_id)),
        "interactions": len(store.interactions(customer_id)),
    }
    store.purge(customer_id)
    if audit is not None:
        audit.record(
            actor=actor,
            action="erase",
            record_id=customer_id,
            fields=["record", "history", "transactions", "interactions"],
            purpose=purpose,
        )
    return counts
