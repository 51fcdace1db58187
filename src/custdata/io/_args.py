"""The checks of the arguments every reader and writer makes before touching the file system or data.

A path that the operating system could never open (not text, a NUL character, a lone surrogate that
is not an undecodable byte) is a :class:`~custdata.exceptions.ValidationError` naming the argument, not
the ``TypeError``/``ValueError``/``UnicodeEncodeError`` the ``os`` functions would raise.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any, TypeVar

from custdata.exceptions import ParseError, ValidationError

__all__ = ["check_encoding", "file_name", "iterable", "open_file"]

T = TypeVar("T")


def iterable(items: Iterable[T], field: str = "records") -> Iterator[T]:
    """An iterator over ``items`` (``ValidationError`` naming ``field`` for something not iterable)."""
    try:
        return iter(items)
    except TypeError:
        raise ValidationError(
            f"must be an iterable of records, got {type(items).__name__}", field=field
        ) from None


def file_name(path: object, field: str = "path") -> str:
    """``path`` as text, once it is known to be one the file system can take."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValidationError(f"must be a file path, got {type(path).__name__}", field=field)
    name = os.fspath(path)
    if not isinstance(name, str):
        raise ValidationError(f"must be a text file path, got {type(name).__name__}", field=field)
    if "\x00" in name:
        raise ValidationError("a file path cannot hold a NUL character", field=field)
    if not name:
        raise ValidationError("the file path is empty", field=field)
    if not name.isascii():
        try:
            os.fsencode(name)
        except UnicodeEncodeError:
            raise ValidationError("the file path is not valid text (a lone surrogate)", field=field) from None
    return name


def check_encoding(encoding: object) -> str:
    """A known codec name (``ValidationError`` naming ``encoding`` otherwise)."""
    if not isinstance(encoding, str):
        raise ValidationError(f"must be a codec name, got {type(encoding).__name__}", field="encoding")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValidationError(f"unknown encoding {encoding!r}", field="encoding") from None
    return encoding


def open_file(name: str, mode: str = "rb", **kwargs: Any) -> IO[Any]:
    """``open(name, mode, **kwargs)`` for reading, with a file that is missing, a folder or not readable
    raised as :class:`~custdata.exceptions.ParseError` naming it (one wording for every reader)."""
    try:
        return open(name, mode, **kwargs)
    except FileNotFoundError:
        raise ParseError("no such file", path=name) from None
    except IsADirectoryError:
        raise ParseError("is a directory, not a file", path=name) from None
    except PermissionError:
        raise ParseError("permission denied", path=name) from None
