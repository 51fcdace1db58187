"""The customer × item matrix built from transactions' line items, refunds netted out."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import scipy.sparse as sp

from custdata._records import Transaction
from custdata.exceptions import FieldError, ValidationError


def _many(value: object, name: str) -> Iterable[Any]:
    """``value`` as an iterable of items (not text, not a mapping), else ValidationError naming ``name``."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            [FieldError(name, f"expected an iterable of records, got {type(value).__name__}")]
        )
    return value


def _whole(value: object, name: str, low: int) -> int:
    """``value`` as a whole number of at least ``low``, else ValidationError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError([FieldError(name, f"expected a whole number, got {type(value).__name__}")])
    if value < low:
        raise ValidationError([FieldError(name, f"must be {low} or more, got {value}")])
    return value


def _check(t: object, i: int) -> Transaction:
    if not isinstance(t, Transaction):
        raise ValidationError([FieldError(f"[{i}]", f"expected a Transaction, got {type(t).__name__}")])
    return t


def net_quantities(transactions: Iterable[Transaction]) -> dict[tuple[str, str], Decimal]:
    """Net quantity bought per ``(customer_id, sku)``.

    A transaction with a negative ``amount`` is a refund: its line items (quantities are always positive)
    are subtracted. Pairs whose net quantity is zero or less (everything returned) are left out, so a
    returned or cancelled item never counts as a purchase.
    """
    net: dict[tuple[str, str], Decimal] = {}
    for i, raw in enumerate(_many(transactions, "transactions")):
        t = _check(raw, i)
        sign = -1 if t.amount < 0 else 1
        for line in t.items:
            key = (t.customer_id, line.sku)
            net[key] = net.get(key, Decimal(0)) + sign * line.quantity
    return {k: q for k, q in net.items() if q > 0}


@dataclass(frozen=True)
class ItemCatalogue:
    """Customers, items and the sparse customer × item matrix of net purchases.

    ``matrix[u, i]`` is 1.0 when customer ``customers[u]`` bought item ``skus[i]`` (net of returns);
    with ``weight="quantity"`` it is the net quantity instead. ``categories`` maps a sku to the last
    category seen on its line items; ``last_purchase`` is the time of the latest purchase (not refund);
    ``bought_at`` has the sparsity of ``matrix`` and holds when each pair was last bought, in days since
    1970-01-01 UTC.
    """

    customers: tuple[str, ...]
    skus: tuple[str, ...]
    matrix: sp.csr_matrix
    categories: dict[str, str] = field(default_factory=dict)
    last_purchase: dt.datetime | None = None
    bought_at: sp.csr_matrix | None = None

    def customer_index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.customers)}

    def sku_index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.skus)}


def item_catalogue(transactions: Iterable[Transaction], *, weight: str = "binary") -> ItemCatalogue:
    """Build the :class:`ItemCatalogue` of ``transactions`` (records with ``items``).

    ``weight`` is ``"binary"`` (bought or not, the usual input of EASE and item-kNN) or ``"quantity"``.
    Refunds (negative ``amount``) are netted out per customer and sku; see :func:`net_quantities`.
    Raises :class:`~custdata.exceptions.ValidationError` (a ``ValueError``) for anything that is not a
    :class:`~custdata.Transaction` or for an unknown ``weight``.
    """
    if not isinstance(weight, str) or weight not in ("binary", "quantity"):
        raise ValidationError([FieldError("weight", f"expected 'binary' or 'quantity', got {weight!r}")])
    txs = [_check(t, i) for i, t in enumerate(_many(transactions, "transactions"))]
    categories: dict[str, str] = {}
    last: dt.datetime | None = None
    latest: dict[tuple[str, str], float] = {}
    for t in txs:
        if t.amount >= 0 and t.items and (last is None or t.at > last):
            last = t.at
        if t.amount >= 0:
            day = t.at.timestamp() / 86400.0
            for line in t.items:
                key = (t.customer_id, line.sku)
                if latest.get(key, -math.inf) < day:
                    latest[key] = day
        for line in t.items:
            if line.category is not None:
                categories[line.sku] = line.category
    net = net_quantities(txs)
    customers = tuple(sorted({c for c, _ in net}))
    skus = tuple(sorted({s for _, s in net}))
    cidx = {c: i for i, c in enumerate(customers)}
    sidx = {s: i for i, s in enumerate(skus)}
    rows = np.fromiter((cidx[c] for c, _ in net), dtype=np.int64, count=len(net))
    cols = np.fromiter((sidx[s] for _, s in net), dtype=np.int64, count=len(net))
    if weight == "binary":
        vals = np.ones(len(net))
    else:
        vals = np.fromiter((float(q) for q in net.values()), dtype=np.float64, count=len(net))
    shape = (len(customers), len(skus))
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=shape)
    when = np.fromiter((latest[k] for k in net), dtype=np.float64, count=len(net))
    bought_at = sp.csr_matrix((when, (rows, cols)), shape=shape)
    return ItemCatalogue(customers, skus, matrix, categories, last, bought_at)
