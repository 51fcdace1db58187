"""Backups: a store to JSON Lines and back, between any two backends.

The file's first line is a header naming the format and the store schema version; then one line per
customer (with its version and store stamps), history entry, transaction and interaction; the last line
is a footer with the counts, so a truncated file is noticed. :func:`export` writes to a temporary file and
renames it into place (a crash never leaves half a backup under the final name); :func:`restore` loads
into an empty store in one transaction, so a bad file leaves the store as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custdata._records import SCHEMA_VERSION, Customer, Interaction, Transaction
from custdata.exceptions import DecryptionError, ParseError, SchemaVersionError, StoreError, ValidationError
from custdata.io._args import open_file, url_scheme
from custdata.io._atomic import atomic_write
from custdata.storage._core import STORE_SCHEMA_VERSION, HistoryEntry, StoredCustomer, encode, now
from custdata.storage._protocol import BackupItem, Store

if TYPE_CHECKING:
    from custdata.security import Keyring, RecordCipher
    from custdata.security._encryptor import SubjectKey

__all__ = ["BACKUP_FORMAT", "export", "restore"]

log = logging.getLogger(__name__)

BACKUP_FORMAT = "custdata-store-backup"
_KINDS = ("customer", "history", "transaction", "interaction")


_Keys = Callable[[str], "SubjectKey | None"]


def _line(
    item: BackupItem, cipher: RecordCipher | None = None, key_of: _Keys | None = None
) -> tuple[str, dict[str, Any]] | None:
    """The backup line of one item (None: its customer's data key is gone, erased meanwhile)."""
    key = None
    if cipher is not None and key_of is not None:
        if isinstance(item, StoredCustomer):
            key = key_of(item.record.id)
        elif isinstance(item, HistoryEntry | Transaction | Interaction):
            key = key_of(item.customer_id)
        if key is None:
            return None
    if isinstance(item, StoredCustomer):
        record = item.record.to_dict()
        return "customer", {
            "customer": record if cipher is None else cipher.seal_body(record, key),
            "stored_at": item.stored_at.isoformat(),
            "deleted_at": None if item.deleted_at is None else item.deleted_at.isoformat(),
        }
    if isinstance(item, HistoryEntry):
        entry = item.to_dict()
        if cipher is not None:
            entry["changes"] = cipher.seal_changes(item.customer_id, entry["changes"], key)
        return "history", {"history": entry}
    if isinstance(item, Transaction):
        d = item.to_dict()
        return "transaction", {"transaction": d if cipher is None else cipher.seal_activity(d, key)}
    if isinstance(item, Interaction):
        d = item.to_dict()
        return "interaction", {"interaction": d if cipher is None else cipher.seal_activity(d, key)}
    raise ValidationError(f"not a backup item: {type(item).__name__}")


def export(store: Store, path: str | os.PathLike[str], *, plaintext: bool = False) -> dict[str, int]:
    """Write everything in ``store`` to the JSON Lines file ``path``; returns the counts by kind.

    From an encrypted store the personal fields (their history, and transactions' and interactions'
    free text) stay encrypted in the backup, bound to the store it came from and under each customer's
    own data key, which the backup does not hold: restoring it needs that store (``subject_keys=``), and
    a customer erased there since cannot be read from the backup any more (crypto-shredding).
    ``plaintext=True`` writes everything in the clear.

    A file that cannot be written (missing or read-only folder, full disk) raises StoreError naming
    ``path``; the previous file of that name, if any, is left as it was. ``path`` may be a URL
    (``s3://bucket/backup.jsonl``; see ``docs/urls.md``), as for :func:`restore`.
    """
    _store(store)
    target = _url(path) or _path(path)
    if isinstance(target, Path) and not target.absolute().parent.is_dir():
        raise StoreError(f"{target}: cannot write the backup: the folder does not exist")
    if isinstance(target, Path) and target.is_dir():
        raise StoreError(f"{target}: cannot write the backup: it is a folder, not a file")
    if not isinstance(plaintext, bool):
        raise ValidationError("plaintext must be True or False", field="plaintext")
    try:
        return _export(store, target, None if plaintext else getattr(store, "cipher", None))
    except ParseError as exc:  # a URL's missing bucket or folder (see custdata.io._atomic)
        raise StoreError(f"{target}: cannot write the backup: {exc}") from exc
    except OSError as exc:
        raise StoreError(f"{target}: cannot write the backup: {exc.strerror or exc}") from exc


def _store(store: object) -> None:
    if not isinstance(store, Store):
        raise ValidationError(f"expected a store (open_store), got {type(store).__name__}", field="store")


def _url(path: object) -> str | None:
    """``path`` if it is a URL (``s3://…``, ``memory://…``: written and read through fsspec)."""
    return path if isinstance(path, str) and url_scheme(path) not in (None, "file") else None


def _path(path: object) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ValidationError(f"must be a file path, got {type(path).__name__}", field="path")
    try:
        p = Path(path)
        os.fspath(p).encode("utf-8", "surrogateescape")
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"not a usable file path ({exc})", field="path") from None
    if "\x00" in str(p) or not str(p).strip():
        raise ValidationError("not a usable file path", field="path")
    return p


def _export(store: Store, target: Path | str, cipher: RecordCipher | None) -> dict[str, int]:
    counts = dict.fromkeys(_KINDS, 0)
    with atomic_write(target, encoding="utf-8", newline="\n") as out:
        header = {
            "format": BACKUP_FORMAT,
            "store_schema": STORE_SCHEMA_VERSION,
            "record_schema": SCHEMA_VERSION,
            "exported_at": now().isoformat(),
            "source": store.url,
        }
        key_of: _Keys | None = None
        if cipher is not None:
            enc: dict[str, Any] = {
                "store": cipher.encryptor.store,
                "index_bits": cipher.index.bits,
                "check": cipher.derive("keyring", "check"),
                # the custom attributes sealed with the personal fields: a restore keeps sealing them
                "sensitive_custom": sorted(cipher.sensitive_custom),
            }
            lookup = getattr(store, "subject_key", None)
            if callable(lookup):
                enc["subject_keys"] = True
                key_of = functools.lru_cache(maxsize=4096)(lookup)
            header["encrypted"] = enc
        out.write(encode(header) + "\n")
        for item in store.dump():
            line = _line(item, cipher, key_of)
            if line is None:
                continue
            kind, data = line
            counts[kind] += 1
            out.write(encode(data) + "\n")
        out.write(encode({"end": True, "counts": counts}) + "\n")
    log.info("exported %s to %s: %s", store.url, target, counts)
    return counts


def _time(value: Any) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected a date-time, got {value!r}")
    return dt.datetime.fromisoformat(value)


def _lines(path: Path | str) -> Generator[str, None, None]:
    """The file's lines as text; a line that is not UTF-8 is a ParseError naming it."""
    try:
        # closed below, also when the reader stops early
        f = open_file(path) if isinstance(path, str) else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise ParseError(f"cannot read the backup: {exc.strerror or exc}", path=str(path)) from None
    with f:
        row = 0
        try:
            for row, raw in enumerate(f, 1):
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise ParseError("the line is not UTF-8 text", path=str(path), row=row) from None
        except OSError as exc:
            raise ParseError(
                f"cannot read the backup: {exc.strerror or exc}", path=str(path), row=row + 1
            ) from None


def _backup_cipher(
    header: dict[str, Any], keyring: Keyring | None, path: Path | str, subject_keys: Any
) -> tuple[RecordCipher | None, _Keys | None]:
    """The cipher that opens an encrypted backup (None for a plaintext one), and where the customers'
    own data keys come from."""
    enc = header.get("encrypted")
    if enc is None:
        return None, None
    from custdata.security import RecordCipher

    key_of: _Keys | None = None
    if enc.get("subject_keys"):
        own = getattr(subject_keys, "cipher", None)
        if subject_keys is None or not callable(getattr(subject_keys, "subject_key", None)) or own is None:
            raise DecryptionError(
                f"{path}: the backup's personal data is under each customer's own data key, which only "
                "the store it came from holds: pass subject_keys=<that store, opened with its keyring>"
            )
        if own.encryptor.store != enc.get("store"):
            raise DecryptionError(f"{path}: subject_keys= is another store than the one the backup came from")
        key_of = subject_keys.subject_key
        if keyring is None:
            keyring = own.keyring

    if keyring is None:
        raise DecryptionError(
            f"{path}: the backup is encrypted: restore it into a store opened with its keyring, "
            "or pass keyring="
        )
    try:
        sensitive = enc.get("sensitive_custom", [])
        if not isinstance(sensitive, list) or not all(isinstance(n, str) for n in sensitive):
            raise ValueError("sensitive_custom")
        cipher = RecordCipher(
            keyring, store=str(enc["store"]), index_bits=int(enc["index_bits"]), sensitive_custom=sensitive
        )
        check = enc["check"]
    except (KeyError, TypeError, ValueError):
        raise ParseError("the backup's encryption header is damaged", path=str(path), row=1) from None
    if cipher.derive("keyring", "check") != check:
        raise DecryptionError(f"{path}: this keyring is not the backup's (its index key differs)")
    return cipher, key_of


def _items(
    path: Path | str,
    counts: dict[str, int],
    keyring: Keyring | None = None,
    subject_keys: Any = None,
    shredded: dict[str, Any] | None = None,
) -> Iterator[BackupItem]:
    """The backup's items; ``counts`` counts the lines read by kind. Items of customers whose own data
    key is gone (erased since the backup) are left out: ``shredded["ids"]`` gets their ids,
    ``shredded[kind]`` counts their lines."""
    gone = {"ids": set()} if shredded is None else shredded
    lines = _lines(path)
    with contextlib.closing(lines):
        first = next(lines, "")
        try:
            header = json.loads(first)
        except (ValueError, RecursionError):
            raise ParseError(
                "not a custdata store backup (the first line is not JSON)", path=str(path), row=1
            ) from None
        if not isinstance(header, dict) or header.get("format") != BACKUP_FORMAT:
            raise ParseError(
                f"not a custdata store backup (no {BACKUP_FORMAT!r} header)", path=str(path), row=1
            )
        version = header.get("store_schema")
        record_version = header.get("record_schema")
        if (
            type(version) is not int
            or not 1 <= version <= STORE_SCHEMA_VERSION  # the line format is the same in versions 1 to 5
            or not isinstance(record_version, int)
            or record_version > SCHEMA_VERSION
        ):
            raise SchemaVersionError(
                f"{path}: the backup has store schema {version!r} and record schema {record_version!r}; "
                f"this custdata reads store schemas 1 to {STORE_SCHEMA_VERSION} and record schemas up to "
                f"{SCHEMA_VERSION}"
            )
        cipher, key_of = _backup_cipher(header, keyring, path, subject_keys)
        if key_of is not None:
            gone["keys"] = True
        footer: dict[str, Any] | None = None
        for row, text in enumerate(lines, 2):
            if footer is not None:
                raise ParseError("data after the end marker", path=str(path), row=row)
            try:
                data = json.loads(text)
                if not isinstance(data, dict):
                    raise ValueError("a line must be a JSON object")
                item: BackupItem
                if "end" in data:
                    footer = data
                    continue
                kind = next((k for k in _KINDS if k in data), None)
                if key_of is not None and kind is not None:
                    body = data[kind]
                    cid = body["id"] if kind == "customer" else body["customer_id"]
                    key = key_of(str(cid))
                    if key is None:
                        counts[kind] += 1
                        gone["ids"].add(str(cid))
                        gone[kind] = gone.get(kind, 0) + 1
                        continue
                else:
                    key = None
                if "customer" in data:
                    deleted = data.get("deleted_at")
                    record = data["customer"]
                    if cipher is not None:
                        record = cipher.open_body(record, key)
                    item = StoredCustomer(
                        Customer.from_dict(record),
                        _time(data["stored_at"]),
                        None if deleted is None else _time(deleted),
                    )
                    counts["customer"] += 1
                elif "history" in data:
                    entry = data["history"]
                    if cipher is not None:
                        entry = {
                            **entry,
                            "changes": cipher.open_changes(entry["customer_id"], entry["changes"], key),
                        }
                    item = HistoryEntry.from_dict(entry)
                    counts["history"] += 1
                elif "transaction" in data:
                    d = data["transaction"]
                    item = Transaction.from_dict(d if cipher is None else cipher.open_activity(d, key))
                    counts["transaction"] += 1
                elif "interaction" in data:
                    d = data["interaction"]
                    item = Interaction.from_dict(d if cipher is None else cipher.open_activity(d, key))
                    counts["interaction"] += 1
                else:
                    raise ValueError(f"unknown line kind {sorted(data)!r}")
            except (SchemaVersionError, DecryptionError):
                raise
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                raise ParseError(f"corrupt backup line: {_reason(exc)}", path=str(path), row=row) from None
            yield item
        if footer is None:
            raise ParseError("the backup is truncated (no end marker)", path=str(path))
        if footer.get("counts") != counts:
            raise ParseError(
                f"the backup's counts {footer.get('counts')} do not match its lines {counts}", path=str(path)
            )


def _sealed_custom(path: Path | str) -> list[str]:
    """The custom attributes an encrypted backup seals (read from its header line; [] for anything else:
    reading the items reports a bad file properly)."""
    lines = _lines(path)
    with contextlib.closing(lines):
        try:
            enc = json.loads(next(lines, "")).get("encrypted") or {}
            names = enc.get("sensitive_custom") or []
        except (ValueError, AttributeError, RecursionError, ParseError):
            return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, KeyError):
        return f"missing {exc}"
    return str(exc)


def restore(
    store: Store,
    path: str | os.PathLike[str],
    *,
    keyring: Keyring | None = None,
    subject_keys: Store | None = None,
) -> dict[str, int]:
    """Load the backup at ``path`` into the empty ``store``; all or nothing. Returns the counts by kind.

    An encrypted backup opens with ``keyring`` or, without one, with the keyring ``store`` was opened with
    (a wrong one raises :class:`~custdata.exceptions.DecryptionError`); its customers' own data keys come
    from ``subject_keys``, the encrypted store the backup was written from (DecryptionError without it).
    A customer erased there since the backup was written cannot be read: it is left out, with its
    history, transactions and interactions, and counted under ``"shredded"`` (present for backups
    under per-customer keys). Where the records go, they
    are stored as that store stores them (encrypted in an encrypted store, under new data keys).

    An unknown schema version raises :class:`~custdata.exceptions.SchemaVersionError`; a corrupt or
    truncated file raises :class:`~custdata.exceptions.ParseError` naming the line.
    """
    _store(store)
    if subject_keys is not None:
        _store(subject_keys)
    counts = dict.fromkeys(_KINDS, 0)
    if keyring is None:
        own = getattr(store, "cipher", None)
        keyring = None if own is None else own.keyring
    shredded: dict[str, Any] = {"ids": set()}
    target = _url(path) or _path(path)
    sensitive = _sealed_custom(target)
    seal_too = getattr(store, "seal_custom_too", None)
    if sensitive and callable(seal_too):
        seal_too(sensitive)  # an empty encrypted store keeps sealing what the backup sealed
    store.load(_items(target, counts, keyring, subject_keys, shredded))
    out = {kind: n - shredded.get(kind, 0) for kind, n in counts.items()}
    if shredded.get("keys"):
        out["shredded"] = len(shredded["ids"])
    log.info("restored %s into %s: %s", path, store.url, out)
    return out
