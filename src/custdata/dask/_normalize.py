"""Partition-parallel :func:`custdata.normalize_many`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dask.bag as db

from custdata._bulk import DEFAULT_ERRORS, Errors, check_errors
from custdata.exceptions import ValidationError
from custdata.normalization import normalize_many

__all__ = ["as_bag", "normalize"]


def as_bag(records: Any, npartitions: int | None, what: str = "records") -> db.Bag:
    """``records`` as a bag: a bag as it is, an iterable of records split into ``npartitions``."""
    if isinstance(records, db.Bag):
        return records
    if isinstance(records, (str, bytes)) or not isinstance(records, Iterable):
        raise ValidationError(
            f"expected a Dask bag or an iterable of records, got {type(records).__name__}", field=what
        )
    items = list(records)
    if npartitions is not None and (type(npartitions) is not int or npartitions < 1):
        raise ValidationError("must be a whole number of at least 1", field="npartitions")
    n = npartitions or max(1, min(len(items) // 10_000 + 1, 64))
    bag: db.Bag = db.from_sequence(items or [], npartitions=n if items else 1)  # type: ignore[no-untyped-call]
    return bag


def _normalize_part(part: Iterable[Any], region: str | None, errors: str, drop_invalid: bool) -> list[Any]:
    return list(normalize_many(list(part), region=region, errors=errors, drop_invalid=drop_invalid))  # type: ignore[arg-type]


def normalize(
    records: Any,
    *,
    region: str | None = "CN",
    errors: Errors = DEFAULT_ERRORS,
    drop_invalid: bool = False,
    npartitions: int | None = None,
) -> db.Bag:
    """Normalise every record of ``records`` (a Dask bag of :class:`~custdata.Customer`, or an iterable
    split into ``npartitions``), each partition on a worker: a bag of
    :class:`~custdata.NormalizeResult`, in input order, equal to :func:`custdata.normalize_many` on the
    same records with the same arguments (``errors="raise"`` raises its
    :class:`~custdata.exceptions.ValidationError` when the bag is computed)."""
    check_errors(errors)
    # the arguments are checked here, on the client, not first on a worker
    list(normalize_many([], region=region, errors=errors, drop_invalid=drop_invalid))
    bag = as_bag(records, npartitions)
    out: db.Bag = bag.map_partitions(_normalize_part, region, errors, drop_invalid)  # type: ignore[no-untyped-call]
    return out
