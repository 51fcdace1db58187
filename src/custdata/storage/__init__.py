"""Storage: where customers live, behind the :class:`Store` protocol (made of small ones: a caller asks for
only what it uses, e.g. a :class:`CustomerLookup`).

``open_store("memory://")`` for tests and notebooks, ``open_store("sqlite:///customers.db")`` for one file
(the embedded default), ``open_store("postgresql://user@host/db")`` or ``open_store("mariadb://user@host/db")``
for a server (the ``postgres`` or ``mariadb`` extra), and any scheme a plug-in registers in the
``custdata.stores`` entry-point group. Every backend passes the same contract tests. :func:`export` and
:func:`restore` move everything between any two of them; :func:`change_events` reads what changed since a
point, for other systems to follow.
"""

from __future__ import annotations

from custdata.storage._backup import BACKUP_FORMAT, export, restore
from custdata.storage._core import (
    STORE_SCHEMA_VERSION,
    FieldChange,
    HistoryEntry,
    KeyDeriver,
    StoredCustomer,
    UpsertProblem,
    UpsertResult,
)
from custdata.storage._events import EVENT_TYPES, ChangeEvent, change_events, record_merge
from custdata.storage._protocol import (
    ActivityStore,
    BackupItem,
    CustomerLookup,
    CustomerReader,
    CustomerWriter,
    RuleSelectable,
    SQLQueryable,
    Store,
)
from custdata.storage._registry import StoreFactory, known_schemes, open_store, register_store

__all__ = [
    "BACKUP_FORMAT",
    "EVENT_TYPES",
    "STORE_SCHEMA_VERSION",
    "ActivityStore",
    "BackupItem",
    "ChangeEvent",
    "CustomerLookup",
    "CustomerReader",
    "CustomerWriter",
    "FieldChange",
    "HistoryEntry",
    "KeyDeriver",
    "RuleSelectable",
    "SQLQueryable",
    "Store",
    "StoreFactory",
    "StoredCustomer",
    "UpsertProblem",
    "UpsertResult",
    "change_events",
    "export",
    "known_schemes",
    "open_store",
    "record_merge",
    "register_store",
    "restore",
]
