"""Exports bound to a policy: customers written out (CSV, JSON Lines, a pandas DataFrame) as one principal
may export them, audited, and for a marketing purpose only those who consented to it.

The ``export`` action is checked first (a refusal is audited as ``denied:export`` and raises
:class:`~custdata.exceptions.AccessDenied`); every record is shaped by the role's field access (hidden fields
left out, masked ones masked); with ``purpose=`` (and ``channel=``) customers without valid consent are left
out and counted by reason (:data:`~custdata.security.CONSENT_REASONS`); every exported customer gets an
``export`` audit entry, and the export one summary entry (``record_id`` null) with its counts. Files are
written atomically, and the audit entries are made before the file appears: an export that fails leaves
no file, and an export that is on disk is in the log.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from custdata._records import Customer
from custdata.exceptions import MissingExtraError, ValidationError
from custdata.io._atomic import atomic_write
from custdata.io._guard import guard_cell
from custdata.io._headers import COLUMNS
from custdata.security._consent import (
    ConsentStatus,
    ReasonCounter,
    consent_key,
    consent_status,
    contact_channel,
)
from custdata.security._policy import Action

if TYPE_CHECKING:
    from custdata.security._view import StoreView

__all__ = ["EXPORT_FORMATS", "ExportReport", "export_customers"]

#: What :func:`export_customers` writes.
EXPORT_FORMATS = ("csv", "jsonl", "dataframe")

_NAME_COLUMNS = {"name": "full", "family_name": "family", "given_name": "given"}
_SKIP = frozenset({"schema"})


@attrs.frozen
class ExportReport:
    """What an export wrote: ``rows`` customers with the ``fields`` the role may see (``masked``: those
    shown masked); ``left_out`` / ``left_out_ids``: customers left out for lack of consent, by reason;
    ``frame``: the DataFrame of a ``dataframe`` export."""

    rows: int
    fields: tuple[str, ...]
    masked: tuple[str, ...]
    left_out: Mapping[str, int]
    left_out_ids: Mapping[str, tuple[str, ...]]
    format: str
    path: str | None = None
    consent: str | None = None
    frame: Any = attrs.field(default=None, repr=False, eq=False)

    @property
    def left_out_total(self) -> int:
        return sum(self.left_out.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "fields": list(self.fields),
            "masked": list(self.masked),
            "left_out": dict(self.left_out),
            "left_out_ids": {k: list(v) for k, v in self.left_out_ids.items()},
            "format": self.format,
            "path": self.path,
            "consent": self.consent,
        }

    def __str__(self) -> str:
        where = f" to {self.path}" if self.path else ""
        text = f"exported {self.rows} customers{where}"
        if self.consent is not None:
            why = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in self.left_out.items()) or "none"
            text += f"; {self.left_out_total} left out for consent {self.consent!r} ({why})"
        return text


def _format(path: object, format: str | None) -> str:
    if format is None:
        if path is None:
            raise ValidationError("give a path, or format='dataframe'", field="path")
        name = os.fspath(path).lower() if isinstance(path, (str, os.PathLike)) else ""
        if name.endswith((".jsonl", ".ndjson")):
            return "jsonl"
        if name.endswith(".csv"):
            return "csv"
        raise ValidationError(
            "cannot tell the format from the name: use .csv or .jsonl, or format=", field="path"
        )
    if format not in EXPORT_FORMATS:
        raise ValidationError(f"format must be one of {', '.join(EXPORT_FORMATS)}", field="format")
    if (format == "dataframe") != (path is None):
        raise ValidationError("a dataframe export takes no path; a file export needs one", field="path")
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise ValidationError("path must be a file path", field="path")
    return format


def _dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _cells(view: Mapping[str, Any], columns: list[str]) -> list[str]:
    """The CSV cells of a shaped record: one column per field (the name split into full, family and
    given), lists and mappings as compact JSON, as in ``write_csv(layout="json")``."""
    out: list[str] = []
    for col in columns:
        if col in _NAME_COLUMNS:
            name = view.get("name")
            v = name.get(_NAME_COLUMNS[col]) if isinstance(name, Mapping) else None
        else:
            v = view.get(col)
            if isinstance(v, (list, dict)):
                v = _dumps(v) if v else ""
            elif isinstance(v, bool):
                v = "true" if v else "false"
        out.append("" if v is None else str(v))
    return out


def _columns(fields: list[str]) -> list[str]:
    known = [c for c in COLUMNS[Customer] if (_NAME_COLUMNS.get(c) and "name" in fields) or c in fields]
    return known + sorted(f for f in fields if f not in COLUMNS[Customer] and f not in _SKIP and f != "name")


def export_customers(
    view: StoreView,
    path: str | os.PathLike[str] | None = None,
    *,
    format: str | None = None,
    purpose: str | None = None,
    channel: str | None = None,
    at: dt.datetime | dt.date | None = None,
    scan: Mapping[str, Any] | None = None,
    encoding: str = "utf-8-sig",
) -> ExportReport:
    """Export the customers of ``view``'s store as its principal may (see the module notes).

    ``path`` ending ``.csv`` or ``.jsonl`` (or ``format=``), or ``format="dataframe"`` for a pandas
    DataFrame (the ``pandas`` extra) in ``report.frame``. ``purpose`` makes it a marketing export:
    only customers with valid consent for ``purpose`` on ``channel`` at ``at`` (default: now; a date: all
    that day; with a channel, also reachable on it) are written. ``scan``: options for the store's
    ``scan`` (``tag``, ``lifecycle_stage`` …) to narrow the customers. CSV cells are guarded against
    formula injection as ``write_csv`` guards them.
    """
    from custdata.security._view import StoreView

    if not isinstance(view, StoreView):
        raise ValidationError(f"expected a StoreView, got {type(view).__name__}", field="view")
    fmt = _format(path, format)
    key = None if purpose is None else consent_key(purpose, channel)
    if purpose is None and channel is not None:
        raise ValidationError("a channel needs the purpose the customers consented to", field="channel")
    if scan is not None and not isinstance(scan, Mapping):
        raise ValidationError("scan is a mapping of store.scan options", field="scan")
    if at is not None and purpose is None:
        raise ValidationError("at= is the moment consent must hold: give purpose= too", field="at")
    view._allow(Action.EXPORT)
    when = at if at is not None else dt.datetime.now(dt.timezone.utc)
    left = ReasonCounter()
    exported: list[tuple[str, list[str]]] = []
    seen_fields: set[str] = set()

    def shaped() -> Iterator[dict[str, Any]]:
        for c in view.store.scan(**dict(scan or {})):
            if purpose is not None:
                if channel is not None:
                    ch, why = contact_channel(c, purpose, [channel], at=when)
                    if ch is None:
                        left.add(str(why), c.id)
                        continue
                else:
                    status = consent_status(c, purpose, at=when)
                    if status is not ConsentStatus.VALID:
                        left.add(status.value, c.id)
                        continue
            record = view.policy.shape(view.role, c.to_dict())
            record.pop("schema", None)
            fields = sorted(k for k in record if k not in ("id", "version"))
            seen_fields.update(fields)
            exported.append((c.id, fields))
            yield record

    def audit() -> None:
        purpose_text = view.purpose if view.purpose is not None else key
        for cid, fields in exported:
            view._log("export", cid, fields)
        if view.audit is not None:
            view.audit.record(
                actor=view.actor,
                action="export",
                record_id=None,
                fields=sorted(seen_fields),
                purpose=purpose_text,
                details={"rows": len(exported), "format": fmt, "consent": key, "left_out": left.counts()},
            )

    masked_of = tuple(f for f in _columns_all() if view.policy.access(view.role, f).value == "masked")
    frame = None
    if fmt == "jsonl":
        assert path is not None
        with atomic_write(path, encoding="utf-8", newline="\n") as fh:
            for record in shaped():
                fh.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            audit()
    else:
        records = list(shaped())
        columns = _columns(sorted(seen_fields | {"id"}))
        rows = [_cells(r, columns) for r in records]
        if fmt == "csv":
            assert path is not None
            with atomic_write(path, encoding=encoding, newline="") as fh:
                w = csv.writer(fh, lineterminator="\r\n")
                w.writerow(columns)
                for row in rows:
                    w.writerow([guard_cell(x) for x in row])
                audit()
        else:
            try:
                import pandas as pd
            except ImportError as exc:
                raise MissingExtraError("pandas", "a dataframe export", ["pandas"]) from exc
            frame = pd.DataFrame(rows, columns=columns, dtype="string")
            audit()
    fields = tuple(sorted(seen_fields))
    return ExportReport(
        rows=len(exported),
        fields=fields,
        masked=tuple(f for f in fields if f in masked_of),
        left_out=left.counts(),
        left_out_ids=left.ids(),
        format=fmt,
        path=None if path is None else os.fspath(path),
        consent=key,
        frame=frame,
    )


def _columns_all() -> tuple[str, ...]:
    return tuple(k for k in Customer(id="x").to_dict() if k not in ("id", "schema", "version"))
