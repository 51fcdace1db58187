"""The store side of privacy operations, shared by every built-in backend: the audit table (``cd_audit``)
and the retention primitives that :mod:`custdata.security` drives (it reaches them duck-typed, as security
never imports storage).

Audit table: one row per audit entry, ``(pos, entry)``: ``pos`` counts from 0 in append order and
``entry`` is the JSON line :class:`custdata.security.AuditLog` made (the same hash-chained text a JSON
Lines file would hold). :meth:`audit_append` takes the table's lock (SQLite: the write transaction;
PostgreSQL: ``LOCK TABLE``; another backend names its statement in an ``audit_lock_sql`` class
attribute), so concurrent writers never fork the chain; an entry is written inside the
caller's :meth:`transaction`, so it commits (or rolls back) with the work it records.

Retention primitives: :meth:`activity_times` (when each customer was first stored, deleted, last bought,
last contacted), :meth:`rows_before` (what of one kind is older than a moment) and :meth:`remove_before`
(remove exactly that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from custdata.exceptions import ValidationError
from custdata.storage import _args
from custdata.storage._core import parse_ts, ts

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from custdata.storage._memory import _State

__all__ = ["ACTIVITY_KINDS", "ROW_KINDS", "ActivityTimes", "MemoryPrivacy", "SQLPrivacy"]

#: Kinds of rows :meth:`rows_before` and :meth:`remove_before` know.
ROW_KINDS = ("transactions", "interactions", "history")
ACTIVITY_KINDS = ("transactions", "interactions")

#: (first stored, deleted at, last transaction, last interaction) of one customer; each may be None.
ActivityTimes = tuple["dt.datetime | None", "dt.datetime | None", "dt.datetime | None", "dt.datetime | None"]

#: A row older than the cut-off: (customer id, transaction/interaction id or history version, at).
OldRow = tuple[str, "str | int | None", dt.datetime]

_TABLES = {"transactions": "cd_transactions", "interactions": "cd_interactions", "history": "cd_history"}
_AUDIT_LOCK = {
    "postgresql": "LOCK TABLE cd_audit IN SHARE ROW EXCLUSIVE MODE",
}
#: MariaDB (InnoDB, repeatable read): read the last entry with a locking read, which sees the latest
#: committed row even inside a transaction whose snapshot is older.
_AUDIT_LAST_SUFFIX = {"mariadb": " FOR UPDATE"}
_AUDIT_PAGE = 1000


def _kind(kind: object) -> str:
    if kind not in ROW_KINDS:
        raise ValidationError(f"kind must be one of {', '.join(ROW_KINDS)}", field="kind")
    return str(kind)


def _when(value: object) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValidationError("before must be a timezone-aware datetime", field="before")
    _args.aware("before", value)
    return value


def _maybe(text: str | None) -> dt.datetime | None:
    return None if text is None else parse_ts(text)


class SQLPrivacy:
    """Audit table and retention primitives of :class:`~custdata.storage._sql.SQLStore`."""

    if TYPE_CHECKING:
        url: str
        sql_dialect: ClassVar[str]
        _lock: Any

        def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...
        def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
        def _raw(self, sql: str) -> None: ...
        def _check(self) -> None: ...
        def transaction(self) -> AbstractContextManager[Any]: ...

    # ------------------------------------------------------------------ audit table
    def audit_append(self, make: Callable[[str | None], str]) -> str:
        """Append the line ``make(last_line)`` returns to the audit table, holding its lock."""
        with self.transaction():
            lock = getattr(self, "audit_lock_sql", None) or _AUDIT_LOCK.get(self.sql_dialect)
            if lock is not None:
                self._raw(lock)
            last = self._all(
                "SELECT pos, entry FROM cd_audit ORDER BY pos DESC LIMIT 1"
                + _AUDIT_LAST_SUFFIX.get(self.sql_dialect, "")
            )
            line = make(last[0][1] if last else None)
            if not isinstance(line, str):
                raise ValidationError("an audit entry is one line of text", field="make")
            self._exec(
                "INSERT INTO cd_audit (pos, entry) VALUES (?, ?)", (int(last[0][0]) + 1 if last else 0, line)
            )
        return line

    def audit_lines(self) -> Iterator[str]:
        """The audit table's entries in append order."""
        pos = -1
        while True:
            with self._lock:
                self._check()
                rows = self._all(
                    f"SELECT pos, entry FROM cd_audit WHERE pos > ? ORDER BY pos LIMIT {_AUDIT_PAGE}", (pos,)
                )
            for p, entry in rows:
                yield str(entry)
                pos = int(p)
            if len(rows) < _AUDIT_PAGE:
                return

    # ------------------------------------------------------------------ retention
    def activity_times(self, customer_ids: Sequence[str]) -> dict[str, ActivityTimes]:
        """For each stored one of ``customer_ids`` (deleted ones included): when the store first saw it
        (its oldest history entry, else its last write), when it was soft-deleted, and its latest
        transaction and interaction."""
        ids = [_args.text("customer_id", i) for i in customer_ids]
        out: dict[str, ActivityTimes] = {}
        with self._lock:
            self._check()
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ", ".join("?" * len(part))
                rows = self._all(
                    "SELECT c.id, c.stored_at, c.deleted_at, "
                    "(SELECT MIN(h.at) FROM cd_history h WHERE h.customer_id = c.id), "
                    "(SELECT MAX(t.at) FROM cd_transactions t WHERE t.customer_id = c.id), "
                    "(SELECT MAX(i.at) FROM cd_interactions i WHERE i.customer_id = c.id) "
                    f"FROM cd_customers c WHERE c.id IN ({marks})",
                    part,
                )
                for cid, stored, deleted, first, last_t, last_i in rows:
                    out[cid] = (parse_ts(first or stored), _maybe(deleted), _maybe(last_t), _maybe(last_i))
        return out

    def rows_before(self, kind: str, before: dt.datetime) -> list[OldRow]:
        """``(customer_id, id, at)`` of the transactions or interactions (``id`` None when they have
        none), or ``(customer_id, version, at)`` of the history entries, dated before ``before``; in time
        order."""
        table, cut = _TABLES[_kind(kind)], ts(_when(before))
        key = "version" if kind == "history" else "id"
        order = "at, customer_id, version" if kind == "history" else "at, seq"
        with self._lock:
            self._check()
            rows = self._all(
                f"SELECT customer_id, {key}, at FROM {table} WHERE at < ? ORDER BY {order}", (cut,)
            )
        return [(c, k if kind != "history" else int(k), parse_ts(a)) for c, k, a in rows]

    def remove_before(self, kind: str, before: dt.datetime) -> int:
        """Remove what :meth:`rows_before` lists; returns how many rows went."""
        table, cut = _TABLES[_kind(kind)], ts(_when(before))
        with self.transaction():
            cur = self._exec(f"DELETE FROM {table} WHERE at < ?", (cut,))
            return int(cur.rowcount)


class MemoryPrivacy:
    """Audit list and retention primitives of :class:`~custdata.storage._memory.MemoryStore`; the audit
    entries live in the store's state, so a rolled-back :meth:`transaction` takes them back too."""

    if TYPE_CHECKING:
        _s: _State
        _lock: Any

        def _check(self) -> None: ...
        def transaction(self) -> AbstractContextManager[Any]: ...

    def audit_append(self, make: Callable[[str | None], str]) -> str:
        """Append the line ``make(last_line)`` returns to the store's audit list."""
        with self._lock:
            self._check()
            entries: list[str] = self._s.audit
            line = make(entries[-1] if entries else None)
            if not isinstance(line, str):
                raise ValidationError("an audit entry is one line of text", field="make")
            entries.append(line)
        return line

    def audit_lines(self) -> Iterator[str]:
        """The audit entries in append order."""
        with self._lock:
            self._check()
            return iter(list(self._s.audit))

    def activity_times(self, customer_ids: Sequence[str]) -> dict[str, ActivityTimes]:
        """As :meth:`SQLPrivacy.activity_times`."""
        ids = [_args.text("customer_id", i) for i in customer_ids]
        with self._lock:
            self._check()
            s = self._s
            wanted = {i for i in ids if i in s.rows}
            last: dict[str, list[dt.datetime | None]] = {i: [None, None] for i in wanted}
            for slot, kind in enumerate(("t", "i")):
                for a in s.activity[kind].values():
                    times = last.get(a.customer_id)
                    if times is not None:
                        seen = times[slot]
                        if seen is None or a.at > seen:
                            times[slot] = a.at
            out: dict[str, ActivityTimes] = {}
            for i in wanted:
                row = s.rows[i]
                hist = s.history.get(i)
                first = min(e.at for e in hist) if hist else row.stored_at
                out[i] = (first, row.deleted_at, last[i][0], last[i][1])
            return out

    def _old(self, kind: str, before: dt.datetime) -> list[tuple[OldRow, Any]]:
        s = self._s
        found: list[tuple[tuple[Any, ...], OldRow, Any]] = []
        if kind == "history":
            for cid, entries in s.history.items():
                for e in entries:
                    if e.at < before:
                        found.append(((e.at, cid, e.version), (cid, e.version, e.at), (cid, e)))
        else:
            for n, (key, a) in enumerate(s.activity["t" if kind == "transactions" else "i"].items()):
                if a.at < before:
                    found.append(((a.at, n), (a.customer_id, a.id, a.at), key))
        found.sort(key=lambda f: f[0])
        return [(row, handle) for _, row, handle in found]

    def rows_before(self, kind: str, before: dt.datetime) -> list[OldRow]:
        """As :meth:`SQLPrivacy.rows_before`."""
        kind, before = _kind(kind), _when(before)
        with self._lock:
            self._check()
            return [row for row, _ in self._old(kind, before)]

    def remove_before(self, kind: str, before: dt.datetime) -> int:
        """As :meth:`SQLPrivacy.remove_before`."""
        kind, before = _kind(kind), _when(before)
        with self._lock:
            self._check()
            old = self._old(kind, before)
            s = self._s
            if kind == "history":
                for cid in {cid for (_, (cid, _e)) in old}:
                    kept = [e for e in s.history[cid] if not e.at < before]
                    if kept:
                        s.history[cid] = kept
                    else:
                        del s.history[cid]
            else:
                acts = s.activity["t" if kind == "transactions" else "i"]
                for _, key in old:
                    del acts[key]
            return len(old)
