"""One atomic-write helper for every file custdata writes (CSV, JSON Lines, Parquet, store backups).

A local file is written to a temporary file beside it and renamed into place. A URL (see
:mod:`custdata.io._args`) is written through fsspec:

* ``s3://`` and ``gs://``: the object is uploaded with fsspec's ``autocommit=False`` and committed at
  the end (a single PUT or the completion of a multipart upload): the object appears whole or not at all,
  and an error aborts the upload;
* any other file system (``memory://``, ``abfs://`` …): a temporary object beside the target
  (``.name.<random>.tmp``), moved onto the target at the end and removed on an error. Atomic where the
  file system's move is (``memory://``, local); on object stores whose move is a server-side copy
  (``abfs://`` without a hierarchical namespace) the copy is of a complete object.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from custdata.exceptions import ParseError
from custdata.io._args import check_encoding, cloud_error, file_name, filesystem, is_cloud_error, url_scheme

__all__ = ["atomic_write", "atomic_write_bytes"]

#: Schemes whose files commit on request (the object appears only when committed).
_COMMITTING = frozenset({"s3", "s3a", "gs", "gcs"})


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], *, encoding: str = "utf-8", newline: str | None = None
) -> Iterator[IO[str]]:
    """A text file that appears at ``path`` only when the block finishes without an error.

    The text goes to a temporary file beside ``path`` (same folder, so the rename is atomic), which is
    flushed to disk and renamed over ``path``; on any error it is removed and ``path`` is left as it was.
    A file that is replaced keeps its permission bits; a new one is readable and writable by its owner
    only (it holds customer data). A missing folder raises :class:`~custdata.exceptions.ParseError`; an
    operating-system error (no space left, permission denied …) is raised as the same ``OSError`` with
    ``filename`` the target, never the temporary file. ``path`` may be a URL (see the module notes).
    """
    name = file_name(path)
    check_encoding(encoding)
    if url_scheme(name) is not None:
        with _remote(name) as raw:
            fh = io.TextIOWrapper(raw, encoding=encoding, newline=newline)
            try:
                yield fh
            finally:
                fh.detach()  # flushes into the object; closing it is _remote's (commit or discard)
        return
    with _local(name, "w", encoding, newline) as fh:
        yield fh


@contextlib.contextmanager
def atomic_write_bytes(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """:func:`atomic_write` for a binary file."""
    name = file_name(path)
    if url_scheme(name) is not None:
        with _remote(name) as raw:
            yield raw
        return
    with _local(name, "wb", None, None) as fh:
        yield fh


@contextlib.contextmanager
def _local(name: str, mode: str, encoding: str | None, newline: str | None) -> Iterator[Any]:
    target = Path(name)
    if target.is_dir():
        raise ParseError("is a directory, not a file", path=str(target))
    directory = target.parent if str(target.parent) else Path(".")
    try:
        perms: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        perms = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        raise ParseError("the folder does not exist", path=name) from None
    except OSError as exc:
        raise _for_target(exc, str(target)) from None
    try:
        with open(fd, mode, encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if perms is not None:
            os.chmod(tmp, perms)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _for_target(exc, str(target)) from None
        raise


@contextlib.contextmanager
def _remote(url: str) -> Iterator[Any]:
    fs, path = filesystem(url)
    try:
        if fs.isdir(path):
            raise ParseError("is a directory, not a file", path=url)
    except ParseError:
        raise
    except Exception as exc:
        raise _write_error(exc, url) from None
    if (url_scheme(url) or "") in _COMMITTING:
        try:
            fh = fs.open(path, "wb", autocommit=False)
        except Exception as exc:
            raise _write_error(exc, url) from None
        try:
            yield fh
            fh.close()
            fh.commit()
        except BaseException as exc:
            with contextlib.suppress(Exception):
                fh.discard()
            fh.closed = True  # discarded: a later close() must not start an upload
            if isinstance(exc, Exception) and not _ours(exc):
                raise _write_error(exc, url) from None
            raise
        return
    folder, _, base = path.rpartition("/")
    tmp = (
        f"{folder}/.{base}.{uuid.uuid4().hex[:12]}.tmp" if folder else f".{base}.{uuid.uuid4().hex[:12]}.tmp"
    )
    try:
        fh = fs.open(tmp, "wb")
    except Exception as exc:
        raise _write_error(exc, url) from None
    try:
        with fh:
            yield fh
        fs.mv(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            fs.rm(tmp)
        if isinstance(exc, Exception) and not _ours(exc):
            raise _write_error(exc, url) from None
        raise


def _ours(exc: BaseException) -> bool:
    """An error of the caller's block (custdata's own, or a plain Python error) rather than the file
    system's: passed on unchanged."""
    from custdata.exceptions import CustdataError

    return isinstance(exc, CustdataError) or (
        not isinstance(exc, OSError) and type(exc).__module__ == "builtins" and not is_cloud_error(exc)
    )


def _write_error(exc: BaseException, url: str) -> Exception:
    """A file system's error while writing ``url``: a missing bucket or folder is a ParseError as for a
    local file; an operating-system error keeps its type, naming the URL; anything else (a cloud SDK's
    own exception) becomes an ``OSError`` naming the URL and the error's type. A cloud SDK's HTTP error
    is first the builtin error it stands for (:func:`~custdata.io._args.cloud_error`)."""
    exc = cloud_error(exc)
    if isinstance(exc, FileNotFoundError):
        return ParseError("the folder or bucket does not exist", path=url)
    if isinstance(exc, OSError):
        return _for_target(exc, url)
    return OSError(f"cannot write the file ({type(exc).__name__}: {exc})")


def _for_target(exc: OSError, target: str) -> OSError:
    """The same kind of error, naming the file the caller asked for."""
    try:
        return type(exc)(exc.errno, exc.strerror or str(exc), target)
    except TypeError:  # an OSError subclass with another signature
        return OSError(exc.errno, exc.strerror or str(exc), target)
