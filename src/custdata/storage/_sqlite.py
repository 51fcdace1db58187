"""``sqlite:///path.db``: the embedded default, on the standard library's sqlite3.

The database runs in WAL mode (readers never block the writer), every write is one transaction taken with
``BEGIN IMMEDIATE`` (so two processes never interleave a read-check-write), and the schema carries a
version in ``cd_meta`` that opening the store migrates forward (and refuses when it is newer than
this custdata). :func:`_error` is the one place sqlite3's exceptions become custdata's.
``sqlite:///relative.db`` and ``sqlite:////absolute/path.db`` follow the usual URL rule;
``sqlite://`` alone is a private in-memory database.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

from custdata._records import Customer
from custdata.exceptions import CustdataError, StoreError, ValidationError
from custdata.storage import _args
from custdata.storage._core import encode_keys, sealed_writer
from custdata.storage._sql import (
    CUSTOMER_COLUMNS,
    HISTORY_COLUMNS,
    LOOKUP_COLUMNS,
    SUBJECT_KEY_COLUMNS,
    SQLStore,
)

__all__ = ["SQLiteStore", "open_sqlite"]

log = logging.getLogger(__name__)

_SCHEMA_V1 = (
    "CREATE TABLE IF NOT EXISTS cd_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE cd_customers (id TEXT PRIMARY KEY, version INTEGER NOT NULL, stored_at TEXT NOT NULL, "
    "deleted_at TEXT, keys TEXT NOT NULL, body TEXT NOT NULL)",
    "CREATE TABLE cd_lookup (kind TEXT NOT NULL, key TEXT NOT NULL, customer_id TEXT NOT NULL, "
    "PRIMARY KEY (kind, key, customer_id)) WITHOUT ROWID",
    "CREATE TABLE cd_history (customer_id TEXT NOT NULL, version INTEGER NOT NULL, at TEXT NOT NULL, "
    "action TEXT NOT NULL, source TEXT, changes TEXT, PRIMARY KEY (customer_id, version)) WITHOUT ROWID",
    *(
        stmt
        for table in ("cd_transactions", "cd_interactions")
        for stmt in (
            f"CREATE TABLE {table} (seq INTEGER PRIMARY KEY, id TEXT, customer_id TEXT NOT NULL, "
            "at TEXT NOT NULL, body TEXT NOT NULL)",
            f"CREATE UNIQUE INDEX {table}_id ON {table} (id) WHERE id IS NOT NULL",
            f"CREATE INDEX {table}_customer ON {table} (customer_id, at)",
            f"CREATE INDEX {table}_at ON {table} (at)",
        )
    ),
)

#: Version 2: per-customer data keys of encrypted stores, each wrapped by a keyring key (crypto-shredding:
#: erasing a customer deletes its row; see docs/security.md).
_SCHEMA_V2 = (
    "CREATE TABLE cd_subject_keys (customer_id TEXT PRIMARY KEY, wrapped TEXT NOT NULL) WITHOUT ROWID",
)
#: Version 3: the audit table (see :mod:`custdata.storage._privacy`).
_SCHEMA_V3 = ("CREATE TABLE cd_audit (pos INTEGER PRIMARY KEY, entry TEXT NOT NULL)",)
#: Version 4: the figures segment rules read (day, amount in millionths, currency) as plain columns,
#: backfilled from the bodies, and the indexes the per-customer sums read alone (see storage/_sql.py).
_SCHEMA_V4 = (
    "ALTER TABLE cd_transactions ADD COLUMN day TEXT",
    "ALTER TABLE cd_transactions ADD COLUMN amount_u INTEGER",
    "ALTER TABLE cd_transactions ADD COLUMN currency TEXT",
    "ALTER TABLE cd_interactions ADD COLUMN day TEXT",
    SQLStore._backfill_activity,
    "CREATE INDEX cd_transactions_profile ON cd_transactions (customer_id, day, amount_u, currency)",
    "CREATE INDEX cd_interactions_profile ON cd_interactions (customer_id, day)",
)
#: Version 5: the history's write-time index, in the order change events page through it (storage/_events.py).
_SCHEMA_V5 = ("CREATE INDEX IF NOT EXISTS cd_history_at ON cd_history (at, customer_id, version)",)

_SYNC = {"off": "OFF", "normal": "NORMAL", "full": "FULL", "extra": "EXTRA"}

#: Rows per multi-row ``INSERT ... VALUES (...), (...)`` of a bulk write (fewer statements to step), then
#: smaller blocks and single rows for the rest; SQLite before 3.32 allows only 999 parameters a statement.
_BLOCKS = (250, 16, 1)
#: Index entries set aside (in memory: temp_store=MEMORY) before they are written sorted (~40 MB).
_PENDING_MAX = 1_000_000
_MAX_PARAMS = 32766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


def _error(where: str, exc: BaseException) -> CustdataError:
    """sqlite3's exceptions (and those of its parameter encoding) in custdata's tree: the only place they
    are mapped. The messages name the file and what to check, never a stored value."""
    if isinstance(exc, UnicodeEncodeError):
        return ValidationError("text with a lone surrogate cannot be stored (not valid Unicode)")
    if isinstance(exc, OverflowError):
        return ValidationError("a whole number too large for the database (SQLite holds 64 bits)")
    msg = str(exc)
    low = msg.lower()
    if "not a database" in low or "malformed" in low or "encrypted" in low:
        what = "is not a SQLite database, or it is damaged"
    elif "disk is full" in low or "disk i/o error" in low:
        what = "cannot write: the disk is full or failing"
    elif "unable to open database file" in low or "cannot open" in low:
        what = "cannot open the database file (is the folder writable, and is the path a file?)"
    elif "readonly" in low or "read-only" in low:
        what = "cannot write: the database file or its folder is read-only"
    elif "integer overflow" in low:
        what = "a sum is beyond SQLite's 64-bit whole numbers"
    elif "locked" in low or "busy" in low:
        what = "the database is locked by another writer (waited for the timeout= option)"
    else:
        what = "the database failed"
    return StoreError(f"{where}: {what} ({msg})")


class SQLiteStore(SQLStore):
    """A store in one SQLite file (plus its ``-wal`` and ``-shm`` companions while open)."""

    db_errors: ClassVar[tuple[type[BaseException], ...]] = (sqlite3.Error, UnicodeEncodeError, OverflowError)
    migrations = (_SCHEMA_V1, _SCHEMA_V2, _SCHEMA_V3, _SCHEMA_V4, _SCHEMA_V5)
    placeholder = "?"
    begin_sql = "BEGIN IMMEDIATE"
    _scrub_wal = False  # a purge committed: fold the write-ahead log into the file (see purge)
    write_behind = False
    # a sampled ANALYZE (fast on millions of rows), then the WAL folded into the file and truncated
    optimize_sql = ("PRAGMA analysis_limit=1000", "ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)")

    def __init__(
        self,
        url: str,
        path: str,
        *,
        timeout: float = 30.0,
        synchronous: str = "full",
        cache_mb: float = 64,
        region: str | None = "CN",
        source: str | None = None,
        create: bool = True,
    ) -> None:
        sync = _SYNC.get(str(synchronous).lower())
        if sync is None:
            raise ValidationError(f"synchronous must be one of {', '.join(_SYNC)}", field="synchronous")
        timeout = _args.seconds("timeout", timeout)
        cache_mb = _args.positive("cache_mb", cache_mb)
        if path != ":memory:" and not create and not os.path.isfile(path):
            raise StoreError(f"{url}: there is no store at {path} (create=False: none was created)")
        try:
            target = (
                path
                if path == ":memory:"
                else f"file:{quote(os.path.abspath(path))}" + ("" if create else "?mode=rw")
            )
            conn = sqlite3.connect(
                target,
                timeout=min(timeout, 2e6),
                isolation_level=None,
                check_same_thread=False,
                uri=path != ":memory:",
            )
        except self.db_errors as exc:
            raise _error(url, exc) from exc
        super().__init__(url, conn, region=region, source=source)
        self.path = path
        self._create = create
        try:
            if path != ":memory:":
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    log.warning("%s: WAL mode not available, using %s", url, mode)
            conn.execute(f"PRAGMA synchronous={sync}")
            conn.execute(f"PRAGMA busy_timeout={int(min(timeout, 2e6) * 1000)}")
            conn.execute("PRAGMA temp_store=MEMORY")
            # SQLite's default page cache is 2 MiB; the lookup index of a million customers is ~100 MiB, and
            # bulk loads insert into it in no particular order
            conn.execute(f"PRAGMA cache_size={-int(min(cache_mb * 1024, 2**31 - 1))}")
            conn.execute("PRAGMA journal_size_limit=67108864")  # shrink the WAL after a big bulk load
            self._migrate()
        except self.db_errors as exc:
            conn.close()
            raise _error(url, exc) from exc
        except BaseException:
            conn.close()
            raise

    sql_dialect = "sqlite"

    def _error(self, exc: BaseException) -> CustdataError:
        return _error(self.url, exc)

    def _read_only(self, sql: str, params: Sequence[Any]) -> list[Any]:
        self._raw("PRAGMA query_only = ON")
        try:
            return self._all(sql, params)
        finally:
            self._raw("PRAGMA query_only = OFF")

    def _bulk(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self._bulk_flat(table, columns, list(itertools.chain.from_iterable(rows)))

    def _bulk_flat(self, table: str, columns: Sequence[str], flat: list[Any]) -> None:
        """Insert rows given one after another in one flat list of values."""
        width = len(columns)
        head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        one = "(" + ", ".join("?" * width) + ")"
        start, end = 0, len(flat)
        for block in _BLOCKS:
            rows = max(1, min(block, _MAX_PARAMS // width))
            step = rows * width
            stop = start + (end - start) // step * step
            if stop > start:
                sql = head + ", ".join([one] * rows)
                self._many(sql, [flat[i : i + step] for i in range(start, stop, step)])
                start = stop

    def purge(self, customer_id: str) -> None:
        """:meth:`SQLStore.purge` with SQLite's secure delete fully on: the removed rows' bytes, and the
        pages that become free, are overwritten with zeros. Once the outermost transaction commits, the
        write-ahead log (which still holds the pages as they were) is folded into the file and truncated."""
        with self._lock:
            self._check()
            before = int(self._all("PRAGMA secure_delete")[0][0])  # 0 unless SQLite was built otherwise
            self._raw("PRAGMA secure_delete=ON")
            try:
                super().purge(customer_id)
            finally:
                self._raw(f"PRAGMA secure_delete={before}")
            self._scrub_wal = True
            if not self._depth:
                self._fold_wal()

    def encrypt_page(
        self, keyring: Any, limit: int = 500, sensitive_custom: Iterable[str] | None = None
    ) -> tuple[bool, int]:
        """:meth:`SQLStore.encrypt_page` with SQLite's secure delete on, as in :meth:`purge`: the plaintext
        a page replaces is overwritten in the file, not left in free space; the write-ahead log is folded
        into the file once the encryption is done."""
        with self._lock:
            if self._closed:
                raise StoreError(f"the store {self.url} is closed")
            before = int(self._all("PRAGMA secure_delete")[0][0])
            self._raw("PRAGMA secure_delete=ON")
            try:
                done, n = super().encrypt_page(keyring, limit, sensitive_custom)
            finally:
                self._raw(f"PRAGMA secure_delete={before}")
            if done and not self._depth:
                self._fold_wal()
        return done, n

    @contextlib.contextmanager
    def transaction(self) -> Iterator[SQLiteStore]:
        with super().transaction():
            yield self
        if self._scrub_wal and not self._depth:
            self._fold_wal()

    def _fold_wal(self) -> None:
        with self._lock:
            self._scrub_wal = False
            if self.path == ":memory:":
                return
            busy = self._all("PRAGMA wal_checkpoint(TRUNCATE)")[0][0]
            if busy:
                log.warning(
                    "%s: another connection kept the write-ahead log busy: the erased rows' old pages stay "
                    "in it until a later checkpoint (store.optimize())",
                    self.url,
                )

    def _insert_new(self, batch: dict[str, tuple[int, Customer]], at: str, src: str | None) -> None:
        if self._cipher is not None:
            self._insert_sealed(batch, at, src)
            return
        # the rows go straight into flat parameter lists: no tuple per row that the garbage collector
        # would have to walk (and promote) while a chunk is built
        keys_of = self._lookup.sorted_keys
        body = self._body
        cust: list[Any] = []
        look: list[Any] = []
        hist: list[Any] = []
        for _, c in batch.values():
            cid = c.id
            version = c.version + 1
            keys = keys_of(c)
            cust += (cid, version, at, None, encode_keys(keys), body(c))
            for kind, key in keys:
                look += (kind, key, cid)
            hist += (cid, version, at, "create", src, None)
        self._bulk_flat("cd_customers", CUSTOMER_COLUMNS, cust)
        self._set_aside(look)
        self._bulk_flat("cd_history", HISTORY_COLUMNS, hist)

    def _insert_sealed(self, batch: dict[str, tuple[int, Customer]], at: str, src: str | None) -> None:
        """:meth:`_insert_new` for an encrypted store, in one pass per chunk: a customer without a stored
        data key and whose body the one-pass writer splits gets a new key that wraps and seals its body
        in one call (``SubjectKeys.create_sealing``, no key object kept) and its blind-index keys
        computed per kind over the chunk (``BlindIndex.many``); the others take the general path
        (``_claim`` and ``_body``). Pinned to the general path by tests/security/test_encupsert_fast.py."""
        cipher = self._cipher
        assert cipher is not None
        from custdata.security._records import _SEALED, PII_FIELDS

        split = self._split
        if split is None:
            split = self._split = sealed_writer(PII_FIELDS)
        ids = list(batch)
        now = self._keys_now
        stored = self._vault([i for i in ids if i not in now])
        sensitive = cipher.sensitive_custom
        lk = self._lookup
        email_of, phone_of = lk.email, lk.phone
        fresh: list[str] = []
        secrets: list[str | None] = []
        rests: list[str] = []
        general: list[Customer] = []
        emails: list[str] = []
        phones: list[str] = []
        customers = [c for _, c in batch.values()]
        two: list[bool] = []  # one phone and one e-mail, no external id: keys computed per kind
        for c in customers:
            cid = c.id
            if cid not in stored and cid not in now and not (sensitive and sensitive.intersection(c.custom)):
                parts = split(c)
                if parts is not None:
                    fresh.append(cid)
                    secrets.append(parts[0])
                    rests.append(parts[1])
                else:
                    general.append(c)
            else:
                general.append(c)
            ph, em = c.phones, c.emails
            if len(ph) == 1 and len(em) == 1 and not c.external_ids:
                emails.append(email_of(em[0].address))
                phones.append(phone_of(ph[0].number))
                two.append(True)
            else:
                two.append(False)
        index = cipher.index
        email_keys = iter(index.many("email", emails))
        phone_keys = iter(index.many("phone", phones))
        wrapped, tokens = cipher.subjects.create_sealing(fresh, secrets, "customer")
        bodies: dict[str, str] = {}
        head = f',"{_SEALED}":"'
        for cid, rest, token in zip(fresh, rests, tokens, strict=True):
            bodies[cid] = rest if token is None else rest[:-1] + head + token + '"}'
        if general:
            self._claim(c.id for c in general)
            body = self._body
            for c in general:
                bodies[c.id] = body(c)
        keys_of = lk.sorted_keys
        cust: list[Any] = []
        look: list[Any] = []
        hist: list[Any] = []
        for c, both in zip(customers, two, strict=True):
            cid = c.id
            version = c.version + 1
            if both:
                e, p = next(email_keys), next(phone_keys)
                cust += (cid, version, at, None, f"email\x1f{e}\x1ephone\x1f{p}", bodies[cid])
                look += ("email", e, cid, "phone", p, cid)
            else:
                keys = keys_of(c)
                cust += (cid, version, at, None, encode_keys(keys), bodies[cid])
                for kind, key in keys:
                    look += (kind, key, cid)
            hist += (cid, version, at, "create", src, None)
        self._bulk_flat(
            "cd_subject_keys",
            SUBJECT_KEY_COLUMNS,
            [x for row in zip(fresh, wrapped, strict=True) for x in row],
        )
        self._bulk_flat("cd_customers", CUSTOMER_COLUMNS, cust)
        self._set_aside(look)
        self._bulk_flat("cd_history", HISTORY_COLUMNS, hist)

    def _set_aside(self, flat: list[Any]) -> None:
        """Keep index entries (flat: kind, key, customer id, ...) in a temporary table until
        :meth:`_flush_index`, for plain and encrypted stores alike. Blind-index keys are uniformly random,
        and so are the phones and e-mails of a real customer list: inserted as they come, each lands on a
        random page of an index larger than the page cache at a million customers (a read and a write of
        a page per entry); sorted once by SQLite, they are appended page by page. Pinned to the general
        path (entries written chunk by chunk) by tests/storage/test_sorted_index.py."""
        if not self._index_pending:
            self._raw(
                "CREATE TEMP TABLE IF NOT EXISTS cd_index_pending "
                "(kind TEXT NOT NULL, key TEXT NOT NULL, customer_id TEXT NOT NULL)"
            )
        self._bulk_flat("temp.cd_index_pending", LOOKUP_COLUMNS, flat)
        self._index_pending += len(flat) // 3
        if self._index_pending >= _PENDING_MAX:
            self._flush_index()

    def _flush_index(self) -> None:
        if self._index_pending:
            self._raw(
                "INSERT INTO cd_lookup (kind, key, customer_id) SELECT kind, key, customer_id "
                "FROM temp.cd_index_pending ORDER BY kind, key, customer_id"
            )
            self._raw("DELETE FROM temp.cd_index_pending")
            self._index_pending = 0

    def _has_table(self, name: str) -> bool:
        return bool(self._all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))


def _path(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValidationError(f"not a valid SQLite URL: {exc}", field="url") from None
    if parts.netloc not in ("", "localhost"):
        raise ValidationError(
            f"{url}: a SQLite URL names a file: sqlite:///relative.db or sqlite:////absolute/path.db",
            field="url",
        )
    path = _args.text("url", unquote(parts.path, errors="strict"))
    if path.startswith("/"):
        path = path[1:]  # sqlite:///x.db -> x.db; sqlite:////abs/x.db -> /abs/x.db
    if not path or path == ":memory:":
        return ":memory:"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StoreError(f"{url}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise StoreError(f"{url}: {path} is a folder, not a database file")
    return path


_OPTIONS = {
    "timeout": _args.seconds,
    "synchronous": _args.option_text,
    "cache_mb": _args.positive,
    "region": _args.optional_option_text,
    "source": _args.optional_option_text,
    "create": _args.boolean,
}


def open_sqlite(url: str, **options: Any) -> SQLiteStore:
    """Open (creating if needed) the SQLite store at ``url``.

    Options (also as URL query parameters): ``timeout`` (seconds to wait for the write lock, default 30),
    ``synchronous`` (``full``, the default, or ``normal``: faster, may lose the last commits on power loss,
    never on a crash of the process), ``cache_mb`` (the page cache, default 64 MiB), ``region`` (default
    region for phone look-ups), ``source`` (default source recorded in the history), ``create`` (False: open
    an existing store only, never create the file). An unknown option or a bad value is a ValidationError.
    """
    opts, _ = _args.url_options(url, options, _OPTIONS)
    return SQLiteStore(url, _path(url.split("?", 1)[0]), **opts)
