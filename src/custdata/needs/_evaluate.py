"""Offline evaluation: a time split and the usual top-k ranking measures."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable, Mapping, Sequence

from custdata._records import Transaction
from custdata.exceptions import FieldError, ValidationError
from custdata.needs._catalogue import _check, _many, _whole


def time_split(
    transactions: Iterable[Transaction], at: dt.datetime
) -> tuple[list[Transaction], list[Transaction]]:
    """Split into ``(before, from_at)``: transactions strictly before ``at`` and those at or after it.

    ``at`` must be timezone-aware like the records' times (naive raises ValidationError).
    """
    if not isinstance(at, dt.datetime):
        raise ValidationError([FieldError("at", f"expected a datetime, got {type(at).__name__}")])
    if at.tzinfo is None:
        raise ValidationError([FieldError("at", "must be timezone-aware")])
    before: list[Transaction] = []
    after: list[Transaction] = []
    for i, raw in enumerate(_many(transactions, "transactions")):
        t = _check(raw, i)
        (before if t.at < at else after).append(t)
    return before, after


def _skus(value: object, name: str) -> list[str]:
    items = list(_many(value, name))
    if not all(isinstance(s, str) for s in items):
        raise ValidationError([FieldError(name, "expected skus as text")])
    return items


def _lists(value: object, name: str) -> dict[str, list[str]]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            [FieldError(name, f"expected a mapping of customer to skus, got {type(value).__name__}")]
        )
    return {str(c): _skus(v, f"{name}[{c!r}]") for c, v in value.items()}


def _pairs(
    recommended: Mapping[str, Sequence[str]], relevant: Mapping[str, Collection[str]], k: int
) -> list[tuple[list[str], frozenset[str]]]:
    _whole(k, "k", 1)
    rec = _lists(recommended, "recommended")
    rel = _lists(relevant, "relevant")
    return [(rec.get(cid, [])[:k], frozenset(r)) for cid, r in rel.items() if r]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def recall_at_k(
    recommended: Mapping[str, Sequence[str]], relevant: Mapping[str, Collection[str]], k: int = 10
) -> float:
    """Mean over customers with something relevant of ``hits in the top k / min(k, number relevant)``.

    (Normalised by ``min(k, |relevant|)`` so a perfect list scores 1.) NaN when nobody has anything relevant.
    """
    return _mean([len(set(rec) & rel) / min(k, len(rel)) for rec, rel in _pairs(recommended, relevant, k)])


def ndcg_at_k(
    recommended: Mapping[str, Sequence[str]], relevant: Mapping[str, Collection[str]], k: int = 10
) -> float:
    """Mean binary-relevance NDCG@k: ``Σ 1/log2(rank+1)`` over hits, divided by the best possible."""
    out = []
    for rec, rel in _pairs(recommended, relevant, k):
        dcg = sum(1.0 / math.log2(r + 2) for r, s in enumerate(rec) if s in rel)
        ideal = sum(1.0 / math.log2(r + 2) for r in range(min(k, len(rel))))
        out.append(dcg / ideal)
    return _mean(out)


def hit_rate(
    recommended: Mapping[str, Sequence[str]], relevant: Mapping[str, Collection[str]], k: int = 10
) -> float:
    """Share of customers (with something relevant) with at least one relevant item in their top k."""
    return _mean([1.0 if set(rec) & rel else 0.0 for rec, rel in _pairs(recommended, relevant, k)])


def coverage(recommended: Mapping[str, Sequence[str]], catalogue: Collection[str], k: int = 10) -> float:
    """Share of the ``catalogue`` items that appear in anyone's top k."""
    _whole(k, "k", 1)
    items = frozenset(_skus(catalogue, "catalogue"))
    if not items:
        raise ValidationError([FieldError("catalogue", "is empty")])
    shown = {s for rec in _lists(recommended, "recommended").values() for s in rec[:k]} & items
    return len(shown) / len(items)
