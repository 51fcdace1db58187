"""An example store plug-in: customers in plain dicts, written only against custdata's public API.

It is what docs/storage.md shows a plug-in author: a class with the ``Store`` methods, registered under a
URL scheme, tested with the contract suite from ``custdata.testing.stores`` (test_storage_plugin.py). It
keeps everything in memory and is deliberately simple (a whole-state copy per transaction, a dict index).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from custdata import Customer, Interaction, Transaction, normalize_email, normalize_phone
from custdata.exceptions import ConcurrencyError, CustdataError, NotFoundError, StoreError, ValidationError
from custdata.storage import FieldChange, HistoryEntry, StoredCustomer, UpsertProblem, UpsertResult

UTC = dt.timezone.utc
_UNTRACKED = {"schema", "id", "version", "updated_at"}
_EMPTY: tuple[Any, ...] = (None, [], {}, "", {"full": None, "family": None, "given": None})


# ---------------------------------------------------------------------------- argument checks
def _text(name: str, value: object, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise ValidationError("must be text without NUL characters", field=name)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("holds a lone surrogate", field=name) from None
    return value


def _flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError("must be True or False", field=name)


def _when(name: str, value: object) -> None:
    if value is not None and (not isinstance(value, dt.datetime) or value.utcoffset() is None):
        raise ValidationError("must be a timezone-aware datetime", field=name)


def _many(name: str, value: object) -> Iterable[Any]:
    if isinstance(value, (str, bytes, dict, Customer)) or not isinstance(value, Iterable):
        raise ValidationError("must be an iterable of items", field=name)
    return value


def _customer(item: object) -> Customer:
    if isinstance(item, Customer):
        return item
    if isinstance(item, dict):
        return Customer.from_dict(item)
    raise ValidationError(f"expected a Customer, got {type(item).__name__}")


# ---------------------------------------------------------------------------- the store
class DictStore:
    """A ``Store`` in plain dicts (an example plug-in)."""

    def __init__(self, url: str, *, region: str = "CN") -> None:
        self.url = url
        self.region = region
        self.rows: dict[str, dict[str, Any]] = {}  # id -> {"c", "stored_at", "deleted_at"}
        self.hist: dict[str, list[HistoryEntry]] = {}
        self.acts: dict[str, list[Any]] = {"t": [], "i": []}
        self.index: dict[tuple[str, str], set[str]] = {}  # lookup key -> ids (may hold stale ids)
        self.depth = 0
        self.closed = False

    # -------------------------------------------------------------- helpers
    def _open(self) -> None:
        if self.closed:
            raise StoreError(f"{self.url} is closed")

    def _phone(self, text: str) -> str:
        try:
            return normalize_phone(text.strip(), region=self.region).e164
        except CustdataError:
            return "?" + "".join(text.split())

    def _email(self, text: str) -> str:
        try:
            return normalize_email(text.strip()).match_key
        except CustdataError:
            return "?" + text.strip().casefold()

    def _keys(self, c: Customer) -> set[tuple[str, str]]:
        keys = {("phone", self._phone(p.number)) for p in c.phones}
        keys |= {("email", self._email(e.address)) for e in c.emails}
        return keys | {("ext", v) for v in c.external_ids.values()}

    def _index(self, c: Customer) -> None:
        for key in self._keys(c):
            self.index.setdefault(key, set()).add(c.id)

    def _alive(self, cid: str, deleted: bool = False) -> Customer | None:
        row = self.rows.get(cid)
        return row["c"] if row and (deleted or row["deleted_at"] is None) else None

    def _write(self, c: Customer, source: str | None, action: str | None = None) -> Customer:
        old = self.rows.get(c.id)
        version = (old["c"].version if old else c.version) + 1
        new = c.evolve(version=version)
        before = old["c"].to_dict() if old else None
        after = new.to_dict()
        if before is None:
            act = "create"
            changes = [
                FieldChange(k, None, v) for k, v in after.items() if k not in _UNTRACKED and v not in _EMPTY
            ]
        else:
            act = action or ("restore" if old and old["deleted_at"] else "update")
            changes = [
                FieldChange(k, before.get(k), v)
                for k, v in after.items()
                if k not in _UNTRACKED and before.get(k) != v
            ]
        now = dt.datetime.now(UTC)
        self.rows[c.id] = {"c": new, "stored_at": now, "deleted_at": None}
        self._index(new)
        self.hist.setdefault(c.id, []).append(HistoryEntry(c.id, version, now, act, source, tuple(changes)))
        return new

    # -------------------------------------------------------------- customers
    def get(self, customer_id: str, *, include_deleted: bool = False) -> Customer:
        _text("customer_id", customer_id)
        _flag("include_deleted", include_deleted)
        self._open()
        c = self._alive(customer_id, include_deleted)
        if c is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        return c

    def get_many(self, customer_ids: Iterable[str], *, include_deleted: bool = False) -> dict[str, Customer]:
        ids = [_text("customer_ids", i) for i in _many("customer_ids", customer_ids)]
        _flag("include_deleted", include_deleted)
        self._open()
        found = {i: self._alive(i, include_deleted) for i in ids}
        return {i: c for i, c in found.items() if c is not None}

    def put(self, customer: Customer, *, source: str | None = None) -> Customer:
        c = _customer(customer)
        _text("source", source, optional=True)
        self._open()
        old = self.rows.get(c.id)
        if old is not None and old["c"].version != c.version:
            raise ConcurrencyError(f"customer {c.id!r} is stale")
        return self._write(c, source)

    def upsert_many(
        self,
        customers: Iterable[Customer | dict[str, object]],
        *,
        source: str | None = None,
        errors: str = "raise",
        check_versions: bool = False,
    ) -> UpsertResult:
        if errors not in ("raise", "skip", "collect"):
            raise ValidationError("must be raise, skip or collect", field="errors")
        _many("customers", customers)
        _text("source", source, optional=True)
        _flag("check_versions", check_versions)
        self._open()
        batch: dict[str, Customer] = {}
        problems: list[UpsertProblem] = []
        for i, item in enumerate(customers):
            c = None
            try:
                c = _customer(item)
                old = self.rows.get(c.id)
                if check_versions and old is not None and old["c"].version != c.version:
                    raise ConcurrencyError(f"customer {c.id!r} is stale")
            except (ValidationError, ConcurrencyError) as exc:
                if errors == "raise":
                    raise
                cid = c.id if c is not None else item.get("id") if isinstance(item, dict) else None
                problems.append(UpsertProblem(i, cid, exc))
                continue
            batch.pop(c.id, None)
            batch[c.id] = c
        inserted = sum(1 for cid in batch if cid not in self.rows)
        for c in batch.values():
            self._write(c, source)
        kept = tuple(problems) if errors == "collect" else ()
        return UpsertResult(inserted, len(batch) - inserted, kept, len(problems))

    def delete(self, customer_id: str, *, source: str | None = None) -> None:
        _text("customer_id", customer_id)
        _text("source", source, optional=True)
        self._open()
        row = self.rows.get(customer_id)
        if row is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        if row["deleted_at"] is None:
            now = dt.datetime.now(UTC)
            version = row["c"].version + 1
            self.rows[customer_id] = {
                "c": row["c"].evolve(version=version),
                "stored_at": now,
                "deleted_at": now,
            }
            self.hist[customer_id].append(HistoryEntry(customer_id, version, now, "delete", source))

    def purge(self, customer_id: str) -> None:
        _text("customer_id", customer_id)
        self._open()
        if self.rows.pop(customer_id, None) is None:
            raise NotFoundError(f"no customer {customer_id!r}")
        self.hist.pop(customer_id, None)
        for kind in self.acts:
            self.acts[kind] = [a for a in self.acts[kind] if a.customer_id != customer_id]

    def find(
        self,
        *,
        phone: str | None = None,
        email: str | None = None,
        external_id: str | tuple[str, str] | None = None,
    ) -> list[Customer]:
        _text("phone", phone, optional=True)
        _text("email", email, optional=True)
        system = None
        if isinstance(external_id, tuple):
            if len(external_id) != 2:
                raise ValidationError("must be an id or a (system, id) pair", field="external_id")
            system, external_id = (_text("external_id", x) for x in external_id)
        _text("external_id", external_id, optional=True)
        wanted = set()
        if phone is not None:
            wanted.add(("phone", self._phone(phone)))
        if email is not None:
            wanted.add(("email", self._email(email)))
        if external_id is not None:
            wanted.add(("ext", external_id))
        if not wanted:
            raise ValidationError("give phone=, email= or external_id=", field="find")
        self._open()
        candidates = set.intersection(*(self.index.get(k, set()) for k in wanted))
        return [
            r["c"]
            for r in (self.rows.get(i) for i in sorted(candidates))
            if r is not None
            and r["deleted_at"] is None
            and wanted <= self._keys(r["c"])
            and (system is None or r["c"].external_ids.get(system) == external_id)
        ]

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
        for name, value in (("after", after), ("tag", tag), ("channel", channel), ("owner", owner)):
            _text(name, value, optional=True)
        _text("lifecycle_stage", lifecycle_stage, optional=True)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValidationError("must be a whole number, 0 or more", field="limit")
        _when("changed_since", changed_since)
        if where is not None and not callable(where):
            raise ValidationError("must be a function", field="where")
        _flag("include_deleted", include_deleted)
        self._open()
        out = []
        for cid, r in sorted(self.rows.items()):
            c = r["c"]
            if (
                (after is None or cid > after)
                and (include_deleted or r["deleted_at"] is None)
                and (changed_since is None or r["stored_at"] >= changed_since)
                and (tag is None or tag in c.tags)
                and (channel is None or (c.channel is not None and c.channel.value == channel))
                and (
                    lifecycle_stage is None
                    or (c.lifecycle_stage and c.lifecycle_stage.value == lifecycle_stage)
                )
                and (owner is None or c.owner == owner)
                and (where is None or where(c))
            ):
                out.append(c)
        return iter(out if limit is None else out[:limit])

    def count(self, *, include_deleted: bool = False) -> int:
        _flag("include_deleted", include_deleted)
        self._open()
        return sum(1 for r in self.rows.values() if include_deleted or r["deleted_at"] is None)

    def history(self, customer_id: str) -> list[HistoryEntry]:
        _text("customer_id", customer_id)
        self._open()
        return list(self.hist.get(customer_id, ()))

    # -------------------------------------------------------------- activity
    def _add(self, kind: str, items: Iterable[Any], cls: type) -> int:
        batch = list(_many("transactions" if kind == "t" else "interactions", items))
        if not all(isinstance(a, cls) for a in batch):
            raise ValidationError(f"expected {cls.__name__} items")
        self._open()
        ids = {a.id for a in batch if a.id is not None}
        self.acts[kind] = [a for a in self.acts[kind] if a.id is None or a.id not in ids] + batch
        return len(batch)

    def _list(self, kind: str, customer_id: Any, start: Any, end: Any) -> list[Any]:
        _text("customer_id", customer_id, optional=True)
        _when("start", start)
        _when("end", end)
        self._open()
        return sorted(
            (
                a
                for a in self.acts[kind]
                if (customer_id is None or a.customer_id == customer_id)
                and (start is None or a.at >= start)
                and (end is None or a.at <= end)
            ),
            key=lambda a: a.at,
        )

    def add_transactions(self, transactions: Iterable[Transaction]) -> int:
        return self._add("t", transactions, Transaction)

    def transactions(
        self, customer_id: str | None = None, *, start: Any = None, end: Any = None
    ) -> list[Any]:
        return self._list("t", customer_id, start, end)

    def add_interactions(self, interactions: Iterable[Interaction]) -> int:
        return self._add("i", interactions, Interaction)

    def interactions(
        self, customer_id: str | None = None, *, start: Any = None, end: Any = None
    ) -> list[Any]:
        return self._list("i", customer_id, start, end)

    # -------------------------------------------------------------- whole store
    @contextlib.contextmanager
    def transaction(self) -> Iterator[DictStore]:
        self._open()
        saved = dict(self.rows), copy.deepcopy(self.hist), copy.deepcopy(self.acts)
        self.depth += 1
        try:
            yield self
        except BaseException:
            self.rows, self.hist, self.acts = saved
            raise
        finally:
            self.depth -= 1

    def dump(self) -> Iterator[Any]:
        self._open()
        for _, r in sorted(self.rows.items()):
            yield StoredCustomer(r["c"], r["stored_at"], r["deleted_at"])
        for cid in sorted(self.hist):
            yield from self.hist[cid]
        yield from self.acts["t"]
        yield from self.acts["i"]

    def load(self, items: Iterable[Any]) -> None:
        _many("items", items)
        self._open()
        if self.rows or self.acts["t"] or self.acts["i"]:
            raise StoreError(f"{self.url} is not empty")
        for item in items:
            if isinstance(item, StoredCustomer):
                c = item.record
                self.rows[c.id] = {"c": c, "stored_at": item.stored_at, "deleted_at": item.deleted_at}
                self._index(c)
            elif isinstance(item, HistoryEntry):
                self.hist.setdefault(item.customer_id, []).append(item)
            else:
                self._add("t" if isinstance(item, Transaction) else "i", [item], type(item))

    def select(self, rule: Any, *, as_of: Any) -> list[Customer]:
        # segments.select evaluates the rule in Python over profiles of the store's data
        from custdata.segments import select

        self._open()
        return select(self, rule, as_of=as_of)

    def optimize(self) -> None:
        self._open()
        if self.depth:
            raise StoreError("optimize() cannot run inside a transaction")

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> DictStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_dict_store(url: str, **options: Any) -> DictStore:
    """The plug-in's factory: ``open_store("dict://anything")``."""
    unknown = set(options) - {"region", "create"}
    if unknown:
        raise ValidationError("not an option of the dict store", field=sorted(unknown)[0])
    options.pop("create", None)
    return DictStore(url, **options)
