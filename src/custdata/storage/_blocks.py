"""Block keys in a store's lookup index: what lets dedupe run on an encrypted store.

A layer above storage (``custdata.matching.dedupe_store``) computes each customer's blocking keys and
attaches them here as extra lookup entries: kind :func:`kind_of` the pass (``block:`` and a short code),
key the blocking key through the
store's *block deriver* (a keyed HMAC on an encrypted store, the key itself on a plain one), plus one
marker entry (kind ``block``, key the customer id) saying the customer's keys are in. The entries are
listed in the customer's stored lookup keys, so any later write of the customer drops them together with
the marker, exactly as it drops an old phone's entry: a customer without its marker is *pending* and gets
its keys again at the next indexing. Candidate groups then come from grouping the index inside the
database; no record is read for that.

Storage never imports matching: the keys arrive already computed (see :func:`attach`).
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from custdata._records import Customer
from custdata.exceptions import ValidationError

__all__ = ["BLOCK_BITS", "MARK", "PREFIX", "BlockIndexStore", "block_index_of", "kind_of"]

#: Kind of the marker entry of an indexed customer (key: the customer id).
MARK = "block"
#: Kinds of block keys start with this (see :func:`kind_of`).
PREFIX = "block:"
#: Bits of an HMAC block key on an encrypted store (see docs/security.md, leakage of block indexes).
BLOCK_BITS = 64
_META = "block_index"

Keys = list[tuple[str, str]]


def kind_of(name: str) -> str:
    """The index kind of a blocking pass: ``block:`` and 8 hex digits of the pass name's SHA-256 (short
    enough for every backend's kind column: MariaDB's holds 16 characters)."""
    return PREFIX + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def _deriver(store: Any) -> Callable[[str, str], str]:
    """The block deriver of ``store``: HMAC-SHA256 under a per-pass key derived from the keyring's index key
    (truncated to :data:`BLOCK_BITS`) on an encrypted store; the key itself on a plain one."""
    cipher = getattr(store, "cipher", None)
    if cipher is None:
        return lambda kind, value: value
    from custdata.security import BlindIndex

    return BlindIndex(cipher.keyring, bits=BLOCK_BITS, store=cipher.index.store)


class BlockIndexStore:
    """The block-index operations on one store (an SQL store or a memory store); see the module doc."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.derive = _deriver(store)

    @property
    def encrypted(self) -> bool:
        return getattr(self.store, "cipher", None) is not None

    # ------------------------------------------------------------------ to override
    def meta(self) -> dict[str, Any] | None:
        """The index's description (region, fingerprint of the key functions …), or None: no index yet."""
        raise NotImplementedError

    def set_meta(self, meta: dict[str, Any]) -> None:
        raise NotImplementedError

    def pending(self, after: str, limit: int) -> list[Customer]:
        """Up to ``limit`` live customers after id ``after`` (in id order) whose block keys are not in:
        read (decrypted) here, since their keys must be computed."""
        raise NotImplementedError

    def attach(self, items: Sequence[tuple[Customer, Iterable[tuple[str, str]]]]) -> int:
        """Attach to each customer its block keys ``(pass, key)`` (derived here) and the marker, unless the
        customer changed since it was read (then it stays pending). Returns how many were attached."""
        raise NotImplementedError

    def drop(self) -> int:
        """Remove every block key and marker (a rebuild follows). Returns how many customers had them."""
        raise NotImplementedError

    def groups(self, kind: str) -> Iterator[tuple[str, int]]:
        """(key, live customers) of every key of ``kind`` that two or more live customers share."""
        raise NotImplementedError

    def members(self, kinds: Sequence[str]) -> set[str]:
        """The ids of the live customers sharing a key of one of ``kinds`` with another live customer."""
        raise NotImplementedError

    def holders(self, kind: str, key: str) -> list[str]:
        """Ids of the live customers holding the (derived) key ``key`` of ``kind``."""
        raise NotImplementedError

    def indexed(self) -> int:
        """How many live customers have their block keys in."""
        raise NotImplementedError

    def live_ids(self) -> list[str]:
        """The ids of every live customer, in id order (nothing decrypted)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shared
    def entries(self, customer_id: str, keys: Iterable[tuple[str, str]]) -> Keys:
        d = self.derive
        kinds: dict[str, str] = {}
        out = set()
        for name, key in keys:
            kind = kinds.get(name) or kinds.setdefault(name, kind_of(name))
            out.add((kind, d(kind, key)))
        out.add((MARK, customer_id))
        return sorted(out)


class _SQLBlocks(BlockIndexStore):
    def meta(self) -> dict[str, Any] | None:
        s = self.store
        with s._lock:
            s._check()
            row = s._all("SELECT value FROM cd_meta WHERE key = ?", (_META,))
        return dict(json.loads(row[0][0])) if row else None

    def set_meta(self, meta: dict[str, Any]) -> None:
        from custdata.storage._core import encode

        s = self.store
        with s.transaction():
            s._exec(
                "INSERT INTO cd_meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_META, encode(meta)),
            )

    def pending(self, after: str, limit: int) -> list[Customer]:
        s = self.store
        with s._lock:
            s._check()
            rows = s._all(
                "SELECT c.id, c.version, c.body FROM cd_customers c WHERE c.id > ? AND c.deleted_at IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM cd_lookup l WHERE l.kind = ? AND l.key = c.id "
                f"AND l.customer_id = c.id) ORDER BY c.id LIMIT {int(limit)}",
                (after, MARK),
            )
            out: list[Customer] = s._decode(rows)  # with the customers' own data keys when encrypted
            return out

    def attach(self, items: Sequence[tuple[Customer, Iterable[tuple[str, str]]]]) -> int:
        from custdata.storage._core import decode_keys, encode_keys
        from custdata.storage._sql import LOOKUP_COLUMNS

        s = self.store
        done = 0
        with s.transaction():
            ids = [c.id for c, _ in items]
            current: dict[str, tuple[int, str]] = {}
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ", ".join("?" * len(part))
                for cid, version, keys in s._all(
                    f"SELECT id, version, keys FROM cd_customers WHERE id IN ({marks}) "
                    "AND deleted_at IS NULL",
                    part,
                ):
                    current[cid] = (int(version), keys)
            updates: list[tuple[str, str, int]] = []
            rows: list[tuple[str, str, str]] = []
            for c, keys in items:
                now = current.get(c.id)
                if now is None or now[0] != c.version:
                    continue  # changed (or deleted) since it was read: stays pending
                old = [(k, v) for k, v in decode_keys(now[1]) if k != MARK and not k.startswith(PREFIX)]
                new = self.entries(c.id, keys)
                if old != decode_keys(now[1]):
                    # stale block keys (a rebuild under way): drop them first
                    stale = [(k, v, c.id) for k, v in decode_keys(now[1]) if (k, v) not in set(old)]
                    s._many("DELETE FROM cd_lookup WHERE kind = ? AND key = ? AND customer_id = ?", stale)
                updates.append((encode_keys(sorted([*old, *new])), c.id, c.version))
                rows.extend((k, v, c.id) for k, v in new)
                done += 1
            s._many("UPDATE cd_customers SET keys = ? WHERE id = ? AND version = ?", updates)
            s._bulk("cd_lookup", LOOKUP_COLUMNS, rows)
        return done

    def drop(self) -> int:
        from custdata.storage._core import decode_keys, encode_keys

        s = self.store
        n = 0
        with s.transaction():
            holders = [cid for (cid,) in s._all("SELECT customer_id FROM cd_lookup WHERE kind = ?", (MARK,))]
            # LIKE, not a range: a database collation may order ':' and ';' as it likes
            s._exec("DELETE FROM cd_lookup WHERE kind = ? OR kind LIKE ?", (MARK, PREFIX + "%"))
            for start in range(0, len(holders), 500):
                part = holders[start : start + 500]
                marks = ", ".join("?" * len(part))
                updates = []
                for cid, keys in s._all(f"SELECT id, keys FROM cd_customers WHERE id IN ({marks})", part):
                    kept = [(k, v) for k, v in decode_keys(keys) if k != MARK and not k.startswith(PREFIX)]
                    updates.append((encode_keys(kept), cid))
                s._many("UPDATE cd_customers SET keys = ? WHERE id = ?", updates)
                n += len(updates)
        return n

    _LIVE_KEYS = (
        "SELECT l.key, COUNT(*) AS n FROM cd_lookup l JOIN cd_customers c ON c.id = l.customer_id "
        "WHERE l.kind = ? AND c.deleted_at IS NULL GROUP BY l.key HAVING COUNT(*) > 1"
    )

    def groups(self, kind: str) -> Iterator[tuple[str, int]]:
        s = self.store
        with s._lock:
            s._check()
            rows = s._all(self._LIVE_KEYS, (kind,))
        return ((str(k), int(n)) for k, n in rows)

    def members(self, kinds: Sequence[str]) -> set[str]:
        s = self.store
        out: set[str] = set()
        with s._lock:
            s._check()
            for kind in kinds:
                rows = s._all(
                    "SELECT DISTINCT l.customer_id FROM cd_lookup l "
                    "JOIN cd_customers c ON c.id = l.customer_id WHERE l.kind = ? AND c.deleted_at IS NULL "
                    "AND l.key IN (SELECT g.key FROM ("
                    f"{self._LIVE_KEYS}) g)",
                    (kind, kind),
                )
                out.update(r[0] for r in rows)
        return out

    def holders(self, kind: str, key: str) -> list[str]:
        s = self.store
        with s._lock:
            s._check()
            rows = s._all(
                "SELECT l.customer_id FROM cd_lookup l JOIN cd_customers c ON c.id = l.customer_id "
                "WHERE l.kind = ? AND l.key = ? AND c.deleted_at IS NULL ORDER BY l.customer_id",
                (kind, key),
            )
        return [r[0] for r in rows]

    def indexed(self) -> int:
        s = self.store
        with s._lock:
            s._check()
            rows = s._all(
                "SELECT COUNT(*) FROM cd_lookup l JOIN cd_customers c ON c.id = l.customer_id "
                "WHERE l.kind = ? AND c.deleted_at IS NULL",
                (MARK,),
            )
        return int(rows[0][0])

    def live_ids(self) -> list[str]:
        s = self.store
        with s._lock:
            s._check()
            rows = s._all("SELECT id FROM cd_customers WHERE deleted_at IS NULL ORDER BY id")
        return [r[0] for r in rows]


_MEMORY_META: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


class _MemoryBlocks(BlockIndexStore):
    def _live(self, cid: str) -> bool:
        row = self.store._s.rows.get(cid)
        return row is not None and row.deleted_at is None

    def meta(self) -> dict[str, Any] | None:
        found = _MEMORY_META.get(self.store)
        return dict(found) if found is not None else None

    def set_meta(self, meta: dict[str, Any]) -> None:
        _MEMORY_META[self.store] = dict(meta)

    def pending(self, after: str, limit: int) -> list[Customer]:
        s = self.store
        with s._lock:
            s._check()
            st = s._s
            ids = sorted(
                cid
                for cid, row in st.rows.items()
                if cid > after and row.deleted_at is None and (MARK, cid) not in st.keys_of.get(cid, ())
            )
            return [st.rows[cid].customer for cid in ids[:limit]]

    def attach(self, items: Sequence[tuple[Customer, Iterable[tuple[str, str]]]]) -> int:
        s = self.store
        done = 0
        with s.transaction():
            st = s._s
            for c, keys in items:
                row = st.rows.get(c.id)
                if row is None or row.deleted_at is not None or row.customer.version != c.version:
                    continue
                old = {k for k in st.keys_of.get(c.id, set()) if k[0] != MARK and not k[0].startswith(PREFIX)}
                s._reindex(c.id, old | set(self.entries(c.id, keys)))
                done += 1
        return done

    def drop(self) -> int:
        s = self.store
        n = 0
        with s.transaction():
            st = s._s
            for cid, keys in list(st.keys_of.items()):
                kept = {k for k in keys if k[0] != MARK and not k[0].startswith(PREFIX)}
                if kept != keys:
                    s._reindex(cid, kept)
                    n += 1
        return n

    def _shared(self, kind: str) -> Iterator[tuple[str, list[str]]]:
        for (k, key), ids in self.store._s.index.items():
            if k == kind:
                live = [cid for cid in ids if self._live(cid)]
                if len(live) > 1:
                    yield key, live

    def groups(self, kind: str) -> Iterator[tuple[str, int]]:
        s = self.store
        with s._lock:
            s._check()
            return iter([(key, len(live)) for key, live in self._shared(kind)])

    def members(self, kinds: Sequence[str]) -> set[str]:
        s = self.store
        with s._lock:
            s._check()
            return {cid for kind in kinds for _, live in self._shared(kind) for cid in live}

    def holders(self, kind: str, key: str) -> list[str]:
        s = self.store
        with s._lock:
            s._check()
            return sorted(cid for cid in s._s.index.get((kind, key), ()) if self._live(cid))

    def indexed(self) -> int:
        s = self.store
        with s._lock:
            s._check()
            return sum(1 for cid, keys in s._s.keys_of.items() if (MARK, cid) in keys and self._live(cid))

    def live_ids(self) -> list[str]:
        s = self.store
        with s._lock:
            s._check()
            return sorted(cid for cid, row in s._s.rows.items() if row.deleted_at is None)


def block_index_of(store: object) -> BlockIndexStore | None:
    """The block-index operations of a custdata store (SQL backends and memory), or None for any other
    :class:`~custdata.storage.Store` implementation."""
    from custdata.storage._memory import MemoryStore
    from custdata.storage._sql import SQLStore

    if isinstance(store, SQLStore):
        return _SQLBlocks(store)
    if isinstance(store, MemoryStore):
        return _MemoryBlocks(store)
    if store is None or not hasattr(store, "scan"):
        raise ValidationError(f"expected a custdata store, got {type(store).__name__}", field="store")
    return None
