"""JSON Lines: one ``to_dict`` object per line, read streaming and written atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from custdata.exceptions import FieldError, ParseError, ValidationError
from custdata.io._atomic import atomic_write
from custdata.io._problems import (
    Errors,
    Kind,
    PathLike,
    Record,
    RecordReader,
    RowProblem,
    check_errors,
    handle,
    record_class,
)

__all__ = ["read_jsonl", "write_jsonl"]


def read_jsonl(path: PathLike, *, kind: Kind = "customer", errors: Errors = "raise") -> RecordReader[Any]:
    """Stream records from a JSON Lines file (one ``to_dict`` object per line), UTF-8."""
    check_errors(errors)
    cls = record_class(kind)
    name = os.fspath(path)
    try:
        fh = open(path, encoding="utf-8-sig")  # noqa: SIM115 - closed by the reader
    except FileNotFoundError:
        raise ParseError("no such file", path=name) from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ParseError(exc.strerror or str(exc), path=name) from None
    reader: RecordReader[Any] = RecordReader(iter(()), fh, "utf-8")

    def rows() -> Iterator[Any]:
        lineno = 0
        while True:
            try:
                line = fh.readline()
            except UnicodeDecodeError as exc:
                raise ParseError(f"not UTF-8: {exc}", path=name, row=lineno + 1) from None
            if not line:
                return
            lineno += 1
            if not line.strip():
                continue
            reader.rows += 1
            try:
                data = json.loads(line)
                yield cls.from_dict(data)
            except ValueError as exc:  # JSON errors and ValidationError
                errs = (
                    exc.errors if isinstance(exc, ValidationError) else [FieldError("", f"bad JSON: {exc}")]
                )
                if not handle(reader, [RowProblem(lineno, e.field, e.reason) for e in errs], errors, name):
                    continue

    reader._rows = rows()
    return reader


def write_jsonl(records: Iterable[Record], path: PathLike) -> int:
    """Write records as JSON Lines (UTF-8, one ``to_dict`` object per line) atomically; returns the count."""
    n = 0
    with atomic_write(path, encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(rec.to_json())
            fh.write("\n")
            n += 1
    return n
