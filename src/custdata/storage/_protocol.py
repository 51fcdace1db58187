"""The :class:`Store` protocol: what every backend (built-in or plug-in) offers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

from custdata._records import Customer, Interaction, Transaction
from custdata.storage._core import Errors, HistoryEntry, StoredCustomer, UpsertResult

__all__ = ["BackupItem", "Store"]

#: One item of a backup: a stored customer, a history entry, a transaction or an interaction.
BackupItem = StoredCustomer | HistoryEntry | Transaction | Interaction


@runtime_checkable
class Store(Protocol):
    """A place customers live. Open one with :func:`custdata.open_store`.

    Versions: :meth:`get` returns a record with the ``version`` it was stored at. :meth:`put` succeeds only
    when ``record.version`` equals the stored version (or the id is new) and stores ``version + 1``; a stale
    version raises :class:`~custdata.exceptions.ConcurrencyError` and changes nothing. Deleted customers
    (:meth:`delete`, soft) are hidden from reads unless asked for; :meth:`purge` removes every trace.
    """

    url: str

    # ---- customers
    def get(self, customer_id: str, *, include_deleted: bool = False) -> Customer:
        """The customer with this id; :class:`~custdata.exceptions.NotFoundError` if there is none."""
        ...

    def get_many(self, customer_ids: Iterable[str], *, include_deleted: bool = False) -> dict[str, Customer]:
        """The customers found among ``customer_ids``, by id (missing ids are left out)."""
        ...

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

    def find(
        self,
        *,
        phone: str | None = None,
        email: str | None = None,
        external_id: str | tuple[str, str] | None = None,
    ) -> list[Customer]:
        """Customers matching every given value (normalised phone, e-mail match key, external id)."""
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

    # ---- activity
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
        """Transactions of one customer (or all), ``start <= at < end``, in time order."""
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
        """Interactions of one customer (or all), ``start <= at < end``, in time order."""
        ...

    # ---- whole-store
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
