"""Parquet files and Arrow tables of records (the ``parquet`` extra: pyarrow).

The columns are generated from the records' field descriptions (see :mod:`custdata.io._arrow`), so a
field added to a record is written and read without a change here. Reading streams record batches and
reports bad rows as :func:`read_csv` does; writing is atomic (also to URLs, see :mod:`custdata.io._args`).
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterable, Iterator
from typing import Any

from custdata._records import SCHEMA_VERSION, Customer, Transaction
from custdata.exceptions import MissingExtraError, ParseError, ValidationError
from custdata.io._args import file_name, iterable, open_file
from custdata.io._arrow import COLUMNS, Codec
from custdata.io._atomic import atomic_write_bytes
from custdata.io._ids import MissingId, RowIds
from custdata.io._problems import (
    KINDS,
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

__all__ = ["from_arrow", "pseudonymize_record", "read_parquet", "to_arrow", "write_parquet"]

_KIND_OF = {cls: kind for kind, cls in KINDS.items()}
_BATCH = 65_536
_COMPRESSIONS = ("zstd", "snappy", "gzip", "lz4", "brotli", "none")


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet
    except ImportError as exc:
        raise MissingExtraError("parquet", "Parquet and Arrow files", ["pyarrow"]) from exc
    return pa


def arrow_schema(cls: type[Record], *, pseudonymized: bool = False) -> Any:
    """The Arrow schema of a record class (with the record kind and schema version as metadata)."""
    pa = _pyarrow()
    fields = [pa.field(name + suffix, make(pa)) for name, c in COLUMNS[cls] for suffix, make in c.columns]
    meta = {"custdata.kind": _KIND_OF[cls], "custdata.schema": str(SCHEMA_VERSION)}
    if pseudonymized:
        meta["custdata.pseudonymized"] = "true"
    return pa.schema(fields, metadata=meta)


def _batch(pa: Any, schema: Any, cls: type[Record], records: list[Any], start: int) -> Any:
    cols: list[list[Any]] = [[] for _ in schema]
    codecs = COLUMNS[cls]
    for i, rec in enumerate(records, start):
        if type(rec) is not cls:
            raise ValidationError(
                f"item {i} is a {type(rec).__name__}, not a {cls.__name__}; nothing was written",
                field=f"records[{i}]",
            )
        j = 0
        for name, c in codecs:
            try:
                values = c.put(getattr(rec, name))
            except ValidationError as exc:
                raise ValidationError(f"{name}: {exc}", field=f"records[{i}]") from None
            for v in values:
                cols[j].append(v)
                j += 1
    try:
        arrays = [pa.array(col, type=f.type) for col, f in zip(cols, schema, strict=True)]
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:  # pragma: no cover - records are valid
        raise ValidationError(f"cannot be written to Arrow: {exc}", field="records") from None
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _classify(records: Iterable[Any], kind: Kind | None) -> tuple[type[Record], Iterator[Any]]:
    rest = iterable(records)
    first = next(rest, None)
    if kind:
        cls = record_class(kind)
    elif first is None:
        cls = Customer
    else:
        cls = type(first)
        if cls not in COLUMNS:
            raise ValidationError(
                f"item 0 is a {cls.__name__}, not a record; nothing was written", field="records[0]"
            )
    return cls, (rest if first is None else itertools.chain([first], rest))


def _batches(records: Iterable[Any], kind: Kind | None, pseudonymize: Any) -> tuple[Any, Iterator[Any]]:
    pa = _pyarrow()
    if pseudonymize is not None and not callable(pseudonymize):
        raise ValidationError(
            f"pseudonymize must be a custdata.security.Pseudonymizer, got {type(pseudonymize).__name__}",
            field="pseudonymize",
        )
    cls, items = _classify(records, kind)
    schema = arrow_schema(cls, pseudonymized=pseudonymize is not None)

    def gen() -> Iterator[Any]:
        start = 0
        while True:
            chunk = list(itertools.islice(items, _BATCH))
            if not chunk:
                return
            if pseudonymize is not None:
                chunk = [pseudonymize_record(r, pseudonymize) if type(r) is cls else r for r in chunk]
            yield _batch(pa, schema, cls, chunk, start)
            start += len(chunk)

    return schema, gen()


def to_arrow(records: Iterable[Record], *, kind: Kind | None = None) -> Any:
    """A :class:`pyarrow.Table` of records (customers, transactions or interactions), one row each, with
    the typed columns :func:`write_parquet` writes. ``kind`` is needed only for an empty table.

    Anything in ``records`` that is not a record of the kind raises
    :class:`~custdata.exceptions.ValidationError` naming its position.
    """
    pa = _pyarrow()
    schema, batches = _batches(records, kind, None)
    return pa.Table.from_batches(list(batches), schema=schema)


def write_parquet(
    records: Iterable[Record],
    path: PathLike,
    *,
    kind: Kind | None = None,
    pseudonymize: Any = None,
    compression: str = "zstd",
) -> int:
    """Write records to a Parquet file atomically; returns the number of rows written.

    One row per record; the columns are typed (see ``docs/parquet.md``): ids, names and phones as text,
    timestamps in UTC with their offset beside them, dates as dates, amounts as decimals, phones, e-mails
    and addresses as lists of structs, consents and external ids as maps, ``custom`` as JSON text.
    :func:`read_parquet` gives the records back exactly.

    With ``pseudonymize=`` a :class:`custdata.security.Pseudonymizer`, the file is an analytics export
    without direct identifiers (see :func:`pseudonymize_record`). ``path`` may be a URL
    (``s3://bucket/customers.parquet``, see ``docs/urls.md``). ``compression`` is one of zstd
    (default), snappy, gzip, lz4, brotli or none.
    """
    if compression not in _COMPRESSIONS:
        raise ValidationError(
            f"compression must be one of {', '.join(_COMPRESSIONS)}, got {compression!r}",
            field="compression",
        )
    pa = _pyarrow()
    schema, batches = _batches(records, kind, pseudonymize)
    n = 0
    with atomic_write_bytes(path) as fh:
        writer = pa.parquet.ParquetWriter(fh, schema, compression=compression)
        try:
            for batch in batches:
                writer.write_batch(batch)
                n += batch.num_rows
        finally:
            with contextlib.suppress(Exception):
                writer.close()
    return n


# ---------------------------------------------------------------------------------------------- reading
def _reader_for(
    cls: type[Record], names: list[str], reader: RecordReader[Any]
) -> list[tuple[str, Codec, list[str]]]:
    """The fields present among a table's column names (and their columns), noting each column's field."""
    present = set(names)
    plan: list[tuple[str, Codec, list[str]]] = []
    used: set[str] = set()
    for name, c in COLUMNS[cls]:
        if name not in present:
            continue
        cols = [name + suffix for suffix, _ in c.columns]
        plan.append((name, c, cols))
        for col in cols:
            if col in present:
                reader.columns[col] = name
                used.add(col)
    for col in names:
        if col not in used:
            reader.columns[col] = None  # a column custdata does not know: left out
    return plan


def _records_of(
    reader: RecordReader[Any],
    batches: Iterable[Any],
    cls: type[Record],
    errors: str,
    name: str,
    ids: RowIds | None = None,
) -> Iterator[Any]:
    rownum = 0
    plan: list[tuple[str, Codec, list[str]]] | None = None
    for batch in batches:
        if plan is None:
            plan = _reader_for(cls, list(batch.schema.names), reader)
        data = {
            col: batch.column(col).to_pylist()
            for _, _, cols in plan
            for col in cols
            if col in reader.columns and reader.columns[col] is not None
        }
        fields = [(fname, c, [data.get(col) for col in cols]) for fname, c, cols in plan]
        for i in range(batch.num_rows):
            rownum += 1
            reader.rows += 1
            d: dict[str, Any] = {}
            problems: list[RowProblem] = []
            for fname, c, columns in fields:
                try:
                    v = c.get([None if col is None else col[i] for col in columns])
                except ValidationError as exc:
                    problems.append(RowProblem(rownum, fname, str(exc)))
                    continue
                if v is not None:
                    d[fname] = v
            if not problems and ids is not None and d.get("id") is None:
                try:
                    row_id = ids.id_for((str(rownum), repr(d)))
                except ValueError as exc:
                    problems.append(RowProblem(rownum, "id", str(exc)))
                else:
                    if row_id is not None:
                        d["id"] = row_id
            if not problems:
                try:
                    yield cls.from_dict(d)
                    continue
                except ValidationError as exc:
                    problems = [RowProblem(rownum, e.field, e.reason) for e in exc.errors]
                except RecursionError:
                    problems = [RowProblem(rownum, "", "a value nested too deeply")]
            handle(reader, problems, errors, name)


def from_arrow(
    table: Any,
    *,
    kind: Kind = "customer",
    errors: Errors = "raise",
    missing_id: MissingId = "derive",
    source: str = "",
) -> RecordReader[Any]:
    """Records from a :class:`pyarrow.Table` (or record batch) with the columns :func:`to_arrow` makes;
    missing optional columns take the field's default, unknown columns are left out (``.columns`` maps
    them to None). Bad rows and rows without an id as in :func:`read_parquet` (``row`` counts the table's
    rows from 1; ``source`` is empty unless given)."""
    pa = _pyarrow()
    check_errors(errors)
    cls = record_class(kind)
    ids: RowIds | None = RowIds(source, missing_id)
    ids = ids if kind == "customer" else None
    if isinstance(table, pa.RecordBatch):
        batches: Iterable[Any] = [table]
    elif isinstance(table, pa.Table):
        batches = table.to_batches(max_chunksize=_BATCH)
        _check_kind(table.schema, kind, "the table")
    else:
        raise ValidationError(f"expected a pyarrow Table, got {type(table).__name__}", field="table")
    reader: RecordReader[Any] = RecordReader(iter(()), None, None)
    reader._rows = _records_of(reader, batches, cls, errors, "the table", ids)
    return reader


def _check_kind(schema: Any, kind: str, name: str) -> None:
    meta = schema.metadata or {}
    written = meta.get(b"custdata.kind")
    found = None if written is None else written.decode("utf-8", "replace")
    if found is not None and found != kind:
        raise ParseError(f"it holds {found} records; pass kind={found!r}", path=name)


def read_parquet(
    path: PathLike,
    *,
    kind: Kind = "customer",
    errors: Errors = "raise",
    missing_id: MissingId = "derive",
    source: str | None = None,
) -> RecordReader[Any]:
    """Stream records from a Parquet file (as :func:`write_parquet` writes, or any file with those
    column names), one record batch at a time.

    A row that is not a valid record is a problem of that row (``row`` counts the file's rows from 1),
    handled by ``errors`` as in :func:`read_csv`. A file that is not Parquet, holds another kind of
    record, or cannot be read raises :class:`~custdata.exceptions.ParseError`. ``path`` may be a URL.

    A customer row without an id (no ``id`` column, or null) gets one derived from ``source`` (default:
    the file's name), the row's number and its values, so reading the same file again gives the same
    ids; ``missing_id="random"`` gives random ids, ``missing_id="error"`` reports such rows.
    """
    pa = _pyarrow()
    check_errors(errors)
    cls = record_class(kind)
    name = file_name(path)
    ids: RowIds | None = RowIds(source if source is not None else os.path.basename(name), missing_id)
    ids = ids if kind == "customer" else None
    fh = open_file(name, "rb")
    try:
        pf = pa.parquet.ParquetFile(fh)
        _check_kind(pf.schema_arrow, kind, name)
    except (pa.ArrowException, OSError) as exc:
        fh.close()
        raise ParseError(f"not a Parquet file ({type(exc).__name__})", path=name) from None
    except BaseException:
        fh.close()
        raise
    reader: RecordReader[Any] = RecordReader(iter(()), fh, None)

    def batches() -> Iterator[Any]:
        try:
            yield from pf.iter_batches(batch_size=_BATCH)
        except (pa.ArrowException, OSError) as exc:
            raise ParseError(f"cannot read the file: {exc}", path=name) from None

    reader._rows = _records_of(reader, batches(), cls, errors, name, ids)
    return reader


# ---------------------------------------------------------------------------------------------- analytics
def _pseudo(p: Any, field: str) -> Any:
    def rule(value: Any) -> Any:
        return None if value is None else str(p(value, field=field))

    return rule


def _keep(value: Any) -> Any:
    return value


def _rules(p: Any, cls: type[Record]) -> dict[str, Any]:
    """Field -> how the analytics export writes it; a field not named here is left out (so a field added
    to a record later never reaches an export before someone decides it may)."""
    if cls is Customer:

        def contacts(key: str, field: str) -> Any:
            pseudo = _pseudo(p, field)
            return lambda items: [{**x, key: pseudo(x[key])} for x in items]

        area = ("country", "province", "city", "district")
        return {
            "id": _pseudo(p, "customer_id"),
            "phones": contacts("number", "phone"),
            "emails": contacts("address", "email"),
            "addresses": lambda items: [{k: a[k] for k in area} for a in items],
            "gender": _keep,
            "tags": _keep,
            "channel": _keep,
            "lifecycle_stage": _keep,
            "owner": _pseudo(p, "owner"),
            "consents": _keep,
            "external_ids": lambda m: {k: p(v, field=f"external_ids.{k}") for k, v in m.items()},
            "created_at": _keep,
            "updated_at": _keep,
            "version": _keep,
        }
    common = {
        "id": _pseudo(p, f"{_KIND_OF[cls]}_id"),
        "customer_id": _pseudo(p, "customer_id"),
        "at": _keep,
        "channel": _keep,
    }
    if cls is Transaction:
        return {
            **common,
            "amount": _keep,
            "currency": _keep,
            "order_id": _pseudo(p, "order_id"),
            "items": _keep,
        }
    return {**common, "kind": _keep, "satisfaction": _keep, "nps": _keep}


def pseudonymize_record(record: Record, pseudonymizer: Any) -> Record:
    """A copy of ``record`` for an analytics export, without direct identifiers.

    Replaced by keyed pseudonyms (``pseudonymizer``, a :class:`custdata.security.Pseudonymizer`; the same
    value gives the same pseudonym under the same keyring, so exports still join and count): ids
    (customer ids and the ``customer_id`` of transactions and interactions get the same one), phone
    numbers, e-mail addresses, order ids, the owner and external ids. Left out: names, company, title,
    street, postal code, the address as written, birthday, notes, custom attributes, and any field not
    named in the export's rules. Kept: contacts' kinds, flags and times, country, province, city and
    district, gender, tags, channel, stage, consents, times, amounts, items, interaction kinds and scores.
    """
    cls = type(record)
    if cls not in COLUMNS:
        raise ValidationError(f"expected a record, got {cls.__name__}", field="record")
    rules = _rules(pseudonymizer, cls)
    out = {k: rules[k](v) for k, v in record.to_dict().items() if k in rules}
    return cls.from_dict(out)
