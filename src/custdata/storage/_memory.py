"""``memory://``: a store in this process's memory, for tests and notebooks. Nothing is persisted."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from custdata._records import Customer, Interaction, Transaction
from custdata.exceptions import ConcurrencyError, NotFoundError, StoreError, ValidationError
from custdata.storage import _args
from custdata.storage._core import (
    Errors,
    HistoryEntry,
    Lookup,
    StoredCustomer,
    UpsertProblem,
    UpsertResult,
    check_errors,
    coerce_customer,
    creation_changes,
    diff,
    now,
    scan_filter,
    select_with,
    take,
)
from custdata.storage._privacy import MemoryPrivacy
from custdata.storage._protocol import BackupItem

__all__ = ["MemoryStore"]

log = logging.getLogger(__name__)


@attrs.frozen
class _Row:
    customer: Customer
    data: dict[str, Any]
    stored_at: dt.datetime
    deleted_at: dt.datetime | None


class _State:
    def __init__(self) -> None:
        self.rows: dict[str, _Row] = {}
        self.index: dict[tuple[str, str], set[str]] = {}
        self.keys_of: dict[str, set[tuple[str, str]]] = {}
        self.history: dict[str, list[HistoryEntry]] = {}
        self.activity: dict[str, dict[object, Transaction | Interaction]] = {"t": {}, "i": {}}
        self.audit: list[str] = []  # audit entries (storage._privacy)

    def copy(self) -> _State:
        """A copy deep enough to roll back to (the records themselves are immutable)."""
        new = _State()
        new.rows = dict(self.rows)
        new.index = {k: set(v) for k, v in self.index.items()}
        new.keys_of = {k: set(v) for k, v in self.keys_of.items()}
        new.history = {k: list(v) for k, v in self.history.items()}
        new.activity = {k: dict(v) for k, v in self.activity.items()}
        new.audit = list(self.audit)
        return new


class MemoryStore(MemoryPrivacy):
    """A store held in a Python dict. Same behaviour as the database backends; gone when closed.

    >>> from custdata import Customer, open_store
    >>> with open_store("memory://") as store:
    ...     store.put(Customer(id="c1")).version
    1
    """

    def __init__(
        self, url: str = "memory://", *, region: str | None = "CN", source: str | None = None
    ) -> None:
        _args.optional_text("region", region)
        _args.optional_text("source", source)
        self.url = url
        self._lookup = Lookup(region=region)
        self._source = source
        self._s = _State()
        self._lock = threading.RLock()
        self._closed = False
        self._depth = 0
        self._seq = itertools.count()

    # ------------------------------------------------------------------ helpers
    def _check(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.url} is closed")

    def _live(self, customer_id: str, include_deleted: bool) -> _Row | None:
        row = self._s.rows.get(customer_id)
        if row is None or (row.deleted_at is not None and not include_deleted):
            return None
        return row

    def _write(
        self, c: Customer, old: _Row | None, source: str | None, at: dt.datetime, action: str | None = None
    ) -> Customer:
        s = self._s
        version = (old.customer.version if old else c.version) + 1
        stored = c if c.version == version else c.evolve(version=version)
        data = stored.to_dict()
        if old is None:
            entry = HistoryEntry(c.id, version, at, "create", source or self._source, creation_changes(data))
        else:
            act = action or ("restore" if old.deleted_at is not None else "update")
            entry = HistoryEntry(c.id, version, at, act, source or self._source, diff(old.data, data))
        s.rows[c.id] = _Row(stored, data, at, None)
        self._reindex(c.id, self._lookup.keys(stored))
        s.history.setdefault(c.id, []).append(entry)
        return stored

    def _reindex(self, customer_id: str, keys: set[tuple[str, str]]) -> None:
        s = self._s
        for k in s.keys_of.pop(customer_id, set()):
            ids = s.index.get(k)
            if ids is not None:
                ids.discard(customer_id)
                if not ids:
                    del s.index[k]
        if keys:
            s.keys_of[customer_id] = keys
            for k in keys:
                s.index.setdefault(k, set()).add(customer_id)

    # ------------------------------------------------------------------ customers
    def get(self, customer_id: str, *, include_deleted: bool = False) -> Customer:
        _args.text("customer_id", customer_id)
        _args.flag("include_deleted", include_deleted)
        with self._lock:
            self._check()
            row = self._live(customer_id, include_deleted)
            if row is None:
                raise NotFoundError(f"no customer with id {customer_id!r} in {self.url}")
            return row.customer

    def get_many(self, customer_ids: Iterable[str], *, include_deleted: bool = False) -> dict[str, Customer]:
        ids = _args.ids(customer_ids)
        _args.flag("include_deleted", include_deleted)
        with self._lock:
            self._check()
            out = {}
            for i in ids:
                row = self._live(i, include_deleted)
                if row is not None:
                    out[i] = row.customer
            return out

    def put(self, customer: Customer, *, source: str | None = None) -> Customer:
        c = coerce_customer(customer)
        _args.optional_text("source", source)
        with self._lock:
            self._check()
            old = self._s.rows.get(c.id)
            if old is not None and old.customer.version != c.version:
                raise ConcurrencyError(
                    f"customer {c.id!r}: the record has version {c.version} but the stored one has "
                    f"{old.customer.version}; get it again and reapply the change"
                )
            return self._write(c, old, source, now())

    def upsert_many(
        self,
        customers: Iterable[Customer | dict[str, object]],
        *,
        source: str | None = None,
        errors: Errors = "raise",
        check_versions: bool = False,
    ) -> UpsertResult:
        check_errors(errors)
        customers = _args.iterable("customers", customers)
        _args.optional_text("source", source)
        _args.flag("check_versions", check_versions)
        with self._lock:
            self._check()
            items: dict[str, Customer] = {}
            problems: list[UpsertProblem] = []
            for i, item in enumerate(customers):
                try:
                    c = coerce_customer(item)
                    if check_versions:
                        old = self._s.rows.get(c.id)
                        if old is not None and old.customer.version != c.version:
                            raise ConcurrencyError(
                                f"customer {c.id!r}: version {c.version}, stored {old.customer.version}"
                            )
                except (ValidationError, ConcurrencyError) as exc:
                    if errors == "raise":
                        raise
                    problems.append(UpsertProblem(i, _id_of(item), exc))
                    continue
                items.pop(c.id, None)
                items[c.id] = c
            at = now()
            inserted = updated = 0
            for c in items.values():
                old = self._s.rows.get(c.id)
                self._write(c, old, source, at)
                if old is None:
                    inserted += 1
                else:
                    updated += 1
            return UpsertResult(
                inserted, updated, tuple(problems) if errors == "collect" else (), len(problems)
            )

    def delete(self, customer_id: str, *, source: str | None = None) -> None:
        _args.text("customer_id", customer_id)
        _args.optional_text("source", source)
        with self._lock:
            self._check()
            row = self._s.rows.get(customer_id)
            if row is None:
                raise NotFoundError(f"no customer with id {customer_id!r} in {self.url}")
            if row.deleted_at is not None:
                return
            at = now()
            version = row.customer.version + 1
            stored = row.customer.evolve(version=version)
            self._s.rows[customer_id] = _Row(stored, {**row.data, "version": version}, at, at)
            self._s.history.setdefault(customer_id, []).append(
                HistoryEntry(customer_id, version, at, "delete", source or self._source)
            )

    def purge(self, customer_id: str) -> None:
        _args.text("customer_id", customer_id)
        with self._lock:
            self._check()
            s = self._s
            if s.rows.pop(customer_id, None) is None:
                raise NotFoundError(f"no customer with id {customer_id!r} in {self.url}")
            self._reindex(customer_id, set())
            s.history.pop(customer_id, None)
            for kind in ("t", "i"):
                acts = s.activity[kind]
                for k in [k for k, a in acts.items() if a.customer_id == customer_id]:
                    del acts[k]

    def find(
        self,
        *,
        phone: str | None = None,
        email: str | None = None,
        external_id: str | tuple[str, str] | None = None,
    ) -> list[Customer]:
        _args.check_find(phone, email, external_id)
        keys, extra = self._lookup.query(phone, email, external_id)
        with self._lock:
            self._check()
            ids: set[str] | None = None
            for k in keys:
                found = self._s.index.get(k, set())
                ids = set(found) if ids is None else ids & found
            out = []
            for i in sorted(ids or ()):
                row = self._live(i, False)
                if row is not None and (extra is None or extra(row.customer)):
                    out.append(row.customer)
            return out

    def scan(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        tag: str | None = None,
        channel: str | None = None,
        lifecycle_stage: str | None = None,
        owner: str | None = None,
        changed_since: dt.datetime | None = None,
        where: Callable[[Customer], bool] | None = None,
        include_deleted: bool = False,
    ) -> Iterator[Customer]:
        _args.check_scan(
            after, limit, tag, channel, lifecycle_stage, owner, changed_since, where, include_deleted
        )
        keep = scan_filter(
            tag=tag, channel=channel, lifecycle_stage=lifecycle_stage, owner=owner, where=where
        )
        with self._lock:
            self._check()
            rows = [
                r
                for i, r in sorted(self._s.rows.items())
                if (after is None or i > after)
                and (include_deleted or r.deleted_at is None)
                and (changed_since is None or r.stored_at >= changed_since)
            ]
        return take((r.customer for r in rows), keep, limit)

    def count(self, *, include_deleted: bool = False) -> int:
        _args.flag("include_deleted", include_deleted)
        with self._lock:
            self._check()
            if include_deleted:
                return len(self._s.rows)
            return sum(1 for r in self._s.rows.values() if r.deleted_at is None)

    def history(self, customer_id: str) -> list[HistoryEntry]:
        _args.text("customer_id", customer_id)
        with self._lock:
            self._check()
            return list(self._s.history.get(customer_id, ()))

    # ------------------------------------------------------------------ activity
    def _add(self, kind: str, items: Iterable[Transaction | Interaction], cls: type) -> int:
        items = _args.iterable("transactions" if kind == "t" else "interactions", items)
        with self._lock:
            self._check()
            batch = []
            for item in items:
                if not isinstance(item, cls):
                    raise ValidationError(f"expected a {cls.__name__}, got {type(item).__name__}")
                batch.append(item)
            acts = self._s.activity[kind]
            for item in batch:
                key: object = ("id", item.id) if item.id is not None else ("seq", next(self._seq))
                acts.pop(key, None)
                acts[key] = item
            return len(batch)

    def _list(
        self, kind: str, customer_id: str | None, start: dt.datetime | None, end: dt.datetime | None
    ) -> list[Any]:
        _args.optional_text("customer_id", customer_id)
        _args.aware("start", start)
        _args.aware("end", end)
        with self._lock:
            self._check()
            items = [
                a
                for a in self._s.activity[kind].values()
                if (customer_id is None or a.customer_id == customer_id)
                and (start is None or a.at >= start)
                and (end is None or a.at <= end)  # inclusive, as metrics' observation_end
            ]
        items.sort(key=lambda a: a.at)
        return items

    def add_transactions(self, transactions: Iterable[Transaction]) -> int:
        return self._add("t", transactions, Transaction)

    def transactions(
        self,
        customer_id: str | None = None,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> list[Transaction]:
        return self._list("t", customer_id, start, end)

    def add_interactions(self, interactions: Iterable[Interaction]) -> int:
        return self._add("i", interactions, Interaction)

    def interactions(
        self,
        customer_id: str | None = None,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> list[Interaction]:
        return self._list("i", customer_id, start, end)

    # ------------------------------------------------------------------ whole store
    @contextlib.contextmanager
    def transaction(self) -> Iterator[MemoryStore]:
        with self._lock:
            self._check()
            saved = self._s.copy()
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._s = saved
                raise
            finally:
                self._depth -= 1

    def dump(self) -> Iterator[BackupItem]:
        with self._lock:
            self._check()
            rows = sorted(self._s.rows.items())
            history = [e for _, es in sorted(self._s.history.items()) for e in es]
            acts = [list(self._s.activity["t"].values()), list(self._s.activity["i"].values())]
        for _, r in rows:
            yield StoredCustomer(r.customer, r.stored_at, r.deleted_at)
        yield from history
        for group in acts:
            yield from group

    def load(self, items: Iterable[BackupItem]) -> None:
        items = _args.iterable("items", items)
        with self.transaction():
            s = self._s
            if s.rows or s.activity["t"] or s.activity["i"]:
                raise StoreError(f"{self.url} is not empty: restore a backup into an empty store")
            txns: list[Transaction] = []
            inters: list[Interaction] = []
            for item in items:
                if isinstance(item, StoredCustomer):
                    c = item.record
                    s.rows[c.id] = _Row(c, c.to_dict(), item.stored_at, item.deleted_at)
                    self._reindex(c.id, self._lookup.keys(c))
                elif isinstance(item, HistoryEntry):
                    s.history.setdefault(item.customer_id, []).append(item)
                elif isinstance(item, Transaction):
                    txns.append(item)
                elif isinstance(item, Interaction):
                    inters.append(item)
                else:
                    raise ValidationError(f"not a backup item: {type(item).__name__}")
            self.add_transactions(txns)
            self.add_interactions(inters)

    def select(self, rule: Any, *, as_of: Any) -> list[Customer]:
        """The customers ``rule`` (a :class:`custdata.segments.Rule`) selects as of ``as_of``: exactly those
        ``rule.matches`` selects over ``custdata.profiles(...)`` of this store's data, evaluated in Python
        (see docs/segments.md)."""
        return select_with(self, rule, as_of)

    def optimize(self) -> None:
        """Nothing to do in memory (the database backends update their statistics here); like theirs,
        refused inside :meth:`transaction`."""
        with self._lock:
            self._check()
            if self._depth:
                raise StoreError(f"{self.url}: optimize() cannot run inside a transaction")

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MemoryStore({self.url!r})"


def _id_of(item: object) -> str | None:
    if isinstance(item, Customer):
        return item.id
    if isinstance(item, dict):
        v = item.get("id")
        return v if isinstance(v, str) else None
    return None


_OPTIONS = {
    "region": _args.optional_option_text,
    "source": _args.optional_option_text,
    "create": _args.boolean,  # a memory store is always new: nothing to refuse
}


def open_memory(url: str, **options: Any) -> MemoryStore:
    """A new, empty store in this process's memory. Options: ``region``, ``source`` (as for SQLite)."""
    opts, _ = _args.url_options(url, options, _OPTIONS)
    opts.pop("create", None)
    return MemoryStore(url, **opts)
