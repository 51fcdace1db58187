"""The checks of the arguments every reader and writer makes before touching the file system or data,
and the one place files are opened: local paths with ``open``, URLs through fsspec.

A path that the operating system could never open (not text, a NUL character, a lone surrogate that
is not an undecodable byte) is a :class:`~custdata.exceptions.ValidationError` naming the argument, not
the ``TypeError``/``ValueError``/``UnicodeEncodeError`` the ``os`` functions would raise.

A path of the form ``scheme://…`` is a URL: ``file://`` is the local path after it; any other scheme
(``s3://``, ``gs://``, ``abfs://``, ``memory://`` …) goes through fsspec (the ``urls`` extra, and the
scheme's own package: s3fs, gcsfs, adlfs), and fsspec's and the cloud SDKs' exceptions are mapped here
to custdata's: a missing file, a folder or a refused read is a
:class:`~custdata.exceptions.ParseError`, an unknown scheme a :class:`~custdata.exceptions.ValidationError`,
a missing package a :class:`~custdata.exceptions.MissingExtraError` naming the extra.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any, TypeVar

from custdata._bulk import items_of
from custdata.exceptions import MissingExtraError, ParseError, ValidationError

__all__ = [
    "check_encoding",
    "cloud_error",
    "file_name",
    "filesystem",
    "is_cloud_error",
    "iterable",
    "open_file",
    "remote_error",
    "url_scheme",
]

T = TypeVar("T")


def iterable(items: Iterable[T], field: str = "records") -> Iterator[T]:
    """An iterator over ``items`` (``ValidationError`` naming ``field`` for something not iterable)."""
    return items_of(items, field)


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
    scheme = url_scheme(name)
    if scheme == "file":
        rest = name[len("file://") :]
        if rest.startswith("localhost/"):
            rest = rest[len("localhost") :]
        if not rest.startswith("/"):
            raise ValidationError(
                "a file:// URL names an absolute path (file:///folder/name.csv)", field=field
            )
        name = rest
    elif scheme is not None:
        return name
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


_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]+)://")  # two letters at least: C:// is not a scheme

#: The extra (and its packages) each scheme needs beyond fsspec.
_EXTRAS = {
    "s3": ("s3", ["fsspec", "s3fs"]),
    "s3a": ("s3", ["fsspec", "s3fs"]),
    "gs": ("gcs", ["fsspec", "gcsfs"]),
    "gcs": ("gcs", ["fsspec", "gcsfs"]),
    "abfs": ("azure", ["fsspec", "adlfs"]),
    "abfss": ("azure", ["fsspec", "adlfs"]),
    "az": ("azure", ["fsspec", "adlfs"]),
}


def url_scheme(name: str) -> str | None:
    """The scheme of a URL (``"s3"`` for ``s3://bucket/key``), lower-cased; None for a local path."""
    m = _URL.match(name)
    return m.group(1).lower() if m else None


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of a URL and the path on it."""
    scheme = url_scheme(url) or "file"
    extra, packages = _EXTRAS.get(scheme, ("urls", ["fsspec"]))
    try:
        import fsspec
    except ImportError as exc:
        raise MissingExtraError(extra, f"reading and writing {scheme}:// URLs", packages) from exc
    try:
        fsspec.get_filesystem_class(scheme)
    except ImportError as exc:
        raise MissingExtraError(extra, f"reading and writing {scheme}:// URLs", packages) from exc
    except ValueError:
        raise ValidationError(f"no file system for {scheme}:// URLs", field="path") from None
    try:
        return fsspec.core.url_to_fs(url)  # type: ignore[no-any-return]
    except ImportError as exc:
        raise MissingExtraError(extra, f"reading and writing {scheme}:// URLs", packages) from exc
    except Exception as exc:  # a file system that cannot start (credentials, options): its own words
        raise ParseError(f"cannot reach the file system ({type(exc).__name__}: {exc})", path=url) from None


#: HTTP statuses of the cloud SDKs' own errors, as the builtin error a local file would give.
_STATUS_ERRORS: dict[int, type[OSError]] = {
    401: PermissionError,
    403: PermissionError,
    404: FileNotFoundError,
}


def _http_status(exc: BaseException) -> int | None:
    """The HTTP status of a cloud SDK's error: ``status_code`` of azure-core's ``HttpResponseError``
    (adlfs), ``code`` of gcsfs's ``HttpError``; None for any other exception."""
    for attr in ("status_code", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and not isinstance(value, bool) and 400 <= value < 600:
            return value
    return None


def cloud_error(exc: BaseException) -> BaseException:
    """A file system's exception as the builtin ``OSError`` it stands for, where the file system did not
    map it itself (s3fs does; adlfs and gcsfs pass some HTTP errors on): a refused credential (401, 403,
    gcsfs's ``OSError("Forbidden: …")``) is a ``PermissionError``, a missing container or object (404) a
    ``FileNotFoundError``. adlfs's ``RuntimeError("Failed to upload block …")`` is judged by its cause.
    The message keeps the service's short error code only (the SDKs' texts carry request ids and XML).
    Anything else is returned unchanged."""
    if type(exc) is RuntimeError and exc.__cause__ is not None and _http_status(exc.__cause__) is not None:
        exc = exc.__cause__
    status = _http_status(exc)
    if status is None:
        if type(exc) is OSError and str(exc).startswith("Forbidden:"):  # gcsfs's 403
            return PermissionError(errno.EACCES, "permission denied")
        return exc
    kind = _STATUS_ERRORS.get(status)
    code = getattr(exc, "error_code", None) or getattr(getattr(exc, "error", None), "code", None)
    code = getattr(code, "value", code)  # azure's StorageErrorCode is a str enum
    words = f"HTTP {status}" + (f", {code}" if isinstance(code, str) and code.isidentifier() else "")
    if kind is PermissionError:
        return PermissionError(errno.EACCES, f"permission denied ({words})")
    if kind is FileNotFoundError:
        return FileNotFoundError(errno.ENOENT, f"not found ({words})")
    return OSError(errno.EIO, f"the service refused the request ({words})")


def is_cloud_error(exc: BaseException) -> bool:
    """Is ``exc`` (or the cause adlfs wraps in a ``RuntimeError``) a file system's HTTP error?"""
    return cloud_error(exc) is not exc


def remote_error(exc: BaseException, url: str) -> ParseError:
    """A file system's error while opening or reading ``url``, in one wording for every reader."""
    exc = cloud_error(exc)
    if isinstance(exc, FileNotFoundError):
        return ParseError("no such file", path=url)
    if isinstance(exc, IsADirectoryError):
        return ParseError("is a directory, not a file", path=url)
    if isinstance(exc, PermissionError):
        return ParseError("permission denied", path=url)
    if isinstance(exc, OSError):
        return ParseError(f"cannot read the file: {exc.strerror or exc}", path=url)
    return ParseError(f"cannot read the file ({type(exc).__name__}: {exc})", path=url)


def _open_url(name: str, mode: str, **kwargs: Any) -> IO[Any]:
    fs, path = filesystem(name)
    try:
        # Opening asks the service for the object's details once, and they tell a folder apart (asking
        # isdir first cost every read a second round trip); a file system that keeps no details and
        # cannot open a folder is asked after a failed open.
        raw = fs.open(path, "rb")
        details = getattr(raw, "details", None)
        if isinstance(details, dict) and details.get("type") == "directory":
            raw.close()
            raise IsADirectoryError(path)
    except Exception as exc:
        if not isinstance(exc, IsADirectoryError) and _is_folder(fs, path):
            exc = IsADirectoryError(path)
        raise remote_error(exc, name) from None
    if "b" in mode:
        return raw  # type: ignore[no-any-return]
    return io.TextIOWrapper(raw, encoding=kwargs.get("encoding"), newline=kwargs.get("newline"))


def _is_folder(fs: Any, path: str) -> bool:
    try:
        return bool(fs.isdir(path))
    except Exception:  # the service's own error for the open is the one to report
        return False


def open_file(name: str, mode: str = "rb", **kwargs: Any) -> IO[Any]:
    """``open(name, mode, **kwargs)`` for reading (a URL through fsspec), with a file that is missing, a
    folder or not readable raised as :class:`~custdata.exceptions.ParseError` naming it (one wording
    for every reader)."""
    if url_scheme(name) is not None:
        return _open_url(name, mode, **kwargs)
    try:
        return open(name, mode, **kwargs)
    except FileNotFoundError:
        raise ParseError("no such file", path=name) from None
    except IsADirectoryError:
        raise ParseError("is a directory, not a file", path=name) from None
    except PermissionError:
        raise ParseError("permission denied", path=name) from None
