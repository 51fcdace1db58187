"""An append-only, hash-chained audit log (JSON Lines), with signed checkpoints against truncation.

Each entry is one JSON object on one line::

    {"seq": 0, "at": "...", "actor": "alice", "action": "read", "record_id": "c1", "fields": ["phones"],
     "purpose": "support", "prev": "000…", "hash": "…"}

``hash`` is SHA-256 (HMAC-SHA256 with a ``signing_key``) of the entry's other keys in canonical JSON,
``prev`` the hash of the entry before it, ``seq`` its position. Editing, removing or reordering entries
breaks the chain at the first entry touched, and :meth:`AuditLog.verify` names it. Rewriting the whole
chain after an edit is only detectable with a signing key (the attacker cannot recompute the HMACs);
cutting entries off the end is only detectable against a :meth:`AuditLog.checkpoint` kept elsewhere.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs

from custdata.exceptions import ValidationError

__all__ = ["AuditLog", "AuditSink", "AuditVerdict", "JsonlSink", "MemorySink", "StoreSink"]

GENESIS = "0" * 64

try:  # POSIX: several processes may append to one file; the lock keeps the chain linear
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows: one writing process per file

    def _lock(fd: int) -> None:
        return None

    def _unlock(fd: int) -> None:
        return None


@runtime_checkable
class AuditSink(Protocol):
    """Where entries go. ``append`` calls ``make(last_line)`` while holding the sink's lock and appends
    the line it returns (so concurrent writers never fork the chain); ``lines`` reads them all back."""

    def append(self, make: Callable[[str | None], str]) -> str: ...

    def lines(self) -> Iterator[str]: ...


class MemorySink:
    """Entries kept in a list (tests, short-lived tools)."""

    def __init__(self) -> None:
        self.entries: list[str] = []
        self._lock = threading.Lock()

    def append(self, make: Callable[[str | None], str]) -> str:
        with self._lock:
            line = make(self.entries[-1] if self.entries else None)
            self.entries.append(line)
            return line

    def lines(self) -> Iterator[str]:
        return iter(list(self.entries))


class JsonlSink:
    """A JSON Lines file, opened for appending only. ``durable=True`` syncs each entry to disk."""

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = False) -> None:
        self.path = Path(path)
        self.durable = durable
        self._lock = threading.Lock()
        if not self.path.parent.is_dir():
            raise ValidationError("the audit log's folder does not exist", field="path")

    def _last_line(self, fd: int) -> str | None:
        end = os.lseek(fd, 0, os.SEEK_END)
        if end == 0:
            return None
        block, buf, pos = 4096, b"", end
        while pos > 0:
            step = min(block, pos)
            pos -= step
            buf = os.pread(fd, step, pos) + buf
            body = buf.rstrip(b"\n")
            nl = body.rfind(b"\n")
            if nl >= 0:
                return body[nl + 1 :].decode("utf-8", "replace")
        body = buf.rstrip(b"\n")
        return body.decode("utf-8", "replace") if body else None

    def append(self, make: Callable[[str | None], str]) -> str:
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                _lock(fd)
                try:
                    line = make(self._last_line(fd))
                    os.write(fd, (line + "\n").encode("utf-8"))
                    if self.durable:
                        os.fsync(fd)
                finally:
                    _unlock(fd)
            finally:
                os.close(fd)
            return line

    def lines(self) -> Iterator[str]:
        try:
            with open(self.path, encoding="utf-8", errors="replace", newline="\n") as fh:
                for line in fh:
                    if line.strip():
                        yield line.rstrip("\n")
        except FileNotFoundError:
            return


class StoreSink:
    """The audit table of a store (``cd_audit`` in SQLite and PostgreSQL stores, a list in a memory
    store): the same hash-chained entries as a JSON Lines file, kept beside the data they are about.

    Each entry is written inside the store's current :meth:`transaction`, so it commits with the work it
    records and is rolled back with it (an entry made outside a transaction commits at once). The
    store's lock keeps the chain linear when several processes append. Backups written by
    ``storage.export`` do not carry the audit table: back the database up to keep it.
    """

    def __init__(self, store: Any) -> None:
        if not callable(getattr(store, "audit_append", None)) or not callable(
            getattr(store, "audit_lines", None)
        ):
            raise ValidationError(
                f"{type(store).__name__} has no audit table (SQLite, PostgreSQL and memory stores do)",
                field="store",
            )
        self.store = store

    def append(self, make: Callable[[str | None], str]) -> str:
        return str(self.store.audit_append(make))

    def lines(self) -> Iterator[str]:
        return iter(self.store.audit_lines())


@attrs.frozen
class AuditVerdict:
    """The result of :meth:`AuditLog.verify`: true when the chain is intact.

    When it is not, ``line`` is the 1-based line of the first entry found changed, removed, reordered
    (or missing at the end, against a checkpoint), and ``problem`` says which."""

    ok: bool
    entries: int
    line: int | None = None
    problem: str | None = None

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return (
            f"audit chain intact ({self.entries} entries)" if self.ok else f"line {self.line}: {self.problem}"
        )


def _canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class AuditLog:
    """An append-only, hash-chained log of who did what to which record, and why.

    >>> import tempfile, os
    >>> log = AuditLog(os.path.join(tempfile.mkdtemp(), "audit.jsonl"))
    >>> _ = log.record(actor="alice", action="read", record_id="c1", fields=["phones"], purpose="support")
    >>> bool(log.verify())
    True
    """

    def __init__(
        self,
        path_or_sink: str | os.PathLike[str] | AuditSink,
        *,
        signing_key: bytes | None = None,
        durable: bool = False,
    ) -> None:
        if isinstance(path_or_sink, (str, os.PathLike)):
            self.sink: AuditSink = JsonlSink(path_or_sink, durable=durable)
        elif isinstance(path_or_sink, AuditSink):
            self.sink = path_or_sink
        else:
            raise ValidationError("give a file path or an AuditSink", field="path_or_sink")
        if signing_key is not None and (not isinstance(signing_key, bytes) or len(signing_key) < 16):
            raise ValidationError("a signing key is at least 16 bytes", field="signing_key")
        self._key = signing_key

    def _digest(self, entry: dict[str, Any]) -> str:
        data = _canonical(entry)
        if self._key is None:
            return hashlib.sha256(data).hexdigest()
        return hmac.new(self._key, data, hashlib.sha256).hexdigest()

    def record(
        self,
        *,
        actor: str,
        action: str,
        record_id: str | None,
        fields: Iterable[str] = (),
        purpose: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Append one entry and return it (with its ``seq`` and ``hash``). ``details``: JSON-safe facts
        about the operation (counts, cut-off times; never personal data), kept under ``"details"`` and
        covered by the hash like every other key (entries without details have no such key)."""
        if not isinstance(actor, str) or not actor:
            raise ValidationError("an audit entry needs an actor", field="actor")
        if not isinstance(action, str) or not action:
            raise ValidationError("an audit entry needs an action", field="action")
        if isinstance(fields, str):
            raise ValidationError("fields is a list of field names, not one string", field="fields")
        field_list = [str(f) for f in fields]
        extra: dict[str, Any] | None = None
        if details is not None:
            if not isinstance(details, Mapping):
                raise ValidationError("details is a mapping of JSON-safe values", field="details")
            try:
                extra = json.loads(json.dumps(dict(details), ensure_ascii=False, allow_nan=False))
            except (TypeError, ValueError, RecursionError):
                raise ValidationError(
                    "details must be JSON-safe (text keys, finite numbers)", field="details"
                ) from None
        at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")
        made: dict[str, Any] = {}

        def make(last: str | None) -> str:
            if last is None:
                seq, prev = 0, GENESIS
            else:
                try:
                    before = json.loads(last)
                    seq, prev = int(before["seq"]) + 1, str(before["hash"])
                except (ValueError, KeyError, TypeError):
                    raise ValidationError(
                        "the audit log's last entry is damaged: verify() it before appending", field="path"
                    ) from None
            entry = {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "record_id": record_id,
                "fields": field_list,
                "purpose": purpose,
                "prev": prev,
            }
            if extra is not None:
                entry["details"] = extra
            entry["hash"] = self._digest(entry)
            made.update(entry)
            return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))

        self.sink.append(make)
        return made

    def entries(self) -> Iterator[dict[str, Any]]:
        """The entries as stored (not verified)."""
        for line in self.sink.lines():
            with contextlib.suppress(ValueError):
                yield json.loads(line)

    def checkpoint(self) -> str:
        """A signed note of the chain's head (``seq.hash.signature``); keep it somewhere else (another
        system, a ticket), and pass it to :meth:`verify` later to detect entries cut off the end."""
        if self._key is None:
            raise ValidationError("a checkpoint needs the log's signing_key", field="signing_key")
        head = None
        for line in self.sink.lines():
            head = line
        seq, h = (-1, GENESIS) if head is None else (json.loads(head)["seq"], json.loads(head)["hash"])
        body = f"{seq}.{h}"
        return f"{body}.{hmac.new(self._key, b'checkpoint ' + body.encode(), hashlib.sha256).hexdigest()}"

    def verify(self, *, checkpoint: str | None = None) -> AuditVerdict:
        """Check the whole chain (and, given a checkpoint, that it still reaches that head)."""
        lines = list(self.sink.lines())
        parsed: list[dict[str, Any] | None] = []
        for line in lines:
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            parsed.append(obj if isinstance(obj, dict) else None)
        seqs = [p.get("seq") if p else None for p in parsed]
        prev = GENESIS
        for i, entry in enumerate(parsed):
            line_no = i + 1
            if entry is None or "hash" not in entry:
                return AuditVerdict(
                    False, len(lines), line_no, "the entry is not a valid audit entry (changed)"
                )
            body = {k: v for k, v in entry.items() if k != "hash"}
            if not hmac.compare_digest(str(entry["hash"]), self._digest(body)):
                return AuditVerdict(False, len(lines), line_no, "the entry was changed")
            seq = entry.get("seq")
            if seq != i:
                if isinstance(seq, int) and seq > i and i not in seqs[i + 1 :]:
                    return AuditVerdict(False, len(lines), line_no, f"entries {i} to {seq - 1} were removed")
                return AuditVerdict(False, len(lines), line_no, f"entry {seq} is out of order (reordered)")
            if entry.get("prev") != prev:
                return AuditVerdict(False, len(lines), line_no, "the entry does not follow the one before it")
            prev = str(entry["hash"])
        if checkpoint is not None:
            problem = self._check_point(checkpoint, parsed)
            if problem:
                return AuditVerdict(False, len(lines), len(lines) + 1, problem)
        return AuditVerdict(True, len(lines))

    def _check_point(self, checkpoint: str, parsed: list[dict[str, Any] | None]) -> str | None:
        if self._key is None:
            raise ValidationError("verifying a checkpoint needs the log's signing_key", field="signing_key")
        try:
            seq_text, h, sig = checkpoint.split(".")
            seq = int(seq_text)
        except ValueError:
            return "the checkpoint is malformed"
        expected = hmac.new(self._key, f"checkpoint {seq_text}.{h}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, expected):
            return "the checkpoint's signature does not verify"
        if seq < 0:
            return None
        if seq >= len(parsed):
            return f"entries from {len(parsed)} to {seq} were cut off the end (checkpoint)"
        entry = parsed[seq]
        if entry is None or entry.get("hash") != h:
            return f"entry {seq} differs from the checkpoint"
        return None
