"""CSV: the streaming reader and the atomic, formula-guarded writer."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from custdata._records import Customer
from custdata.exceptions import ParseError, ValidationError
from custdata.io._args import file_name, iterable, url_scheme
from custdata.io._atomic import atomic_write
from custdata.io._build import RowBuilder
from custdata.io._cells import to_tzinfo
from custdata.io._convert import activity_row, customer_row
from custdata.io._encoding import open_text
from custdata.io._flat import CUSTOM_KEY, flat_header, flat_row, flat_values
from custdata.io._guard import guard
from custdata.io._headers import COLUMNS, header_key
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
from custdata.io._profiles import profile_headers

__all__ = ["Engine", "Layout", "RowWriter", "read_csv", "record_rows", "write_csv", "write_rows"]

#: How :func:`read_csv` reads a file (see its ``engine`` argument).
Engine = Literal["auto", "rows", "columnar"]


def read_csv(
    path: PathLike,
    *,
    kind: Kind = "customer",
    mapping: Mapping[str, str | None] | None = None,
    encoding: str = "auto",
    errors: Errors = "raise",
    delimiter: str = ",",
    default_tz: str | dt.tzinfo | None = None,
    missing_id: MissingId = "derive",
    source: str | None = None,
    check_contacts: bool = True,
    profile: str | Mapping[str, str | None] | None = None,
    engine: Engine = "auto",
) -> RecordReader[Any]:
    """Stream records from a CSV file.

    ``kind`` is ``"customer"``, ``"transaction"`` or ``"interaction"``. Headers are matched to fields
    through built-in English and Chinese synonyms (姓名, 手机, 邮箱 …); ``mapping`` (header → field, or
    None to ignore a column) overrides them. Unknown customer columns are kept in ``custom``.
    ``encoding="auto"`` reads a BOM, else UTF-8, else GB18030. Times without an offset are taken in
    ``default_tz``. ``errors``: ``"raise"`` stops at the first bad row with a :class:`ParseError`;
    ``"skip"`` leaves bad rows out; ``"collect"`` leaves them out and lists them in ``.problems``.

    A row that cannot be read as a whole is a problem of its own and never takes others with it: a quote
    that is not closed where its row ends (reported at the row where it opens; the lines after it are
    read again as rows), fewer or more cells than the header, the header again in the middle (two
    exports joined).

    A customer row without an id gets one derived from ``source`` (default: the file's name) and the
    row's cells, so reading the same file again gives the same ids and a store update instead of
    duplicates; ``missing_id="random"`` gives random ids as before, ``missing_id="error"`` reports such
    rows.

    With ``check_contacts`` (the default) a phone or e-mail that cannot be one (``abc-def``, ``电话待补``,
    ``wang#qq.com``) is a problem of its row, and a remark around a number (``13800138000（微信同号）``)
    is kept in ``custom["phone_note"]``. ``default_tz=None`` reads naive times in the reader-wide
    default (see :func:`set_default_tz`; UTC unless set).

    ``profile`` names a CRM's contact export (``"zoho"``, ``"fxiaoke"``, ``"hubspot"``,
    ``"salesforce"``, or one added with :func:`register_import_profile`), or is a header map of its
    own: its headers are matched before the built-in synonyms, and ``mapping`` still overrides it.

    ``engine``: ``"auto"`` (the default) reads a customer file by columns with pyarrow when the
    ``parquet`` extra is installed and the file is one this path reads exactly (see ``docs/io.md``), else
    row by row; ``"rows"`` always reads row by row; ``"columnar"`` is ``"auto"`` that raises
    :class:`~custdata.exceptions.MissingExtraError` without pyarrow. Every engine gives the same records
    and the same problems.
    """
    if engine not in ("auto", "rows", "columnar"):
        raise ValidationError(f"engine must be 'auto', 'rows' or 'columnar', got {engine!r}", field="engine")
    check_errors(errors)
    cls = record_class(kind)
    headers = profile_headers(profile, kind)
    tz = to_tzinfo(default_tz)
    name = file_name(path)
    ids = RowIds(source if source is not None else os.path.basename(name), missing_id)
    fh, enc = open_text(path, encoding)  # a missing, folder or unreadable file: ParseError
    reader: RecordReader[Any] = RecordReader(iter(()), fh, enc)
    row_ids = ids if kind == "customer" else None
    if engine != "rows" and kind == "customer":
        from custdata.io._columnar import columnar_rows

        try:
            fast = columnar_rows(
                reader,
                name,
                enc,
                mapping or {},
                errors,
                tz,
                ids,
                check_contacts,
                delimiter,
                engine == "columnar",
                headers,
            )
        except BaseException:
            fh.close()
            raise
        if fast is not None:
            fh.close()
            reader._fh = None
            reader._rows = fast
            return reader
    reader._rows = _csv_rows(
        reader, fh, cls, kind, mapping or {}, errors, tz, name, delimiter, row_ids, check_contacts, headers
    )
    return reader


def _csv_rows(
    reader: RecordReader[Any],
    fh: IO[str],
    cls: type[Record],
    kind: str,
    mapping: Mapping[str, str | None],
    errors: str,
    tz: dt.tzinfo,
    name: str,
    delimiter: str,
    ids: RowIds | None,
    check: bool,
    profile: Mapping[str, str | None] | None = None,
) -> Iterator[Any]:
    consumed: list[str] = []  # the physical lines of the record being parsed

    def feed(first: Iterable[str]) -> Iterator[str]:
        for line in itertools.chain(first, fh):
            consumed.append(line)
            yield line

    rows = csv.reader(feed(()), delimiter=delimiter)
    try:
        header = next(rows)
    except StopIteration:
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ParseError(f"cannot read the header: {exc}", path=name, row=1) from None
    width = len(header)
    header_keys = [header_key(h) for h in header]
    builder = RowBuilder(reader, header, cls, kind, mapping, errors, tz, name, ids, check, profile)
    rownum = 1
    while True:
        consumed.clear()
        try:
            cells = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            rownum += 1
            reader.rows += 1
            problem = RowProblem(rownum, "", f"unreadable row: {exc}")
            if not handle(reader, [problem], errors, name):
                continue
            return
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"bad bytes for encoding {reader.encoding}: {exc}; pass encoding=", path=name, row=rownum + 1
            ) from None
        rownum += 1
        if (len(consumed) > 1 or (cells and cells[-1][-1:] in ("\n", "\r"))) and _runaway_quote(
            consumed, cells, width, delimiter
        ):
            # A quote opened in this row and swallowed the lines after it: report this row and read
            # the swallowed lines again as rows of their own.
            reader.rows += 1
            lines = list(consumed)
            rows = csv.reader(feed(lines[1:]), delimiter=delimiter)
            problem = RowProblem(
                rownum, "", f"a quote opens here and is not closed where the row ends ({len(lines)} lines)"
            )
            handle(reader, [problem], errors, name)
            continue
        if not any(cells):
            continue  # a blank line
        reader.rows += 1
        if len(cells) != width:
            if len(cells) < width:
                short = RowProblem(rownum, "", f"{len(cells)} cells but {width} columns in the header")
                handle(reader, [short], errors, name)
                continue
            if any(cells[width:]):
                extra = RowProblem(rownum, "", f"{len(cells)} cells but {width} columns in the header")
                handle(reader, [extra], errors, name)
                continue
        if (cells[0][:1] == "\ufeff" or cells[0] == header[0]) and [
            header_key(c) for c in cells
        ] == header_keys:
            again = RowProblem(rownum, "", "the header row again (two files joined?)")
            handle(reader, [again], errors, name)
            continue
        record = builder.build(rownum, cells)
        if record is not None:
            yield record


def _runaway_quote(lines: list[str], cells: list[str], width: int, delimiter: str) -> bool:
    """Whether a record that spans several lines is a quote that was never closed (or closed by a stray
    quote further down) rather than a cell with line breaks: it does not parse strictly, has the wrong
    number of cells, or a line inside one of its cells holds as many delimiters as a whole row."""
    try:
        strict = list(csv.reader(lines, delimiter=delimiter, strict=True))
    except csv.Error:
        return True
    if len(strict) != 1 or len(cells) != width:
        return True
    need = max(2, width - 1)
    return any(seg.count(delimiter) >= need for cell in cells if "\n" in cell for seg in cell.split("\n"))


Layout = Literal["flat", "json"]


def _not_a_record(i: int, rec: object, cls: type[Record]) -> ValidationError:
    return ValidationError(
        f"item {i} is a {type(rec).__name__}, not a {cls.__name__}; nothing was written",
        field=f"records[{i}]",
    )


def write_csv(
    records: Iterable[Record],
    path: PathLike,
    *,
    encoding: str = "utf-8-sig",
    kind: Kind | None = None,
    layout: Layout = "flat",
) -> int:
    """Write records to CSV atomically; returns the number of rows written.

    Customers are written ``layout="flat"`` by default: one column per phone (``phone_1``,
    ``phone_1_kind`` …), e-mail, address part, consent, external id and custom attribute, as a
    spreadsheet user expects (see :mod:`custdata.io._flat`); ``layout="json"`` writes the earlier compact
    form, one column per record field with JSON in the cells of lists. :func:`read_csv` reads both back
    to equal records. The default ``utf-8-sig`` puts a BOM first so Excel reads the text right. Every
    cell passes through :func:`guard_cell`: formulas are neutralised, and long digit strings (ids of
    16+ digits, phone numbers, leading zeros) are written so a spreadsheet keeps them as text.

    Anything in ``records`` that is not a record of the kind raises
    :class:`~custdata.exceptions.ValidationError` naming its position, and nothing is written.
    """
    if layout not in ("flat", "json"):
        raise ValidationError(f"layout must be 'flat' or 'json', got {layout!r}", field="layout")
    cls, items = record_rows(iterable(records), kind)
    name = file_name(path)
    with atomic_write(path, encoding=encoding, newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        return write_rows(cls, items, w, None if url_scheme(name) else Path(name).parent, layout=layout)


class RowWriter(Protocol):
    """Where :func:`write_rows` puts the header and the rows (a ``csv.writer``, a worksheet …)."""

    def writerow(self, row: list[str], /) -> object: ...


def record_rows(records: Iterator[Any], kind: Kind | None) -> tuple[type[Record], Iterator[Any]]:
    """The record class of what is to be written (``kind``, else the first item's) and the items;
    a first item that is not a record is refused before anything is written."""
    first = next(records, _NOTHING)
    if kind:
        cls: type[Record] = record_class(kind)
    elif first is _NOTHING:
        cls = Customer
    else:
        cls = type(first)
        if cls not in COLUMNS:
            raise _not_a_record(0, first, Customer)
    return cls, records if first is _NOTHING else itertools.chain([first], records)


def write_rows(
    cls: type[Record],
    items: Iterator[Any],
    w: RowWriter,
    folder: Path | None,
    *,
    layout: Layout = "flat",
    cell: Callable[[str], str] = guard,
) -> int:
    """Write the header and the rows of ``items`` to ``w``, each cell passed through ``cell`` (the
    formula guard by default): the one path from records to rows for every tabular writer."""
    if cls is Customer and layout == "flat":
        return _write_flat(w, items, folder, cell)
    w.writerow(COLUMNS[cls])
    n = 0
    for n, rec in enumerate(items, 1):
        if type(rec) is not cls:
            raise _not_a_record(n - 1, rec, cls)
        row = customer_row(rec) if isinstance(rec, Customer) else activity_row(rec)
        w.writerow([cell(c) for c in row])
    return n


_NOTHING: Any = object()


def _write_flat(w: RowWriter, records: Iterator[Any], folder: Path | None, cell: Callable[[str], str]) -> int:
    """Rows go to a spool file first: the columns are the union over all records, known at the end."""
    keys: set[str] = set()
    text_custom: dict[str, bool] = {}
    n = 0
    with tempfile.TemporaryFile(dir=None if folder is None else folder if str(folder) else ".") as spool:
        for n, rec in enumerate(records, 1):
            if type(rec) is not Customer:
                raise _not_a_record(n - 1, rec, Customer)
            row = flat_row(rec)
            keys.update(row)
            if rec.custom:
                for k, v in rec.custom.items():
                    key = CUSTOM_KEY + k
                    text_custom[key] = text_custom.get(key, True) and isinstance(v, str) and v != ""
            pickle.dump(row, spool, protocol=pickle.HIGHEST_PROTOCOL)
        header, custom = flat_header(keys, text_custom)
        w.writerow(header)
        spool.seek(0)
        for _ in range(n):
            cells = flat_values(pickle.load(spool), custom)
            w.writerow([cell(cells[h]) if h in cells else "" for h in header])
    return n
