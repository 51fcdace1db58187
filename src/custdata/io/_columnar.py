"""The columnar path of :func:`read_csv` (the ``parquet`` extra: pyarrow's CSV reader).

pyarrow parses the file into columns of text, block by block; each column is checked and converted on its
own (a date, a phone kind, a tag list is parsed once per distinct cell text), and the records are built
at the end of each block directly from the converted values. The answer is always the row reader's:

* a file is read this way only when every line is one row: no quote character, no NUL byte, no blank
  line, no lone carriage return, no cell longer than the csv module takes, every line with exactly the
  header's number of cells, UTF-8 text (checked in a first pass over the bytes); the header maps to
  fields this path knows. Anything else is read by the row reader, for the whole file;
* within such a file, the batch builder (:meth:`_Builder.batch`) decides by whole columns with
  pyarrow.compute which rows are plain (contacts that pass the column checks, no guarded cell, an id
  that cannot be blank, every converted cell taken, not empty, not the header again) and makes their
  records with one generated comprehension over the columns, a chunk of rows at a time; every other row
  takes the per-row fast builder (:meth:`_Builder.fast`), and a row with a cell that one does not take
  as plain (an empty id, a phone with a remark, an e-mail or date that does not parse, a channel word
  kept as ``channel_raw`` …) goes through the row reader's own code for that one row (same record, same
  problems, same row number).

Hypothesis pins the batch builder to the per-row one, and the whole path to the row reader
(``tests/io/test_columnar.py``).
"""

from __future__ import annotations

import datetime as dt
import gc
import keyword
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from custdata._fields import FrozenMap, fields_of, to_tags
from custdata._records import Address, Customer, Email, PersonName, Phone
from custdata.exceptions import MissingExtraError, ParseError
from custdata.io._args import open_file
from custdata.io._build import RowBuilder, header_fields
from custdata.io._cells import (
    CHANNEL_WORDS,
    PHONE_SPLIT,
    SPLIT,
    STAGE_WORDS,
    list_cell,
    parse_birthday,
    parse_when,
    word,
)
from custdata.io._flat import FLAT_PREFIX
from custdata.io._guard import unguard
from custdata.io._headers import header_key
from custdata.io._ids import RowIds
from custdata.io._problems import RecordReader, RowProblem, handle
from custdata.normalization._email import _CASELESS, _LABEL_RE, _SPECIAL

__all__ = ["columnar_rows"]

_BLOCK = 1 << 22
_CHUNK = 2048  # rows made at once by the batch builder
_FIELD_LIMIT = 131_072  # the csv module's default field_size_limit
_PLAIN = object()  # a cache entry for a cell this path does not take
_GUARDED = frozenset("'=")  # the first characters unguard changes anything after
# a cell that is neither empty nor blank for str.strip, nor changed by unguard (its first character is no
# whitespace Python knows, no ' and no =): the batch builder's id check, in RE2 syntax
_WHITESPACE = "".join(f"\\x{{{c:x}}}" for c in range(0x3001) if chr(c).isspace())  # none above U+3000
_PLAIN_ID = "^[^'=" + _WHITESPACE + "]"
# cells whose checks are done for a whole column by pyarrow.compute (each a subset of what the per-cell
# checks accept, with unguard changing nothing but a leading quote before "+": pinned by hypothesis)
_PLAIN_PHONE = r"^(?:'?\+[0-9]{3,17}|[0-9]{3,18})$"
_PLAIN_EMAIL = r"^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:" + _LABEL_RE + r"\.)+[A-Za-z]{2,63}$"


def _unguard(raw: str) -> str:
    return unguard(raw) if raw[0] in _GUARDED else raw


class _NotPlain(Exception):
    """A cell this path does not take: the row goes through the row reader's code."""


def _pyarrow(required: bool) -> Any:
    try:
        import pyarrow as pa
        import pyarrow.csv
    except ImportError as exc:
        if required:
            raise MissingExtraError("parquet", "read_csv(engine='columnar')", ["pyarrow"]) from exc
        return None
    return pa


# ---------------------------------------------------------------------------------------------- record makers
def _maker(cls: type) -> Callable[..., Any]:
    """Build a record from converted field values given by keyword (the defaults for the rest), as
    ``from_dict`` stores them once its converters have run: generated, one store per field. A default
    made by a factory is made once (they are immutable: an empty ``FrozenMap``, an empty
    ``PersonName``); a factory that makes a new value each time (a random id) is called each time."""
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_M": object()}
    params = []
    body = ["    obj = _new(_cls)"]
    for n, f in enumerate(fields_of(cls)):
        if not f.name.isidentifier() or keyword.iskeyword(f.name):  # pragma: no cover - none today
            raise AssertionError(f.name)
        ns[f"_s{n}"] = getattr(cls, f.name).__set__
        if f.factory is None:
            ns[f"_d{n}"] = f.default
            params.append(f"{f.name}=_d{n}")
            body.append(f"    _s{n}(obj, {f.name})")
        elif f.factory() == f.factory():  # the same value each time: made once
            ns[f"_d{n}"] = f.factory()
            params.append(f"{f.name}=_d{n}")
            body.append(f"    _s{n}(obj, {f.name})")
        else:
            ns[f"_f{n}"] = f.factory
            params.append(f"{f.name}=_M")
            body.append(f"    _s{n}(obj, _f{n}() if {f.name} is _M else {f.name})")
    lines = [f"def make(*, {', '.join(params)}):", *body, "    return obj"]
    exec(compile("\n".join(lines) + "\n", f"<custdata columnar {cls.__name__}>", "exec"), ns)
    make: Callable[..., Any] = ns["make"]
    return make


_CUSTOMER = _maker(Customer)
_PHONE = _maker(Phone)
_EMAIL = _maker(Email)
_ADDRESS = _maker(Address)
_PERSON = _maker(PersonName)
_DEFAULTS = {f.name: f.default if f.factory is None else f.factory() for f in fields_of(Customer)}
_CONTACT_DEFAULTS = {
    (group, f.name): f.default for group, cls in (("phone", Phone), ("email", Email)) for f in fields_of(cls)
}


# ---------------------------------------------------------------------------------------------- header plan
_PHONE_COLUMNS = {
    "phone": "other",
    "mobile": "mobile",
    "home_phone": "home",
    "work_phone": "work",
    "fax": "fax",
}
_EMAIL_COLUMNS = {"email": "other", "work_email": "work"}
_ADDRESS_COLUMNS = {"country", "province", "city", "district", "street", "postal_code", "address"}
_TEXT = {"gender", "company", "title", "owner"}
_CACHED = {"birthday", "tags", "channel", "lifecycle_stage", "created_at", "updated_at", "version"}
_NAME = {"name": "full", "family_name": "family", "given_name": "given"}
_FLAT_KEYS = {"phone": ("kind", "primary", "verified_at"), "email": ("kind", "primary", "verified_at")}


def supported(fields: Sequence[str | None]) -> bool:
    """Whether every column maps to a field this path builds (else the row reader reads the file)."""
    for f in fields:
        if f is None or f == "id" or f in _NAME or f in _TEXT or f in _CACHED:
            continue
        if f in _PHONE_COLUMNS or f in _EMAIL_COLUMNS or f in _ADDRESS_COLUMNS:
            continue
        if f[0] == FLAT_PREFIX and not f[1:].startswith(("custom.", "external_ids.", "consents.")):
            continue
        return False
    return True


# ---------------------------------------------------------------------------------------------- first pass
def plain_lines(name: str, width: int, delimiter: str) -> bool:
    """Whether every line of the file is one row of ``width`` cells that the csv module splits exactly
    as a plain split does (see the module notes)."""
    sep = delimiter.encode("utf-8")
    want = width - 1
    with open_file(name, "rb") as fh:
        rest = b""
        first = True
        while True:
            chunk = fh.read(_BLOCK)
            data = rest + chunk
            if not chunk:
                if not data:
                    return True
                lines = [data]
                rest = b""
            else:
                cut = data.rfind(b"\n")
                if cut < 0:
                    rest = data
                    continue
                lines = data[: cut + 1].split(b"\n")
                lines.pop()  # the empty text after the last newline
                rest = data[cut + 1 :]
            block = data if not chunk else data[: len(data) - len(rest)]
            if b'"' in block or b"\x00" in block or block.count(b"\r") != block.count(b"\r\n"):
                return False
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                return False
            for line in lines[1:] if first else lines:
                if line.count(sep) != want or line in (b"", b"\r") or len(line) > _FIELD_LIMIT:
                    return False
            first = False
            if not chunk:
                return True


# ---------------------------------------------------------------------------------------------- the rows
def columnar_rows(
    reader: RecordReader[Any],
    name: str,
    encoding: str,
    mapping: Mapping[str, str | None],
    errors: str,
    tz: dt.tzinfo,
    ids: RowIds,
    check: bool,
    delimiter: str,
    required: bool,
    profile: Mapping[str, str | None] | None = None,
) -> Iterator[Any] | None:
    """The records of a customer CSV file read by columns, or None when the row reader must read it."""
    pa = _pyarrow(required)
    if (
        pa is None
        or encoding not in ("utf-8", "utf-8-sig")
        or len(delimiter) != 1
        or not delimiter.isascii()  # pyarrow splits on one byte
        or delimiter in '\r\n"\x00'
    ):
        return None
    with open_file(name, "rb") as fh:
        start = fh.read(_FIELD_LIMIT + 1)
    cut = start.find(b"\n")
    head = start[: cut + 1] if cut >= 0 else b""
    if not head or b'"' in head or b"\x00" in head:
        return None
    try:
        header = head.decode(encoding).rstrip("\n").rstrip("\r").split(delimiter)
    except UnicodeDecodeError:
        return None
    if not any(header):
        return None
    if not supported(header_fields(header, "customer", mapping, profile)) or not plain_lines(
        name, len(header), delimiter
    ):
        return None
    rows = RowBuilder(reader, header, Customer, "customer", mapping, errors, tz, name, ids, check, profile)
    return _rows(pa, reader, name, header, rows, errors, tz, check, delimiter)


def _rows(
    pa: Any,
    reader: RecordReader[Any],
    name: str,
    header: list[str],
    rows: RowBuilder,
    errors: str,
    tz: dt.tzinfo,
    check: bool,
    delimiter: str,
) -> Iterator[Any]:
    width = len(header)
    names = [f"c{i}" for i in range(width)]
    fh = open_file(name, "rb")
    reader._fh = fh  # closed with the reader
    try:
        stream = pa.csv.open_csv(
            fh,
            read_options=pa.csv.ReadOptions(column_names=names, skip_rows=1, block_size=_BLOCK),
            parse_options=pa.csv.ParseOptions(
                delimiter=delimiter, quote_char=False, double_quote=False, newlines_in_values=False
            ),
            convert_options=pa.csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False, null_values=[]
            ),
        )
    except (pa.ArrowException, OSError) as exc:
        raise ParseError(f"cannot read the file: {exc}", path=name) from None
    build = _Builder(header, rows.fields, rows.keep, tz, check)
    header_keys = [header_key(h) for h in header]
    first_header = header[0]
    rownum = 1
    import pyarrow.compute as pc

    for batch in _batches(pa, stream, name):
        columns = [batch.column(i).to_pylist() for i in range(width)]
        mask = _checked_mask(pc, pa, batch, build.phone_columns, build.email_columns)
        made = build.batch(pc, pa, batch, columns, mask, first_header) if build.combine is not None else None
        if made is not None:  # the rows by columns, a chunk at a time; the special ones by the steps below
            sources, special = made
            marks = sorted(special)
            for start in range(0, batch.num_rows, _CHUNK):
                made_rows = build.make(sources, start, start + _CHUNK)
                if bisect_left(marks, start) == bisect_left(marks, start + len(made_rows)):
                    for record in made_rows:  # the common chunk: every row plain
                        reader.rows += 1
                        yield record
                    rownum += len(made_rows)
                    continue
                for i, record in enumerate(made_rows, start):
                    rownum += 1
                    if i in special:
                        yield from _one(build, rows, reader, header_keys, first_header, errors, name,
                                        rownum, tuple([col[i] for col in columns]), False)  # fmt: skip
                    else:
                        reader.rows += 1
                        yield record
            continue
        checked = [False] * batch.num_rows if mask is None else mask.to_pylist()
        for cells, trusted in zip(zip(*columns, strict=True), checked, strict=True):
            rownum += 1
            yield from _one(
                build, rows, reader, header_keys, first_header, errors, name, rownum, cells, trusted
            )


def _one(
    build: _Builder,
    rows: RowBuilder,
    reader: RecordReader[Any],
    header_keys: list[str],
    first_header: str,
    errors: str,
    name: str,
    rownum: int,
    cells: Sequence[str],
    trusted: bool,
) -> Iterator[Any]:
    """One row by the per-row steps: skipped when empty, reported when the header again, else the fast
    builder or, for a cell it does not take, the row reader's steps."""
    if not any(cells):
        return  # a row of empty cells: skipped, as the row reader skips it
    reader.rows += 1
    first = cells[0]
    if (first[:1] == "\ufeff" or first == first_header) and [header_key(c) for c in cells] == header_keys:
        handle(reader, [RowProblem(rownum, "", "the header row again (two files joined?)")], errors, name)
        return
    try:
        yield build.fast(cells, trusted)
        return
    except _NotPlain:
        pass
    record = _general(rows, rownum, cells)
    if record is not None:
        yield record


def _batches(pa: Any, stream: Any, name: str) -> Iterator[Any]:
    """The stream's record batches; pyarrow's errors (a file changed between the two passes, a read
    error) as ParseError naming the file."""
    while True:
        try:
            batch = stream.read_next_batch()
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            raise ParseError(f"cannot read the file: {exc}", path=name) from None
        yield batch


def _checked(pc: Any, pa: Any, batch: Any, phones: list[int], emails: list[int]) -> list[bool] | None:
    """Per row of the batch, whether every phone and e-mail cell in it is one the per-cell checks take
    (by pyarrow.compute over whole columns); None when there are no such columns."""
    mask = _checked_mask(pc, pa, batch, phones, emails)
    result: list[bool] | None = None if mask is None else mask.to_pylist()
    return result


def _checked_mask(pc: Any, pa: Any, batch: Any, phones: list[int], emails: list[int]) -> Any:
    """:func:`_checked` as a pyarrow boolean array."""
    if not phones and not emails:
        return None
    ok: Any = None
    for i in phones:
        col = batch.column(i)
        m = pc.or_(pc.equal(col, ""), pc.match_substring_regex(col, _PLAIN_PHONE))
        ok = m if ok is None else pc.and_(ok, m)
    for i in emails:
        col = batch.column(i)
        parts = pc.extract_regex(col, r"^(?P<l>[^@]*)@(?P<d>.*)$")
        local = pc.struct_field(parts, "l")
        domain = pc.utf8_lower(pc.struct_field(parts, "d"))
        good = pc.and_(pc.match_substring_regex(col, _PLAIN_EMAIL), pc.less_equal(pc.utf8_length(col), 254))
        good = pc.and_(good, pc.less_equal(pc.utf8_length(local), 64))
        good = pc.and_(good, pc.less_equal(pc.utf8_length(domain), 253))
        good = pc.and_(good, pc.invert(pc.match_substring(domain, "--")))
        good = pc.and_(good, pc.invert(pc.is_in(pc.utf8_lower(local), value_set=pa.array(sorted(_CASELESS)))))
        good = pc.and_(good, pc.invert(pc.is_in(domain, value_set=pa.array(sorted(_SPECIAL)))))
        for d in _SPECIAL:  # a special-use domain or a name under one (its top-level ones too)
            good = pc.and_(good, pc.invert(pc.ends_with(domain, "." + d)))
        m = pc.or_(pc.equal(col, ""), pc.fill_null(good, False))
        ok = m if ok is None else pc.and_(ok, m)
    return ok


def _general(rows: RowBuilder, rownum: int, cells: Sequence[str]) -> Any:
    """One row by the row reader's own steps (custdata.io._build)."""
    return rows.build(rownum, list(cells))


# ---------------------------------------------------------------------------------------------- the fast row
# a flat phone or e-mail group: (the number/address column, the detail keys, their columns, a cache of
# detail cells -> converted values)
_Group = tuple[int | None, tuple[str, ...], tuple[int, ...], dict[tuple[str, ...], Any]]


def _group(cols: dict[str, int]) -> _Group:
    detail = [(k, i) for k, i in cols.items() if k]
    return cols.get(""), tuple(k for k, _ in detail), tuple(i for _, i in detail), {}


class _Builder:
    """Builds a customer from a row of plain cells, raising ``_NotPlain`` for any other cell."""

    def __init__(
        self, header: list[str], fields: list[str | None], keep: list[bool], tz: dt.tzinfo, check: bool
    ) -> None:
        from custdata.normalization import normalize_email
        from custdata.normalization._phone import phone_text

        self.phone_text = phone_text
        self.normalize_email = normalize_email
        self.check = check
        self.tz = tz
        conv = Customer._CONVERTERS
        self.conv = conv
        self.caches: dict[str, dict[str, Any]] = {}
        self.kinds: dict[str, Any] = {}
        # column jobs, in header order: (index, what, key)
        self.jobs: list[tuple[int, str, Any]] = []
        flat: dict[tuple[str, int], dict[str, int]] = {}
        self.address_parts: list[tuple[int, str]] = []
        for i, (h, f) in enumerate(zip(header, fields, strict=True)):
            plain = h.lstrip("\ufeff")
            if f is None:
                if keep[i]:
                    self.jobs.append((i, "custom", plain))
            elif f == "id":
                self.jobs.append((i, "id", None))
            elif f in _NAME:
                self.jobs.append((i, "name", _NAME[f]))
            elif f in _TEXT:
                self.jobs.append((i, "text", f))
            elif f in _CACHED:
                self.jobs.append((i, "cached", f))
            elif f in _PHONE_COLUMNS:
                self.jobs.append((i, "phone_col", _PHONE_COLUMNS[f]))
            elif f in _EMAIL_COLUMNS:
                self.jobs.append((i, "email_col", _EMAIL_COLUMNS[f]))
            elif f in _ADDRESS_COLUMNS:
                self.address_parts.append((i, "raw" if f == "address" else f))
            else:  # a flat column: phone_N[_key], email_N[_key], address_N_part
                col = f[1:]
                group, _, rest = col.partition("_")
                index_text, _, key = rest.partition("_")
                flat.setdefault((group, int(index_text)), {})[key] = i
        # flat groups in the order parse_flat gives them: by group, then index
        self.flat_phones = [_group(flat[k]) for k in sorted(k for k in flat if k[0] == "phone")]
        self.flat_emails = [_group(flat[k]) for k in sorted(k for k in flat if k[0] == "email")]
        self.flat_addresses = [flat[k] for k in sorted(k for k in flat if k[0] == "address")]
        self.has_name = any(j[1] == "name" for j in self.jobs)
        self.run_jobs = self._compile_jobs()
        self.phone_columns = [j[0] for j in self.jobs if j[1] == "phone_col"]
        self.phone_columns += [g[0] for g in self.flat_phones if g[0] is not None]
        self.email_columns = [j[0] for j in self.jobs if j[1] == "email_col"]
        self.email_columns += [g[0] for g in self.flat_emails if g[0] is not None]
        self.combine = self._compile_combine()

    # cells -------------------------------------------------------------------------------------
    def _cached(self, field: str, raw: str) -> Any:
        cache = self.caches.setdefault(field, {})
        v = cache.get(raw, None)
        if v is None:
            try:
                v = self._convert(field, raw)
            except Exception:
                v = _PLAIN
            if len(cache) < 100_000:
                cache[raw] = v
        if v is _PLAIN:
            raise _NotPlain
        return v

    def _convert(self, field: str, raw: str) -> Any:
        conv = self.conv
        if field == "birthday":
            return conv["birthday"](parse_birthday(raw))
        if field == "tags":
            return to_tags(list_cell(raw))
        if field == "channel":
            v = word(raw, CHANNEL_WORDS)
            return conv["channel"](
                v
            )  # a word that is no channel raises: kept as channel_raw by the row reader
        if field == "lifecycle_stage":
            return conv["lifecycle_stage"](word(raw, STAGE_WORDS))
        if field in ("created_at", "updated_at"):
            return conv[field](parse_when(raw, self.tz))
        if field == "version":
            return conv["version"](int(raw.strip()))
        raise AssertionError(field)  # pragma: no cover

    def _kind(self, group: str, raw: str) -> Any:
        key = group + "\x00" + raw
        v = self.kinds.get(key)
        if v is None:
            try:
                v = (Phone if group == "phone" else Email)._CONVERTERS["kind"](raw)
            except Exception:
                v = _PLAIN
            self.kinds[key] = v
        if v is _PLAIN:
            raise _NotPlain
        return v

    def _phone_ok(self, text: str) -> None:
        if not text.strip():
            raise _NotPlain
        if self.check:
            try:
                _number, note = self.phone_text(text)
            except Exception:
                raise _NotPlain from None
            if note is not None:
                raise _NotPlain

    def _email_ok(self, text: str) -> None:
        if not text.strip():
            raise _NotPlain
        if self.check:
            try:
                self.normalize_email(text)
            except Exception:
                raise _NotPlain from None

    def _contact(self, cells: Sequence[str], spec: _Group, group: str) -> tuple[str, dict[str, Any]] | None:
        """(the unguarded number or address, its other converted fields), None for an empty group."""
        main, keys, idx, cache = spec
        text = cells[main] if main is not None else ""
        detail = tuple([cells[i] for i in idx])
        if text == "":
            if any(detail):
                raise _NotPlain  # details without a number or address: the row reader reports it
            return None
        if text[0] in _GUARDED:
            text = unguard(text)
        extra: Any = cache.get(detail)
        if extra is None:  # kind, primary, verified_at: converted once per distinct cells
            try:
                extra = self._details(keys, detail, group)
            except _NotPlain:
                extra = _PLAIN
            if len(cache) < 100_000:
                cache[detail] = extra
        if extra is _PLAIN:
            raise _NotPlain
        return text, extra

    def _details(self, keys: tuple[str, ...], detail: tuple[str, ...], group: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, raw in zip(keys, detail, strict=True):
            if raw == "":
                continue
            if raw[0] in _GUARDED:
                raw = unguard(raw)
            if key == "kind":
                values["kind"] = self._kind(group, raw)
            elif key == "primary":
                t = raw.strip().lower()
                if t not in ("true", "false"):
                    raise _NotPlain
                values["primary"] = t == "true"
            else:  # verified_at
                try:
                    values["verified_at"] = Phone._CONVERTERS["verified_at"](raw)
                except Exception:
                    raise _NotPlain from None
        return values

    def _compile_jobs(self) -> Callable[..., None]:
        """The column jobs of this header as one generated function (no dispatch per cell): it fills
        ``d``, ``name``, ``custom``, ``phones`` and ``emails`` from the cells, or raises ``_NotPlain``."""
        ns: dict[str, Any] = {
            "_NotPlain": _NotPlain, "_PLAIN": _PLAIN, "_GUARDED": _GUARDED, "unguard": unguard,
            "PHONE_SPLIT": PHONE_SPLIT, "SPLIT": SPLIT, "_PHONE": _PHONE, "_EMAIL": _EMAIL, "self": self,
        }  # fmt: skip
        lines = ["def run(cells, trusted, d, name, custom, phones, emails):"]
        for n, (i, what, key) in enumerate(self.jobs):
            lines.append(f"    raw = cells[{i}]")
            if what == "id":
                lines.append("    if raw == '':\n        raise _NotPlain  # a derived id: the row reader's")
                lines.append("    if True:")
            else:
                lines.append("    if raw != '':")
            lines.append("        if raw[0] in _GUARDED:\n            raw = unguard(raw)")
            ns[f"_k{n}"] = key
            if what == "id":
                lines.append(
                    "        if not raw.strip():\n            raise _NotPlain\n        d['id'] = raw"
                )
            elif what == "name":
                lines.append(f"        name[_k{n}] = raw")
            elif what == "text":
                lines.append(f"        d[_k{n}] = raw")
            elif what == "cached":
                ns[f"_c{n}"] = self.caches.setdefault(key, {})
                lines.append(f"        v = _c{n}.get(raw)")
                lines.append(
                    f"        d[_k{n}] = self._cached(_k{n}, raw) if v is None or v is _PLAIN else v"
                )
            elif what == "custom":
                lines.append(f"        custom[_k{n}] = raw")
            else:
                group, box, num, split = (
                    ("phone", "phones", "number", "PHONE_SPLIT")
                    if what == "phone_col"
                    else ("email", "emails", "address", "SPLIT")
                )
                lines += [
                    "        if not trusted:  # else the column checks cover these",
                    f"            if raw.strip() != raw or {split}.search(raw):",
                    "                raise _NotPlain",
                    f"            self._{group}_ok(raw)",
                    f"        {box}.append(_{group.upper()}({num}=raw, kind=self._kind({group!r}, _k{n})))",
                ]
        lines.append("    return None")
        exec(compile("\n".join(lines) + "\n", "<custdata columnar row>", "exec"), ns)
        run: Callable[..., None] = ns["run"]
        return run

    # the batch -------------------------------------------------------------------------------------
    def _compile_combine(self) -> Callable[..., list[Any]] | None:
        """The records of a batch's rows from its columns, as one generated loop over the columns (cells,
        or converted values for the columns in ``self.converted``) that makes each record and its parts
        in place, as :func:`_maker`'s functions do (one store per field, the defaults made once); None
        when the header has no id column (every row would take the per-row steps). Rows the column
        checks do not take are special (:meth:`batch`): what this makes for them is dropped."""
        if not any(j[1] == "id" for j in self.jobs):
            return None
        self.converted: dict[int, tuple[str, Any]] = {}  # column -> (what, key) of its conversion
        used: set[int] = set()
        args: dict[str, str] = {}  # Customer field -> its expression
        name_parts: dict[str, str] = {}  # PersonName field -> its expression
        custom: list[str] = []
        # contacts and addresses: (the condition for one, its class, field -> expression)
        phones: list[tuple[str, type, dict[str, str]]] = []
        emails: list[tuple[str, type, dict[str, str]]] = []
        ns: dict[str, Any] = {"_new": object.__new__, "_FM": FrozenMap}
        for n, (i, what, key) in enumerate(self.jobs):
            x = f"x{i}"
            used.add(i)
            if what == "id":
                args["id"] = x
            elif what == "name":
                name_parts[key] = f"({x} or None)"
            elif what == "text":
                args[key] = f"({x} or None)"
            elif what == "cached":
                self.converted[i] = ("cached", key)
                args[key] = x
            elif what == "custom":
                ns[f"_k{n}"] = key
                custom.append(f"(_k{n}, {x})")
            else:
                group = "phone" if what == "phone_col" else "email"
                try:
                    ns[f"_kind{n}"] = self._kind(group, key)
                except _NotPlain:  # pragma: no cover - the header's kinds are all known ones
                    return None
                if group == "phone":
                    self.converted[i] = ("number", None)
                    phones.append((x, Phone, {"number": x, "kind": f"_kind{n}"}))
                else:
                    emails.append((x, Email, {"address": x, "kind": f"_kind{n}"}))
        flat: dict[str, list[tuple[str, type, dict[str, str]]]] = {"phone": [], "email": []}
        for specs, cls, main_key, group in (
            (self.flat_phones, Phone, "number", "phone"),
            (self.flat_emails, Email, "address", "email"),
        ):
            for main, keys, idx, _cache in specs:
                used.update(idx)
                for k, i in zip(keys, idx, strict=True):
                    self.converted[i] = ("detail", (group, k))
                if main is None:
                    continue  # never a contact: a row with details is special
                used.add(main)
                if group == "phone":
                    self.converted[main] = ("number", None)
                given = {main_key: f"x{main}"} | {k: f"x{i}" for k, i in zip(keys, idx, strict=True)}
                flat[group].append((f"x{main}", cls, given))
        addresses: list[tuple[str, type, dict[str, str]]] = []
        for cols in [{k: i for i, k in self.address_parts}, *self.flat_addresses]:
            if cols:
                used.update(cols.values())
                present = " or ".join(f"x{i}" for i in cols.values())
                addresses.append((present, Address, {k: f"(x{i} or None)" for k, i in cols.items()}))
        body: list[str] = []

        def make(cls: type, given: dict[str, str], target: str, indent: str) -> None:
            """Statements making a ``cls`` from the given expressions (defaults for the rest)."""
            ns[f"_K{cls.__name__}"] = cls
            body.append(f"{indent}{target} = _new(_K{cls.__name__})")
            for f in fields_of(cls):
                setter = f"_S{cls.__name__}_{f.name}"
                ns[setter] = getattr(cls, f.name).__set__
                if f.name in given:
                    value = given[f.name]
                else:
                    value = f"_D{cls.__name__}_{f.name}"
                    if value not in ns:
                        # a default made by a factory is made once (all immutable, equal each time)
                        ns[value] = f.default if f.factory is None else f.factory()
                        if f.factory is not None and f.factory() != f.factory():  # pragma: no cover
                            raise AssertionError(f.name)  # a random default (the id) is always given
                body.append(f"{indent}{setter}({target}, {value})")

        for field, items in (
            ("phones", flat["phone"] + phones),
            ("emails", flat["email"] + emails),
            ("addresses", addresses),
        ):
            if not items:
                continue
            if len(items) == 1:
                cond, made, given = items[0]
                body.append(f"        if {cond}:")
                make(made, given, "o", "            ")
                body += [f"            v_{field} = (o,)", "        else:", f"            v_{field} = ()"]
            else:
                body.append(f"        v_{field} = []")
                for cond, made, given in items:
                    body.append(f"        if {cond}:")
                    make(made, given, "o", "            ")
                    body.append(f"            v_{field}.append(o)")
                body.append(f"        v_{field} = tuple(v_{field})")
            args[field] = f"v_{field}"
        if name_parts:
            ns["_name0"] = _DEFAULTS["name"]
            body.append(f"        if {' or '.join(name_parts.values())}:")
            make(PersonName, name_parts, "v_name", "            ")
            body += ["        else:", "            v_name = _name0"]
            args["name"] = "v_name"
        if custom:
            ns["_custom0"] = FrozenMap()
            body += [
                f"        v_custom = {{k: v for k, v in ({', '.join(custom)},) if v}}",
                "        v_custom = _FM(v_custom) if v_custom else _custom0",
            ]
            args["custom"] = "v_custom"
        make(Customer, args, "c", "        ")
        order = sorted(used)
        self.batch_columns = order
        lines = [
            "def combine(cols):",
            "    out = []",
            "    add = out.append",
            f"    for ({''.join(f'x{i}, ' for i in order)}) in zip(*cols):",
            *body,
            "        add(c)",
            "    return out",
        ]
        exec(compile("\n".join(lines) + "\n", "<custdata columnar batch>", "exec"), ns)
        combine: Callable[..., list[Any]] = ns["combine"]
        return combine

    def _value(self, what: str, key: Any, raw: str) -> Any:
        """A converted cell of a batch column (the field's default for an empty cell), _PLAIN for one
        the per-row steps must see."""
        try:
            if what == "cached":
                return self._cached(key, raw) if raw != "" else _DEFAULTS[key]
            group, k = key
            if raw == "":
                return _CONTACT_DEFAULTS[key]
            return self._details((k,), (raw,), group)[k]
        except _NotPlain:
            return _PLAIN

    def batch(
        self, pc: Any, pa: Any, batch: Any, columns: list[list[str]], trusted: Any, first_header: str
    ) -> tuple[list[list[Any]], set[int]]:
        """The columns :meth:`make` makes a batch's records from, and the rows that must take the per-row
        steps instead: a row with a guarded cell (starting with ' or =; phones apart, see
        :func:`_checked`), an id that is empty or may be blank, a phone or e-mail the column checks do
        not take, a converted cell the per-row steps would not take, details of a contact without its
        number or address, no cell at all, or a first cell that may make it the header again."""
        special = pc.invert(trusted) if trusted is not None else None

        def add(mask: Any) -> None:
            nonlocal special
            special = mask if special is None else pc.or_(special, mask)

        arrays = [batch.column(i) for i in range(len(columns))]
        contact_mains = set(self.phone_columns) | set(self.email_columns)
        for i in self.batch_columns:
            if i in contact_mains:
                continue  # the column checks cover their guards
            add(pc.match_substring_regex(arrays[i], r"^['=]"))
        for i, what, _key in self.jobs:
            if what == "id":
                add(pc.invert(pc.match_substring_regex(arrays[i], _PLAIN_ID)))
        for specs in (self.flat_phones, self.flat_emails):
            for main, _keys, idx, _cache in specs:
                if idx:
                    details = pc.not_equal(arrays[idx[0]], "")
                    for i in idx[1:]:
                        details = pc.or_(details, pc.not_equal(arrays[i], ""))
                    add(details if main is None else pc.and_(pc.equal(arrays[main], ""), details))
        empty = pc.equal(arrays[0], "")
        for a in arrays[1:]:
            empty = pc.and_(empty, pc.equal(a, ""))
        add(empty)
        add(pc.or_(pc.equal(arrays[0], first_header), pc.starts_with(arrays[0], "\ufeff")))
        cols: dict[int, list[Any]] = {}
        for i, (what, key) in self.converted.items():
            if what == "number":  # a plain phone: unguard takes at most a quote before its "+"
                cols[i] = pc.replace_substring_regex(arrays[i], r"^'", "").to_pylist()
                continue
            values = {raw: self._value(what, key, raw) for raw in pc.unique(arrays[i]).to_pylist()}
            bad = [raw for raw, v in values.items() if v is _PLAIN]
            if bad:
                add(pc.is_in(arrays[i], value_set=pa.array(bad, pa.string())))
            cols[i] = list(map(values.__getitem__, columns[i]))
        sources = [cols.get(i, columns[i]) for i in self.batch_columns]
        return sources, set(pc.indices_nonzero(special).to_pylist())

    def make(self, sources: list[list[Any]], start: int, stop: int) -> list[Any]:
        """The records of rows ``start:stop`` of a batch from :meth:`batch`'s columns (an entry for a
        special row is no record)."""
        combine: Callable[..., list[Any]] = self.combine  # type: ignore[assignment]
        part = [c[start:stop] for c in sources]
        paused = gc.isenabled()
        if paused:  # the records hold no cycles: no collection while a chunk of them is made
            gc.disable()
        try:
            return combine(part)
        finally:
            if paused:
                gc.enable()

    # the row -----------------------------------------------------------------------------------
    def fast(self, cells: Sequence[str], trusted: bool = False) -> Any:
        """``trusted``: the row's phone and e-mail cells passed the column checks (:func:`_checked`)."""
        d: dict[str, Any] = {}
        name: dict[str, str] = {}
        custom: dict[str, Any] = {}
        phones: list[Any] = []
        emails: list[Any] = []
        self.run_jobs(cells, trusted, d, name, custom, phones, emails)
        if "id" not in d:
            raise _NotPlain
        flat_phones = []
        for group in self.flat_phones:
            v = self._contact(cells, group, "phone")
            if v is not None:
                if not trusted:
                    self._phone_ok(v[0])
                flat_phones.append(_PHONE(number=v[0], **v[1]))
        flat_emails = []
        for group in self.flat_emails:
            v = self._contact(cells, group, "email")
            if v is not None:
                if not trusted:
                    self._email_ok(v[0])
                flat_emails.append(_EMAIL(address=v[0], **v[1]))
        addresses = []
        if self.address_parts:
            part = {k: _unguard(cells[i]) for i, k in self.address_parts if cells[i] != ""}
            if part:
                addresses.append(_ADDRESS(**part))
        for cols in self.flat_addresses:
            part = {k: _unguard(cells[i]) for k, i in cols.items() if cells[i] != ""}
            if part:
                addresses.append(_ADDRESS(**part))
        if flat_phones or phones:
            d["phones"] = (*flat_phones, *phones)
        if flat_emails or emails:
            d["emails"] = (*flat_emails, *emails)
        if addresses:
            d["addresses"] = tuple(addresses)
        if name:
            d["name"] = _PERSON(**name)
        if custom:
            d["custom"] = FrozenMap(custom)
        return _CUSTOMER(**d)
