"""Partitioned readers: one file per partition, each read by the single-machine reader on a worker, its
per-row problems kept beside its records with the file's name."""

from __future__ import annotations

import inspect
import io
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import dask.bag as db
import fsspec
from dask.base import compute
from dask.delayed import Delayed, delayed

from custdata._bulk import check_errors
from custdata.exceptions import ParseError, ValidationError
from custdata.io import RowProblem
from custdata.io import read_csv as _read_csv
from custdata.io import read_jsonl as _read_jsonl
from custdata.io import read_parquet as _read_parquet
from custdata.io._args import open_file
from custdata.io._jsonl import _row_ids, jsonl_reader
from custdata.io._problems import record_class

__all__ = [
    "DEFAULT_BLOCKSIZE",
    "FileProblem",
    "PartitionedRead",
    "expand_paths",
    "read_csv",
    "read_jsonl",
    "read_parquet",
]

DEFAULT_BLOCKSIZE = 64 * 2**20
"""JSON Lines files larger than this (bytes) are read in byte ranges of about this size, one per partition."""
_SCAN = 2**16  # bytes read at a time when looking for the next line break


@attrs.frozen
class FileProblem:
    """A per-row problem of one input file: the file (as given or expanded from a glob) and the
    :class:`~custdata.io.RowProblem` the single-machine reader reports for that row."""

    path: str
    problem: RowProblem


_Part = tuple[list[Any], list[FileProblem]]


class PartitionedRead:
    """The records of many files as a Dask bag, one file (or one byte range of a large JSON Lines file) per
    partition, and their per-row problems.

    ``records`` is a :class:`dask.bag.Bag` of records; ``problems`` a bag of :class:`FileProblem`
    (filled with ``errors="collect"``). Both come from one read of each file: :meth:`compute` returns
    both at once without reading twice. ``paths`` lists the files in order.
    """

    def __init__(self, parts: db.Bag, paths: Sequence[str]) -> None:
        self._parts = parts
        self.paths = list(paths)
        self.records: db.Bag = parts.map(_first).flatten()  # type: ignore[no-untyped-call]
        self.problems: db.Bag = parts.map(_second).flatten()  # type: ignore[no-untyped-call]

    def __repr__(self) -> str:
        return f"<PartitionedRead: {len(self.paths)} file(s)>"

    def compute(self, **kwargs: Any) -> tuple[list[Any], list[FileProblem]]:
        """Read every file: the records (in file order, then row order) and the problems."""
        records, problems = compute(self.records, self.problems, **kwargs)  # type: ignore[no-untyped-call]
        return list(records), list(problems)


def _first(part: _Part) -> list[Any]:
    return part[0]


def _second(part: _Part) -> list[FileProblem]:
    return part[1]


def expand_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[str]:
    """A path, a glob, a URL (any fsspec protocol, globs allowed) or a list of them, as the list of files
    (sorted within each glob), each keeping its protocol."""
    items: list[object]
    if isinstance(paths, (str, os.PathLike)):
        items = [paths]
    else:
        try:
            items = list(paths)
        except TypeError:
            what = type(paths).__name__
            raise ValidationError(f"expected paths, a glob or a URL, got {what}", field="paths") from None
    out: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise ValidationError(
                f"expected a path, a glob or a URL, got {type(item).__name__}", field="paths"
            )
        name = os.fspath(item)
        if not isinstance(name, str) or not name:
            raise ValidationError("expected a non-empty text path", field="paths")
        if not any(c in name for c in "*?["):
            out.append(name)
            continue
        try:
            fs, _, found = fsspec.get_fs_token_paths(name)
        except (ValueError, OSError, ImportError) as exc:  # an unknown protocol, a bad URL
            raise ParseError(f"cannot list the files ({type(exc).__name__})", path=name) from None
        if not found:
            raise ParseError("no file matches this pattern", path=name)
        local = fs.protocol in ("file", ("file", "local")) or "file" in fs.protocol
        out.extend(sorted(p if local else fs.unstrip_protocol(p) for p in found))
    if not out:
        raise ValidationError("no input files given", field="paths")
    return out


def _reader(path: str, fn: Callable[..., Any], kwargs: dict[str, Any]) -> _Part:
    reader = fn(path, **kwargs)
    with reader:
        records = list(reader)
    return records, [FileProblem(path, p) for p in reader.problems]


def _check(fn: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    check_errors(kwargs.get("errors", "raise"))
    try:
        inspect.signature(fn).bind("path", **kwargs)
    except TypeError as exc:
        raise ValidationError(f"{fn.__name__}: {exc}", field="kwargs") from None


def _partitioned(fn: Callable[..., Any], paths: Any, kwargs: dict[str, Any]) -> PartitionedRead:
    _check(fn, kwargs)
    files = expand_paths(paths)
    bag = db.from_sequence(files, npartitions=len(files)).map(_reader, fn, kwargs)  # type: ignore[no-untyped-call]
    return PartitionedRead(bag, files)


# ------------------------------------------------------------------------- JSON Lines read in byte ranges
# A JSON Lines record never spans a line break, so a large file splits safely at "\n" (a byte that never
# occurs inside a UTF-8 sequence). Range k covers the bytes from the first line start at or after
# k * blocksize to the first line start at or after (k + 1) * blocksize: the ranges cover the file once,
# each whole lines. One small task per range counts its lines (as text mode counts them: "\n", "\r\n"
# and "\r" each end one), so each range is read knowing the line number it starts at, and its problems,
# and the error errors="raise" raises, name the same lines as the single-machine reader.
def _line_start(fh: Any, pos: int, size: int) -> int:
    """The first offset at or after ``pos`` where a line starts (just after a "\n"), or ``size``."""
    if pos <= 0:
        return 0
    if pos >= size:
        return size
    fh.seek(pos - 1)
    at = pos - 1
    while True:
        chunk: bytes = fh.read(_SCAN)
        if not chunk:
            return size
        found = chunk.find(b"\n")
        if found >= 0:
            return min(at + found + 1, size)
        at += len(chunk)


def _range_bytes(path: str, k: int, blocksize: int, size: int) -> bytes:
    with open_file(path, "rb") as fh:
        start = _line_start(fh, k * blocksize, size)
        end = _line_start(fh, (k + 1) * blocksize, size)
        fh.seek(start)
        data: bytes = fh.read(end - start) if end > start else b""
    return data


def _count_lines(path: str, k: int, blocksize: int, size: int) -> int:
    """The lines text mode reads in range ``k`` (every range but the last ends with "\n")."""
    data = _range_bytes(path, k, blocksize, size)
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _first_lines(counts: list[int]) -> list[int]:
    out, at = [], 0
    for c in counts:
        out.append(at)
        at += c
    return out


def _read_range(
    path: str, k: int, blocksize: int, size: int, first: list[int], kwargs: dict[str, Any]
) -> list[_Part]:
    data = _range_bytes(path, k, blocksize, size)
    # the byte-order mark is dropped at the start of the file only, as the single-machine reader does
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig" if k == 0 else "utf-8")
    reader = jsonl_reader(
        text,
        path,
        record_class(kwargs.get("kind", "customer")),
        kwargs.get("errors", "raise"),
        kwargs.get("check_contacts", False),
        first_line=first[k],
        ids=_row_ids(
            kwargs.get("kind", "customer"), path, kwargs.get("missing_id", "derive"), kwargs.get("source")
        ),
    )
    with reader:
        records = list(reader)
    return [(records, [FileProblem(path, p) for p in reader.problems])]


def _read_whole(path: str, kwargs: dict[str, Any]) -> list[_Part]:
    return [_reader(path, _read_jsonl, kwargs)]


def _size(path: str) -> int:
    with open_file(path, "rb") as fh:
        size: int = fh.seek(0, os.SEEK_END)
    return size


def _jsonl_parts(path: str, blocksize: int | None, kwargs: dict[str, Any]) -> list[Delayed]:
    size = _size(path) if blocksize is not None else 0
    if blocksize is None or size <= blocksize:
        return [delayed(_read_whole)(path, kwargs)]
    ranges = -(-size // blocksize)
    counts = [delayed(_count_lines)(path, k, blocksize, size) for k in range(ranges)]
    first = delayed(_first_lines)(counts)
    return [delayed(_read_range)(path, k, blocksize, size, first, kwargs) for k in range(ranges)]


def read_csv(paths: Any, **kwargs: Any) -> PartitionedRead:
    """Read many CSV files (paths, globs or fsspec URLs) with :func:`custdata.io.read_csv` (same keyword
    arguments), one file per partition, on the Dask workers."""
    return _partitioned(_read_csv, paths, kwargs)


def read_jsonl(paths: Any, *, blocksize: int | None = DEFAULT_BLOCKSIZE, **kwargs: Any) -> PartitionedRead:
    """Read many JSON Lines files as :func:`read_csv` does, with :func:`custdata.io.read_jsonl`'s keyword
    arguments; a file larger than ``blocksize`` bytes (64 MiB by default; ``None``: never) is read in
    byte ranges of about that size cut at line breaks, one per partition. The records, and the per-row
    problems with their line numbers, are those of :func:`custdata.io.read_jsonl` on each file."""
    if blocksize is not None and (type(blocksize) is not int or blocksize < 1):
        raise ValidationError("must be a whole number of bytes, at least 1, or None", field="blocksize")
    _check(_read_jsonl, kwargs)
    files = expand_paths(paths)
    parts = [p for f in files for p in _jsonl_parts(f, blocksize, kwargs)]
    bag: db.Bag = db.from_delayed(parts)  # type: ignore[no-untyped-call]
    return PartitionedRead(bag, files)


def read_parquet(paths: Any, **kwargs: Any) -> PartitionedRead:
    """Read many Parquet files as :func:`read_csv` does, with :func:`custdata.io.read_parquet`."""
    return _partitioned(_read_parquet, paths, kwargs)
