"""A small generated shop history of the same shape as the UCI Online Retail data (for needs' tests/docs)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from custdata._records import LineItem, Transaction

__all__ = ["needs_sample"]

_CATEGORIES = ("candles", "kitchen", "garden", "stationery", "toys", "textiles")


def needs_sample(
    customers: int = 60,
    items: int = 40,
    *,
    orders_per_customer: int = 6,
    refund_rate: float = 0.05,
    start: dt.datetime = dt.datetime(2011, 1, 3, 9, tzinfo=dt.timezone.utc),
    days: int = 270,
    seed: int = 0,
) -> list[Transaction]:
    """Orders with line items (sku ``"SKU000"`` …, six categories, GBP prices) from ``customers`` customers
    (``"C0000"`` …), each mostly buying in one or two favourite categories, with about ``refund_rate`` of
    the orders later returned in full (a transaction with the negative amount and the same items).
    Deterministic for a given ``seed``; sorted by time."""
    rng = random.Random(seed)
    cats = {f"SKU{i:03d}": _CATEGORIES[i % len(_CATEGORIES)] for i in range(items)}
    prices = {s: Decimal(rng.choice(["0.85", "1.25", "2.10", "2.95", "4.95", "7.50", "12.75"])) for s in cats}
    by_cat: dict[str, list[str]] = {}
    for s, c in cats.items():
        by_cat.setdefault(c, []).append(s)
    out: list[Transaction] = []
    for n in range(customers):
        cid = f"C{n:04d}"
        favourites = rng.sample(_CATEGORIES, 2)
        for k in range(rng.randint(1, orders_per_customer)):
            at = start + dt.timedelta(days=rng.uniform(0, days))
            lines = []
            for sku in sorted(
                {
                    rng.choice(by_cat[rng.choice(favourites)])
                    if rng.random() < 0.8
                    else rng.choice(list(cats))
                    for _ in range(rng.randint(1, 5))
                }
            ):
                lines.append(
                    LineItem(sku=sku, quantity=rng.randint(1, 12), unit_price=prices[sku], category=cats[sku])
                )
            amount = sum((li.quantity * (li.unit_price or Decimal(0)) for li in lines), Decimal(0))
            oid = f"{cid}-{k}"
            out.append(
                Transaction(
                    customer_id=cid, at=at, amount=amount, currency="GBP", order_id=oid, items=tuple(lines)
                )
            )
            if rng.random() < refund_rate:
                out.append(
                    Transaction(
                        customer_id=cid,
                        at=at + dt.timedelta(days=rng.randint(1, 14)),
                        amount=-amount,
                        currency="GBP",
                        order_id=oid,
                        items=tuple(lines),
                    )
                )
    out.sort(key=lambda t: (t.at, t.customer_id))
    return out
