"""What a store offers, as small protocols a caller can ask for one at a time.

A function that only looks customers up (a ``Matcher``) asks for a :class:`CustomerLookup`; a report that
only reads asks for a :class:`CustomerReader`; a segment query compiled to SQL asks for a
:class:`SQLQueryable`. :class:`Store` is all of them but the SQL hook together: what every backend (built-in
or plug-in) implements, and what ``custdata.testing.stores`` tests.

    CustomerLookup      find
    └── CustomerReader  get, get_many, scan, count, history
    CustomerWriter      put, upsert_many, delete, purge
    ActivityStore       add_transactions, transactions, add_interactions, interactions
    RuleSelectable      select (a segment rule's members as of a date)
    Store = CustomerReader + CustomerWriter + ActivityStore + RuleSelectable + url, transaction, dump, load,
            optimize, close
    SQLQueryable        sql_dialect, query_sql (the SQLite, PostgreSQL and MariaDB/MySQL stores)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from custdata._records import Customer, Interaction, Transaction
from custdata.storage._core import Errors, HistoryEntry, StoredCustomer, UpsertResult

__all__ = [
    "ActivityStore",
    "BackupItem",
    "CustomerLookup",
    "CustomerReader",
    "CustomerWriter",
    "RuleSelectable",
    "SQLQueryable",
    "Store",
]

#: One item of a backup: a stored customer, a history entry, a transaction or an interaction.
BackupItem = StoredCustomer | HistoryEntry | Transaction | Interaction


@runtime_checkable
class CustomerLookup(Protocol):
    """Finds customers by what identifies them: all a ``Matcher`` needs of a store."""

    def find(
        self,
        *,
        phone: str | None = None,
        email: str | None = None,
        external_id: str | tuple[str, str] | None = None,
    ) -> list[Customer]:
        """Customers matching every given value (normalised phone, e-mail match key, external id), in id
        order, deleted ones left out."""
        ...


@runtime_checkable
class CustomerReader(CustomerLookup, Protocol):
    """Reads customers and their history."""

    def get(self, customer_id: str, *, include_deleted: bool = False) -> Customer:
        """The customer with this id; :class:`~custdata.exceptions.NotFoundError` if there is none."""
        ...

    def get_many(self, customer_ids: Iterable[str], *, include_deleted: bool = False) -> dict[str, Customer]:
        """The customers found among ``customer_ids``, by id (missing ids are left out)."""
        ...

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
        """Customers in id order, filtered; ``after`` (an id) and ``limit`` page through them."""
        ...

    def count(self, *, include_deleted: bool = False) -> int:
        """How many customers are stored."""
        ...

    def history(self, customer_id: str) -> list[HistoryEntry]:
        """Every write to a customer, oldest first, with the fields each one changed."""
        ...


@runtime_checkable
class CustomerWriter(Protocol):
    """Writes customers, with optimistic concurrency and a history entry per write."""

    def put(self, customer: Customer, *, source: str | None = None) -> Customer:
        """Insert or update one customer with optimistic concurrency; returns it as stored."""
        ...

    def upsert_many(
        self,
        customers: Iterable[Customer | dict[str, object]],
        *,
        source: str | None = None,
        errors: Errors = "raise",
        check_versions: bool = False,
    ) -> UpsertResult:
        """Insert or replace many customers in one atomic transaction (all or none)."""
        ...

    def delete(self, customer_id: str, *, source: str | None = None) -> None:
        """Soft-delete: hide the customer from reads, keeping its data and history."""
        ...

    def purge(self, customer_id: str) -> None:
        """Hard-delete: remove the customer, its index entries, history, transactions and interactions."""
        ...


@runtime_checkable
class ActivityStore(Protocol):
    """Keeps transactions and interactions beside the customers."""

    def add_transactions(self, transactions: Iterable[Transaction]) -> int:
        """Store transactions (one with an ``id`` replaces the stored one with that id); returns the count."""
        ...

    def transactions(
        self,
        customer_id: str | None = None,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> list[Transaction]:
        """Transactions of one customer (or all), ``start <= at <= end`` (both inclusive, as metrics'
        ``observation_end``), in time order."""
        ...

    def add_interactions(self, interactions: Iterable[Interaction]) -> int:
        """Store interactions (one with an ``id`` replaces the stored one with that id)."""
        ...

    def interactions(
        self,
        customer_id: str | None = None,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> list[Interaction]:
        """Interactions of one customer (or all), ``start <= at <= end``, in time order."""
        ...


@runtime_checkable
class RuleSelectable(Protocol):
    """Selects customers with a segment rule: what a campaign or a report that works on one segment needs.

    The SQLite and PostgreSQL stores evaluate the rule inside the database; the memory store (and any store
    that has only the other protocols) in Python over ``custdata.profiles(...)`` of its data. Either way the
    answer is exactly the customers ``rule.matches`` selects (docs/segments.md).
    """

    def select(self, rule: Any, *, as_of: Any) -> list[Customer]:
        """The customers ``rule`` (a :class:`custdata.segments.Rule`) selects as of ``as_of`` (a date or
        ISO ``YYYY-MM-DD`` text), in id order."""
        ...


@runtime_checkable
class Store(CustomerReader, CustomerWriter, ActivityStore, RuleSelectable, Protocol):
    """A place customers live. Open one with :func:`custdata.open_store`.

    Versions: :meth:`get` returns a record with the ``version`` it was stored at. :meth:`put` succeeds only
    when ``record.version`` equals the stored version (or the id is new) and stores ``version + 1``; a stale
    version raises :class:`~custdata.exceptions.ConcurrencyError` and changes nothing. Deleted customers
    (:meth:`delete`, soft) are hidden from reads unless asked for; :meth:`purge` removes every trace.
    Wrong argument types raise :class:`~custdata.exceptions.ValidationError`, database failures
    :class:`~custdata.exceptions.StoreError`: never a driver's own exception.
    """

    url: str

    def transaction(self) -> AbstractContextManager[Store]:
        """Group writes: all of them happen, or (on an exception) none. Nests."""
        ...

    def dump(self) -> Iterator[BackupItem]:
        """Everything stored, for a backup (:func:`custdata.storage.export`)."""
        ...

    def load(self, items: Iterable[BackupItem]) -> None:
        """Load a backup's items into this empty store, exactly as they were (versions and history kept)."""
        ...

    def optimize(self) -> None:
        """After a bulk load: update the database's planner statistics and tidy up (nothing to do for a
        store without a planner); not inside :meth:`transaction`."""
        ...

    def close(self) -> None:
        """Release the store's resources; using it afterwards raises StoreError."""
        ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class SQLQueryable(Protocol):
    """The hook a query compiled to SQL (a segment rule) runs through, on a store with SQL tables.

    ``sql_dialect`` is ``"sqlite"``, ``"postgresql"``, ``"mariadb"`` (MariaDB 10.6 and later),
    ``"mariadb-10.5"`` (MariaDB 10.5: no ``JSON_TABLE``) or ``"mysql"`` (MySQL 8). Segment rules run inside
    the database on the first three; on the last two they run in Python over the store's profiles.
    :meth:`query_sql` runs one read-only statement with ``?`` placeholders against the store's tables
    (``cd_customers``, ``cd_transactions`` …, see docs/storage.md) and returns its rows. A statement that
    tries to write is refused.
    """

    sql_dialect: str

    def query_sql(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...
