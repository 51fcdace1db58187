"""The logic SQLite and PostgreSQL share: one schema, one set of statements, one write path.

Tables (all prefixed ``cd_`` so a store can share a database or schema with an application):

``cd_meta``          key/value: the schema version
``cd_customers``     id, version, stored_at, deleted_at, keys (the customer's lookup keys, JSON), body (the
                     record's dict form as JSON text: one column, so it can later hold ciphertext)
``cd_lookup``        (kind, key, customer_id): the lookup index; ``key`` comes from the store's key deriver.
                     A customer's rows are removed by the exact keys recorded in ``cd_customers.keys``, so
                     the index needs no second index on customer_id (fewer B-trees to write in bulk loads)
``cd_history``       one row per write, keyed (customer_id, version): at, action, source, changes (JSON)
``cd_transactions``  / ``cd_interactions``: id (unique when given), customer_id, at, body, and (store schema
                     4) the figures rules read in SQL as plain columns: ``day`` (the calendar day written in
                     the record's own time stamp, ``YYYY-MM-DD``), for transactions also ``amount_u`` (the
                     amount in whole millionths; NULL when it has more than six decimals or twelve integer
                     digits, which SQL cannot sum exactly; negative for a refund) and ``currency``. Indexed
                     ``(customer_id, day, amount_u, currency)`` / ``(customer_id, day)``: the per-customer
                     sums of a segment query read the index alone, in customer order
``cd_audit``         (pos, entry): an audit log's hash-chained entries (schema 3, :mod:`._privacy`)

Times are fixed-width UTC text (``2026-01-02T03:04:05.000000``), which sorts like the instants it names in
both databases. A backend subclass supplies the connection, the placeholder style, the DDL and its bulk
paths (multi-row ``INSERT ... VALUES`` for SQLite, ``COPY`` for PostgreSQL; ``executemany`` is the
fallback of the base class).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from custdata._records import Customer, Interaction, Transaction
from custdata.exceptions import (
    ConcurrencyError,
    CustdataError,
    DecryptionError,
    NotFoundError,
    SchemaVersionError,
    StoreError,
    ValidationError,
)
from custdata.storage import _args
from custdata.storage._core import (
    STORE_SCHEMA_VERSION,
    Errors,
    FieldChange,
    HistoryEntry,
    Lookup,
    StoredCustomer,
    UpsertProblem,
    UpsertResult,
    body_text,
    changes_from_json,
    changes_to_json,
    check_errors,
    coerce_customer,
    compact_dict,
    decode_customer,
    decode_keys,
    diff,
    encode,
    encode_keys,
    expand,
    fill_creation,
    now,
    parse_ts,
    read_body,
    scan_filter,
    sealed_writer,
    select_with,
    take,
    ts,
)
from custdata.storage._privacy import SQLPrivacy
from custdata.storage._protocol import BackupItem

if TYPE_CHECKING:
    from custdata.security import Keyring, RecordCipher
    from custdata.security._encryptor import SubjectKey

__all__ = ["SQLStore"]

log = logging.getLogger(__name__)

CUSTOMER_COLUMNS = ("id", "version", "stored_at", "deleted_at", "keys", "body")
#: Written by ``add_transactions`` / ``add_interactions`` (``id`` comes first for a keyed record).
TRANSACTION_COLUMNS = ("customer_id", "at", "day", "amount_u", "currency", "body")
INTERACTION_COLUMNS = ("customer_id", "at", "day", "body")
#: The largest amount (exclusive) stored in ``amount_u``: twelve integer digits, so sums stay in 64 bits.
AMOUNT_LIMIT = Decimal(10) ** 12
LOOKUP_COLUMNS = ("kind", "key", "customer_id")
HISTORY_COLUMNS = ("customer_id", "version", "at", "action", "source", "changes")
SUBJECT_KEY_COLUMNS = ("customer_id", "wrapped")

#: Rows fetched or written per round trip.
CHUNK = 2000
PAGE = 500

_Existing = tuple[int, str, "str | None", str]

_FIND_SQL = (
    "SELECT c.id, c.version, c.body FROM cd_lookup l JOIN cd_customers c ON c.id = l.customer_id "
    "WHERE l.kind = ? AND l.key = ? AND c.deleted_at IS NULL ORDER BY c.id"
)  # (id, version, body) of the live customers holding one lookup key, in id order


def amount_u(amount: Decimal) -> int | None:
    """An amount in whole millionths, or None when that is not exact (more than six decimals) or it has
    more than twelve integer digits: the ``cd_transactions.amount_u`` column."""
    if not amount.is_finite() or abs(amount) >= AMOUNT_LIMIT:
        return None
    x = amount.scaleb(6)
    return int(x) if x == x.to_integral_value() else None


def activity_row(item: Transaction | Interaction, sealed: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The values of :data:`TRANSACTION_COLUMNS` / :data:`INTERACTION_COLUMNS` for one record (``sealed``:
    its dict form with the free text encrypted, in an encrypted store)."""
    body = item.to_dict() if sealed is None else sealed
    day = str(body["at"])[:10]  # the day in the record's own time stamp, as custdata.profiles counts it
    if isinstance(item, Transaction):
        return (item.customer_id, ts(item.at), day, amount_u(item.amount), item.currency, encode(body))
    return (item.customer_id, ts(item.at), day, encode(body))


def _chunks(items: Iterable[Any], n: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def new_encryption_meta(keyring: Keyring, sensitive_custom: Iterable[str]) -> dict[str, Any]:
    """The ``cd_meta`` row of a store becoming encrypted: its binding id, index width, the key check and the
    custom attributes it seals (sorted: the set is compared on every open)."""
    import secrets

    from custdata.security import RecordCipher

    meta: dict[str, Any] = {"format": 1, "store": secrets.token_hex(8), "index_bits": 32, "subject_keys": 1}
    meta["check"] = RecordCipher(keyring, store=meta["store"]).derive("keyring", "check")
    meta["sensitive_custom"] = sorted(set(sensitive_custom))
    return meta


def check_sensitive(url: str, meta: dict[str, Any], names: Sequence[str] | None) -> None:
    """Refuse ``sensitive_custom=`` naming another set than the store's recorded one (None: not given)."""
    stored = sorted(meta.get("sensitive_custom", ()))
    if names is None or sorted(names) == stored:
        return
    more = sorted(set(names) - set(stored))
    fewer = sorted(set(stored) - set(names))
    how = (
        "an attribute once sealed stays sealed"
        if fewer
        else "seal more with security.encrypt_store(store, keyring, sensitive_custom=[...]) or "
        "`custdata store encrypt --sensitive-custom NAME`"
    )
    raise ValidationError(
        f"{url} seals the custom attributes {stored}, not {sorted(names)}"
        + (f" (new: {more})" if more else "")
        + (f" (left out: {fewer})" if fewer else "")
        + f"; open it without sensitive_custom= (the store remembers its set), or {how}",
        field="sensitive_custom",
    )


def _decode_rows(
    url: str,
    rows: Iterable[Sequence[Any]],
    cipher: RecordCipher | None = None,
    keys: dict[str, SubjectKey] | None = None,
) -> list[Customer]:
    """Customers from (id, version, body) rows (``keys``: the customers' own data keys); a body that no
    longer decodes is a StoreError (one that does not decrypt, a DecryptionError)."""
    rows = list(rows)
    try:
        if cipher is None:
            return [decode_customer(b, v) for _, v, b in rows]
        got = (keys or {}).get
        return [
            Customer.from_dict({**cipher.open_body(read_body(b), got(i)), "version": v}) for i, v, b in rows
        ]
    except DecryptionError:
        raise
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        if cipher is None and any('"pii":' in str(b) for _, _, b in rows):
            raise StoreError(f"{url}: the store is encrypted: open it with keyring=") from None
        raise StoreError(f"{url}: a stored customer record is corrupt ({type(exc).__name__})") from None


def _json_rows(
    url: str, rows: Iterable[Sequence[Any]], cls: Any, opener: Callable[[Any], Any] | None = None
) -> list[Any]:
    """Records of ``cls`` from rows whose first value is the JSON body (``opener``: decrypts a body's
    dict form)."""
    try:
        if opener is not None:
            return [cls.from_dict(d) for d in opener([json.loads(r[0]) for r in rows])]
        return [cls.from_dict(json.loads(r[0])) for r in rows]
    except DecryptionError:
        raise
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise StoreError(f"{url}: a stored {cls.__name__} is corrupt ({type(exc).__name__})") from None


class SQLStore(SQLPrivacy):
    """A store on a DB-API connection. Subclasses: :class:`SQLiteStore`, :class:`PostgresStore`."""

    #: The driver's exception classes (and the encoder's) that :meth:`_error` maps at the boundary.
    db_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    #: Statements that bring the schema from version i to i + 1 (index i); a callable step runs with the
    #: store (a backfill written in Python, so it shares the write path's definitions).
    migrations: ClassVar[Sequence[Sequence[str | Callable[[SQLStore], None]]]] = ()
    placeholder: ClassVar[str] = "?"
    begin_sql: ClassVar[str] = "BEGIN"
    #: ``upsert_many`` writes each chunk in a helper thread while preparing the next. Worth it when the
    #: database works in another process (PostgreSQL); an embedded SQLite competes with the preparing
    #: thread for the GIL at every statement, and ran slower that way than in one thread.
    write_behind: ClassVar[bool] = True
    #: Whether opening may create the tables (each backend's ``create=``).
    _create: bool

    def __init__(self, url: str, conn: Any, *, region: str | None = "CN", source: str | None = None) -> None:
        _args.optional_text("region", region)
        _args.optional_text("source", source)
        self.url = url
        self._conn = conn
        self._lookup = Lookup(region=region)
        self._cipher: RecordCipher | None = None
        #: The customers' own data keys claimed by the write under way (empty outside a transaction).
        self._keys_now: dict[str, SubjectKey] = {}
        self._split: Callable[[Customer], tuple[str | None, str] | None] | None = None
        #: An encrypted store from before per-customer keys may still hold tokens under keyring keys.
        self._legacy_tokens = False
        self._half_encrypted = False  # an in-place encryption is under way (see encrypt_page)
        self._encrypting_now = False
        self._source = source
        self._lock = threading.RLock()
        self._depth = 0
        self._closed = False
        self._sql_cache: dict[str, str] = {}

    # ------------------------------------------------------------------ plumbing
    def _q(self, sql: str) -> str:
        out = self._sql_cache.get(sql)
        if out is None:
            out = sql if self.placeholder == "?" else sql.replace("?", self.placeholder)
            self._sql_cache[sql] = out
        return out

    def _check(self) -> None:
        if self._closed:
            raise StoreError(f"the store {self.url} is closed")
        if self._half_encrypted and not self._encrypting_now:
            raise StoreError(
                f"{self.url} is being encrypted in place: finish it with security.encrypt_store(store, "
                "keyring) or `custdata store encrypt` first"
            )

    def _error(self, exc: BaseException) -> CustdataError:
        """The custdata error for one of :attr:`db_errors` (each backend maps its driver's in one place)."""
        return StoreError(f"{self.url}: {exc}")

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            return self._conn.execute(self._q(sql), params)
        except self.db_errors as exc:
            raise self._error(exc) from exc

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            cur = self._conn.cursor()
            cur.executemany(self._q(sql), rows)
        except self.db_errors as exc:
            raise self._error(exc) from exc

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return list(self._conn.execute(self._q(sql), params).fetchall())
        except self.db_errors as exc:
            raise self._error(exc) from exc

    def _bulk(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows (PostgreSQL overrides this with COPY)."""
        marks = ", ".join("?" * len(columns))
        self._many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def _existing(self, ids: Sequence[str]) -> dict[str, _Existing]:
        """Stored version, body and deletion stamp of those of ``ids`` that exist (locking them if the
        database locks rows)."""
        out: dict[str, _Existing] = {}
        for part in _chunks(ids, 500):
            marks = ", ".join("?" * len(part))
            for i, v, b, d, k in self._all(
                f"SELECT id, version, body, deleted_at, keys FROM cd_customers WHERE id IN ({marks})", part
            ):
                out[i] = (v, b, d, k)
        return out

    def _raw(self, sql: str) -> None:
        try:
            self._conn.execute(sql)
        except self.db_errors as exc:
            raise self._error(exc) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[SQLStore]:
        """Group writes: on an exception inside the block none of them happen. Nested blocks use
        savepoints, so an inner failure undoes only the inner block."""
        with self._lock:
            self._check()
            depth = self._depth
            self._raw(self.begin_sql if depth == 0 else f"SAVEPOINT cd_sp{depth}")
            self._depth += 1
            if depth == 0:
                self._keys_now = {}
            try:
                yield self
            except BaseException:
                self._depth = depth
                if depth == 0:
                    self._keys_now = {}
                try:
                    if depth == 0:
                        self._raw("ROLLBACK")
                    else:
                        self._raw(f"ROLLBACK TO SAVEPOINT cd_sp{depth}")
                        self._raw(f"RELEASE SAVEPOINT cd_sp{depth}")
                except StoreError:
                    log.exception("rollback failed on %s", self.url)
                raise
            self._depth = depth
            if depth == 0:
                self._keys_now = {}
                try:
                    self._raw("COMMIT")
                except StoreError:
                    with contextlib.suppress(StoreError):
                        self._raw("ROLLBACK")
                    raise
            else:
                self._raw(f"RELEASE SAVEPOINT cd_sp{depth}")

    # ------------------------------------------------------------------ schema
    def _has_table(self, name: str) -> bool:
        """Whether the store's schema holds a table ``name`` (each backend asks its own catalogue)."""
        raise NotImplementedError

    def _schema_version(self) -> int:
        if not self._has_table("cd_meta"):
            if self._has_table("cd_customers"):
                raise StoreError(f"{self.url}: has custdata tables but no schema version; not opening it")
            if not self._create:
                raise StoreError(f"{self.url}: not a custdata store (and create=False)")
            return 0
        row = self._all("SELECT value FROM cd_meta WHERE key = 'schema_version'")
        return int(row[0][0]) if row else 0

    def _migrate(self) -> None:
        """Bring the schema up to date (inside a transaction); refuse a newer one."""
        with self.transaction():
            self._lock_schema()
            current = self._schema_version()
            latest = len(self.migrations)
            if current > latest:
                raise SchemaVersionError(
                    f"{self.url} has store schema version {current}; this custdata knows versions up to "
                    f"{latest} (upgrade custdata to open it)"
                )
            for version in range(current, latest):
                log.info("migrating %s from store schema %d to %d", self.url, version, version + 1)
                for stmt in self.migrations[version]:
                    if callable(stmt):
                        stmt(self)
                    else:
                        self._raw(stmt)
                self._exec(
                    "INSERT INTO cd_meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(version + 1),),
                )
        assert latest == STORE_SCHEMA_VERSION

    def _lock_schema(self) -> None:
        """Keep two processes from migrating at once (SQLite's write lock does it already)."""

    def _backfill_activity(self) -> None:
        """Store schema 2: fill the new ``day``/``amount_u``/``currency`` columns of the transactions and
        interactions already stored, from their bodies (what ``add_transactions`` now writes directly)."""
        for table in ("cd_transactions", "cd_interactions"):
            tx = table == "cd_transactions"
            sets = "day = ?, amount_u = ?, currency = ?" if tx else "day = ?"
            seq = -1
            while True:
                rows = self._all(
                    f"SELECT seq, body FROM {table} WHERE seq > ? ORDER BY seq LIMIT {CHUNK}", (seq,)
                )
                if not rows:
                    break
                out: list[tuple[Any, ...]] = []
                for s, body in rows:
                    try:
                        d = json.loads(body)
                        day = str(d["at"])[:10]
                        dt.date.fromisoformat(day)
                        if tx:
                            amount = Decimal(str(d["amount"]))
                            cur = d.get("currency")
                            out.append((day, amount_u(amount), cur if isinstance(cur, str) else None, s))
                        else:
                            out.append((day, s))
                    except (ValueError, TypeError, KeyError, InvalidOperation, RecursionError):
                        raise StoreError(
                            f"{self.url}: a stored {table.removeprefix('cd_')} row (seq {s}) is corrupt: "
                            "cannot migrate the store"
                        ) from None
                self._many(f"UPDATE {table} SET {sets} WHERE seq = ?", out)
                seq = rows[-1][0]

    # ------------------------------------------------------------------ encryption at rest
    @property
    def encrypted(self) -> bool:
        """Are personal fields encrypted at rest in this store?"""
        return self._cipher is not None

    @property
    def cipher(self) -> RecordCipher | None:
        """The store's record cipher when it is encrypted (backups use it to stay encrypted)."""
        return self._cipher

    def use_keyring(self, keyring: Keyring | None, sensitive_custom: Iterable[str] | None = None) -> None:
        """Check the store's encryption against ``keyring`` (called by ``open_store``): an encrypted
        store needs its keyring, and a new (empty) store opened with one becomes encrypted. A store that
        already holds plaintext customers is refused (encrypt it in place with ``encrypt_store``).

        ``sensitive_custom`` names the custom attributes sealed with the personal fields: recorded in the
        store's encryption metadata when the store becomes encrypted, and read from there afterwards
        (None: as recorded). Given for an encrypted store, it must be the recorded set: a ValidationError
        otherwise (more attributes are sealed with ``encrypt_store(store, keyring, sensitive_custom=...)``,
        and an attribute once sealed is never unsealed)."""
        from custdata.security import Keyring, RecordCipher

        names = _args.sensitive_names(sensitive_custom)
        with self.transaction():
            row = self._all("SELECT value FROM cd_meta WHERE key = 'encryption'")
            if keyring is None:
                if row:
                    raise StoreError(f"{self.url}: the store is encrypted: open it with keyring=")
                if names is not None:
                    raise ValidationError(
                        "sealing custom attributes needs encryption at rest: give keyring= too",
                        field="sensitive_custom",
                    )
                return
            if not isinstance(keyring, Keyring):
                raise ValidationError(f"expected a Keyring, got {type(keyring).__name__}", field="keyring")
            if row:
                meta = json.loads(row[0][0])
                check_sensitive(self.url, meta, names)
            else:
                used = self._all(
                    "SELECT (SELECT COUNT(*) FROM cd_customers) + (SELECT COUNT(*) FROM cd_history)"
                )[0][0]
                if used:
                    raise StoreError(
                        f"{self.url} holds plaintext customers: open it without keyring= and encrypt it in "
                        "place with security.encrypt_store(store, keyring) or `custdata store encrypt`"
                    )
                meta = new_encryption_meta(keyring, names or ())
                self._exec("INSERT INTO cd_meta (key, value) VALUES ('encryption', ?)", (encode(meta),))
        cipher = RecordCipher(
            keyring,
            store=str(meta["store"]),
            index_bits=int(meta["index_bits"]),
            sensitive_custom=meta.get("sensitive_custom", ()),
        )
        if cipher.derive("keyring", "check") != meta.get("check"):
            raise DecryptionError(f"{self.url}: this keyring is not the store's (its index key differs)")
        self._cipher = cipher
        self._lookup = Lookup(region=self._lookup.region, derive=cipher.index)  # the deriver, unwrapped
        self._half_encrypted = "pending_after" in meta
        self._legacy_tokens = "subject_keys" not in meta

    @property
    def sensitive_custom(self) -> frozenset[str]:
        """The custom attributes this store seals with the personal fields (empty when not encrypted)."""
        return frozenset() if self._cipher is None else self._cipher.sensitive_custom

    def seal_custom_too(self, names: Iterable[str]) -> None:
        """Add ``names`` to the custom attributes an *empty* encrypted store seals (what ``restore`` does
        to keep a backup's set); a store holding customers is refused (encrypt_store migrates one)."""
        cipher = self._cipher
        wanted = frozenset(_args.sensitive_names(names) or ())
        if cipher is None or wanted <= cipher.sensitive_custom:
            return
        from custdata.security import RecordCipher

        with self.transaction():
            if self._all("SELECT (SELECT COUNT(*) FROM cd_customers) + (SELECT COUNT(*) FROM cd_history)")[0][
                0
            ]:
                raise ValidationError(
                    f"{self.url} does not seal the custom attributes "
                    f"{sorted(wanted - cipher.sensitive_custom)}"
                    ": seal them first with security.encrypt_store(store, keyring, sensitive_custom=[...])",
                    field="sensitive_custom",
                )
            row = self._all("SELECT value FROM cd_meta WHERE key = 'encryption'")
            meta = json.loads(row[0][0])
            meta["sensitive_custom"] = sorted(wanted | cipher.sensitive_custom)
            self._exec("UPDATE cd_meta SET value = ? WHERE key = 'encryption'", (encode(meta),))
        self._cipher = RecordCipher(
            cipher.keyring,
            store=cipher.encryptor.store,
            index_bits=cipher.index.bits,
            sensitive_custom=meta["sensitive_custom"],
        )
        self._lookup = Lookup(region=self._lookup.region, derive=self._cipher.index)

    # ------------------------------------------------------------------ per-customer data keys
    def _vault(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored (wrapped) data keys of those of ``ids`` that have one."""
        out: dict[str, str] = {}
        for part in _chunks(ids, 500):
            marks = ", ".join("?" * len(part))
            out.update(
                self._all(
                    f"SELECT customer_id, wrapped FROM cd_subject_keys WHERE customer_id IN ({marks})", part
                )
            )
        return out

    def _read_keys(self, ids: Iterable[str]) -> dict[str, SubjectKey]:
        """The data keys of those of ``ids`` that have one (an erased customer has none)."""
        cipher = self._cipher
        if cipher is None:
            return {}
        wanted = list(dict.fromkeys(ids))
        now = self._keys_now
        out = {i: now[i] for i in wanted if i in now}
        rest = [i for i in wanted if i not in out]
        if rest:
            opened = cipher.subjects.open
            out.update((i, opened(i, w)) for i, w in self._vault(rest).items())
        return out

    def _claim_keys(self, ids: Iterable[str], *, look: bool = True) -> list[tuple[str, str]]:
        """Make :attr:`_keys_now` hold the data key of every id (inside a write transaction): the stored
        one (when ``look``), else a new one. Returns the (customer id, wrapped key) rows of the new keys,
        which the caller writes to ``cd_subject_keys``."""
        cipher = self._cipher
        assert cipher is not None
        now = self._keys_now
        wanted = [i for i in dict.fromkeys(ids) if i not in now]
        stored = self._vault(wanted) if look and wanted else {}
        opened = cipher.subjects.open
        for i, w in stored.items():
            now[i] = opened(i, w)
        fresh = [i for i in wanted if i not in stored]
        new: list[tuple[str, str]] = []
        for i, (w, now[i]) in zip(fresh, cipher.subjects.create_many(fresh), strict=True):
            new.append((i, w))
        return new

    def _claim(self, ids: Iterable[str]) -> None:
        """:meth:`_claim_keys` with the new keys written (no-op for a plaintext store)."""
        if self._cipher is not None:
            self._bulk("cd_subject_keys", SUBJECT_KEY_COLUMNS, self._claim_keys(ids))

    def _drop_keys(self) -> None:
        """Forget the data keys claimed so far in this transaction once they are many (between chunks of a
        bulk write, when every one of them is in ``cd_subject_keys``, where a later claim finds it again):
        a million-customer load would otherwise hold a million AES-GCM objects until it commits, and the
        garbage collector would walk them over and over."""
        if len(self._keys_now) > 4 * CHUNK:
            self._keys_now.clear()

    def _key(self, customer_id: str, *, create: bool) -> SubjectKey | None:
        key = self._keys_now.get(customer_id)
        if key is None:
            if create:
                self._claim([customer_id])
                return self._keys_now[customer_id]
            key = self._read_keys([customer_id]).get(customer_id)
        return key

    def subject_key(self, customer_id: str) -> SubjectKey | None:
        """The data key of one customer of an encrypted store (None: none, or erased); for backups."""
        _args.text("customer_id", customer_id)
        with self._lock:
            self._check()
            return self._read_keys([customer_id]).get(customer_id)

    def rotation_finished(self) -> None:
        """Record that a whole rotation ran: no token under a keyring key is left (see ``rotate``)."""
        if self._cipher is None or not self._legacy_tokens:
            return
        with self.transaction():
            row = self._all("SELECT value FROM cd_meta WHERE key = 'encryption'")
            meta = json.loads(row[0][0])
            meta["subject_keys"] = 1
            self._exec("UPDATE cd_meta SET value = ? WHERE key = 'encryption'", (encode(meta),))
        self._legacy_tokens = False

    def _decode(self, rows: list[Any]) -> list[Customer]:
        """Customers from (id, version, body) rows, with their data keys looked up."""
        keys = self._read_keys(r[0] for r in rows) if self._cipher is not None and rows else None
        return _decode_rows(self.url, rows, self._cipher, keys)

    def _activity_opener(self) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None:
        cipher = self._cipher
        if cipher is None:
            return None

        def opener(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
            keys = self._read_keys(str(b.get("customer_id")) for b in bodies if "pii" in b)
            return [cipher.open_activity(b, keys.get(str(b.get("customer_id")))) for b in bodies]

        return opener

    def encrypt_page(
        self, keyring: Keyring, limit: int = 500, sensitive_custom: Iterable[str] | None = None
    ) -> tuple[bool, int]:
        """Encrypt in place the next ``limit`` plaintext customers (bodies, lookup keys, history changes)
        of a plaintext or half-encrypted store, in one transaction that also records how far it got; a
        killed run loses at most the page under way and the next call carries on. Returns (done, how
        many customers this call encrypted). Until done, the store refuses every other operation.
        ``sensitive_custom`` names custom attributes to seal too: recorded when the encryption begins; for
        an encrypted store naming more than it seals, the next page of customers has them sealed (see
        :meth:`_seal_custom_page`). (See :func:`custdata.security.encrypt_store`.)"""
        from custdata.security import Keyring, RecordCipher

        if not isinstance(keyring, Keyring):
            raise ValidationError(f"expected a Keyring, got {type(keyring).__name__}", field="keyring")
        names = _args.sensitive_names(sensitive_custom)
        with self._lock:
            before, half = self._cipher, self._half_encrypted
            self._encrypting_now = True
            try:
                with self.transaction():
                    row = self._all("SELECT value FROM cd_meta WHERE key = 'encryption'")
                    if row:
                        meta = json.loads(row[0][0])
                        stored = set(meta.get("sensitive_custom", ()))
                        if "pending_custom" in meta or (
                            "pending_after" not in meta and names is not None and set(names) > stored
                        ):
                            return self._seal_custom_page(keyring, meta, names, limit)
                        check_sensitive(self.url, meta, names)
                        if "pending_after" not in meta:
                            return True, 0  # encrypted already
                    else:
                        meta = new_encryption_meta(keyring, names or ())
                        meta["pending_after"] = ""
                        self._exec(
                            "INSERT INTO cd_meta (key, value) VALUES ('encryption', ?)", (encode(meta),)
                        )
                    cipher = RecordCipher(
                        keyring,
                        store=str(meta["store"]),
                        index_bits=int(meta["index_bits"]),
                        sensitive_custom=meta.get("sensitive_custom", ()),
                    )
                    if cipher.derive("keyring", "check") != meta.get("check"):
                        raise DecryptionError(
                            f"{self.url}: this keyring is not the one the encryption began with"
                        )
                    after = str(meta["pending_after"])
                    blind = Lookup(region=self._lookup.region, derive=cipher.derive)
                    rows = self._all(
                        f"SELECT id, version, body, keys FROM cd_customers WHERE id > ? ORDER BY id "
                        f"LIMIT {int(limit)}",
                        (after,),
                    )
                    done = len(rows) < limit
                    # the customer ids this page covers: (after, last id], or everything after at the end
                    # (transactions and interactions of ids with no customer record included)
                    span, span_args = (
                        ("customer_id > ?", [after])
                        if done
                        else ("customer_id > ? AND customer_id <= ?", [after, rows[-1][0]])
                    )
                    self._cipher = cipher  # for the data keys claimed below (reset when this fails)
                    activity = {
                        table: self._all(
                            f"SELECT seq, customer_id, body FROM {table} WHERE {span}", span_args
                        )
                        for table in ("cd_transactions", "cd_interactions")
                    }
                    self._claim([r[0] for r in rows] + [r[1] for t in activity.values() for r in t])
                    now = self._keys_now
                    for cid, version, body, keys_json in rows:
                        d = read_body(body)
                        c = Customer.from_dict({**d, "version": version})
                        self._unindex(cid, keys_json)
                        keys = blind.sorted_keys(c)
                        self._exec(
                            "UPDATE cd_customers SET body = ?, keys = ? WHERE id = ?",
                            (encode(cipher.seal_body(d, now[cid])), encode_keys(keys), cid),
                        )
                        self._bulk("cd_lookup", LOOKUP_COLUMNS, [(k, v, cid) for k, v in keys])
                    hist = self._all(
                        f"SELECT customer_id, version, changes FROM cd_history WHERE {span} "
                        "AND changes IS NOT NULL",
                        span_args,
                    )
                    for cid, version, changes in hist:
                        triples = [[f, o, n] for f, o, n in json.loads(changes)]
                        self._exec(
                            "UPDATE cd_history SET changes = ? WHERE customer_id = ? AND version = ?",
                            (
                                encode(cipher.seal_changes(cid, triples, self._key(cid, create=True))),
                                cid,
                                version,
                            ),
                        )
                    for table, found in activity.items():
                        for seq, cid, body in found:
                            sealed = cipher.seal_activity(json.loads(body), now[cid])
                            self._exec(f"UPDATE {table} SET body = ? WHERE seq = ?", (encode(sealed), seq))
                    if done:
                        meta.pop("pending_after")
                    else:
                        meta["pending_after"] = rows[-1][0]
                    self._exec("UPDATE cd_meta SET value = ? WHERE key = 'encryption'", (encode(meta),))
            except BaseException:
                self._cipher, self._half_encrypted = before, half
                raise
            finally:
                self._encrypting_now = False
            self._cipher = cipher
            self._lookup = blind
            self._half_encrypted = not done
            self._legacy_tokens = "subject_keys" not in meta
        return done, len(rows)

    def _seal_custom_page(
        self, keyring: Keyring, meta: dict[str, Any], names: Sequence[str] | None, limit: int
    ) -> tuple[bool, int]:
        """One page of sealing more custom attributes in an encrypted store (inside :meth:`encrypt_page`'s
        transaction): the next ``limit`` customers holding a newly sensitive attribute get their bodies
        sealed again with it, and, when the store sealed no custom attribute before, the history changes
        of ``custom`` (in the clear until then) get sealed. The target set is recorded at the first page
        (``pending_custom``), so a killed run carries on where it stopped; until done the store refuses
        every other operation. Returns (done, how many customer bodies this page rewrote)."""
        from custdata.security import RecordCipher

        stored = sorted(meta.get("sensitive_custom", ()))
        target = meta.get("pending_custom")
        if target is None:
            assert names is not None
            target = meta["pending_custom"] = sorted(names)
            meta["pending_after"] = ""
        elif names is not None and sorted(names) != sorted(target):
            raise ValidationError(
                f"{self.url} is part way through sealing the custom attributes {sorted(target)}: finish that "
                "first (encrypt_store with the same sensitive_custom=, or without it)",
                field="sensitive_custom",
            )
        bound, bits = str(meta["store"]), int(meta["index_bits"])
        old = RecordCipher(keyring, store=bound, index_bits=bits, sensitive_custom=stored)
        new = RecordCipher(keyring, store=bound, index_bits=bits, sensitive_custom=target)
        if new.derive("keyring", "check") != meta.get("check"):
            raise DecryptionError(f"{self.url}: this keyring is not the store's (its index key differs)")
        after = str(meta["pending_after"])
        rows = self._all(
            f"SELECT id, body FROM cd_customers WHERE id > ? ORDER BY id LIMIT {int(limit)}", (after,)
        )
        done = len(rows) < limit
        span, span_args = (
            ("customer_id > ?", [after])
            if done
            else ("customer_id > ? AND customer_id <= ?", [after, rows[-1][0]])
        )
        self._cipher = new  # for the data keys claimed below (reset by encrypt_page when this fails)
        fresh = set(target) - set(stored)
        rewritten = 0
        for cid, body in rows:
            d = read_body(body)
            custom = d.get("custom")
            if isinstance(custom, dict) and not fresh.isdisjoint(custom):
                key = self._key(cid, create=True)
                sealed = new.seal_body(old.open_body(d, key), key)
                self._exec("UPDATE cd_customers SET body = ? WHERE id = ?", (encode(sealed), cid))
                rewritten += 1
        if not stored:  # history changes of custom were stored in the clear until now
            hist = self._all(
                f"SELECT customer_id, version, changes FROM cd_history WHERE {span} AND changes IS NOT NULL",
                span_args,
            )
            for cid, version, changes in hist:
                triples = json.loads(changes)
                if not any(
                    f == "custom" and not (isinstance(o, dict) and "$enc" in o) for f, o, _ in triples
                ):
                    continue
                key = self._key(cid, create=True)
                opened = old.open_changes(cid, triples, key)
                self._exec(
                    "UPDATE cd_history SET changes = ? WHERE customer_id = ? AND version = ?",
                    (encode(new.seal_changes(cid, opened, key)), cid, version),
                )
        if done:
            meta["sensitive_custom"] = sorted(target)
            del meta["pending_custom"], meta["pending_after"]
        else:
            meta["pending_after"] = rows[-1][0]
        self._exec("UPDATE cd_meta SET value = ? WHERE key = 'encryption'", (encode(meta),))
        self._half_encrypted = not done
        return done, rewritten

    def reencrypt_page(self, after: str, limit: int = 500) -> tuple[str | None, int, int]:
        """Rotate the customers after id ``after``, ``limit`` of them, in one transaction: their data keys
        wrapped again under the keyring's active key (the data itself stays under the customer's own
        key), and values a store from before per-customer keys still holds under a keyring key sealed
        again under the customer's own key. Returns the last id looked at (None at the end), how many
        customers were looked at and how many rows were rewritten. Rows already done are left alone, so
        running it again after an interruption loses nothing and redoes nothing (see
        :func:`custdata.security.rotate`)."""
        cipher = self._cipher
        if cipher is None:
            raise StoreError(f"{self.url} is not encrypted: there is nothing to re-encrypt")
        rewritten = 0
        with self.transaction():
            rows = self._all(
                f"SELECT id, body FROM cd_customers WHERE id > ? ORDER BY id LIMIT {int(limit)}", (after,)
            )
            last = rows[-1][0] if len(rows) == limit else None
            span, span_args = (
                ("customer_id > ?", [after])
                if last is None
                else ("customer_id > ? AND customer_id <= ?", [after, last])
            )
            rewrap = cipher.subjects.rewrap
            fresh_keys = []
            for cid, wrapped in self._all(
                f"SELECT customer_id, wrapped FROM cd_subject_keys WHERE {span}", span_args
            ):
                fresh = rewrap(cid, wrapped)
                if fresh is not None:
                    fresh_keys.append((fresh, cid))
            self._many("UPDATE cd_subject_keys SET wrapped = ? WHERE customer_id = ?", fresh_keys)
            rewritten += len(fresh_keys)
            if self._legacy_tokens:
                for cid, body in rows:
                    d = read_body(body)
                    if "pii" in d and not str(d["pii"]).startswith("v1.*."):
                        key = self._key(cid, create=True)
                        assert key is not None
                        sealed = cipher.reseal_body(d, key)
                        self._exec("UPDATE cd_customers SET body = ? WHERE id = ?", (encode(sealed), cid))
                        rewritten += 1
                hist = self._all(
                    "SELECT customer_id, version, changes FROM cd_history "
                    f"WHERE {span} AND changes IS NOT NULL",
                    span_args,
                )
                for cid, version, changes in hist:
                    if '"$enc"' not in changes:
                        continue
                    key = self._key(cid, create=True)
                    assert key is not None
                    fresh_changes = cipher.reseal_changes(cid, json.loads(changes), key)
                    if fresh_changes is not None:
                        self._exec(
                            "UPDATE cd_history SET changes = ? WHERE customer_id = ? AND version = ?",
                            (encode(fresh_changes), cid, version),
                        )
                        rewritten += 1
        return last, len(rows), rewritten

    def key_exposure(self, key_id: str) -> dict[str, list[str]]:
        """The customers whose stored personal values a data key of the keyring protects, each with the
        fields it covers (body fields held, history fields changed, ``activity`` for transactions' and
        interactions' free text): through the customers' own keys it wraps, or directly for values stored
        before per-customer keys; for :func:`custdata.security.breach_report`."""
        from custdata.security import PII_FIELDS, FieldEncryptor

        cipher = self._cipher
        if cipher is None:
            raise StoreError(f"{self.url} is not encrypted: no data key covers it")
        out: dict[str, set[str]] = {}
        with self._lock:
            self._check()
            wrapped = {
                cid
                for cid, w in self._all("SELECT customer_id, wrapped FROM cd_subject_keys")
                if w.split(".", 2)[1] == key_id
            }

            def covered(token: object) -> bool:
                if not isinstance(token, str):
                    return False
                kid = FieldEncryptor.key_id_of(token)
                return kid == key_id or (kid == "*" and cid in wrapped)

            for cid, body in self._all("SELECT id, body FROM cd_customers"):
                d = read_body(body)
                if covered(d.get("pii")):
                    opened = cipher.open_body(d, self._key(cid, create=False))
                    out.setdefault(cid, set()).update(f for f in PII_FIELDS if opened.get(f))
                    if not cipher.sensitive_custom.isdisjoint(opened.get("custom") or ()):
                        out[cid].add("custom")  # a sensitive custom attribute, sealed with them
            for cid, changes in self._all(
                "SELECT customer_id, changes FROM cd_history WHERE changes IS NOT NULL"
            ):
                for field, old, _ in json.loads(changes):
                    if covered(old.get("$enc") if isinstance(old, dict) else None):
                        out.setdefault(cid, set()).add(str(field).split(".", 1)[0])
            for table in ("cd_transactions", "cd_interactions"):
                for cid, body in self._all(f"SELECT customer_id, body FROM {table}"):
                    if covered(json.loads(body).get("pii")):
                        out.setdefault(cid, set()).add("activity")
        return {cid: sorted(fields) for cid, fields in sorted(out.items())}

    def key_usage(self) -> dict[str, int]:
        """How many stored values each data key of the keyring encrypts (empty when not encrypted): the
        customers' own keys it wraps, plus values stored under it directly before per-customer keys."""
        from custdata.security import FieldEncryptor

        if self._cipher is None:
            return {}
        out: dict[str, int] = {}

        def count(token: object) -> None:
            if isinstance(token, str):
                kid = FieldEncryptor.key_id_of(token)
                if kid != "*":
                    out[kid] = out.get(kid, 0) + 1

        with self._lock:
            self._check()
            for (wrapped,) in self._all("SELECT wrapped FROM cd_subject_keys"):
                kid = wrapped.split(".", 2)[1]
                out[kid] = out.get(kid, 0) + 1
            if self._legacy_tokens:
                for (body,) in self._all("SELECT body FROM cd_customers"):
                    count(read_body(body).get("pii"))
                for (changes,) in self._all("SELECT changes FROM cd_history WHERE changes IS NOT NULL"):
                    for _, old, _ in json.loads(changes):
                        if isinstance(old, dict):
                            count(old.get("$enc"))
        return out

    def _body(self, c: Customer) -> str:
        """The stored body of ``c``: :func:`body_text`, or with its personal fields sealed."""
        cipher = self._cipher
        if cipher is None:
            return body_text(c)
        key = self._keys_now.get(c.id) or self._key(c.id, create=True)
        if not cipher.sensitive_custom or not cipher.sensitive_custom.intersection(c.custom):
            split = self._split
            if split is None:
                from custdata.security._records import PII_FIELDS

                split = self._split = sealed_writer(PII_FIELDS)
            parts = split(c)  # one pass, no dict form (pinned to the general path below)
            if parts is not None:
                return cipher.seal_text(parts[0], parts[1], c.id, key)
        return encode(cipher.seal_body(compact_dict(c), key))

    def _open(self, body: str | bytes) -> dict[str, Any]:
        """A stored body as the compact dict form (decrypted)."""
        d = read_body(body)
        if self._cipher is None:
            return d
        return self._cipher.open_body(d, self._key(str(d.get("id")), create=False) if "pii" in d else None)

    def _changes_out(self, customer_id: str, changes: Iterable[FieldChange]) -> str:
        if self._cipher is None:
            return changes_to_json(changes)
        key = self._key(customer_id, create=True)
        return encode(self._cipher.seal_changes(customer_id, [[c.field, c.old, c.new] for c in changes], key))

    def _changes_in(
        self, customer_id: str, text: str | None, key: SubjectKey | None = None
    ) -> tuple[FieldChange, ...]:
        if self._cipher is None or not text:
            return changes_from_json(text)
        opened = self._cipher.open_changes(customer_id, json.loads(text), key)
        return tuple(FieldChange(f, o, n) for f, o, n in opened)

    def _exact(
        self, c: Customer, phone: str | None, email: str | None, external_id: str | tuple[str, str] | None
    ) -> bool:
        """Does ``c`` really hold the values looked for? (Blind indexes are lossy: re-check candidates.)"""
        lk = self._lookup
        if phone is not None and lk.phone(phone) not in {lk.phone(p.number) for p in c.phones}:
            return False
        if email is not None and lk.email(email) not in {lk.email(e.address) for e in c.emails}:
            return False
        value = external_id[1] if isinstance(external_id, tuple) else external_id
        return value is None or value in c.external_ids.values()

    # ------------------------------------------------------------------ customers
    def get(self, customer_id: str, *, include_deleted: bool = False) -> Customer:
        _args.text("customer_id", customer_id)
        found = self.get_many([customer_id], include_deleted=include_deleted)
        if customer_id not in found:
            raise NotFoundError(f"no customer with id {customer_id!r} in {self.url}")
        return found[customer_id]

    def get_many(self, customer_ids: Iterable[str], *, include_deleted: bool = False) -> dict[str, Customer]:
        ids = _args.ids(customer_ids)
        _args.flag("include_deleted", include_deleted)
        out: dict[str, Customer] = {}
        with self._lock:
            self._check()
            rows = []
            for part in _chunks(ids, 500):
                marks = ", ".join("?" * len(part))
                alive = "" if include_deleted else " AND deleted_at IS NULL"
                rows.extend(
                    self._all(
                        f"SELECT id, version, body FROM cd_customers WHERE id IN ({marks}){alive}", part
                    )
                )
            decoded = self._decode(rows)
        found = {r[0]: c for r, c in zip(rows, decoded, strict=True)}
        for i in ids:
            if i in found:
                out[i] = found[i]
        return out

    def _keys(self, c: Customer) -> tuple[list[tuple[str, str]], str]:
        keys = self._lookup.sorted_keys(c)
        return keys, encode_keys(keys)

    def _unindex(self, customer_id: str, keys_json: str) -> None:
        self._many(
            "DELETE FROM cd_lookup WHERE kind = ? AND key = ? AND customer_id = ?",
            [(k, v, customer_id) for k, v in decode_keys(keys_json)],
        )

    def put(self, customer: Customer, *, source: str | None = None) -> Customer:
        c = coerce_customer(customer)
        _args.optional_text("source", source)
        at = ts(now())
        src = source or self._source
        keys, keys_json = self._keys(c)
        with self.transaction():
            old = self._existing([c.id]).get(c.id)
            self._claim([c.id])
            if old is None:
                version = c.version + 1
                d, body = compact_dict(c), self._body(c)
                cur = self._exec(
                    "INSERT INTO cd_customers (id, version, stored_at, deleted_at, keys, body) "
                    "VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT (id) DO NOTHING",
                    (c.id, version, at, keys_json, body),
                )
                if cur.rowcount != 1:
                    raise ConcurrencyError(f"customer {c.id!r} was created by another writer meanwhile")
                history: tuple[Any, ...] = (c.id, version, at, "create", src, None)
            else:
                stored_version, old_body, deleted, old_keys = old
                if stored_version != c.version:
                    raise ConcurrencyError(
                        f"customer {c.id!r}: the record has version {c.version} but the stored one has "
                        f"{stored_version}; get it again and reapply the change"
                    )
                version = stored_version + 1
                d, body = compact_dict(c), self._body(c)
                cur = self._exec(
                    "UPDATE cd_customers SET version = ?, stored_at = ?, deleted_at = NULL, keys = ?, "
                    "body = ? WHERE id = ? AND version = ?",
                    (version, at, keys_json, body, c.id, stored_version),
                )
                if cur.rowcount != 1:
                    raise ConcurrencyError(f"customer {c.id!r} was changed by another writer meanwhile")
                action = "update" if deleted is None else "restore"
                changes = diff(expand(self._open(old_body)), expand(d))
                history = (c.id, version, at, action, src, self._changes_out(c.id, changes))
                self._unindex(c.id, old_keys)
            self._bulk("cd_lookup", LOOKUP_COLUMNS, [(k, v, c.id) for k, v in keys])
            self._bulk("cd_history", HISTORY_COLUMNS, [history])
        return c if c.version == version else c.evolve(version=version)

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
        src = source or self._source
        at = ts(now())
        problems: list[UpsertProblem] = []
        inserted = updated = 0
        with self.transaction():
            if not self.write_behind:
                try:
                    for batch in self._batches(customers, errors, problems):
                        existing = self._existing(list(batch))
                        if not existing:
                            self._insert_new(batch, at, src)  # claims the data keys it needs
                            inserted += len(batch)
                            self._drop_keys()
                            continue
                        self._flush_index()  # before an update takes index entries away
                        self._claim(batch)
                        prepared = self._prepare(batch)
                        rows = self._rows(prepared, existing, at, src, errors, check_versions, problems)
                        self._write_chunk(*rows)
                        inserted += len(rows[0])
                        updated += len(rows[1])
                        self._drop_keys()
                    self._flush_index()
                finally:
                    self._index_pending = 0  # written, or rolled back with the transaction
                return UpsertResult(
                    inserted, updated, tuple(problems) if errors == "collect" else (), len(problems)
                )
            # The database writes of one chunk run in a helper thread while this thread prepares the next
            # (libpq releases the GIL while it waits for the server); the connection is never used by both.
            pool = ThreadPoolExecutor(1, thread_name_prefix="custdata-write")
            pending: Future[None] | None = None
            try:
                for batch in self._batches(customers, errors, problems):
                    # Everything a chunk of new customers needs is built before waiting for the previous
                    # chunk's writes (only the body text: an update builds the dict form it diffs below);
                    # an encrypted store gives each a new data key, replaced below by a stored one
                    fresh = self._claim_keys(batch, look=False) if self._cipher is not None else []
                    prepared = self._prepare(batch)
                    rows = self._rows(prepared, {}, at, src, errors, check_versions, problems)
                    if pending is not None:
                        pending.result()
                        pending = None
                    existing = self._existing(list(batch))
                    if self._cipher is not None:
                        stored = self._vault(list(batch))
                        if stored:
                            for cid in stored:
                                del self._keys_now[cid]
                            self._claim_keys(stored)
                            # only their bodies change (sealed under the stored key); index keys do not
                            body = self._body
                            prepared = [
                                (i, c, keys, body(c) if c.id in stored else text)
                                for i, c, keys, text in prepared
                            ]
                            rows = self._rows(prepared, {}, at, src, errors, check_versions, problems)
                        self._bulk(
                            "cd_subject_keys", SUBJECT_KEY_COLUMNS, [r for r in fresh if r[0] not in stored]
                        )
                    if existing:
                        rows = self._rows(prepared, existing, at, src, errors, check_versions, problems)
                    pending = pool.submit(self._write_chunk, *rows)
                    inserted += len(rows[0])
                    updated += len(rows[1])
                    self._drop_keys()
                if pending is not None:
                    pending.result()
            finally:
                pool.shutdown(wait=True)  # never roll back while the helper still writes
        return UpsertResult(inserted, updated, tuple(problems) if errors == "collect" else (), len(problems))

    def _prepare(self, batch: dict[str, tuple[int, Customer]]) -> list[tuple[int, Customer, Any, str]]:
        """(position, customer, lookup keys, body text) of each customer of a chunk."""
        keys_of = self._lookup.sorted_keys
        body = self._body
        return [(index, c, keys_of(c), body(c)) for index, c in batch.values()]

    def _rows(
        self,
        prepared: list[tuple[int, Customer, Any, str]],
        existing: dict[str, _Existing],
        at: str,
        src: str | None,
        errors: Errors,
        check_versions: bool,
        problems: list[UpsertProblem],
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[Any], list[Any], list[tuple[Any, ...]]]:
        """The rows one chunk writes: new customers, updated customers, index entries to drop and to add,
        history. Customers in ``existing`` are updates (checked against their stored version when
        ``check_versions``; a mismatch raises or goes to ``problems``)."""
        if not existing:
            return (
                [(c.id, c.version + 1, at, None, encode_keys(keys), body) for _, c, keys, body in prepared],
                [],
                [],
                [(k, v, c.id) for _, c, keys, _ in prepared for k, v in keys],
                [(c.id, c.version + 1, at, "create", src, None) for _, c, _, _ in prepared],
            )
        new_rows: list[tuple[Any, ...]] = []
        upd_rows: list[tuple[Any, ...]] = []
        unindex: list[tuple[str, str, str]] = []
        lookup: list[tuple[str, str, str]] = []
        history: list[tuple[Any, ...]] = []
        for index, c, keys, body in prepared:
            cid = c.id
            old = existing.get(cid)
            if old is None:
                version = c.version + 1
                new_rows.append((cid, version, at, None, encode_keys(keys), body))
                history.append((cid, version, at, "create", src, None))
            else:
                stored_version, old_body, deleted, old_keys = old
                if check_versions and stored_version != c.version:
                    exc = ConcurrencyError(f"customer {cid!r}: version {c.version}, stored {stored_version}")
                    if errors == "raise":
                        raise exc
                    problems.append(UpsertProblem(index, cid, exc))
                    continue
                version = stored_version + 1
                upd_rows.append((version, at, encode_keys(keys), body, cid))
                unindex.extend((k, v, cid) for k, v in decode_keys(old_keys))
                d = compact_dict(c)
                changes = self._changes_out(cid, diff(expand(self._open(old_body)), expand(d)))
                action = "update" if deleted is None else "restore"
                history.append((cid, version, at, action, src, changes))
            lookup.extend((k, v, cid) for k, v in keys)
        return new_rows, upd_rows, unindex, lookup, history

    def _insert_new(self, batch: dict[str, tuple[int, Customer]], at: str, src: str | None) -> None:
        """Write a chunk of customers none of which is stored yet (SQLite overrides it)."""
        self._claim(batch)
        self._write_chunk(*self._rows(self._prepare(batch), {}, at, src, "raise", False, []))

    #: Index entries :meth:`_insert_new` set aside for :meth:`_flush_index` (SQLite).
    _index_pending = 0

    def _flush_index(self) -> None:
        """Write the index entries :meth:`_insert_new` set aside in this ``upsert_many`` (SQLite: lookup
        and blind-index keys, inserted sorted once instead of at random chunk by chunk); no-op elsewhere."""

    def _write_chunk(
        self,
        new_rows: list[tuple[Any, ...]],
        upd_rows: list[tuple[Any, ...]],
        unindex: list[tuple[str, str, str]],
        lookup: list[tuple[str, str, str]],
        history: list[tuple[Any, ...]],
    ) -> None:
        self._bulk("cd_customers", CUSTOMER_COLUMNS, new_rows)
        if upd_rows:
            self._many(
                "UPDATE cd_customers SET version = ?, stored_at = ?, deleted_at = NULL, keys = ?, "
                "body = ? WHERE id = ?",
                upd_rows,
            )
            self._many("DELETE FROM cd_lookup WHERE kind = ? AND key = ? AND customer_id = ?", unindex)
        self._bulk("cd_lookup", LOOKUP_COLUMNS, lookup)
        self._bulk("cd_history", HISTORY_COLUMNS, history)

    def _batches(
        self, customers: Iterable[object], errors: Errors, problems: list[UpsertProblem]
    ) -> Iterator[dict[str, tuple[int, Customer]]]:
        """The input in chunks of valid customers by id (the last of a repeated id wins), with the
        position of each in the input; invalid items raise or go to ``problems``."""
        position = 0
        for chunk in _chunks(customers, CHUNK):
            batch: dict[str, tuple[int, Customer]] = {}
            for item in chunk:
                try:
                    c = coerce_customer(item)
                except ValidationError as exc:
                    if errors == "raise":
                        raise
                    problems.append(UpsertProblem(position, _id_of(item), exc))
                else:
                    batch.pop(c.id, None)
                    batch[c.id] = (position, c)
                position += 1
            yield batch

    def delete(self, customer_id: str, *, source: str | None = None) -> None:
        _args.text("customer_id", customer_id)
        _args.optional_text("source", source)
        at = ts(now())
        with self.transaction():
            old = self._existing([customer_id]).get(customer_id)
            if old is None:
                raise NotFoundError(f"no customer with id {customer_id!r} in {self.url}")
            if old[2] is not None:
                return
            self._exec(
                "UPDATE cd_customers SET version = version + 1, stored_at = ?, deleted_at = ? WHERE id = ?",
                (at, at, customer_id),
            )
            self._bulk(
                "cd_history",
                HISTORY_COLUMNS,
                [(customer_id, old[0] + 1, at, "delete", source or self._source, None)],
            )

    def purge(self, customer_id: str) -> None:
        _args.text("customer_id", customer_id)
        with self.transaction():
            old = self._existing([customer_id]).get(customer_id)
            if old is None:
                raise NotFoundError(f"no customer with id {customer_id!r} in {self.url}")
            self._unindex(customer_id, old[3])
            self._exec("DELETE FROM cd_customers WHERE id = ?", (customer_id,))
            for table in ("cd_history", "cd_transactions", "cd_interactions", "cd_subject_keys"):
                self._exec(f"DELETE FROM {table} WHERE customer_id = ?", (customer_id,))

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
            kind, key = keys[0]
            rows = self._lookup_rows(kind, key)
            for kind, key in keys[1:]:
                if not rows:
                    break
                ids = {
                    r[0]
                    for r in self._all(
                        "SELECT customer_id FROM cd_lookup WHERE kind = ? AND key = ?", (kind, key)
                    )
                }
                rows = [r for r in rows if r[0] in ids]
            out = self._decode(rows)
        if self._cipher is not None:
            out = [c for c in out if self._exact(c, phone, email, external_id)]
        return out if extra is None else [c for c in out if extra(c)]

    def _lookup_rows(self, kind: str, key: str) -> list[Any]:
        """(id, version, body) of the live customers with that index key: one round trip."""
        return self._all(_FIND_SQL, (kind, key))

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
        return take(self._pages(after, include_deleted, changed_since), keep, limit)

    def _pages(
        self, after: str | None, include_deleted: bool, changed_since: dt.datetime | None
    ) -> Iterator[Customer]:
        conds = ["id > ?"]
        extra: list[Any] = []
        if not include_deleted:
            conds.append("deleted_at IS NULL")
        if changed_since is not None:
            conds.append("stored_at >= ?")
            extra.append(ts(changed_since))
        sql = (
            f"SELECT id, version, body FROM cd_customers WHERE {' AND '.join(conds)} ORDER BY id LIMIT {PAGE}"
        )
        last = "" if after is None else after
        while True:
            with self._lock:
                self._check()
                rows = self._all(sql, [last, *extra])
                decoded = self._decode(rows)
            yield from decoded
            if len(rows) < PAGE:
                return
            last = rows[-1][0]

    def count(self, *, include_deleted: bool = False) -> int:
        _args.flag("include_deleted", include_deleted)
        alive = "" if include_deleted else " WHERE deleted_at IS NULL"
        with self._lock:
            self._check()
            return int(self._all(f"SELECT COUNT(*) FROM cd_customers{alive}")[0][0])

    def history(self, customer_id: str) -> list[HistoryEntry]:
        _args.text("customer_id", customer_id)
        with self._lock:
            self._check()
            rows = self._all(
                "SELECT version, at, action, source, changes FROM cd_history WHERE customer_id = ? "
                "ORDER BY version",
                (customer_id,),
            )
            cur = self._all("SELECT body FROM cd_customers WHERE id = ?", (customer_id,)) if rows else []
            key = self._key(customer_id, create=False) if rows and self._cipher is not None else None
            entries = [
                HistoryEntry(customer_id, v, parse_ts(a), act, s, self._changes_in(customer_id, ch, key))
                for v, a, act, s, ch in rows
            ]
            return fill_creation(entries, expand(self._open(cur[0][0])) if cur else None)

    # ------------------------------------------------------------------ activity
    def _add(self, table: str, items: Iterable[Transaction | Interaction], cls: type) -> int:
        n = 0
        items = _args.iterable(table.removeprefix("cd_"), items)
        columns = TRANSACTION_COLUMNS if cls is Transaction else INTERACTION_COLUMNS
        marks = ", ".join("?" * (len(columns) + 1))
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
        upsert = (
            f"INSERT INTO {table} (id, {', '.join(columns)}) VALUES ({marks}) "
            f"ON CONFLICT (id) WHERE id IS NOT NULL DO UPDATE SET {updates}"
        )
        cipher = self._cipher
        with self.transaction():
            for chunk in _chunks(items, CHUNK):
                plain: list[tuple[Any, ...]] = []
                keyed: list[tuple[Any, ...]] = []
                item: Transaction | Interaction
                for item in chunk:
                    if not isinstance(item, cls) or not isinstance(item, (Transaction, Interaction)):
                        raise ValidationError(f"expected a {cls.__name__}, got {type(item).__name__}")
                if cipher is not None:
                    self._claim(x.customer_id for x in chunk)
                for item in chunk:
                    sealed = None
                    if cipher is not None:
                        sealed = cipher.seal_activity(item.to_dict(), self._keys_now[item.customer_id])
                    row = activity_row(item, sealed)
                    if item.id is None:
                        plain.append(row)
                    else:
                        keyed.append((item.id, *row))
                self._bulk(table, columns, plain)
                self._many(upsert, keyed)
                n += len(chunk)
        return n

    def _list(
        self,
        table: str,
        cls: Any,
        customer_id: str | None,
        start: dt.datetime | None,
        end: dt.datetime | None,
    ) -> list[Any]:
        _args.optional_text("customer_id", customer_id)
        _args.aware("start", start)
        _args.aware("end", end)
        conds: list[str] = []
        params: list[Any] = []
        if customer_id is not None:
            conds.append("customer_id = ?")
            params.append(customer_id)
        if start is not None:
            conds.append("at >= ?")
            params.append(ts(start))
        if end is not None:
            conds.append("at <= ?")  # inclusive, as metrics' observation_end
            params.append(ts(end))
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        with self._lock:
            self._check()
            rows = self._all(f"SELECT body FROM {table}{where} ORDER BY at, seq", params)
            return _json_rows(self.url, rows, cls, self._activity_opener())

    def add_transactions(self, transactions: Iterable[Transaction]) -> int:
        return self._add("cd_transactions", transactions, Transaction)

    def transactions(
        self,
        customer_id: str | None = None,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> list[Transaction]:
        return self._list("cd_transactions", Transaction, customer_id, start, end)

    def add_interactions(self, interactions: Iterable[Interaction]) -> int:
        return self._add("cd_interactions", interactions, Interaction)

    def interactions(
        self,
        customer_id: str | None = None,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> list[Interaction]:
        return self._list("cd_interactions", Interaction, customer_id, start, end)

    # ------------------------------------------------------------------ backup
    def dump(self) -> Iterator[BackupItem]:
        last = ""
        while True:
            with self._lock:
                self._check()
                rows = self._all(
                    "SELECT id, version, body, stored_at, deleted_at FROM cd_customers WHERE id > ? "
                    f"ORDER BY id LIMIT {PAGE}",
                    (last,),
                )
                hist = (
                    self._all(
                        "SELECT customer_id, version, at, action, source, changes FROM cd_history "
                        "WHERE customer_id > ? AND customer_id <= ? ORDER BY customer_id, version",
                        (last, rows[-1][0]),
                    )
                    if rows
                    else []
                )
                keys = self._read_keys(r[0] for r in rows) if self._cipher is not None and rows else {}
                by_id: dict[str, list[HistoryEntry]] = {}
                for cid, v, a, act, s, ch in hist:
                    by_id.setdefault(cid, []).append(
                        HistoryEntry(cid, v, parse_ts(a), act, s, self._changes_in(cid, ch, keys.get(cid)))
                    )
                records = _decode_rows(
                    self.url, [(cid, v, b) for cid, v, b, _, _ in rows], self._cipher, keys
                )
            for (cid, _, _b, st, de), record in zip(rows, records, strict=True):
                yield StoredCustomer(record, parse_ts(st), None if de is None else parse_ts(de))
                yield from fill_creation(by_id.get(cid, []), expand(compact_dict(record)))
            if len(rows) < PAGE:
                break
            last = rows[-1][0]
        for table, cls in (("cd_transactions", Transaction), ("cd_interactions", Interaction)):
            seq = -1
            while True:
                with self._lock:
                    self._check()
                    page = self._all(
                        f"SELECT seq, body FROM {table} WHERE seq > ? ORDER BY seq LIMIT {PAGE}", (seq,)
                    )
                    done = _json_rows(self.url, [(b,) for _, b in page], cls, self._activity_opener())
                yield from done
                if len(page) < PAGE:
                    break
                seq = page[-1][0]

    def load(self, items: Iterable[BackupItem]) -> None:
        items = _args.iterable("items", items)
        with self.transaction():
            used = self._all(
                "SELECT (SELECT COUNT(*) FROM cd_customers) + (SELECT COUNT(*) FROM cd_transactions) "
                "+ (SELECT COUNT(*) FROM cd_interactions)"
            )[0][0]
            if used:
                raise StoreError(f"{self.url} is not empty: restore a backup into an empty store")
            customers: list[tuple[Any, ...]] = []
            lookup: list[tuple[str, str, str]] = []
            history: list[tuple[Any, ...]] = []
            txns: list[Transaction] = []
            inters: list[Interaction] = []

            def flush() -> None:
                self._bulk("cd_customers", CUSTOMER_COLUMNS, customers)
                self._bulk("cd_lookup", LOOKUP_COLUMNS, lookup)
                self._bulk("cd_history", HISTORY_COLUMNS, history)
                self.add_transactions(txns)
                self.add_interactions(inters)
                for x in (customers, lookup, history, txns, inters):
                    x.clear()

            for n, item in enumerate(items, 1):
                if isinstance(item, StoredCustomer):
                    c = item.record
                    body = self._body(c)
                    de = None if item.deleted_at is None else ts(item.deleted_at)
                    keys, keys_json = self._keys(c)
                    customers.append((c.id, c.version, ts(item.stored_at), de, keys_json, body))
                    lookup.extend((k, v, c.id) for k, v in keys)
                elif isinstance(item, HistoryEntry):
                    history.append(
                        (
                            item.customer_id,
                            item.version,
                            ts(item.at),
                            item.action,
                            item.source,
                            self._changes_out(item.customer_id, item.changes),
                        )
                    )
                elif isinstance(item, Transaction):
                    txns.append(item)
                elif isinstance(item, Interaction):
                    inters.append(item)
                else:
                    raise ValidationError(f"not a backup item: {type(item).__name__}")
                if n % CHUNK == 0:
                    flush()
            flush()

    # ------------------------------------------------------------------ the SQL hook (SQLQueryable)
    #: ``"sqlite"`` or ``"postgresql"``: which SQL :meth:`query_sql` speaks.
    sql_dialect: ClassVar[str] = ""

    def query_sql(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read-only statement (``?`` placeholders) against the store's tables; its rows.
        A statement that writes is refused by the database (StoreError) and changes nothing."""
        _args.text("sql", sql)
        if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
            raise ValidationError("params must be a sequence of values", field="params")
        with self._lock:
            self._check()
            return [tuple(r) for r in self._read_only(sql, params)]

    def _read_only(self, sql: str, params: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    # ------------------------------------------------------------------ maintenance
    #: The statements :meth:`optimize` runs (outside any transaction).
    optimize_sql: ClassVar[Sequence[str]] = ()

    def select(self, rule: Any, *, as_of: Any) -> list[Customer]:
        """The customers ``rule`` (a :class:`custdata.segments.Rule`) selects as of ``as_of``: exactly those
        ``rule.matches`` selects over ``custdata.profiles(...)`` of this store's data, evaluated inside the
        database (see docs/segments.md)."""
        return select_with(self, rule, as_of)

    def optimize(self) -> None:
        """Bring the database's statistics up to date after a bulk load, so its planner picks the index
        ``find`` needs, and tidy up: PostgreSQL vacuums and analyses the store's tables (marking the
        freshly written rows visible to everyone, which lets index-only scans skip the table), SQLite
        analyses and folds its write-ahead log back into the database file. Safe to call at any time;
        it writes no customer data. Not inside :meth:`transaction`."""
        with self._lock:
            self._check()
            if self._depth:
                raise StoreError(f"{self.url}: optimize() cannot run inside a transaction")
            for sql in self.optimize_sql:
                self._raw(sql)

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._conn.close()
            except self.db_errors as exc:
                log.warning("closing %s: %s", self.url, exc)

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


def _id_of(item: object) -> str | None:
    if isinstance(item, Customer):
        return item.id
    if isinstance(item, dict):
        v = item.get("id")
        return v if isinstance(v, str) else None
    return None
