"""Excel and OpenDocument workbooks: :func:`read_excel` (python-calamine) and :func:`write_excel` (openpyxl).

Reading turns each typed cell into the text the CSV reader would see and hands the row to the one
row → record path (:class:`~custdata.io._build.RowBuilder`), so headers, profiles, per-row problems and
``errors=`` behave exactly as in :func:`read_csv`. What a workbook adds is handled here: the header row
found below a title or merged cells, merged cells filled over their range, phones stored as numbers
(a lost leading 0, ``1.38E+10``), dates stored as serial numbers (1900 and 1904 date systems). Every
error of the workbook libraries is mapped to a custdata error in :func:`_book_error`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

from custdata.exceptions import MissingExtraError, ParseError, ValidationError
from custdata.io._args import file_name, iterable, open_file, url_scheme
from custdata.io._atomic import atomic_write_bytes
from custdata.io._build import RowBuilder, header_fields
from custdata.io._cells import to_tzinfo
from custdata.io._csv import Layout, record_rows, write_rows
from custdata.io._guard import guard
from custdata.io._headers import header_key
from custdata.io._ids import MissingId, RowIds
from custdata.io._problems import Errors, Kind, PathLike, RecordReader, RowProblem, check_errors, record_class
from custdata.io._profiles import profile_headers

__all__ = ["read_excel", "write_excel"]

Sheet = str | int

_PHONE_FIELDS = frozenset({"phone", "mobile", "home_phone", "work_phone", "fax", "phones"})
_DATE_FIELDS = frozenset({"birthday", "created_at", "updated_at", "at"})
_FLAT_PHONE = re.compile(r"#phone_\d{1,4}")
_FLAT_POSTCODE = re.compile(r"#address_\d{1,4}_postal_code")
#: Countries whose postal codes are all digits of one length: a code stored as a number that lost its
#: leading zeros (02134 → 2134) gets them back there; elsewhere it is a problem of its row.
POSTCODE_DIGITS = {
    "CN": 6,
    "IN": 6,
    "RU": 6,
    "SG": 6,
    "US": 5,
    "DE": 5,
    "FR": 5,
    "IT": 5,
    "ES": 5,
    "MX": 5,
    "KR": 5,
    "JP": 7,
    "AU": 4,
    "AT": 4,
    "BE": 4,
    "CH": 4,
    "DK": 4,
    "NO": 4,
}
_FLAT_DATE = re.compile(r"#(?:phone|email)_\d{1,4}_verified_at|#consents\..+\.(?:at|expires)")
_SCIENTIFIC = re.compile(r"\s*(\d)(?:\.(\d+))?[eE]\+?(\d{1,2})\s*")
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")
#: How many rows from the top are looked at for the header row.
HEADER_SCAN = 30
#: Excel's limits: characters in a cell, rows and columns in a sheet.
MAX_CELL = 32_767
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
_XESC = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x1f]")
_UNHOLDABLE = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


def _calamine() -> Any:
    try:
        import python_calamine
    except ImportError as exc:
        raise MissingExtraError("excel", "read_excel", ["python-calamine"]) from exc
    return python_calamine


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError as exc:
        raise MissingExtraError("excel", "write_excel", ["openpyxl"]) from exc
    return openpyxl


# ------------------------------------------------------------------------------------------ opening
def _book_error(exc: BaseException, name: str) -> ParseError:
    """The one place a workbook library's exception becomes a custdata error."""
    kind = type(exc).__name__
    if kind == "PasswordError":
        return ParseError("the workbook is password-protected: save a copy without a password", path=name)
    if kind == "WorksheetNotFound":
        return ParseError("a worksheet named in the workbook is missing", path=name)
    return ParseError(f"a damaged or unsupported workbook ({kind})", path=name)


def _sniff(fh: IO[bytes], name: str) -> str:
    """What the file is by its bytes: ``"xlsx"``, ``"ods"`` or ``"xls"``; anything else is refused."""
    head = fh.read(8)
    if head.startswith(_CFB):
        fh.seek(0)
        while chunk := fh.read(1 << 20):
            if _ENCRYPTED in chunk:
                raise ParseError(
                    "the workbook is password-protected (encrypted): save a copy without a password",
                    path=name,
                )
        return "xls"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(fh) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            raise ParseError("a damaged workbook (not a readable ZIP archive)", path=name) from None
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "content.xml" in names:
            return "ods"
        raise ParseError("a ZIP archive, not a workbook (.xlsx, .xls, .ods)", path=name)
    if not head:
        raise ParseError("an empty file, not a workbook", path=name)
    raise ParseError(
        "not a workbook (.xlsx, .xls, .ods): it looks like a text file (a CSV named like a workbook?); "
        "read it with read_csv",
        path=name,
    )


def _date1904(fh: IO[bytes], fmt: str) -> bool:
    """Whether the workbook counts serial dates from 1904 (Excel for Mac's old default)."""
    try:
        with zipfile.ZipFile(fh) as z:
            if fmt == "xlsx":
                text = z.read("xl/workbook.xml")[:4096].decode("utf-8", "replace")
                return re.search(r'date1904="(?:1|true)"', text) is not None
            if fmt == "ods":
                with z.open("content.xml") as member:
                    text = member.read(65536).decode("utf-8", "replace")
                return re.search(r'null-date[^>]*date-value="1904-01-01"', text) is not None
    except (KeyError, zipfile.BadZipFile, OSError):
        return False
    return False


_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def _ods_merges(fh: IO[bytes], name: str) -> dict[str, list[tuple[tuple[int, int], tuple[int, int]]]]:
    """The merged ranges of each sheet of an OpenDocument file (python-calamine reports them for
    .xlsx and .xls only), from the spans of content.xml's cells, as ((row, col), (last row, last col))."""
    from xml.etree.ElementTree import ParseError as XMLParseError
    from xml.etree.ElementTree import iterparse

    out: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    sheet, row, col = "", 0, 0
    try:
        fh.seek(0)
        with zipfile.ZipFile(fh) as z, z.open("content.xml") as xml:
            for event, el in iterparse(xml, events=("start", "end")):
                tag = el.tag
                if event == "start":
                    if tag == _TABLE + "table":
                        sheet, row = el.get(_TABLE + "name", ""), 0
                    elif tag == _TABLE + "table-row":
                        col = 0
                    elif tag in (_TABLE + "table-cell", _TABLE + "covered-table-cell"):
                        rows = int(el.get(_TABLE + "number-rows-spanned", "1"))
                        cols = int(el.get(_TABLE + "number-columns-spanned", "1"))
                        if rows > 1 or cols > 1:
                            out.setdefault(sheet, []).append(((row, col), (row + rows - 1, col + cols - 1)))
                        col += int(el.get(_TABLE + "number-columns-repeated", "1"))
                elif tag == _TABLE + "table-row":
                    row += int(el.get(_TABLE + "number-rows-repeated", "1"))
                    el.clear()
    except (KeyError, ValueError, zipfile.BadZipFile, XMLParseError, OSError):
        raise ParseError("a damaged workbook (content.xml)", path=name) from None
    return out


class _Book:
    """An open workbook and its file (closed together)."""

    def __init__(self, name: str) -> None:
        pc = _calamine()
        self.name = name
        self._fh: IO[bytes] | None = open_file(name)
        try:
            self.format = _sniff(self._fh, name)
            self.date1904 = False if self.format == "xls" else _date1904(self._fh, self.format)
            self._fh.seek(0)
            self.book = pc.CalamineWorkbook.from_filelike(self._fh)
            meta = self.book.sheets_metadata
            self.sheets: list[str] = list(self.book.sheet_names)
            self.visible = [
                m.name
                for m in meta
                if m.visible == pc.SheetVisibleEnum.Visible and m.typ == pc.SheetTypeEnum.WorkSheet
            ]
        except pc.CalamineError as exc:
            self.close()
            raise _book_error(exc, name) from None
        except BaseException:
            self.close()
            raise

    def rows(self, sheet: str) -> tuple[list[list[Any]], list[tuple[tuple[int, int], tuple[int, int]]]]:
        pc = _calamine()
        try:
            s = self.book.get_sheet_by_name(sheet)
            rows = s.to_python(skip_empty_area=False)
            merged = s.merged_cell_ranges
        except pc.CalamineError as exc:
            raise _book_error(exc, self.name) from None
        if merged is None and self.format == "ods" and self._fh is not None:
            merged = _ods_merges(self._fh, self.name).get(sheet, [])
        return rows, list(merged or [])

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _sheets(book: _Book, sheet: object) -> list[str]:
    if sheet is None:
        if not book.visible:
            raise ParseError("the workbook has no visible worksheet", path=book.name)
        return [book.visible[0]]
    if sheet == "*":
        return list(book.visible)
    chosen = list(sheet) if isinstance(sheet, (list, tuple)) else [sheet]
    out: list[str] = []
    for s in chosen:
        if isinstance(s, bool) or not isinstance(s, (str, int)):
            raise ValidationError(
                f"must be a sheet name or index, '*', or a list of them, got {type(s).__name__}",
                field="sheet",
            )
        if isinstance(s, int):
            if not -len(book.sheets) <= s < len(book.sheets):
                raise ParseError(f"no sheet {s}: the workbook has {len(book.sheets)}", path=book.name)
            out.append(book.sheets[s])
        elif s in book.sheets:
            out.append(s)
        else:
            raise ParseError(f"no sheet named {s!r}; sheets: {', '.join(book.sheets)}", path=book.name)
    return out


# ------------------------------------------------------------------------------------------- cells
class _CellProblem(ValueError):
    pass


def _number_text(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        raise _CellProblem("not a number (an error value in the cell?)")
    if v.is_integer():
        if abs(v) >= 2**53:
            raise _CellProblem(
                "a number of 16 or more digits stored as a number is no longer exact; "
                "store the column as text"
            )
        return str(int(v))
    s = format(v, ".15g")  # what the spreadsheet shows: it keeps 15 significant digits
    return repr(v) if "e" in s else s


def _serial(v: float, date1904: bool, birthday: bool) -> str:
    """An Excel date serial as ISO text (a date, or a naive date-time when it has a time of day)."""
    if not 0 <= v < 2_958_466:
        raise _CellProblem("a number that is not a date serial of the workbook")
    days = math.floor(v)
    micro = round((v - days) * 86_400_000) * 1000  # to the millisecond Excel keeps: a serial's double
    # carries the time of day of a date in year 9999 to about 40 µs only
    if date1904:
        base = dt.datetime(1904, 1, 1)
    elif days == 60:
        raise _CellProblem("serial 60 is 1900-02-29, a day that does not exist (Excel's leap-year bug)")
    elif days < 60:
        base = dt.datetime(1899, 12, 31)
    else:
        base = dt.datetime(1899, 12, 30)
    when = base + dt.timedelta(days=days, microseconds=micro)
    if when.time() == dt.time(0) or birthday:
        if birthday and when.time() != dt.time(0):
            raise _CellProblem("a birthday with a time of day")
        return when.date().isoformat()
    return when.isoformat()


def _phone_number(v: float, region: str | None) -> str:
    """A phone stored as a number: its digits, with a lost leading 0 put back only when the region's
    numbering plan makes it certain. A number that cannot be a whole phone number is a problem."""
    if not v.is_integer() or v <= 0:
        raise _CellProblem("a phone stored as a number that is not a whole number")
    if v >= 1e15:
        raise _CellProblem("a phone stored as a number of 16 or more digits is no longer exact")
    digits = str(int(v))
    zeros = len(digits) - len(digits.rstrip("0"))
    if len(digits) >= 11 and zeros >= 6:
        raise _CellProblem(
            "a phone stored as a number ending in 6 or more zeros: most likely rounded by a spreadsheet "
            "(shown as 1.38E+10); its digits are lost"
        )
    return _restore_zero(digits, region)


def _postcode(v: float, region: str | None) -> str:
    """A postal code stored as a number: its digits, with lost leading zeros put back where the
    region's codes are all digits of one length; a problem where that cannot be told."""
    if not v.is_integer() or v < 0 or v >= 1e15:
        raise _CellProblem("a postal code stored as a number that is not a whole number")
    digits = str(int(v))
    length = POSTCODE_DIGITS.get(region or "")
    if length is None:
        raise _CellProblem(
            "a postal code stored as a number: whether it lost leading zeros cannot be told in this region; "
            "store the column as text"
        )
    if len(digits) > length:
        raise _CellProblem(f"a postal code of {len(digits)} digits where {region}'s have {length}")
    return digits.zfill(length)


def _restore_zero(digits: str, region: str | None) -> str:
    import phonenumbers

    def parse(text: str, reg: str | None) -> Any:
        try:
            n = phonenumbers.parse(text, reg)
        except phonenumbers.NumberParseException:
            return None
        return n if phonenumbers.is_valid_number(n) else None

    if region is None:
        if parse("+" + digits, None) is not None:
            return digits
        raise _CellProblem(
            "a phone stored as a number: whether it lost a leading 0 cannot be told without a region; "
            "pass region="
        )
    bare = parse(digits, region)
    zero = parse("0" + digits, region)
    if bare is not None and (zero is None or zero == bare):
        national = phonenumbers.format_number(bare, phonenumbers.PhoneNumberFormat.NATIONAL)
        return "0" + digits if national.startswith(("0", "(0")) else digits
    if bare is None and zero is not None:
        return "0" + digits
    if bare is None and parse("+" + digits, None) is not None:
        return digits  # written with its country code (8613800138000)
    if bare is None:
        raise _CellProblem(
            f"a phone stored as a number is not a valid number in {region}, with or without a leading 0"
        )
    raise _CellProblem("a phone stored as a number: with and without a leading 0 it is a different number")


def _scientific_phone(text: str) -> str | None:
    """``1.38E+10`` in a phone cell: the exact digits when every digit is written, else a problem."""
    m = _SCIENTIFIC.fullmatch(text)
    if m is None:
        return None
    lead, frac, exp = m.group(1), m.group(2) or "", int(m.group(3))
    if len(frac) > exp:
        return None  # not a whole number: the phone check reports it
    if len(frac) < exp:
        raise _CellProblem("a phone in scientific notation (1.38E+10): its last digits are lost")
    return lead + frac


class _Cells:
    """Turns a row of typed cells into the text cells of the shared row path."""

    def __init__(self, fields: Sequence[str | None], date1904: bool, region: str | None) -> None:
        self.date1904 = date1904
        self.region = region
        self.kinds: list[str] = []
        for f in fields:
            if f is not None and (f in _PHONE_FIELDS or _FLAT_PHONE.fullmatch(f)):
                self.kinds.append("phone")
            elif f is not None and (f == "postal_code" or _FLAT_POSTCODE.fullmatch(f)):
                self.kinds.append("postcode")
            elif f is not None and (f in _DATE_FIELDS or _FLAT_DATE.fullmatch(f)):
                self.kinds.append("birthday" if f == "birthday" else "date")
            else:
                self.kinds.append("")

    def text(self, value: Any, kind: str) -> str:
        if isinstance(value, str):
            if kind == "phone" and value[:1].isdigit() and ("E" in value or "e" in value):
                exact = _scientific_phone(value)
                return value if exact is None else exact
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            v = float(value)
            if kind == "phone":
                return _phone_number(v, self.region)
            if kind == "postcode":
                return _postcode(v, self.region)
            if kind and not (v.is_integer() and 10_000_000 <= v <= 99_991_231):  # 20240306 is a date too
                return _serial(v, self.date1904, kind == "birthday")
            return _number_text(v)
        if isinstance(value, dt.datetime):
            if kind == "birthday" and value.time() == dt.time(0):
                return value.date().isoformat()
            return value.isoformat()
        if isinstance(value, (dt.date, dt.time)):
            return value.isoformat()
        if isinstance(value, dt.timedelta):
            if kind:
                raise _CellProblem("a duration where a date belongs")
            return str(value)
        return str(value)  # pragma: no cover - calamine gives the types above only


def _header_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _find_header(
    rows: Sequence[Sequence[Any]],
    kind: str,
    mapping: Mapping[str, str | None],
    profile: Mapping[str, str | None] | None,
) -> int | None:
    """The index of the header row: among the first rows, the one whose cells name the most fields
    (the first on a tie); when none names a field, the first row with two or more cells."""
    best, best_score, first_wide, seen = None, 0, None, 0
    for i, row in enumerate(rows):
        texts = [_header_text(c) for c in row]
        filled = sum(1 for t in texts if t.strip())
        if not filled:
            continue
        seen += 1
        if seen > HEADER_SCAN:
            break
        if first_wide is None and filled >= 2:
            first_wide = i
        score = sum(
            1 for t, f in zip(texts, header_fields(texts, kind, mapping, profile), strict=True) if t and f
        )
        if score > best_score:
            best, best_score = i, score
    return best if best is not None else first_wide


def _fill_merged(
    rows: list[list[Any]], merged: Iterable[tuple[tuple[int, int], tuple[int, int]]], top: int
) -> None:
    """Give every cell of a merged range below the header the value of its first cell."""
    for (r0, c0), (r1, c1) in merged:
        if r1 <= top or r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(max(r0, top + 1), min(r1, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                row[c] = value


# ------------------------------------------------------------------------------------------ reading
def read_excel(
    path: PathLike,
    sheet: Sheet | Sequence[Sheet] | None = None,
    *,
    kind: Kind = "customer",
    mapping: Mapping[str, str | None] | None = None,
    profile: str | Mapping[str, str | None] | None = None,
    errors: Errors = "raise",
    header_row: int | None = None,
    region: str | None = "CN",
    default_tz: str | dt.tzinfo | None = None,
    missing_id: MissingId = "derive",
    source: str | None = None,
    check_contacts: bool = True,
) -> RecordReader[Any]:
    """Read records from an Excel (.xlsx, .xls) or OpenDocument (.ods) workbook.

    ``sheet``: None reads the first visible worksheet; a name or an index (from 0) reads that one;
    ``"*"`` reads every visible worksheet in order, and a list reads those. Each problem names its
    sheet (:attr:`RowProblem.sheet`) and its row as the spreadsheet numbers it.

    The header row is found: a title row or merged cells above it are passed over (the row among the
    first 30 whose cells name the most fields); ``header_row=`` (counted from 1) sets it. Merged cells
    below the header give their value to every row they cover.

    Cells are read as :func:`read_csv` reads text, with headers, ``mapping``, ``profile``, ``errors``,
    ``default_tz``, ``missing_id``, ``source`` and ``check_contacts`` as there. Phones stored as
    numbers: a leading 0 the spreadsheet dropped is put back only when ``region``'s numbering plan
    makes it certain (``1062345678`` → ``01062345678`` in CN); a number that cannot be a whole phone
    number any more (``1.38E+10``, 16+ digits, a fraction) or whose 0 cannot be told is a problem of
    its row. Dates stored as serial numbers are read in the workbook's date system (1900 or 1904).

    Needs the ``excel`` extra (python-calamine). A file that is not a workbook (a CSV named ``.xlsx``),
    a damaged one or a password-protected one raises :class:`~custdata.exceptions.ParseError`.
    """
    check_errors(errors)
    cls = record_class(kind)
    headers = profile_headers(profile, kind)
    tz = to_tzinfo(default_tz)
    if header_row is not None and (
        isinstance(header_row, bool) or not isinstance(header_row, int) or header_row < 1
    ):
        raise ValidationError("must be a row number from 1, or None to find it", field="header_row")
    if region is not None:
        import phonenumbers

        if not isinstance(region, str) or region.strip().upper() not in phonenumbers.SUPPORTED_REGIONS:
            shown = repr(region) if isinstance(region, str) else type(region).__name__
            raise ValidationError(f"must be a region code such as 'CN' or None, got {shown}", field="region")
    if not isinstance(missing_id, str) or missing_id not in ("derive", "random", "error"):
        RowIds("", missing_id)  # the one check and message
    name = file_name(path)
    book = _Book(name)
    try:
        sheets = _sheets(book, sheet)
    except BaseException:
        book.close()
        raise
    reader: RecordReader[Any] = RecordReader(iter(()), cast("IO[Any]", book), None)
    src = source if source is not None else os.path.basename(name)
    reader._rows = _excel_rows(
        reader,
        book,
        sheets,
        cls,
        kind,
        mapping or {},
        headers,
        errors,
        tz,
        name,
        header_row,
        region.strip().upper() if region else None,
        src,
        missing_id,
        check_contacts,
    )
    return reader


def _excel_rows(
    reader: RecordReader[Any],
    book: _Book,
    sheets: list[str],
    cls: type[Any],
    kind: str,
    mapping: Mapping[str, str | None],
    profile: Mapping[str, str | None] | None,
    errors: str,
    tz: dt.tzinfo,
    name: str,
    header_row: int | None,
    region: str | None,
    source: str,
    missing_id: str,
    check: bool,
) -> Iterator[Any]:
    for sheet in sheets:
        rows, merged = book.rows(sheet)
        top = header_row - 1 if header_row is not None else _find_header(rows, kind, mapping, profile)
        if top is None or top >= len(rows):
            continue  # an empty sheet
        _fill_merged(rows, merged, top)
        header = [_header_text(c) for c in rows[top]]
        while header and not header[-1].strip():
            header.pop()
        ids = RowIds(f"{source}#{sheet}", missing_id) if kind == "customer" else None
        builder = RowBuilder(reader, header, cls, kind, mapping, errors, tz, name, ids, check, profile, sheet)
        cells = _Cells(builder.fields, book.date1904, region)
        width = len(header)
        header_keys = [header_key(h) for h in header]
        for r in range(top + 1, len(rows)):
            raw = rows[r]
            if not any(c != "" for c in raw):
                continue
            reader.rows += 1
            rownum = r + 1
            if any(c != "" for c in raw[width:]):
                builder.problem(
                    [RowProblem(rownum, "", f"cells beyond the {width} columns of the header", sheet=sheet)]
                )
                continue
            if raw[:1] == header[:1] and [header_key(_header_text(c)) for c in raw[:width]] == header_keys:
                again = RowProblem(
                    rownum, "", "the header row again (two sheets pasted together?)", sheet=sheet
                )
                builder.problem([again])
                continue
            text: list[str] = []
            problems: list[RowProblem] = []
            for i in range(width):
                value = raw[i] if i < len(raw) else ""
                try:
                    text.append(cells.text(value, cells.kinds[i]) if value != "" else "")
                except _CellProblem as exc:
                    text.append("")
                    problems.append(RowProblem(rownum, builder.fields[i] or header[i], str(exc), sheet=sheet))
            record = builder.build(rownum, text, problems)
            if record is not None:
                yield record
    reader.close()


# ------------------------------------------------------------------------------------------ writing
def _xl_cell(text: str) -> str:
    """A cell as written to a workbook: the formula guard, but digit strings stay plain text cells
    (a text cell keeps ``00123`` and ``13800138000`` as they are)."""
    g = guard(text)
    return text if g[:2] == '="' else g


def _escape(text: str) -> str:
    """The text as an OOXML string holds it: characters XML cannot carry (control characters, a
    carriage return, which XML reads back as a line feed) as ``_xHHHH_``, and a literal ``_xHHHH_``
    with its ``_`` escaped, so a reader that decodes the escapes gives the text back exactly."""
    return _XESC.sub(lambda m: "_x005F_" if m.group() == "_" else f"_x{ord(m.group()):04X}_", text)


class _SheetWriter:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.n = 0

    def writerow(self, row: list[str], /) -> None:
        self.n += 1
        if self.n > MAX_ROWS:
            raise ValidationError(
                f"more than {MAX_ROWS - 1} records do not fit in one worksheet", field="records"
            )
        if len(row) > MAX_COLUMNS:
            raise ValidationError(
                f"{len(row)} columns; a worksheet holds at most {MAX_COLUMNS}", field="records"
            )
        cells: list[str | None] = []
        for c in row:
            if _XESC.search(c):
                c = _escape(c)
            if len(c) > MAX_CELL or _UNHOLDABLE.search(c):
                where = f"records[{self.n - 2}]" if self.n > 1 else "records"
                if len(c) > MAX_CELL:
                    raise ValidationError(
                        f"a cell of {len(c)} characters; a workbook cell holds at most {MAX_CELL}",
                        field=where,
                    )
                raise ValidationError(
                    "a lone surrogate or U+FFFE/U+FFFF, which a workbook cannot hold", field=where
                )
            cells.append(c if c != "" else None)
        self.ws.append(cells)


def write_excel(
    records: Iterable[Any],
    path: PathLike,
    *,
    kind: Kind | None = None,
    layout: Layout = "flat",
    sheet: str = "customers",
) -> int:
    """Write records to an ``.xlsx`` workbook atomically; returns the number of rows written.

    The columns are those of :func:`write_csv` (customers in the flat layout by default). Every cell
    is a text cell, so phones, ids, postal codes and year-less birthdays (``--12-10``) stay as written;
    the formula guard puts ``'`` before a cell that a spreadsheet would run as a formula; the header
    row is frozen. :func:`read_excel` reads the file back to equal records.

    Anything in ``records`` that is not a record, a value a workbook cannot hold (a control character,
    more than 32,767 characters in a cell) or more rows than a worksheet holds raises
    :class:`~custdata.exceptions.ValidationError`, and nothing is written. Needs the ``excel`` extra.
    """
    if layout not in ("flat", "json"):
        raise ValidationError(f"layout must be 'flat' or 'json', got {layout!r}", field="layout")
    if not isinstance(sheet, str) or not sheet or len(sheet) > 31 or re.search(r"[\[\]:*?/\\]", sheet):
        raise ValidationError("a sheet name is 1 to 31 characters, none of [ ] : * ? / \\", field="sheet")
    cls, items = record_rows(iterable(records), kind)
    openpyxl = _openpyxl()
    name = file_name(path)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.freeze_panes = "A2"
    folder = None if url_scheme(name) else Path(name).parent
    try:
        n = write_rows(cls, items, _SheetWriter(ws), folder, layout=layout, cell=_xl_cell)
    except BaseException:
        with contextlib.suppress(Exception):
            ws.close()  # finish openpyxl's spool file, which is then dropped with the workbook
        raise
    with atomic_write_bytes(name) as fh:
        wb.save(fh)
    return n
