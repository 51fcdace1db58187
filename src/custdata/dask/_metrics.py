"""Transaction summaries per customer on Dask: a shuffle by customer id, :func:`custdata.summarize` on each
partition (a customer's transactions all meet in one), the summaries collected on the client."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable
from typing import Any

from custdata.dask._normalize import as_bag
from custdata.exceptions import RowsLeftOutWarning, ValidationError
from custdata.metrics import CustomerSummary, _periods
from custdata.metrics import summarize as _summarize
from custdata.metrics._input import Window, cutoff, get, natural_key

__all__ = ["summarize"]

_Part = tuple[list[CustomerSummary], int, int, frozenset[str]]


def _customer(row: Any) -> str:
    return str(get(row, "customer_id"))


def _summarize_part(groups: Iterable[tuple[str, list[Any]]], kwargs: dict[str, Any]) -> list[_Part]:
    """The summaries of one partition's customers, and what :func:`summarize` left out and saw there."""
    txs = [t for _, rows in groups for t in rows]
    window = Window(cutoff(kwargs["observation_end"], "observation_end"), kwargs.get("tz"))
    currencies: set[str] = set()
    for row in txs:
        if _periods.as_decimal(get(row, "amount")) < 0:
            continue
        at = get(row, "at")
        if window.keep(at, _periods.local_date(at, kwargs.get("tz"))):
            currency = get(row, "currency", default=None)
            if currency:
                currencies.add(str(currency))
    if len(currencies) > 1:
        summaries: list[CustomerSummary] = []  # the client raises, naming every currency
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RowsLeftOutWarning)  # counted above, reported once by the client
            summaries = _summarize(txs, **kwargs)
    return [(summaries, window.future, window.late, frozenset(currencies))]


def summarize(
    transactions: Any,
    *,
    observation_end: dt.date | dt.datetime | str,
    calibration_end: dt.date | dt.datetime | str | None = None,
    period: str = "D",
    unit: str | None = None,
    tz: dt.tzinfo | None = None,
    npartitions: int | None = None,
) -> list[CustomerSummary]:
    """:func:`custdata.summarize` on Dask: ``transactions`` (a bag of :class:`~custdata.Transaction`
    records or mappings, or an iterable split into ``npartitions``) are shuffled by customer id and
    summarised on the workers; the result (one :class:`CustomerSummary` per customer, ordered by customer
    id) and the warnings equal those of :func:`custdata.summarize` on the same transactions. The
    collapsed summaries are small: fit the CLV models on them on the client.
    """
    kwargs: dict[str, Any] = {
        "observation_end": observation_end,
        "calibration_end": calibration_end,
        "period": period,
        "unit": unit,
        "tz": tz,
    }
    _summarize([], **kwargs)  # the arguments are checked (and a future observation_end warned) here
    bag = as_bag(transactions, npartitions, "transactions")
    by_customer = bag.groupby(_customer, npartitions=bag.npartitions)  # type: ignore[no-untyped-call]
    parts = by_customer.map_partitions(_summarize_part, kwargs).compute()
    currencies = sorted(set().union(*(p[3] for p in parts)))
    if len(currencies) > 1:
        raise ValidationError(
            f"transactions in several currencies ({', '.join(currencies)}): convert them to one first",
            field="currency",
        )
    window = Window(cutoff(observation_end, "observation_end"), tz)
    window.future = sum(p[1] for p in parts)
    window.late = sum(p[2] for p in parts)
    window.report()
    out = [s for p in parts for s in p[0]]
    out.sort(key=lambda s: natural_key(s.customer_id))
    return out
