"""Interest groups: each customer's share of spend per category."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from custdata._records import Transaction
from custdata.exceptions import RowsLeftOutWarning
from custdata.needs._catalogue import _check, _many, _whole


@dataclass(frozen=True)
class Interests:
    """One customer's interests: ``shares`` maps a category to its share of net spend (summing to 1),
    ``top`` the leading categories, largest share first (ties by name)."""

    customer_id: str
    shares: dict[str, float]
    top: tuple[str, ...]
    spend: Decimal


def interests(transactions: Iterable[Transaction], *, top: int = 3) -> dict[str, Interests]:
    """Share of spend per category and the ``top`` categories of each customer.

    Spend is ``quantity × unit_price`` per line item, refunds (negative ``amount``) subtracted. Lines
    without a ``category`` or ``unit_price`` cannot be placed and are left out with a
    :class:`~custdata.exceptions.RowsLeftOutWarning` (``.count`` lines); categories whose net spend is zero
    or less are dropped, and so are customers with no positive net spend.
    """
    _whole(top, "top", 0)
    spend: dict[str, dict[str, Decimal]] = {}
    left_out = 0
    for i, raw in enumerate(_many(transactions, "transactions")):
        t = _check(raw, i)
        sign = -1 if t.amount < 0 else 1
        for line in t.items:
            if line.category is None or line.unit_price is None:
                left_out += 1
                continue
            per = spend.setdefault(t.customer_id, {})
            per[line.category] = per.get(line.category, Decimal(0)) + sign * line.quantity * line.unit_price
    if left_out:
        warnings.warn(
            RowsLeftOutWarning(
                f"{left_out} line item(s) without a category or unit price were left out", left_out
            ),
            stacklevel=2,
        )
    out: dict[str, Interests] = {}
    for cid in sorted(spend):
        pos = {c: v for c, v in spend[cid].items() if v > 0}
        total = sum(pos.values(), Decimal(0))
        if total <= 0:
            continue
        shares = {c: float(v / total) for c, v in sorted(pos.items(), key=lambda kv: (-kv[1], kv[0]))}
        out[cid] = Interests(cid, shares, tuple(list(shares)[:top]), total)
    return out
