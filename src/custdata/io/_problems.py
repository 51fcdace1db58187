"""What every reader shares: the record kinds, the ``errors=`` policy, per-row problems and the reader."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import IO, Any, Generic, Literal, TypeVar

import attrs

from custdata._bulk import Errors
from custdata._bulk import check_errors as check_errors  # the one check, used by the readers
from custdata._mask import mask_field
from custdata._records import Customer, Interaction, Transaction
from custdata.exceptions import ParseError, ValidationError

__all__ = ["KINDS", "Errors", "Kind", "PathLike", "Record", "RecordReader", "RowProblem"]

log = logging.getLogger("custdata.io")

Kind = Literal["customer", "transaction", "interaction"]
Record = Customer | Transaction | Interaction
R = TypeVar("R", Customer, Transaction, Interaction)
PathLike = str | os.PathLike[str]

KINDS: dict[str, type[Record]] = {
    "customer": Customer,
    "transaction": Transaction,
    "interaction": Interaction,
}


@attrs.frozen
class RowProblem:
    """One problem in one row. ``row`` counts like a spreadsheet (the header is row 1) for CSV, and
    lines (from 1) for JSON Lines. ``field`` is the record field (or column) concerned; ``sheet`` the
    worksheet of a workbook (None for other files)."""

    row: int
    field: str
    reason: str
    value: str | None = None
    sheet: str | None = None

    def __attrs_post_init__(self) -> None:
        # the raw value of a personal field (phone, e-mail, name, address) is kept masked unless debugging
        object.__setattr__(self, "value", mask_field(self.field, self.value))

    def __str__(self) -> str:
        where = (f"sheet {self.sheet!r}, " if self.sheet is not None else "") + f"row {self.row}"
        where += f", {self.field}" if self.field else ""
        return f"{where}: {self.reason}"


class RecordReader(Iterator[R], Generic[R]):
    """An iterator of records read from a file.

    Besides the records it keeps: ``problems`` (the :class:`RowProblem` list with ``errors="collect"``),
    ``rows`` (rows read), ``skipped`` (bad rows left out), ``encoding`` (as detected), ``columns``
    (header → field it was mapped to; None for custom columns). Use it as a context manager, or read it
    to the end, to close the file.
    """

    def __init__(self, rows: Iterator[R], fh: IO[Any] | None, encoding: str | None) -> None:
        self._rows: Iterator[R] = rows
        self._fh = fh
        self.encoding = encoding
        self.problems: list[RowProblem] = []
        self.rows = 0
        self.skipped = 0
        self.columns: dict[str, str | None] = {}

    def __iter__(self) -> RecordReader[R]:
        return self

    def __next__(self) -> R:
        try:
            return next(self._rows)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Close the underlying file (reading stops)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> RecordReader[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def record_class(kind: str) -> type[Record]:
    try:
        return KINDS[kind]
    except (KeyError, TypeError):
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}", field="kind") from None


def handle(reader: RecordReader[Any], problems: list[RowProblem], errors: str, name: str) -> bool:
    """Deal with a bad row; returns False to go on with the next row (raises with errors='raise')."""
    if errors == "raise":
        raise ParseError(
            "; ".join(f"{p.field}: {p.reason}" if p.field else p.reason for p in problems),
            path=name,
            row=problems[0].row,
        )
    reader.skipped += 1
    if errors == "collect":
        reader.problems.extend(problems)
    log.debug("skipped bad row %d of %s", problems[0].row, name)
    return False
