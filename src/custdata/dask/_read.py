"""Partitioned readers: one file per partition, each read by the single-machine reader on a worker, its
per-row problems kept beside its records with the file's name."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import dask.bag as db
import fsspec
from dask.base import compute

from custdata._bulk import check_errors
from custdata.exceptions import ParseError, ValidationError
from custdata.io import RowProblem
from custdata.io import read_csv as _read_csv
from custdata.io import read_jsonl as _read_jsonl
from custdata.io import read_parquet as _read_parquet

__all__ = ["FileProblem", "PartitionedRead", "expand_paths", "read_csv", "read_jsonl", "read_parquet"]


@attrs.frozen
class FileProblem:
    """A per-row problem of one input file: the file (as given or expanded from a glob) and the
    :class:`~custdata.io.RowProblem` the single-machine reader reports for that row."""

    path: str
    problem: RowProblem


_Part = tuple[list[Any], list[FileProblem]]


class PartitionedRead:
    """The records of many files as a Dask bag, one file per partition, and their per-row problems.

    ``records`` is a :class:`dask.bag.Bag` of records; ``problems`` a bag of :class:`FileProblem`
    (filled with ``errors="collect"``). Both come from one read of each file: :meth:`compute` returns
    both at once without reading twice. ``paths`` lists the files in partition order.
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


def _partitioned(fn: Callable[..., Any], paths: Any, kwargs: dict[str, Any]) -> PartitionedRead:
    check_errors(kwargs.get("errors", "raise"))
    try:
        inspect.signature(fn).bind("path", **kwargs)
    except TypeError as exc:
        raise ValidationError(f"{fn.__name__}: {exc}", field="kwargs") from None
    files = expand_paths(paths)
    bag = db.from_sequence(files, npartitions=len(files)).map(_reader, fn, kwargs)  # type: ignore[no-untyped-call]
    return PartitionedRead(bag, files)


def read_csv(paths: Any, **kwargs: Any) -> PartitionedRead:
    """Read many CSV files (paths, globs or fsspec URLs) with :func:`custdata.io.read_csv` (same keyword
    arguments), one file per partition, on the Dask workers."""
    return _partitioned(_read_csv, paths, kwargs)


def read_jsonl(paths: Any, **kwargs: Any) -> PartitionedRead:
    """Read many JSON Lines files as :func:`read_csv` does, with :func:`custdata.io.read_jsonl`."""
    return _partitioned(_read_jsonl, paths, kwargs)


def read_parquet(paths: Any, **kwargs: Any) -> PartitionedRead:
    """Read many Parquet files as :func:`read_csv` does, with :func:`custdata.io.read_parquet`."""
    return _partitioned(_read_parquet, paths, kwargs)
