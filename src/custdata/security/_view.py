"""A store seen through a policy by one principal: every call checked, shaped and audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from custdata.exceptions import ValidationError
from custdata.security._audit import AuditLog
from custdata.security._policy import MASKS, Access, Action, Policy, _mask_other

__all__ = ["StoreView"]


class StoreView:
    """``store`` as ``actor`` in ``role`` may see it under ``policy``.

    Reads (``get``, ``find``, ``scan``, ``history``) need the ``read`` action and return dict forms with
    hidden fields left out and masked fields masked; ``put`` needs ``write``; ``delete`` and ``purge`` need
    ``erase``. With an ``audit`` log, every call leaves an entry (who, what, which record, which fields,
    ``purpose``), and so does every refused call (action ``denied:<action>``) before
    :class:`~custdata.exceptions.AccessDenied` is raised.

    >>> import custdata
    >>> from custdata.security import MemorySink
    >>> policy = Policy({"support": {"actions": ["read"], "fields": {"*": "full", "phones": "masked"}}})
    >>> store = custdata.open_store("memory://")
    >>> _ = store.put(custdata.Customer.from_dict({"id": "c1", "phones": [{"number": "+8613812345678"}]}))
    >>> log = AuditLog(MemorySink())
    >>> view = StoreView(store, policy, actor="alice", role="support", audit=log, purpose="ticket 42")
    >>> view.get("c1")["phones"][0]["number"]
    '138****5678'
    >>> [e["action"] for e in log.entries()]
    ['read']
    """

    def __init__(
        self,
        store: Any,
        policy: Policy,
        *,
        actor: str,
        role: str,
        audit: AuditLog | None = None,
        purpose: str | None = None,
    ) -> None:
        if not isinstance(policy, Policy):
            raise ValidationError(f"expected a Policy, got {type(policy).__name__}", field="policy")
        if not isinstance(actor, str) or not actor or not isinstance(role, str):
            raise ValidationError("a view needs an actor and a role (text)", field="actor")
        self.store = store
        self.policy = policy
        self.actor = actor
        self.role = role
        self.audit = audit
        self.purpose = purpose

    # ------------------------------------------------------------------------------------------ plumbing
    def _log(self, action: str, record_id: str | None, fields: list[str]) -> None:
        if self.audit is not None:
            self.audit.record(
                actor=self.actor, action=action, record_id=record_id, fields=fields, purpose=self.purpose
            )

    def _allow(self, action: Action, record_id: str | None = None) -> None:
        if not self.policy.allows(self.role, action):
            self._log(f"denied:{action.value}", record_id, [])
            self.policy.check(self.role, action, record_id=record_id)  # raises AccessDenied

    def _shape(self, customer: Any, action: str) -> dict[str, Any]:
        view = self.policy.apply(self.role, customer.to_dict())
        self._log(action, customer.id, sorted(k for k in view if k not in ("id", "schema", "version")))
        return view

    # ------------------------------------------------------------------------------------------ reads
    def get(self, customer_id: str) -> dict[str, Any]:
        self._allow(Action.READ, customer_id)
        return self._shape(self.store.get(customer_id), "read")

    def find(self, **query: Any) -> list[dict[str, Any]]:
        self._allow(Action.READ)
        return [self._shape(c, "find") for c in self.store.find(**query)]

    def scan(self, **options: Any) -> Iterator[dict[str, Any]]:
        self._allow(Action.READ)
        for c in self.store.scan(**options):
            yield self._shape(c, "scan")

    def history(self, customer_id: str) -> list[dict[str, Any]]:
        """The history entries' dict forms, each change shown as the role may see its field."""
        self._allow(Action.READ, customer_id)
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for entry in self.store.history(customer_id):
            d = entry.to_dict()
            changes = []
            for field, old, new in d["changes"]:
                if field == "custom":  # attribute by attribute when the policy names some
                    old, new = (
                        self.policy.custom_view(self.role, old),
                        self.policy.custom_view(self.role, new),
                    )
                    if old is None and new is None and self.policy.access(self.role, field) is Access.HIDDEN:
                        continue
                    changes.append([field, old, new])
                    seen.add(field)
                    continue
                access = self.policy.access(self.role, field)
                if access is Access.HIDDEN:
                    continue
                if access is Access.MASKED:
                    mask = MASKS.get(field, _mask_other)
                    old, new = mask(old), mask(new)
                changes.append([field, old, new])
                seen.add(field)
            d["changes"] = changes
            out.append(d)
        self._log("history", customer_id, sorted(seen))
        return out

    def export(self, path: Any = None, **options: Any) -> Any:
        """Export customers as this principal may (the ``export`` action; a marketing export with
        ``purpose=`` and ``channel=`` leaves out customers without consent): see
        :func:`custdata.security.export_customers`, which takes the same arguments and returns the
        :class:`~custdata.security.ExportReport`."""
        from custdata.security._export import export_customers

        return export_customers(self, path, **options)

    # ------------------------------------------------------------------------------------------ writes
    def put(self, customer: Any) -> Any:
        """Write a record (the ``write`` action); returns the stored record's id and version."""
        record_id = getattr(customer, "id", None)
        self._allow(Action.WRITE, record_id)
        stored = self.store.put(customer)
        self._log("write", stored.id, [])
        return {"id": stored.id, "version": stored.version}

    def delete(self, customer_id: str) -> None:
        self._allow(Action.ERASE, customer_id)
        self.store.delete(customer_id)
        self._log("erase", customer_id, [])

    def purge(self, customer_id: str) -> None:
        self._allow(Action.ERASE, customer_id)
        self.store.purge(customer_id)
        self._log("purge", customer_id, [])
