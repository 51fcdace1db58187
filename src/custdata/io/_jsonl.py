"""JSON Lines: one ``to_dict`` object per line, read streaming and written atomically."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from custdata._records import Customer, Interaction, Transaction
from custdata.exceptions import FieldError, ParseError, ValidationError
from custdata.io._args import file_name, iterable, open_file
from custdata.io._atomic import atomic_write
from custdata.io._cells import loads
from custdata.io._convert import contact_problems
from custdata.io._ids import MissingId, RowIds
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


def read_jsonl(
    path: PathLike,
    *,
    kind: Kind = "customer",
    errors: Errors = "raise",
    check_contacts: bool = False,
    missing_id: MissingId = "derive",
    source: str | None = None,
) -> RecordReader[Any]:
    """Stream records from a JSON Lines file (one ``to_dict`` object per line), UTF-8.

    A line that is not JSON, nested too deeply, or not a valid record is a problem of that line. The
    lines hold records as custdata wrote them, so phones and e-mails are taken as they are; with
    ``check_contacts=True`` (as ``custdata validate`` reads) one that cannot be a phone or an e-mail is
    a problem too, as in :func:`read_csv`.

    A customer line without an id (no ``"id"`` key, or ``null``) gets one derived from ``source``
    (default: the file's name), the line's number and its text, so reading the same file again gives
    the same ids; ``missing_id="random"`` gives random ids, ``missing_id="error"`` reports such lines.
    """
    check_errors(errors)
    cls = record_class(kind)
    name = file_name(path)
    ids = _row_ids(kind, name, missing_id, source)
    fh = open_file(name, "r", encoding="utf-8-sig")  # closed by the reader
    return jsonl_reader(fh, name, cls, errors, check_contacts, ids=ids)


def _row_ids(kind: str, name: str, missing_id: str, source: str | None) -> RowIds | None:
    """The ids of one read (None: not a customer file); a bad ``missing_id`` raises ValidationError."""
    ids = RowIds(source if source is not None else os.path.basename(name), missing_id)
    return ids if kind == "customer" else None


def jsonl_reader(
    fh: Any,
    name: str,
    cls: Any,
    errors: str,
    check_contacts: bool,
    first_line: int = 0,
    *,
    ids: RowIds | None = None,
) -> RecordReader[Any]:
    """The reader of :func:`read_jsonl` over an open text file ``fh`` (closed by the reader) whose first
    line is line ``first_line + 1`` of ``name`` (a byte range of a larger file, read on a Dask worker).
    ``ids`` makes the ids of customer lines without one (derived from the line's number and text, so a
    byte range gives the ids the whole file does)."""
    reader: RecordReader[Any] = RecordReader(iter(()), fh, "utf-8")

    def rows() -> Iterator[Any]:
        lineno = first_line
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
                data = loads(line)
                if ids is not None and isinstance(data, dict) and data.get("id") is None:
                    try:
                        row_id = ids.id_for((str(lineno), line.strip()))
                    except ValueError as exc:
                        handle(reader, [RowProblem(lineno, "id", str(exc))], errors, name)
                        continue
                    if row_id is not None:
                        data = {**data, "id": row_id}
                record = cls.from_dict(data)
            except RecursionError:
                problem = RowProblem(lineno, "", "nested too deeply")
                handle(reader, [problem], errors, name)
                continue
            except ValueError as exc:  # JSON errors and ValidationError
                errs = (
                    exc.errors if isinstance(exc, ValidationError) else [FieldError("", f"bad JSON: {exc}")]
                )
                handle(reader, [RowProblem(lineno, e.field, e.reason) for e in errs], errors, name)
                continue
            if check_contacts and isinstance(record, Customer):
                bad = contact_problems(record)
                if bad:
                    handle(reader, [RowProblem(lineno, e.field, e.reason) for e in bad], errors, name)
                    continue
            yield record

    reader._rows = rows()
    return reader


def write_jsonl(records: Iterable[Record], path: PathLike) -> int:
    """Write records as JSON Lines (UTF-8, one ``to_dict`` object per line) atomically; returns the count.

    Anything in ``records`` that is not a record raises :class:`~custdata.exceptions.ValidationError`
    naming its position, and nothing is written.
    """
    n = 0
    records = iterable(records)
    with atomic_write(path, encoding="utf-8", newline="\n") as fh:
        for rec in records:
            if not isinstance(rec, (Customer, Transaction, Interaction)):
                raise ValidationError(
                    f"a {type(rec).__name__} where a record belongs; nothing was written",
                    field=f"records[{n}]",
                )
            fh.write(rec.to_json())
            fh.write("\n")
            n += 1
    return n
