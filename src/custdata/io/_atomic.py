"""One atomic-write helper for every file custdata writes (CSV, JSON Lines, store backups)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from custdata.exceptions import ParseError
from custdata.io._args import check_encoding, file_name

__all__ = ["atomic_write"]


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
    ``filename`` the target, never the temporary file.
    """
    target = Path(file_name(path))
    if target.is_dir():
        raise ParseError("is a directory, not a file", path=str(target))
    check_encoding(encoding)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        raise ParseError("the folder does not exist", path=str(path)) from None
    except OSError as exc:
        raise _for_target(exc, target) from None
    try:
        with open(fd, "w", encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _for_target(exc, target) from None
        raise


def _for_target(exc: OSError, target: Path) -> OSError:
    """The same kind of error, naming the file the caller asked for."""
    try:
        return type(exc)(exc.errno, exc.strerror or str(exc), str(target))
    except TypeError:  # an OSError subclass with another signature
        return OSError(exc.errno, exc.strerror or str(exc), str(target))
