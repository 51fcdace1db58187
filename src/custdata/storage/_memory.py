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
    FieldChange,
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


class _SealedRow:
    """A customer of an encrypted memory store: the body with its personal fields sealed under the
    customer's own data key; ``customer`` and ``data`` decrypt on each use."""

    __slots__ = ("_store", "body", "deleted_at", "id", "stored_at", "version")

    def __init__(
        self, store: MemoryStore, body: dict[str, Any], cid: str, version: int, at: dt.datetime, de: Any
    ) -> None:
        self._store, self.body, self.id, self.version, self.stored_at, self.deleted_at = (
            store,
            body,
            cid,
            version,
            at,
            de,
        )

    @property
    def customer(self) -> Customer:
        return self._store._open_row(self)

    @property
    def data(self) -> dict[str, Any]:
        return self.customer.to_dict()


@attrs.frozen
class _SealedActivity:
    """A transaction or interaction of an encrypted memory store, its free text sealed."""

    customer_id: str
    at: dt.datetime
    id: str | None
    cls: Any
    body: dict[str, Any]


class _State:
    def __init__(self) -> None:
        self.rows: dict[str, _Row] = {}
        self.index: dict[tuple[str, str], set[str]] = {}
        self.keys_of: dict[str, set[tuple[str, str]]] = {}
        self.history: dict[str, list[HistoryEntry]] = {}
        self.activity: dict[str, dict[object, Transaction | Interaction]] = {"t": {}, "i": {}}
        self.audit: list[str] = []  # audit entries (storage._privacy)
        #: An encrypted store's customer data keys: customer id -> (wrapped form, key).
        self.keys: dict[str, tuple[str, Any]] = {}

    def copy(self) -> _State:
        """A copy deep enough to roll back to (the records themselves are immutable)."""
        new = _State()
        new.rows = dict(self.rows)
        new.index = {k: set(v) for k, v in self.index.items()}
        new.keys_of = {k: set(v) for k, v in self.keys_of.items()}
        new.history = {k: list(v) for k, v in self.history.items()}
        new.activity = {k: dict(v) for k, v in self.activity.items()}
        new.audit = list(self.audit)
        new.keys = dict(self.keys)
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
        self._cipher: Any = None

    # ------------------------------------------------------------------ encryption
    @property
    def encrypted(self) -> bool:
        """Are personal fields kept sealed (encrypted) in this store's memory?"""
        return self._cipher is not None

    @property
    def cipher(self) -> Any:
        """The store's record cipher when it is encrypted (backups use it to stay encrypted)."""
        return self._cipher

    def use_keyring(self, keyring: Any, sensitive_custom: Iterable[str] | None = None) -> None:
        """Keep this (new, empty) store's personal data sealed under ``keyring`` (``open_store``'s
        ``keyring=``): as in SQLite and PostgreSQL stores, each customer's data under a data key of its
        own (wrapped by the keyring), blind indexes for look-ups; the custom attributes named in
        ``sensitive_custom`` sealed with the personal fields."""
        names = _args.sensitive_names(sensitive_custom)
        if keyring is None:
            if names is not None:
                raise ValidationError(
                    "sealing custom attributes needs encryption at rest: give keyring= too",
                    field="sensitive_custom",
                )
            return
        import secrets

        from custdata.security import Keyring, RecordCipher

        if not isinstance(keyring, Keyring):
            raise ValidationError(f"expected a Keyring, got {type(keyring).__name__}", field="keyring")
        with self._lock:
            if self._s.rows or self._s.activity["t"] or self._s.activity["i"]:
                raise StoreError(f"{self.url} is not empty: a memory store is encrypted from the start")
            self._cipher = RecordCipher(keyring, store=secrets.token_hex(8), sensitive_custom=names or ())
            self._lookup = Lookup(region=self._lookup.region, derive=self._cipher.derive)

    @property
    def sensitive_custom(self) -> frozenset[str]:
        """The custom attributes this store seals with the personal fields (empty when not encrypted)."""
        return frozenset() if self._cipher is None else frozenset(self._cipher.sensitive_custom)

    def seal_custom_too(self, names: Iterable[str]) -> None:
        """Add ``names`` to the custom attributes an *empty* encrypted store seals (``restore`` keeps a
        backup's set so); a store holding customers is refused."""
        cipher = self._cipher
        wanted = frozenset(_args.sensitive_names(names) or ())
        if cipher is None or wanted <= cipher.sensitive_custom:
            return
        from custdata.security import RecordCipher

        with self._lock:
            if self._s.rows or self._s.history:
                raise ValidationError(
                    f"{self.url} does not seal the custom attributes "
                    f"{sorted(wanted - cipher.sensitive_custom)}"
                    " and holds customers already: a memory store's set is chosen when it is opened",
                    field="sensitive_custom",
                )
            self._cipher = RecordCipher(
                cipher.keyring,
                store=cipher.encryptor.store,
                index_bits=cipher.index.bits,
                sensitive_custom=wanted | cipher.sensitive_custom,
            )
            self._lookup = Lookup(region=self._lookup.region, derive=self._cipher.derive)

    def _key(self, customer_id: str, *, create: bool) -> Any:
        hit = self._s.keys.get(customer_id)
        if hit is None:
            if not create:
                return None
            hit = self._cipher.subjects.create(customer_id)
            self._s.keys[customer_id] = hit
        return hit[1]

    def subject_key(self, customer_id: str) -> Any:
        """The data key of one customer (None: none, or erased); for backups."""
        _args.text("customer_id", customer_id)
        with self._lock:
            self._check()
            return self._key(customer_id, create=False)

    def _row(self, c: Customer, data: dict[str, Any], at: dt.datetime, deleted: Any) -> Any:
        if self._cipher is None:
            return _Row(c, data, at, deleted)
        body = {k: v for k, v in data.items() if k != "version"}
        sealed = self._cipher.seal_body(body, self._key(c.id, create=True))
        return _SealedRow(self, sealed, c.id, c.version, at, deleted)

    def _open_row(self, row: _SealedRow) -> Customer:
        body = self._cipher.open_body(row.body, self._key(row.id, create=False))
        return Customer.from_dict({**body, "version": row.version})

    def _seal_entry(self, e: HistoryEntry) -> HistoryEntry:
        if self._cipher is None or not e.changes:
            return e
        triples = [[c.field, c.old, c.new] for c in e.changes]
        sealed = self._cipher.seal_changes(e.customer_id, triples, self._key(e.customer_id, create=True))
        return attrs.evolve(e, changes=tuple(FieldChange(f, o, n) for f, o, n in sealed))

    def _open_entry(self, e: HistoryEntry) -> HistoryEntry:
        if self._cipher is None or not e.changes:
            return e
        triples = [[c.field, c.old, c.new] for c in e.changes]
        opened = self._cipher.open_changes(e.customer_id, triples, self._key(e.customer_id, create=False))
        return attrs.evolve(e, changes=tuple(FieldChange(f, o, n) for f, o, n in opened))

    def _seal_activity(self, item: Transaction | Interaction) -> Any:
        if self._cipher is None:
            return item
        body = self._cipher.seal_activity(item.to_dict(), self._key(item.customer_id, create=True))
        return _SealedActivity(item.customer_id, item.at, item.id, type(item), body)

    def _open_activity(self, a: Any) -> Any:
        if not isinstance(a, _SealedActivity):
            return a
        return a.cls.from_dict(self._cipher.open_activity(a.body, self._key(a.customer_id, create=False)))

    def reencrypt_page(self, after: str, limit: int = 500) -> tuple[str | None, int, int]:
        """As :meth:`SQLStore.reencrypt_page`: the customers' data keys wrapped again under the keyring's
        active key."""
        if self._cipher is None:
            raise StoreError(f"{self.url} is not encrypted: there is nothing to re-encrypt")
        with self._lock:
            self._check()
            ids = sorted(i for i in self._s.keys if i > after)[:limit]
            rewritten = 0
            for cid in ids:
                wrapped, key = self._s.keys[cid]
                fresh = self._cipher.subjects.rewrap(cid, wrapped)
                if fresh is not None:
                    self._s.keys[cid] = (fresh, key)
                    rewritten += 1
        return (ids[-1] if len(ids) == limit else None), len(ids), rewritten

    def key_usage(self) -> dict[str, int]:
        """How many customer data keys each keyring key wraps (empty when not encrypted)."""
        out: dict[str, int] = {}
        with self._lock:
            for wrapped, _ in self._s.keys.values():
                kid = wrapped.split(".", 2)[1]
                out[kid] = out.get(kid, 0) + 1
        return out

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
        s.rows[c.id] = self._row(stored, data, at, None)
        self._reindex(c.id, self._lookup.keys(stored))
        s.history.setdefault(c.id, []).append(self._seal_entry(entry))
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
            self._s.rows[customer_id] = self._row(stored, {**row.data, "version": version}, at, at)
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
            s.keys.pop(customer_id, None)  # crypto-shredding: every sealed copy is unreadable now
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
                if row is None:
                    continue
                c = row.customer
                if self._cipher is not None and not self._exact(c, phone, email, external_id):
                    continue  # blind indexes are lossy: a candidate that does not hold the value
                if extra is None or extra(c):
                    out.append(c)
            return out

    def _exact(
        self, c: Customer, phone: str | None, email: str | None, external_id: str | tuple[str, str] | None
    ) -> bool:
        lk = self._lookup
        if phone is not None and lk.phone(phone) not in {lk.phone(p.number) for p in c.phones}:
            return False
        if email is not None and lk.email(email) not in {lk.email(e.address) for e in c.emails}:
            return False
        value = external_id[1] if isinstance(external_id, tuple) else external_id
        return value is None or value in c.external_ids.values()

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
            return [self._open_entry(e) for e in self._s.history.get(customer_id, ())]

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
                acts[key] = self._seal_activity(item)
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
            return [self._open_activity(a) for a in items]

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
            rows = [(r.customer, r.stored_at, r.deleted_at) for _, r in sorted(self._s.rows.items())]
            history = [self._open_entry(e) for _, es in sorted(self._s.history.items()) for e in es]
            acts = [[self._open_activity(a) for a in self._s.activity[kind].values()] for kind in ("t", "i")]
        for c, at, de in rows:
            yield StoredCustomer(c, at, de)
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
                    s.rows[c.id] = self._row(c, c.to_dict(), item.stored_at, item.deleted_at)
                    self._reindex(c.id, self._lookup.keys(c))
                elif isinstance(item, HistoryEntry):
                    s.history.setdefault(item.customer_id, []).append(self._seal_entry(item))
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
