"""The one path from a row of text cells to a record, shared by every tabular reader (CSV, Excel).

:class:`RowBuilder` maps a header to record fields once (the caller's ``mapping``, then an import
profile's header map, then the flat layout's own columns, then the built-in synonyms), and turns each
row's cells into a record or into the row's problems under the ``errors=`` policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from custdata.exceptions import ParseError, ValidationError
from custdata.io._convert import activity_dict, customer_dict
from custdata.io._flat import FLAT_PREFIX, flat_column
from custdata.io._guard import unguard
from custdata.io._headers import SYNONYMS, header_key
from custdata.io._ids import RowIds
from custdata.io._problems import Record, RecordReader, RowProblem, handle

__all__ = ["RowBuilder", "header_fields"]


def header_fields(
    header: Sequence[str],
    kind: str,
    mapping: Mapping[str, str | None],
    profile: Mapping[str, str | None] | None = None,
) -> list[str | None]:
    """The field of each column (None: a custom or ignored column). A second column for a field that
    an earlier column already has is kept as custom."""
    synonyms = SYNONYMS[kind]
    user_map = {header_key(k): v for k, v in mapping.items()}
    profile_map = {header_key(k): v for k, v in (profile or {}).items()}
    fields: list[str | None] = []
    seen: set[str] = set()
    for h in header:
        plain = h.lstrip("\ufeff")
        k = header_key(h)
        field: str | None
        if k in user_map:
            field = user_map[k]
        elif k in profile_map:
            field = profile_map[k]
            if field is not None and kind == "customer" and flat_column(field):
                field = FLAT_PREFIX + field
        elif kind == "customer" and flat_column(plain):
            field = FLAT_PREFIX + plain
        else:
            field = synonyms.get(k)
        if field in seen and field is not None:
            field = None
        if field is not None:
            seen.add(field)
        fields.append(field)
    return fields


class RowBuilder:
    """Turns rows of text cells under one header into records (see the module docstring)."""

    def __init__(
        self,
        reader: RecordReader[Any],
        header: Sequence[str],
        cls: type[Record],
        kind: str,
        mapping: Mapping[str, str | None],
        errors: str,
        tz: dt.tzinfo,
        name: str,
        ids: RowIds | None,
        check: bool,
        profile: Mapping[str, str | None] | None = None,
        sheet: str | None = None,
    ) -> None:
        self.reader = reader
        self.sheet = sheet
        self.header = [h.lstrip("\ufeff") for h in header]
        self.cls = cls
        self.kind = kind
        self.errors = errors
        self.tz = tz
        self.name = name
        self.ids = ids
        self.check = check
        self.fields = header_fields(header, kind, mapping, profile)
        for h, field in zip(self.header, self.fields, strict=True):
            reader.columns[h] = field
        if kind != "customer" and "customer_id" not in self.fields:
            raise ParseError(
                f"no customer id column among {list(header)!r}; pass mapping={{'<header>': 'customer_id'}}",
                path=name,
            )
        ignored = {header_key(k) for k, v in mapping.items() if v is None}
        if profile:
            user = {header_key(k) for k in mapping}
            ignored |= {header_key(k) for k, v in profile.items() if v is None and header_key(k) not in user}
        # the custom columns: the header's text kept, unless ignored (or the kind has no custom)
        self.keep = [
            f is None and kind == "customer" and header_key(h) not in ignored
            for h, f in zip(self.header, self.fields, strict=True)
        ]

    def problem(self, problems: list[RowProblem]) -> None:
        """Report a row's problems under the ``errors=`` policy (raises with ``"raise"``)."""
        handle(self.reader, problems, self.errors, self.name)

    def build(self, rownum: int, cells: Sequence[str], problems: Sequence[RowProblem] = ()) -> Any:
        """The record of a row (None when the row has problems: reported, or raised). ``problems``
        are those the caller already found in the row (a cell its format could not give as text)."""
        values: dict[str, str] = {}
        custom: dict[str, Any] = {}
        for h, field, keep, raw in zip(self.header, self.fields, self.keep, cells, strict=False):
            if raw == "":
                continue
            raw = unguard(raw)
            if field is None:
                if keep:
                    custom[h] = raw
                continue
            values[field] = raw
        if problems:
            self.problem(list(problems))
            return None
        if self.ids is not None and "id" not in values:
            try:
                row_id = self.ids.id_for(cells)
            except ValueError as exc:
                self.problem([RowProblem(rownum, "id", str(exc), sheet=self.sheet)])
                return None
            if row_id is not None:
                values["id"] = row_id
        try:
            d = (
                customer_dict(values, custom, self.tz, self.check)
                if self.kind == "customer"
                else activity_dict(self.kind, values, self.tz)
            )
            return self.cls.from_dict(d)
        except ValidationError as exc:
            self.problem(
                [
                    RowProblem(rownum, e.field, e.reason, values.get(e.field.split(".")[0]), self.sheet)
                    for e in exc.errors
                ]
            )
        except RecursionError:
            self.problem([RowProblem(rownum, "", "a value nested too deeply", sheet=self.sheet)])
        return None
