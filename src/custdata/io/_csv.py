"""CSV: the streaming reader and the atomic, formula-guarded writer."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import os
import pickle
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal

from custdata._records import Customer
from custdata.exceptions import ParseError, ValidationError
from custdata.io._args import file_name, iterable, url_scheme
from custdata.io._atomic import atomic_write
from custdata.io._cells import to_tzinfo
from custdata.io._convert import activity_dict, activity_row, customer_dict, customer_row
from custdata.io._encoding import open_text
from custdata.io._flat import CUSTOM_KEY, FLAT_PREFIX, flat_column, flat_header, flat_row, flat_values
from custdata.io._guard import guard, unguard
from custdata.io._headers import COLUMNS, SYNONYMS, header_key
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

__all__ = ["Layout", "read_csv", "write_csv"]


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
    """
    check_errors(errors)
    cls = record_class(kind)
    tz = to_tzinfo(default_tz)
    name = file_name(path)
    ids = RowIds(source if source is not None else os.path.basename(name), missing_id)
    fh, enc = open_text(path, encoding)  # a missing, folder or unreadable file: ParseError
    reader: RecordReader[Any] = RecordReader(iter(()), fh, enc)
    row_ids = ids if kind == "customer" else None
    reader._rows = _csv_rows(
        reader, fh, cls, kind, mapping or {}, errors, tz, name, delimiter, row_ids, check_contacts
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
) -> Iterator[Any]:
    consumed: list[str] = []  # the physical lines of the record being parsed

    def feed(first: Iterable[str]) -> Iterator[str]:
        for line in itertools.chain(first, fh):
            consumed.append(line)
            yield line

    rows = csv.reader(feed(()), delimiter=delimiter)
    synonyms = SYNONYMS[kind]
    user_map = {header_key(k): v for k, v in mapping.items()}
    try:
        header = next(rows)
    except StopIteration:
        return
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ParseError(f"cannot read the header: {exc}", path=name, row=1) from None
    width = len(header)
    header_keys = [header_key(h) for h in header]
    fields: list[str | None] = []
    seen: set[str] = set()
    for h, k in zip(header, header_keys, strict=True):
        plain = h.lstrip("\ufeff")
        if k in user_map:
            field = user_map[k]
        elif kind == "customer" and flat_column(plain):
            field = FLAT_PREFIX + plain
        else:
            field = synonyms.get(k)
        if field in seen and field is not None:
            field = None  # a second column for the same field is kept as custom
        if field is not None:
            seen.add(field)
        fields.append(field)
        reader.columns[h.lstrip("\ufeff")] = field
    if kind != "customer" and "customer_id" not in seen:
        raise ParseError(
            f"no customer id column among {header!r}; pass mapping={{'<header>': 'customer_id'}}", path=name
        )
    ignored = {header_key(k) for k, v in mapping.items() if v is None}
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
        values: dict[str, str] = {}
        custom: dict[str, Any] = {}
        for h, field, raw in zip(header, fields, cells, strict=False):
            if raw == "":
                continue
            raw = unguard(raw)
            if field is None:
                if header_key(h) not in ignored and kind == "customer":
                    custom[h.lstrip("\ufeff")] = raw
                continue
            values[field] = raw
        if ids is not None and "id" not in values:
            try:
                row_id = ids.id_for(cells)
            except ValueError as exc:
                handle(reader, [RowProblem(rownum, "id", str(exc))], errors, name)
                continue
            if row_id is not None:
                values["id"] = row_id
        try:
            d = (
                customer_dict(values, custom, tz, check)
                if kind == "customer"
                else activity_dict(kind, values, tz)
            )
            yield cls.from_dict(d)
        except ValidationError as exc:
            problems = [
                RowProblem(rownum, e.field, e.reason, values.get(e.field.split(".")[0])) for e in exc.errors
            ]
            handle(reader, problems, errors, name)
        except RecursionError:
            handle(reader, [RowProblem(rownum, "", "a value nested too deeply")], errors, name)


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
    rest = iterable(records)
    first = next(rest, _NOTHING)
    if kind:
        cls: type[Record] = record_class(kind)
    elif first is _NOTHING:
        cls = Customer
    else:
        cls = type(first)
        if cls not in COLUMNS:
            raise _not_a_record(0, first, Customer)
    items: Iterator[Any] = rest if first is _NOTHING else itertools.chain([first], rest)
    with atomic_write(path, encoding=encoding, newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        if cls is Customer and layout == "flat":
            return _write_flat(
                w, items, None if url_scheme(file_name(path)) else Path(file_name(path)).parent
            )
        w.writerow(COLUMNS[cls])
        n = 0
        for n, rec in enumerate(items, 1):
            if type(rec) is not cls:
                raise _not_a_record(n - 1, rec, cls)
            row = customer_row(rec) if isinstance(rec, Customer) else activity_row(rec)
            w.writerow([guard(c) for c in row])
    return n


_NOTHING: Any = object()


def _write_flat(w: Any, records: Iterator[Any], folder: Path | None) -> int:
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
            w.writerow([guard(cells[h]) if h in cells else "" for h in header])
    return n
