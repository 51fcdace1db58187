"""``mariadb://user:password@host:port/dbname`` (or ``mysql://``): a MariaDB or MySQL server, through PyMySQL.

Needs the ``mariadb`` extra (``pip install 'custdata[mariadb]'``). The tables and statements are those of
:mod:`custdata.storage._sql`; this module holds what MariaDB does differently:

- the DDL: InnoDB tables in ``utf8mb4`` (any Unicode text, emoji included), ids, lookup keys and time
  stamps in a binary collation without trailing-space padding (``utf8mb4_nopad_bin``; MySQL 8:
  ``utf8mb4_0900_bin``), so ids that differ only in case or a trailing space stay different customers and
  sort bytewise as in SQLite and PostgreSQL. A customer id (and a transaction id) holds at most 255
  characters, a lookup key 400 (longer is a ValidationError).
- the statements: :func:`translate` turns the shared SQL's ``?`` placeholders, ``key``/``keys`` column names
  (reserved words here) and ``ON CONFLICT`` clauses into MariaDB's (``%s``, backquotes, ``ON DUPLICATE KEY
  UPDATE``), once per statement text.
- bulk writes: each chunk's rows of each table go to the server with ``LOAD DATA LOCAL INFILE`` from a
  buffer in memory, built by the preparing thread (:func:`_tsv`) and sent by the writing one. The connection
  (:class:`_LoadConnection`) answers the server's request for "a local file" only with that buffer, and
  only for the name of the statement it sent: it never opens a file, so allowing local loads exposes none.
  Where the server refuses local loads (``local_infile=OFF``, MySQL 8's default), or with
  ``local_infile=false``, PyMySQL's ``executemany`` folds the rows into multi-row ``INSERT`` statements.
- :func:`_error` is the one place PyMySQL's exceptions become custdata's; messages carry the server's error
  number and never a stored value.

The DDL of MariaDB commits the transaction it runs in, so a migration is not atomic: every statement is
``CREATE ... IF NOT EXISTS`` and the schema version is written last, so an interrupted one is finished by
the next open. Two processes never migrate at once (``GET_LOCK``).
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from custdata.exceptions import (
    ConcurrencyError,
    CustdataError,
    MissingExtraError,
    StoreError,
    ValidationError,
)
from custdata.storage import _args
from custdata.storage._sql import SQLStore, _Existing

try:
    import pymysql
    import pymysql.connections
    import pymysql.constants.CLIENT
except ImportError as exc:  # pragma: no cover - only without the extra
    raise MissingExtraError("mariadb", "the mariadb:// store", ["PyMySQL"]) from exc

__all__ = ["MariaDBStore", "connect_args", "open_mariadb", "translate"]

log = logging.getLogger(__name__)

_BIN = "utf8mb4_nopad_bin"  # exact, case- and trailing-space-sensitive text comparison (MariaDB)
_ID = f"VARCHAR(255) CHARACTER SET utf8mb4 COLLATE {_BIN}"
_TS = "VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin"
_TEXT = "LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
_TABLE = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

_SCHEMA_V1 = (
    f"CREATE TABLE IF NOT EXISTS cd_meta (`key` VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin "
    f"PRIMARY KEY, value {_TEXT} NOT NULL) {_TABLE}",
    f"CREATE TABLE IF NOT EXISTS cd_customers (id {_ID} PRIMARY KEY, version BIGINT NOT NULL, "
    f"stored_at {_TS} NOT NULL, deleted_at {_TS}, `keys` {_TEXT} NOT NULL, body {_TEXT} NOT NULL) {_TABLE}",
    f"CREATE TABLE IF NOT EXISTS cd_lookup (kind VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, "
    f"`key` VARCHAR(400) CHARACTER SET utf8mb4 COLLATE {_BIN} NOT NULL, customer_id {_ID} NOT NULL, "
    f"PRIMARY KEY (kind, `key`, customer_id)) {_TABLE}",
    f"CREATE TABLE IF NOT EXISTS cd_history (customer_id {_ID} NOT NULL, version BIGINT NOT NULL, "
    f"at {_TS} NOT NULL, action VARCHAR(16) CHARACTER SET ascii NOT NULL, source {_TEXT}, changes {_TEXT}, "
    "PRIMARY KEY (customer_id, version), KEY cd_history_at (at, customer_id, version)) " + _TABLE,
    *(
        f"CREATE TABLE IF NOT EXISTS {table} (seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, id {_ID}, "
        f"customer_id {_ID} NOT NULL, at {_TS} NOT NULL, body {_TEXT} NOT NULL, "
        f"UNIQUE KEY {table}_id (id), KEY {table}_customer (customer_id, at), KEY {table}_at (at)) {_TABLE}"
        for table in ("cd_transactions", "cd_interactions")
    ),
)

#: Version 2: per-customer data keys of encrypted stores (crypto-shredding; see docs/security.md).
_SCHEMA_V2 = (
    f"CREATE TABLE IF NOT EXISTS cd_subject_keys (customer_id {_ID} PRIMARY KEY, wrapped {_TEXT} NOT NULL) "
    + _TABLE,
)
#: Version 3: the audit table (see :mod:`custdata.storage._privacy`).
_SCHEMA_V3 = (
    f"CREATE TABLE IF NOT EXISTS cd_audit (pos BIGINT PRIMARY KEY, entry {_TEXT} NOT NULL) {_TABLE}",
)

#: Version 4: the figures segment rules read, as plain columns (see :mod:`custdata.storage._sql`); added by
#: :meth:`MariaDBStore._add_activity_columns`, which checks the catalogue first (MySQL has no
#: ``ADD COLUMN IF NOT EXISTS``, and MariaDB's DDL is not transactional: a rerun must be harmless).
_ACTIVITY_COLUMNS = {
    "cd_transactions": (
        ("day", "VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin"),
        ("amount_u", "BIGINT"),
        ("currency", _ID),
    ),
    "cd_interactions": (("day", "VARCHAR(10) CHARACTER SET ascii COLLATE ascii_bin"),),
}
_ACTIVITY_INDEXES = {
    "cd_transactions": ("cd_transactions_profile", "customer_id, day, amount_u, currency"),
    "cd_interactions": ("cd_interactions_profile", "customer_id, day"),
}

# ------------------------------------------------------------------------------------------ statements
_QUOTED = re.compile(r"('(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.)*\"|`[^`]*`)", re.S)
_RESERVED = re.compile(r"(?<![\w`$])(keys?)(?![\w`$])")
_CONFLICT = re.compile(
    r"\s+ON CONFLICT\s*\(([^)]*)\)(?:\s+WHERE\s+.+?)?\s+DO\s+(NOTHING|UPDATE\s+SET\s+(.+))$", re.S
)
_EXCLUDED = re.compile(r"\bexcluded\.(\w+)")


def _conflict(m: re.Match[str]) -> str:
    if m.group(2) == "NOTHING":
        column = m.group(1).split(",")[0].strip()
        return f" ON DUPLICATE KEY UPDATE {column} = {column}"  # a no-op: the row counts as not written
    return " ON DUPLICATE KEY UPDATE " + _EXCLUDED.sub(r"VALUES(\1)", m.group(3))


def translate(sql: str) -> str:
    """The shared SQL (``?`` placeholders, SQLite/PostgreSQL ``ON CONFLICT``) as PyMySQL sends it to
    MariaDB. Quoted text is left alone (but for ``%``, which PyMySQL's formatting needs doubled)."""
    parts = _QUOTED.split(sql)
    for i, part in enumerate(parts):
        if i % 2:
            parts[i] = part.replace("%", "%%")
        else:
            part = _RESERVED.sub(r"`\1`", part.replace("%", "%%").replace("?", "%s"))
            parts[i] = part
    out = "".join(parts)
    return _CONFLICT.sub(_conflict, out) if "ON CONFLICT" in out else out


# ------------------------------------------------------------------------------------------ errors
_VALUE_ERRORS = {
    1264: "a number out of the column's range",
    1265: "a value truncated",
    1366: "text the server cannot store",
    1367: "a value the server cannot store",
    1406: "a value longer than its column holds (ids: 255 characters, lookup keys: 400)",
    1292: "a value of the wrong form",
}
_LOCK_ERRORS = {1205: "a lock wait timed out", 1213: "a deadlock with another writer"}
_CONNECTION_ERRORS = {2002, 2003, 2005, 2006, 2013, 2055}


def _error(where: str, exc: BaseException) -> CustdataError:
    """PyMySQL's exceptions (and those of its parameter encoding) in custdata's tree: the only place they
    are mapped. Server messages can quote a value (a duplicate key, the text near a syntax error), so those
    of data errors are left out: the error number says what went wrong."""
    if isinstance(exc, UnicodeEncodeError):
        return ValidationError("text with a lone surrogate cannot be stored (not valid Unicode)")
    if isinstance(exc, OverflowError):
        return ValidationError("a whole number too large for the database (MariaDB holds 64 bits)")
    if isinstance(exc, _RefusedFile):
        return StoreError(
            f"{where}: the server asked for a local file custdata did not offer (none was sent); "
            "the write was stopped"
        )
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    if code in _VALUE_ERRORS:
        return ValidationError(f"MariaDB refused {_VALUE_ERRORS[code]} (error {code})")
    if code in _LOCK_ERRORS:
        return ConcurrencyError(
            f"{where}: {_LOCK_ERRORS[code]} (error {code}); the transaction was rolled back: try again"
        )
    if isinstance(exc, pymysql.err.IntegrityError | pymysql.err.DataError):
        return StoreError(f"{where}: the database refused a write ({type(exc).__name__} {code})")
    if code == 1064:
        return StoreError(f"{where}: an SQL syntax error (error 1064)")
    if code in _CONNECTION_ERRORS:
        return StoreError(f"{where}: the connection to the server failed or was lost (error {code})")
    msg = exc.args[1] if len(exc.args) > 1 else str(exc)
    return StoreError(f"{where}: MariaDB error {code}: {msg}")


# ------------------------------------------------------------------------------------------ connection
#: Bytes per packet of a local load's data (well under any server's ``max_allowed_packet``).
_LOAD_PACKET = 1 << 16
_names = itertools.count()


class _LoadResult(pymysql.connections.MySQLResult):
    """A statement's result whose "send me a local file" request is answered from memory (see
    :class:`_LoadConnection`)."""

    def _read_load_local_packet(self, first_packet: Any) -> None:
        conn: Any = self.connection
        name = bytes(first_packet.get_all_data()[1:])
        offered, conn.load_offer = conn.load_offer, None
        data = offered[1] if offered is not None and offered[0] == name else None
        try:
            if data is not None:
                view = memoryview(data)
                for start in range(0, len(view), _LOAD_PACKET):
                    conn.write_packet(bytes(view[start : start + _LOAD_PACKET]))
        finally:
            conn.write_packet(b"")  # the end of the data (all of it, or none for a request not ours)
            ok = conn._read_packet()
        if data is None:
            raise _RefusedFile()
        if not ok.is_ok_packet():
            raise pymysql.err.OperationalError(2014, "commands out of sync")
        self._read_ok_packet(ok)  # type: ignore[attr-defined]


class _RefusedFile(Exception):
    """The server asked for a local file custdata did not offer (it was sent nothing)."""


class _LoadConnection(pymysql.connections.Connection):
    """PyMySQL's connection, but a ``LOAD DATA LOCAL INFILE`` reads the bytes offered for that statement's
    own name (:attr:`load_offer`), never a file: whatever name a server asks for, no file is opened."""

    load_offer: tuple[bytes, bytes] | None = None

    def _read_query_result(self, unbuffered: bool = False) -> Any:
        # PyMySQL's own body, with the result class that serves loads from memory
        self._result = None
        result = _LoadResult(self)
        if unbuffered:
            try:
                result.init_unbuffered_query()
            except BaseException:
                result.unbuffered_active = False
                result.connection = None
                raise
        else:
            result.read()
        self._result = result
        if result.server_status is not None:
            self.server_status = result.server_status
        return result.affected_rows


def _serves_loads() -> bool:
    """Whether this PyMySQL has the two hooks :class:`_LoadConnection` overrides (it has had them since
    0.9); without them bulk writes use multi-row INSERT."""
    return callable(getattr(pymysql.connections.Connection, "_read_query_result", None)) and callable(
        getattr(pymysql.connections.MySQLResult, "_read_load_local_packet", None)
    )


class _Connection:
    """The PyMySQL connection with the ``execute`` shortcut the shared code uses (as sqlite3 and psycopg
    have): a buffered cursor per statement."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        cur = self.raw.cursor()
        cur.execute(sql, None if params is None else tuple(params))
        return cur

    def cursor(self) -> Any:
        return self.raw.cursor()

    def close(self) -> None:
        self.raw.close()


def _add_activity_columns(self: SQLStore) -> None:
    for table, columns in _ACTIVITY_COLUMNS.items():
        have = {
            r[0]
            for r in self._all(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
                "AND table_name = ?",
                (table,),
            )
        }
        missing = [f"ADD COLUMN {name} {kind}" for name, kind in columns if name not in have]
        if missing:
            self._raw(f"ALTER TABLE {table} {', '.join(missing)}")


def _ensure_index(self: SQLStore, table: str, index: str, columns: str) -> None:
    """Create an index unless the catalogue shows it (MySQL has no ``CREATE INDEX IF NOT EXISTS``)."""
    if not self._all(
        "SELECT 1 FROM information_schema.statistics WHERE table_schema = DATABASE() "
        "AND table_name = ? AND index_name = ?",
        (table, index),
    ):
        self._raw(f"CREATE INDEX {index} ON {table} ({columns})")


def _add_activity_indexes(self: SQLStore) -> None:
    for table, (index, columns) in _ACTIVITY_INDEXES.items():
        _ensure_index(self, table, index, columns)


def _add_history_index(self: SQLStore) -> None:
    """Store schema 5: the history's write-time index that change events page through. MariaDB stores have
    had it since version 1 (``cd_history_at`` in :data:`_SCHEMA_V1`); the step only makes sure of it."""
    _ensure_index(self, "cd_history", "cd_history_at", "at, customer_id, version")


def _dialect(version: str, nopad: bool) -> str:
    """The store's ``sql_dialect`` for a server's ``VERSION()``: ``"mariadb"`` where custdata.segments'
    MariaDB SQL runs (MariaDB 10.6 or later: ``JSON_TABLE`` and ``utf8mb4_nopad_bin``)."""
    if not nopad or "mariadb" not in version.lower():
        return "mysql"
    m = re.match(r"(\d+)\.(\d+)", version)
    if m is None or (int(m.group(1)), int(m.group(2))) < (10, 6):
        return "mariadb-10.5"
    return "mariadb"


class MariaDBStore(SQLStore):
    """A store in a MariaDB (or MySQL 8) database."""

    db_errors: ClassVar[tuple[type[BaseException], ...]] = (
        pymysql.err.MySQLError,
        UnicodeEncodeError,
        OverflowError,
        _RefusedFile,
    )
    migrations: ClassVar[Sequence[Sequence[str | Callable[[SQLStore], None]]]] = (
        _SCHEMA_V1,
        _SCHEMA_V2,
        _SCHEMA_V3,
        (_add_activity_columns, SQLStore._backfill_activity, _add_activity_indexes),
        (_add_history_index,),
    )
    placeholder = "%s"
    begin_sql = "START TRANSACTION"
    optimize_sql = (
        "ANALYZE TABLE cd_customers, cd_lookup, cd_history, cd_transactions, cd_interactions, cd_meta, "
        "cd_subject_keys, cd_audit",
    )
    #: :meth:`select` runs a segment rule inside the database in MariaDB's SQL (custdata.segments'
    #: ``MariaDBDialect``, MariaDB 10.6 and later); on MySQL (``"mysql"``) and MariaDB 10.5
    #: (``"mariadb-10.5"``: no ``JSON_TABLE``) it runs in Python over the store's profiles (see
    #: :func:`_dialect`).
    sql_dialect = "mariadb"
    #: Audit appends take a fixed row's lock as their mutex (the last entry's would not do: it changes).
    audit_lock_sql: ClassVar[str] = "SELECT value FROM cd_meta WHERE `key` = 'schema_version' FOR UPDATE"

    def __init__(
        self,
        url: str,
        args: dict[str, Any],
        *,
        region: str | None = "CN",
        source: str | None = None,
        create: bool = True,
        local_infile: bool = True,
    ) -> None:
        safe = _safe(url)
        self._bin = _BIN
        database = args.get("database")
        if not database:
            raise ValidationError(
                f"{safe}: the URL names no database (mariadb://user@host/dbname)", field="url"
            )
        try:
            raw = _connect(args, local_infile)
        except pymysql.err.OperationalError as exc:
            if exc.args and exc.args[0] == 1049 and create:  # unknown database: create it
                raw = _connect({**args, "database": None}, local_infile)
                try:
                    with raw.cursor() as cur:
                        cur.execute(
                            f"CREATE DATABASE IF NOT EXISTS `{database.replace('`', '``')}` "
                            "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                        )
                        cur.execute(f"USE `{database.replace('`', '``')}`")
                except self.db_errors as exc2:
                    raw.close()
                    raise _error(safe, exc2) from exc2
            elif exc.args and exc.args[0] == 1049:
                raise StoreError(f"{safe}: the database does not exist (and create=False)") from None
            else:
                raise StoreError(f"{safe}: cannot connect: {_error(safe, exc)}") from exc
        except self.db_errors as exc:
            raise StoreError(f"{safe}: cannot connect: {_error(safe, exc)}") from exc
        super().__init__(safe, _Connection(raw), region=region, source=source)
        self.database = database
        self._create = create
        self._load = False  # bulk writes through LOAD DATA LOCAL (decided below, once the server says)
        try:
            # as PostgreSQL's default: each statement sees what was committed before it began
            self._raw("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
            found = {
                r[0]
                for r in self._all(
                    "SHOW COLLATION WHERE Collation IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')"
                )
            }
            self._bin = _BIN if _BIN in found else "utf8mb4_0900_bin"
            self.sql_dialect = _dialect(  # type: ignore[misc]
                str(self._all("SELECT VERSION()")[0][0]), self._bin == _BIN
            )
            # No session-wide join_cache_level = 4 (hash joins): it made bulk upserts many times slower.
            # A segment rule's query sets it for its own statement (segments' MariaDB dialect).
            if isinstance(raw, _LoadConnection):
                self._load = bool(self._all("SELECT @@local_infile")[0][0])
                if not self._load:
                    log.info("%s: the server refuses local loads; bulk writes use multi-row INSERT", safe)
            self._migrate()
        except BaseException:
            raw.close()
            raise

    def _q(self, sql: str) -> str:
        out = self._sql_cache.get(sql)
        if out is None:
            out = translate(sql)
            self._sql_cache[sql] = out
        return out

    def _raw(self, sql: str) -> None:
        super()._raw(sql if self._bin == _BIN else sql.replace(_BIN, self._bin))

    def _error(self, exc: BaseException) -> CustdataError:
        return _error(self.url, exc)

    def _migrate(self) -> None:
        lock = f"custdata:{self.database}"[:64]
        if self._all("SELECT GET_LOCK(?, 60)", (lock,))[0][0] != 1:
            raise StoreError(f"{self.url}: another process has been migrating the store for a minute")
        try:
            super()._migrate()
        finally:
            self._all("SELECT RELEASE_LOCK(?)", (lock,))

    def _has_table(self, name: str) -> bool:
        return bool(
            self._all(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
                (name,),
            )
        )

    def _read_only(self, sql: str, params: Sequence[Any]) -> list[Any]:
        # A READ ONLY transaction alone is not enough: DDL commits it implicitly and runs. With the
        # session read-only too, the transaction that DDL would start is refused as well.
        if self._depth:
            raise StoreError(
                f"{self.url}: query_sql cannot run inside a transaction on MariaDB (its read-only mode "
                "cannot be switched on in the middle of one)"
            )
        self._raw("SET SESSION TRANSACTION READ ONLY")
        try:
            self._raw("START TRANSACTION READ ONLY")
            try:
                return self._all(sql, params)
            finally:
                self._raw("ROLLBACK")
        finally:
            self._raw("SET SESSION TRANSACTION READ WRITE")

    def _existing(self, ids: Sequence[str]) -> dict[str, _Existing]:
        if not ids:
            return {}
        out: dict[str, _Existing] = {}
        for start in range(0, len(ids), 1000):
            part = ids[start : start + 1000]
            marks = ", ".join("?" * len(part))
            for i, v, b, d, k in self._all(
                f"SELECT id, version, body, deleted_at, keys FROM cd_customers WHERE id IN ({marks}) "
                "ORDER BY id FOR UPDATE",
                part,
            ):
                out[i] = (v, b, d, k)
        return out

    def _rows(self, *args: Any) -> Any:
        # the load buffers are built here, in the thread that prepares the chunks, so the thread that
        # writes them only sends bytes and waits for the server (and the server is never kept waiting
        # between one table's load and the next)
        if self._load and not args[1] and args[0]:  # a chunk of new customers only: its three buffers
            try:
                fast = _new_customer_loads(args[0], args[2], args[3])
            except UnicodeEncodeError as exc:
                raise self._error(exc) from exc
            if fast is not None:
                return fast
        rows = super()._rows(*args)
        if not self._load:
            return rows
        new_rows, upd_rows, unindex, lookup, history = rows
        return _Loadable(self, new_rows), upd_rows, unindex, _Loadable(self, lookup), _Loadable(self, history)

    def _tsv(self, rows: Sequence[Sequence[Any]]) -> bytes:
        try:
            return _tsv(rows)
        except UnicodeEncodeError as exc:
            raise self._error(exc) from exc

    def _bulk(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if not self._load:
            super()._bulk(table, columns, rows)
            return
        data = rows.data if isinstance(rows, _Loadable | _Loaded) else self._tsv(rows)
        name = f"custdata-{next(_names)}"
        raw = self._conn.raw
        raw.load_offer = (name.encode("ascii"), data)
        try:
            cols = ", ".join(f"`{c}`" for c in columns)
            cur = self._exec(
                f"LOAD DATA LOCAL INFILE ? INTO TABLE {table} CHARACTER SET utf8mb4 "
                f"FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' ({cols})",
                (name,),
            )
        finally:
            raw.load_offer = None
        # LOAD DATA LOCAL turns refused values into warnings (the server cannot stop the client's
        # upload): any warning, or a row count short of the rows sent, fails the write
        if cur.warning_count or cur.rowcount != len(rows):
            shown = self._all("SHOW WARNINGS")
            code = int(shown[0][1]) if shown else 0
            if code in _VALUE_ERRORS:
                raise _error(self.url, pymysql.err.DataError(code, ""))
            raise StoreError(
                f"{self.url}: LOAD DATA wrote {cur.rowcount} of {len(rows)} rows "
                f"({cur.warning_count} warnings, the first error {code})"
            )


class _Loadable(list[tuple[Any, ...]]):
    """Rows of one table with their ``LOAD DATA`` buffer, built when the rows are."""

    def __init__(self, store: MariaDBStore, rows: list[tuple[Any, ...]]) -> None:
        super().__init__(rows)
        self.data = store._tsv(rows) if rows else b""


class _Loaded:
    """A table's ``LOAD DATA`` buffer built without its rows (:func:`_new_customer_loads`): the buffer
    and how many rows it holds."""

    __slots__ = ("data", "n")

    def __init__(self, n: int, data: bytes) -> None:
        self.n, self.data = n, data

    def __len__(self) -> int:
        return self.n


def _new_customer_loads(
    prepared: Sequence[tuple[int, Any, Sequence[tuple[str, str]], str]], at: str, src: str | None
) -> tuple[_Loaded, list[Any], list[Any], _Loaded, _Loaded] | None:
    """The ``LOAD DATA`` buffers of a chunk of new customers (``cd_customers``, ``cd_lookup``,
    ``cd_history``), written straight from the prepared chunk: the bytes :func:`_tsv` makes of the rows
    ``SQLStore._rows`` builds (a property test pins it), without building those rows. The texts are joined
    as they are and checked once by counting, as in :func:`_tsv`: None (the caller takes the general
    path) when an id, key or source holds a tab, newline, carriage return, NUL or a key separator."""
    cust: list[str] = []
    look: list[str] = []
    hist: list[str] = []
    head = f"\t{at}\t\0\t"  # stored_at, deleted_at (NULL)
    source = "\0" if src is None else src
    tail = f"\t{at}\tcreate\t{source}\t\0"  # at, action, source, changes (NULL)
    n_keys = n_seps = 0
    for _, c, keys, body in prepared:
        cid, version = c.id, c.version + 1
        if len(keys) == 2:
            (k0, v0), (k1, v1) = keys
            cust.append(f"{cid}\t{version}{head}{k0}\x1f{v0}\x1e{k1}\x1f{v1}\t{body}")
            look.append(f"{k0}\t{v0}\t{cid}\n{k1}\t{v1}\t{cid}")
            n_keys += 2
            n_seps += 1
        else:
            joined = "\x1e".join([f"{k}\x1f{v}" for k, v in keys])
            cust.append(f"{cid}\t{version}{head}{joined}\t{body}")
            look.extend([f"{k}\t{v}\t{cid}" for k, v in keys])
            n_keys += len(keys)
            n_seps += max(len(keys) - 1, 0)
        hist.append(f"{cid}\t{version}{tail}")
    n = len(cust)
    c_text, l_text, h_text = "\n".join(cust), "\n".join(look), "\n".join(hist)
    if (
        c_text.count("\t") != 5 * n
        or c_text.count("\n") != n - 1
        or c_text.count("\0") != n
        or c_text.count("\x1f") != n_keys
        or c_text.count("\x1e") != n_seps
        or h_text.count("\t") != 5 * n
        or h_text.count("\n") != n - 1
        or h_text.count("\0") != n * (1 if src is not None else 2)
        or "\r" in c_text
        or "\r" in h_text
    ):  # every field of the lookup rows is also in the customers' (id, keys): checked there
        return None
    return (
        _Loaded(n, _finish(c_text)),
        [],
        [],
        _Loaded(n_keys, _finish(l_text) if n_keys else b""),
        _Loaded(n, _finish(h_text)),
    )


def _finish(text: str) -> bytes:
    """Checked rows (tabs and newlines only between fields and rows, NUL only for NULL) as ``LOAD DATA``
    reads them."""
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    if "\0" in text:
        text = text.replace("\0", "\\N")
    return (text + "\n").encode("utf-8")


def _tsv(rows: Sequence[Sequence[Any]]) -> bytes:
    """Rows in ``LOAD DATA``'s text form: tab-separated, ``\\N`` for NULL, backslash escapes for backslash,
    tab, newline and carriage return. The rows are joined as they are (a NUL standing for NULL) and the
    whole text checked once by counting: when tabs and newlines fall only between fields and rows and there
    is no carriage return or NUL of the data's own, only backslashes (those of JSON bodies) need escaping,
    in one pass over the text; otherwise every field is escaped on its own (:func:`_field`)."""
    if not rows:
        return b""
    text = "\n".join(
        ["\t".join([v if type(v) is str else "\0" if v is None else str(v) for v in row]) for row in rows]
    )
    nulls = sum([row.count(None) for row in rows])
    if (
        text.count("\0") != nulls
        or text.count("\t") != len(rows) * (len(rows[0]) - 1)
        or text.count("\n") != len(rows) - 1
        or "\r" in text
        or len(set(map(len, rows))) != 1
    ):
        text = "\n".join(["\t".join([_field(v) for v in row]) for row in rows])
    else:
        if "\\" in text:
            text = text.replace("\\", "\\\\")
        if nulls:
            text = text.replace("\0", "\\N")
    return (text + "\n").encode("utf-8")


def _field(value: Any) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _connect(args: dict[str, Any], local_infile: bool) -> Any:
    # local loads are allowed only on the connection that serves them from memory
    loads = local_infile and _serves_loads()
    return (_LoadConnection if loads else pymysql.connections.Connection)(
        **{k: v for k, v in args.items() if v is not None},
        charset="utf8mb4",
        autocommit=True,
        local_infile=loads,
        init_command=(
            "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', "
            "SESSION time_zone = '+00:00'"
        ),
    )


def _safe(url: str) -> str:
    """The URL without its password, for messages and ``store.url``."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.partition("/")[0]:
        return url
    userinfo, _, hostpart = rest.partition("/")[0].rpartition("@")
    user = userinfo.partition(":")[0]
    tail = rest[len(rest.partition("/")[0]) :]
    return f"{scheme}://{user}:***@{hostpart}{tail}" if ":" in userinfo else url


def connect_args(url: str) -> dict[str, Any]:
    """PyMySQL's connection arguments from a ``mariadb://`` URL (host, port, user, password, database and
    the ``unix_socket`` and ``ssl_*`` query parameters)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"{_safe(url)}: not a valid MariaDB URL: {exc}", field="url") from None
    args: dict[str, Any] = {
        "host": unquote(parts.hostname) if parts.hostname else "localhost",
        "user": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password is not None else "",
        "database": unquote(parts.path.lstrip("/")) or None,
    }
    if port:
        args["port"] = port
    opts, _ = _args.url_options(url, {}, {**_OPTIONS, **_CONNECT}, passthrough=True)
    for key in _CONNECT:
        if key in opts:
            args[key] = opts[key]
    return args


_CONNECT = {
    "unix_socket": _args.option_text,
    "ssl_ca": _args.option_text,
    "ssl_cert": _args.option_text,
    "ssl_key": _args.option_text,
    "connect_timeout": _args.seconds,
}
_OPTIONS = {
    "region": _args.optional_option_text,
    "source": _args.optional_option_text,
    "create": _args.boolean,
    "local_infile": _args.boolean,
}


def open_mariadb(url: str, **options: Any) -> MariaDBStore:
    """Open (creating the database and tables if needed) the MariaDB/MySQL store at ``url``.

    Options (also as URL query parameters): ``unix_socket`` (a socket path instead of host and port),
    ``ssl_ca``/``ssl_cert``/``ssl_key`` (TLS files), ``connect_timeout`` (seconds, default 10), ``region``
    (default region for phone look-ups), ``source`` (default source recorded in the history), ``create``
    (False: open an existing store only), ``local_infile`` (default True: bulk loads through ``LOAD DATA
    LOCAL INFILE`` from memory, never from a file, when the server allows it; False: multi-row INSERT). An
    unknown option or a bad value is a ValidationError.
    """
    opts, _ = _args.url_options(url, options, {**_OPTIONS, **_CONNECT})
    args = connect_args(url.split("?", 1)[0])
    for key in _CONNECT:
        if key in opts:
            args[key] = opts.pop(key)
    timeout = args.get("connect_timeout", 10.0)
    args["connect_timeout"] = max(1, int(min(timeout, 31536000)))
    return MariaDBStore(url, args, **opts)
