"""Change events: a store's history as JSON records a sync consumer (a Zapier-style hook, a CRM, a
warehouse) reads from a cursor it keeps.

:func:`change_events` walks the history of every customer in one order (the time of the write, then the
customer id, then the version) and yields a :class:`ChangeEvent` per write: ``created``, ``updated``,
``deleted``, ``restored``, ``merged`` (a write whose source is :data:`MERGE_SOURCE`, see
:func:`record_merge`) and ``erased`` (an erasure audited into the store's own audit table: a purge leaves no
history of its own). Each event's ``id`` is the cursor just after it: passing it back as ``after=`` resumes
exactly there, so a consumer that stores the id of the last event it handled sees every later event once.

An event names the fields that changed; their new values only when asked (``values=True``) and, with a
``policy`` and ``role``, as that role may see them (masked or left out; the role needs the ``export``
action). Erasure events carry the customer id and the time only.

Backends: memory, SQLite, PostgreSQL and MariaDB read their history directly (SQL: one indexed range
query per page); any other store is read through ``dump()`` (the whole store per call).
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from custdata.exceptions import ValidationError
from custdata.storage import _args
from custdata.storage._core import HistoryEntry, parse_ts, ts

__all__ = ["EVENT_TYPES", "MERGE_SOURCE", "ChangeEvent", "change_events", "record_merge"]

#: The kinds of event, in the order a customer's life can show them.
EVENT_TYPES = ("created", "updated", "merged", "deleted", "restored", "erased")
#: The history ``source`` that marks a write as part of a merge (see :func:`record_merge`).
MERGE_SOURCE = "merge"
_ACTIONS = {"create": "created", "update": "updated", "delete": "deleted", "restore": "restored"}
_ERASE_ACTIONS = frozenset({"erase", "purge"})
_PAGE = 500
_START = ("", "", -1, -1)  # (at, customer id, version, audit seq): before everything

Position = tuple[str, str, int, int]


def _encode_cursor(pos: Position) -> str:
    raw = json.dumps(list(pos), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return "ev1." + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_cursor(cursor: object) -> Position:
    if isinstance(cursor, dt.datetime):
        _args.aware("after", cursor)
        return (ts(cursor), "\U0010ffff", 2**63 - 1, -1)  # after every write stamped at or before that time
    if not isinstance(cursor, str) or not cursor.startswith("ev1."):
        raise ValidationError(
            "after must be an event id (a cursor from a ChangeEvent) or a timezone-aware datetime",
            field="after",
        )
    body = cursor[4:]
    try:
        at, cid, version, seq = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if not (isinstance(at, str) and isinstance(cid, str) and type(version) is int and type(seq) is int):
            raise TypeError
    except (ValueError, TypeError, binascii.Error):
        raise ValidationError("not an event id of custdata's change events", field="after") from None
    return (at, cid, version, seq)


@attrs.frozen
class ChangeEvent:
    """One write to a customer, as a sync consumer sees it.

    ``id`` is the cursor just after this event (pass it as ``after=`` to resume); ``type`` one of
    :data:`EVENT_TYPES`; ``version`` the version the write stored (None for an erasure); ``at`` when the
    write began (UTC); ``fields`` the names of the changed fields (dotted below the top level);
    ``values`` their new values, only when asked for (None otherwise); ``merged_into`` the surviving
    customer's id for a ``merged`` event of a customer merged away (None otherwise).
    """

    id: str
    type: str
    customer_id: str
    version: int | None
    at: dt.datetime
    source: str | None = None
    fields: tuple[str, ...] = ()
    values: Mapping[str, Any] | None = None
    merged_into: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form: every key always present (``values`` null unless asked for)."""
        return {
            "id": self.id,
            "type": self.type,
            "customer_id": self.customer_id,
            "version": self.version,
            "at": self.at.isoformat(),
            "source": self.source,
            "fields": list(self.fields),
            "values": None if self.values is None else dict(self.values),
            "merged_into": self.merged_into,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChangeEvent:
        try:
            at = dt.datetime.fromisoformat(data["at"])
            if data["type"] not in EVENT_TYPES or at.tzinfo is None:
                raise ValueError
            _decode_cursor(data["id"])
            version = data["version"]
            if version is not None and type(version) is not int:
                raise TypeError
            values = data.get("values")
            return cls(
                id=data["id"],
                type=data["type"],
                customer_id=str(data["customer_id"]),
                version=version,
                at=at,
                source=data.get("source"),
                fields=tuple(str(f) for f in data.get("fields") or ()),
                values=None if values is None else dict(values),
                merged_into=data.get("merged_into"),
            )
        except (KeyError, TypeError, ValueError, ValidationError):
            raise ValidationError("not a change event") from None


# ------------------------------------------------------------------------------------------ sources
def _created(store: Any, entry: HistoryEntry) -> HistoryEntry:
    """A ``create`` entry stored without its fields (bulk loads keep it small) with the fields the customer
    was created with (what ``store.history`` gives)."""
    if entry.action != "create" or entry.changes:
        return entry
    full: list[HistoryEntry] = list(store.history(entry.customer_id))
    return next((e for e in full if e.version == entry.version), entry)


def _pager(store: Any) -> Callable[[Position, int], list[HistoryEntry]]:
    """A function giving up to ``limit`` history entries after a position, in (at, customer id,
    version) order."""
    if hasattr(store, "_all") and hasattr(store, "_changes_in"):  # the SQL stores: an indexed range query
        # a seek on the cd_history_at index (at, customer_id, version) (store schema 5) from the cursor, also
        # inside one instant (a bulk load stamps all its rows with one time): SQLite and PostgreSQL seek on a
        # row-value comparison; MariaDB's optimizer does not, and would rather merge the
        # primary key in and sort: it is told the index, and seeks on the same bound spelt out
        rowwise = getattr(store, "sql_dialect", None) != "mariadb"
        after = (
            "(at, customer_id, version) > (?, ?, ?)"
            if rowwise
            else "(at > ? OR (at = ? AND customer_id > ?) OR (at = ? AND customer_id = ? AND version > ?))"
        )
        table = "cd_history" if rowwise else "cd_history FORCE INDEX (cd_history_at)"

        def sql_page(pos: Position, limit: int) -> list[HistoryEntry]:
            at, cid, version = pos[0], pos[1], pos[2]
            with store._lock:
                store._check()
                rows = store._all(
                    f"SELECT customer_id, version, at, action, source, changes FROM {table} WHERE "
                    + after
                    + f" ORDER BY at, customer_id, version LIMIT {int(limit)}",
                    (at, cid, version) if rowwise else (at, at, cid, at, cid, version),
                )
            return [
                _created(store, HistoryEntry(c, v, parse_ts(a), act, s, store._changes_in(c, ch)))
                for c, v, a, act, s, ch in rows
            ]

        return sql_page
    if hasattr(store, "_s") and isinstance(getattr(store._s, "history", None), dict):  # the memory store
        with store._lock:
            ids = list(store._s.history)
        entries = [e for cid in ids for e in store.history(cid)]
    else:  # any other store: its backup stream, read once per walk
        entries = [e for e in store.dump() if isinstance(e, HistoryEntry)]
    keyed = sorted(((ts(e.at), e.customer_id, e.version), e) for e in entries)
    keys = [k for k, _ in keyed]

    def list_page(pos: Position, limit: int) -> list[HistoryEntry]:
        start = bisect.bisect_right(keys, (pos[0], pos[1], pos[2]))
        return [e for _, e in keyed[start : start + limit]]

    return list_page


def _erasures_after(store: Any, seq: int) -> list[tuple[int, str, dt.datetime, str]]:
    """(audit seq, customer id, at, action) of the erasures audited in the store's own table after ``seq``."""
    lines = getattr(store, "audit_lines", None)
    if not callable(lines):
        return []
    out = []
    for line in lines():
        try:
            e = json.loads(line)
            if (
                int(e["seq"]) > seq
                and e.get("action") in _ERASE_ACTIONS
                and isinstance(e.get("record_id"), str)
            ):
                out.append(
                    (int(e["seq"]), e["record_id"], dt.datetime.fromisoformat(e["at"]), str(e["action"]))
                )
        except (ValueError, KeyError, TypeError):
            continue  # a damaged audit entry is AuditLog.verify's to report, not a change event
    return out


def _check_store(store: object, *methods: str) -> None:
    if not all(callable(getattr(store, m, None)) for m in methods):
        raise ValidationError(f"expected a store, got {type(store).__name__}", field="store")


# ------------------------------------------------------------------------------------------ the walk
def _values(entry: HistoryEntry, policy: Any, role: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for change in entry.changes:
        top = change.field.split(".", 1)[0]
        if policy is None:
            out[change.field] = change.new
            continue
        access = str(getattr(policy.access(role, top), "value", policy.access(role, top)))
        if access == "full":
            out[change.field] = change.new
        elif access == "masked":
            out[change.field] = (
                policy.apply(role, {top: change.new}, keep=()).get(top) if top == change.field else "***"
            )
    return out


def _event(entry: HistoryEntry, pos: Position, values: bool, policy: Any, role: str | None) -> ChangeEvent:
    kind = _ACTIONS.get(entry.action, "updated")
    into = None
    src = entry.source
    if src is not None and (src == MERGE_SOURCE or src.startswith(MERGE_SOURCE + ":")):
        kind = "merged"
        into = src.partition(":")[2] or None
    return ChangeEvent(
        id=_encode_cursor(pos),
        type=kind,
        customer_id=entry.customer_id,
        version=entry.version,
        at=entry.at,
        source=src,
        fields=tuple(dict.fromkeys(c.field for c in entry.changes)),
        values=_values(entry, policy, role) if values else None,
        merged_into=into,
    )


def change_events(
    store: Any,
    *,
    after: str | dt.datetime | None = None,
    limit: int | None = None,
    values: bool = False,
    policy: Any = None,
    role: str | None = None,
    settle: float = 0.0,
) -> Iterator[ChangeEvent]:
    """The store's change events after the cursor ``after`` (an event's ``id``, a timezone-aware
    datetime, or None for the whole history), oldest first, at most ``limit`` of them.

    ``values=True`` adds each event's new field values; with ``policy`` (a
    :class:`custdata.security.Policy`) and ``role`` they are the values that role may see (masked fields
    masked, hidden ones left out; the role must be allowed ``read`` and ``export``). ``settle`` (seconds)
    holds back events younger than that, for stores that several processes write at once: a write is
    stamped when it begins and becomes visible when it commits, so a consumer should stay ``settle``
    behind the longest write that can be under way elsewhere (0 suits a store one process writes).
    """
    _check_store(store, "history", "dump")
    pos: Position = _START if after is None else _decode_cursor(after)
    if limit is not None and (type(limit) is not int or limit < 0):
        raise ValidationError("limit must be a whole number >= 0 or None", field="limit")
    _args.flag("values", values)
    settle = _args.seconds("settle", settle)
    if policy is not None:
        if not hasattr(policy, "check") or not hasattr(policy, "access"):
            raise ValidationError("policy must be a custdata.security.Policy", field="policy")
        _args.text("role", role)
        if not values:
            raise ValidationError(
                "a policy decides which values an event shows: pass values=True", field="policy"
            )
        policy.check(role, "read")
        policy.check(role, "export")
    elif role is not None:
        raise ValidationError("role needs a policy", field="role")
    return _walk(store, pos, limit, values, policy, role, settle)


def _walk(
    store: Any, pos: Position, limit: int | None, values: bool, policy: Any, role: str | None, settle: float
) -> Iterator[ChangeEvent]:
    horizon = ts(dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=settle)) if settle else None
    erasures = _erasures_after(store, pos[3])
    pages = _pager(store)
    n = 0
    while limit is None or n < limit:
        page = pages(pos, _PAGE)
        if horizon is not None:
            page = [e for e in page if ts(e.at) <= horizon]
        for entry in page:
            at = ts(entry.at)
            while erasures and ts(erasures[0][2]) <= at and (limit is None or n < limit):
                seq, cid, when, action = erasures.pop(0)
                pos = (pos[0], pos[1], pos[2], seq)
                yield _erasure(cid, when, action, pos)
                n += 1
            if limit is not None and n >= limit:
                return
            pos = (at, entry.customer_id, entry.version, pos[3])
            yield _event(entry, pos, values, policy, role)
            n += 1
            if limit is not None and n >= limit:
                return
        if len(page) < _PAGE:
            break
    while erasures and (limit is None or n < limit):
        seq, cid, when, action = erasures.pop(0)
        if horizon is not None and ts(when) > horizon:
            return
        pos = (pos[0], pos[1], pos[2], seq)
        yield _erasure(cid, when, action, pos)
        n += 1


def _erasure(customer_id: str, at: dt.datetime, action: str, pos: Position) -> ChangeEvent:
    return ChangeEvent(
        id=_encode_cursor(pos), type="erased", customer_id=customer_id, version=None, at=at, source=None
    )


def record_merge(store: Any, survivor: Any, merged_ids: list[str]) -> Any:
    """Write a merge: ``survivor`` (a customer, e.g. a golden record) is stored and each of
    ``merged_ids`` soft-deleted, in one transaction, with history sources that make their change events
    ``merged`` (``merged_into`` names the survivor). Returns the stored survivor."""
    _check_store(store, "transaction", "put", "delete")
    ids = _args.ids(merged_ids)
    with store.transaction():
        stored = store.put(survivor, source=MERGE_SOURCE)
        for cid in ids:
            if cid == stored.id:
                raise ValidationError("the survivor cannot be merged into itself", field="merged_ids")
            store.delete(cid, source=f"{MERGE_SOURCE}:{stored.id}")
    return stored
