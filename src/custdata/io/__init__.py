"""Reading and writing customer, transaction and interaction files: CSV, JSON Lines and Parquet (local
paths or URLs: ``s3://``, ``gs://``, ``abfs://``, ``memory://`` through fsspec).

Readers stream (one row in memory at a time), sniff encodings (BOMs, UTF-8, then GB18030), map the
user's headers through built-in English and Chinese synonyms, keep unknown columns as custom attributes,
and report bad rows with ``errors="raise" | "skip" | "collect"``. Writers are atomic (a temporary file
renamed into place) and neutralise spreadsheet formula injection.

One module per concern: ``_guard`` (formula guard), ``_encoding`` (sniffing), ``_headers`` (synonyms and
columns), ``_cells`` (cell parsing), ``_convert`` (record ↔ cells), ``_csv``, ``_jsonl``, ``_rows`` (dict
rows for DataFrames), ``_problems`` (``RowProblem``, ``RecordReader``, the ``errors=`` policy) and
``_atomic`` (the atomic-write helper, shared with store backups), ``_args`` (argument checks and the one
place files and URLs are opened), ``_arrow`` (record ↔ Arrow columns from the field descriptions) and
``_parquet``.
"""

from __future__ import annotations

from custdata.io._cells import set_default_tz
from custdata.io._csv import read_csv, write_csv
from custdata.io._encoding import detect_encoding
from custdata.io._excel import read_excel, write_excel
from custdata.io._guard import guard_cell, unguard_cell
from custdata.io._ids import MissingId
from custdata.io._jsonl import read_jsonl, write_jsonl
from custdata.io._parquet import from_arrow, pseudonymize_record, read_parquet, to_arrow, write_parquet
from custdata.io._problems import Errors, Kind, RecordReader, RowProblem
from custdata.io._profiles import IMPORT_PROFILES, register_import_profile
from custdata.io._rows import from_rows, to_rows

__all__ = [
    "IMPORT_PROFILES",
    "Errors",
    "Kind",
    "MissingId",
    "RecordReader",
    "RowProblem",
    "detect_encoding",
    "from_arrow",
    "from_rows",
    "guard_cell",
    "pseudonymize_record",
    "read_csv",
    "read_excel",
    "read_jsonl",
    "read_parquet",
    "register_import_profile",
    "set_default_tz",
    "to_arrow",
    "to_rows",
    "unguard_cell",
    "write_csv",
    "write_excel",
    "write_jsonl",
    "write_parquet",
]
