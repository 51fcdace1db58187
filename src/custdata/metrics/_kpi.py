"""Business metrics from transactions and interactions: retention, churn, cohorts, order value,
historical and formula CLV, complaint and conversion rates, CSAT and NPS. Pure Python.

Conventions: refunds (negative amounts) are not purchases, so they never make a customer active or count
as an order; :func:`historical_clv` nets them in because it measures realised value. Rates are fractions
in [0, 1]; CSAT and NPS are on their usual scales (0-100 and -100..100). A rate with nothing to divide
by is ``None``, never a made-up 0.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from custdata._records import InteractionKind, LifecycleStage
from custdata.exceptions import ValidationError

if TYPE_CHECKING:
    import pandas as pd
from custdata.metrics import _periods
from custdata.metrics._input import Window, bound_day, cutoff, get, natural_key, number, rows

__all__ = [
    "CohortMatrix",
    "PeriodRetention",
    "average_order_value",
    "churn_rate",
    "cohort_matrix",
    "complaint_rate",
    "conversion_rate",
    "csat",
    "historical_clv",
    "nps",
    "purchase_frequency",
    "repeat_purchase_rate",
    "retention",
    "retention_rate",
    "simple_clv",
]

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- helpers
def _active_periods(
    transactions: Iterable[Any], period: str, tz: dt.tzinfo | None, end: dt.date | dt.datetime | None
) -> dict[str, set[int]]:
    """customer id -> the set of period indexes with at least one purchase."""
    out: dict[str, set[int]] = {}
    window = Window(end, tz)
    for row in rows(transactions):
        if _periods.as_decimal(get(row, "amount")) < 0:
            continue
        at = get(row, "at")
        day = _periods.local_date(at, tz)
        if not window.keep(at, day):
            continue
        out.setdefault(str(get(row, "customer_id")), set()).add(_periods.index(day, period))
    window.report(stacklevel=4)
    return out


def _today(tz: dt.tzinfo | None) -> dt.date:
    return dt.datetime.now(tz).date() if tz is not None else dt.date.today()


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


# -------------------------------------------------------------------------------------------- retention
@attrs.frozen
class PeriodRetention:
    """Retention from one period to the next.

    ``active``: customers who bought in ``period``; ``previous``: customers who bought in the period
    before; ``retained``: customers who bought in both; ``new``: first purchase in ``period``.
    ``retention_rate = retained / previous`` and ``churn_rate = 1 - retention_rate`` (``None`` when nobody
    bought in the period before).
    """

    period: str
    active: int
    previous: int
    retained: int
    new: int
    retention_rate: float | None
    churn_rate: float | None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict."""
        return attrs.asdict(self)


def retention(
    transactions: Iterable[Any],
    *,
    period: str = "M",
    observation_end: dt.date | dt.datetime | str | None = None,
    tz: dt.tzinfo | None = None,
) -> list[PeriodRetention]:
    """Period-over-period retention, one :class:`PeriodRetention` per period from the first purchase
    period to the last (or to ``observation_end``), periods without purchases included.

    >>> from custdata.metrics import retention
    >>> txs = [{"customer_id": c, "at": f"2026-0{m}-05T12:00:00+08:00", "amount": 10}
    ...        for c, m in [("a", 1), ("b", 1), ("a", 2), ("c", 2)]]
    >>> [(r.period, r.retained, r.previous, r.retention_rate) for r in retention(txs)]
    [('2026-01', 0, 0, None), ('2026-02', 1, 2, 0.5)]
    """
    per = _periods.check_period(period)
    end = None if observation_end is None else cutoff(observation_end, "observation_end")
    active = _active_periods(transactions, per, tz, end)
    if not active:
        return []
    by_period: dict[int, set[str]] = {}
    first: dict[int, int] = {}
    for cid, idxs in active.items():
        for i in idxs:
            by_period.setdefault(i, set()).add(cid)
        f = min(idxs)
        first[f] = first.get(f, 0) + 1
    lo = min(by_period)
    hi = max(by_period) if end is None else _periods.index(bound_day(end), per)
    hi = min(hi, _periods.index(_today(tz), per))  # periods that have not begun are left out, never 0 %
    out = []
    for i in range(lo, hi + 1):
        now, before = by_period.get(i, set()), by_period.get(i - 1, set())
        kept = len(now & before)
        rate = _ratio(kept, len(before))
        out.append(
            PeriodRetention(
                period=_periods.label(i, per),
                active=len(now),
                previous=len(before),
                retained=kept,
                new=first.get(i, 0),
                retention_rate=rate,
                churn_rate=None if rate is None else 1.0 - rate,
            )
        )
    return out


def retention_rate(
    transactions: Iterable[Any],
    *,
    period: str = "M",
    observation_end: dt.date | dt.datetime | str | None = None,
    tz: dt.tzinfo | None = None,
) -> float | None:
    """The pooled period-over-period retention rate: all customers retained from one period to the next,
    over all customers active in the period before (``None`` with fewer than two periods)."""
    table = retention(transactions, period=period, observation_end=observation_end, tz=tz)
    return _ratio(sum(r.retained for r in table), sum(r.previous for r in table))


def churn_rate(
    transactions: Iterable[Any],
    *,
    period: str = "M",
    observation_end: dt.date | dt.datetime | str | None = None,
    tz: dt.tzinfo | None = None,
) -> float | None:
    """``1 - retention_rate(...)``: the share of a period's active customers who do not buy in the next."""
    rate = retention_rate(transactions, period=period, observation_end=observation_end, tz=tz)
    return None if rate is None else 1.0 - rate


def repeat_purchase_rate(
    transactions: Iterable[Any], *, period: str = "D", tz: dt.tzinfo | None = None
) -> float | None:
    """The share of customers with purchases in at least two periods (several in one period count once)."""
    active = _active_periods(transactions, _periods.check_period(period), tz, None)
    return _ratio(sum(1 for idxs in active.values() if len(idxs) > 1), len(active))


# ---------------------------------------------------------------------------------------------- cohorts
@attrs.frozen
class CohortMatrix:
    """Cohort retention: rows are acquisition periods, columns periods since acquisition (0, 1, 2 …).

    ``active[i][k]`` counts the customers of cohort ``i`` who bought in its ``k``-th period after
    acquisition; ``retention[i][k]`` divides that by the cohort's size. Cells the observation window has
    not reached, or reached only in part, are ``None`` (censored, unknown), never 0.
    """

    period: str
    cohorts: list[str]
    sizes: list[int]
    active: list[list[int | None]]
    retention: list[list[float | None]]

    def to_dict(self) -> dict[str, Any]:
        """A plain dict."""
        return attrs.asdict(self)

    def to_dataframe(self) -> pd.DataFrame:
        """The retention matrix as a DataFrame (index: cohorts, columns: 0, 1, 2 …; censored cells NaN)."""
        import pandas as pd

        width = max((len(r) for r in self.retention), default=0)
        data = [
            [None if v is None else v for v in row] + [None] * (width - len(row)) for row in self.retention
        ]
        frame = pd.DataFrame(data, index=pd.Index(self.cohorts, name="cohort"), columns=list(range(width)))
        typed: pd.DataFrame = frame.astype(float)
        return typed

    def __str__(self) -> str:
        width = max((len(r) for r in self.retention), default=0)
        head = f"{'cohort':<10} {'size':>6} " + " ".join(f"{k:>6}" for k in range(width))
        lines = [head]
        for name, size, row in zip(self.cohorts, self.sizes, self.retention, strict=True):
            cells = " ".join(f"{'':>6}" if v is None else f"{v:>6.1%}" for v in row)
            lines.append(f"{name:<10} {size:>6} {cells}")
        return "\n".join(lines)


def cohort_matrix(
    transactions: Iterable[Any],
    *,
    period: str = "M",
    observation_end: dt.date | dt.datetime | str | None = None,
    tz: dt.tzinfo | None = None,
) -> CohortMatrix:
    """Cohort retention matrix: customers grouped by the period of their first purchase.

    ``observation_end`` (default: the day of the last purchase) marks what has been observed: a period
    that ends after it is censored (``None``), so a cohort's row is as long as its observed history.

    >>> from custdata.metrics import cohort_matrix
    >>> txs = [{"customer_id": c, "at": f"2026-{m:02d}-05T12:00:00+08:00", "amount": 10}
    ...        for c, m in [("a", 1), ("b", 1), ("a", 2), ("c", 2), ("c", 3)]]
    >>> m = cohort_matrix(txs, observation_end="2026-03-31")
    >>> m.cohorts, m.sizes, m.retention
    (['2026-01', '2026-02'], [2, 1], [[1.0, 0.5, 0.0], [1.0, 1.0]])
    """
    per = _periods.check_period(period)
    end = None if observation_end is None else cutoff(observation_end, "observation_end")
    active = _active_periods(transactions, per, tz, end)
    if not active:
        return CohortMatrix(per, [], [], [], [])
    if end is None:
        last_day = max(_periods.start(max(idxs), per) for idxs in active.values())
        # the last purchase's own period is complete only if observation stopped at its end
        last_full = _periods.index(last_day, per) - 1
    else:
        end_day = min(bound_day(end), _today(tz))  # what has not happened yet is not observed
        idx = _periods.index(end_day, per)
        last_full = idx if _periods.end(idx, per) == end_day else idx - 1
    cohorts: dict[int, list[set[int]]] = {}
    for idxs in active.values():
        cohorts.setdefault(min(idxs), []).append(idxs)
    names, sizes, counts, rates = [], [], [], []
    for c in sorted(cohorts):
        members = cohorts[c]
        width = max(last_full - c + 1, 1)  # the acquisition period itself is always 100 %
        row_counts: list[int | None] = []
        for k in range(width):
            row_counts.append(sum(1 for idxs in members if c + k in idxs))
        names.append(_periods.label(c, per))
        sizes.append(len(members))
        counts.append(row_counts)
        rates.append([None if n is None else n / len(members) for n in row_counts])
    return CohortMatrix(per, names, sizes, counts, rates)


# ------------------------------------------------------------------------------------- orders and value
def _orders(transactions: Iterable[Any]) -> tuple[dict[Any, Decimal], set[str]]:
    """order key -> total of its purchase lines; and the customers seen."""
    orders: dict[Any, Decimal] = {}
    customers: set[str] = set()
    window = Window(None, None)
    for n, row in enumerate(rows(transactions)):
        amount = _periods.as_decimal(get(row, "amount"))
        if amount < 0 or not _kept(row, window):
            continue
        cid = str(get(row, "customer_id"))
        customers.add(cid)
        order = get(row, "order_id", default=None)
        key = (cid, order) if order else ("#", n)
        orders[key] = orders.get(key, Decimal(0)) + amount
    window.report(stacklevel=4)
    return orders, customers


def _kept(row: Any, window: Window) -> bool:
    """Is a row dated (when it has a date) no later than now?"""
    at = get(row, "at", default=None)
    return at is None or window.keep(at, _periods.local_date(at, None))


def average_order_value(transactions: Iterable[Any]) -> float | None:
    """Total purchase amount over the number of orders (transactions sharing an ``order_id`` are one
    order; a transaction without one is its own order)."""
    orders, _ = _orders(transactions)
    return float(sum(orders.values(), Decimal(0)) / len(orders)) if orders else None


def purchase_frequency(transactions: Iterable[Any]) -> float | None:
    """Orders per customer over the whole input."""
    orders, customers = _orders(transactions)
    return _ratio(len(orders), len(customers))


def historical_clv(transactions: Iterable[Any], *, margin: float = 1.0) -> dict[str, float]:
    """Realised value per customer so far: net amount (refunds subtracted) times ``margin``.

    Returns ``{customer_id: value}`` ordered by customer id.
    """
    margin = number(margin, "margin")
    totals: dict[str, Decimal] = {}
    window = Window(None, None)
    for row in rows(transactions):
        if not _kept(row, window):
            continue
        cid = str(get(row, "customer_id"))
        totals[cid] = totals.get(cid, Decimal(0)) + _periods.as_decimal(get(row, "amount"))
    window.report()
    return {cid: float(totals[cid]) * margin for cid in sorted(totals, key=natural_key)}


def simple_clv(
    *,
    average_order_value: float,
    purchase_frequency: float,
    lifespan: float,
    margin: float = 1.0,
    discount_rate: float = 0.0,
) -> float:
    """The textbook formula CLV: value per period (order value × purchases per period × margin) summed
    over ``lifespan`` periods, each discounted by ``(1 + discount_rate) ** k`` (end of period k).

    A fractional lifespan uses the continuous annuity factor ``(1 - (1 + d) ** -L) / d``.

    >>> from custdata.metrics import simple_clv
    >>> simple_clv(average_order_value=50, purchase_frequency=4, lifespan=3, margin=0.25)
    150.0
    >>> round(simple_clv(average_order_value=50, purchase_frequency=4, lifespan=3, margin=0.25,
    ...                  discount_rate=0.1), 2)
    124.34
    """
    average_order_value = number(average_order_value, "average_order_value")
    purchase_frequency = number(purchase_frequency, "purchase_frequency")
    lifespan = number(lifespan, "lifespan")
    margin = number(margin, "margin")
    discount_rate = number(discount_rate, "discount_rate")
    for name, value in [("lifespan", lifespan), ("purchase_frequency", purchase_frequency)]:
        if value < 0:
            raise ValidationError(f"{name} must be >= 0, got {value}", field=name)
    if discount_rate <= -1:
        raise ValidationError(f"discount_rate must be > -1, got {discount_rate}", field="discount_rate")
    per_period = average_order_value * purchase_frequency * margin
    if discount_rate == 0:
        return float(per_period * lifespan)
    factor = (1.0 - (1.0 + discount_rate) ** -lifespan) / discount_rate
    return float(per_period * factor)


# ---------------------------------------------------------------------------------------- interactions
def _kind(row: Any) -> str:
    kind = get(row, "kind", default=None)
    return kind.value if isinstance(kind, InteractionKind) else str(kind or "other").lower()


def complaint_rate(interactions: Iterable[Any], *, base: int | None = None) -> float | None:
    """Complaints over ``base`` (e.g. the number of orders or customers), or over all interactions when
    ``base`` is not given."""
    if base is not None:
        number(base, "base")
    total = complaints = 0
    for row in rows(interactions, "interactions"):
        total += 1
        complaints += _kind(row) == "complaint"
    return _ratio(complaints, total if base is None else base)


def csat(interactions: Iterable[Any], *, satisfied: float = 4) -> float | None:
    """Customer satisfaction score: the percentage of 1-5 ratings at or above ``satisfied`` (4 = "satisfied"
    or "very satisfied"), 0-100; ``None`` without ratings."""
    satisfied = number(satisfied, "satisfied")
    scores = [
        s
        for s in (get(r, "satisfaction", default=None) for r in rows(interactions, "interactions"))
        if s is not None
    ]
    return _ratio(100.0 * sum(1 for s in scores if float(s) >= satisfied), len(scores))


def nps(interactions: Iterable[Any]) -> float | None:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), from -100 to 100; ``None`` without
    answers."""
    scores = [
        int(s)
        for s in (get(r, "nps", default=None) for r in rows(interactions, "interactions"))
        if s is not None
    ]
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100.0 * (promoters - detractors) / len(scores)


_FUNNEL = [
    LifecycleStage.SUBSCRIBER,
    LifecycleStage.LEAD,
    LifecycleStage.MARKETING_QUALIFIED,
    LifecycleStage.SALES_QUALIFIED,
    LifecycleStage.OPPORTUNITY,
    LifecycleStage.CUSTOMER,
    LifecycleStage.EVANGELIST,
]
_RANK = {s.value: i for i, s in enumerate(_FUNNEL)}


def _stage(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = value.value if isinstance(value, LifecycleStage) else str(value).strip().lower()
    if text not in _RANK and text != LifecycleStage.OTHER.value:
        raise ValidationError(f"unknown lifecycle stage {value!r}", field="lifecycle_stage")
    return text


def conversion_rate(
    moves: Iterable[Any],
    *,
    from_stage: str | LifecycleStage = LifecycleStage.LEAD,
    to_stage: str | LifecycleStage = LifecycleStage.CUSTOMER,
) -> float | None:
    """The share of customers ever at ``from_stage`` who later reached ``to_stage`` or a later stage of the
    funnel (subscriber → lead → MQL → SQL → opportunity → customer → evangelist).

    ``moves`` are the stage observations in time order: :class:`~custdata.Customer` versions (for example
    a store's history), or mappings with ``customer_id`` (or ``id``) and ``stage`` (or
    ``lifecycle_stage``); with an ``at`` (or ``updated_at``) field they are sorted by it first.

    >>> from custdata.metrics import conversion_rate
    >>> moves = [("a", "lead"), ("b", "lead"), ("a", "opportunity"), ("a", "customer"), ("c", "customer")]
    >>> conversion_rate([{"customer_id": c, "stage": s} for c, s in moves])
    0.5
    """
    src, dst = _stage(from_stage), _stage(to_stage)
    if src not in _RANK or dst not in _RANK:
        raise ValidationError("from_stage and to_stage must be funnel stages, not 'other'", field="stage")
    items: list[tuple[Any, int, str, str | None]] = []
    for n, row in enumerate(rows(moves, "moves")):
        if isinstance(row, tuple):
            cid, stage, at = row[0], row[1], None
        else:
            cid = get(row, "customer_id", "id")
            stage = get(row, "stage", "lifecycle_stage", default=None)
            at = get(row, "at", "updated_at", default=None)
        items.append((at, n, str(cid), _stage(stage)))
    if items and all(i[0] is not None for i in items):
        items.sort(key=lambda i: (_when(i[0]), i[1]))
    entered: set[str] = set()
    converted: set[str] = set()
    for _, _, cid, stage in items:
        if stage is None:
            continue
        if stage == src:
            entered.add(cid)
        elif cid in entered and stage in _RANK and _RANK[stage] >= _RANK[dst]:
            converted.add(cid)
    return _ratio(len(converted), len(entered))


def _when(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    if isinstance(value, str):
        return _when(cutoff(value if len(value) == 10 else value.replace("Z", "+00:00"), "at"))
    if isinstance(value, Mapping):  # pragma: no cover - defensive
        raise ValidationError("a stage move's time must be a date-time", field="at")
    raise ValidationError(f"a stage move's time must be a date-time, got {value!r}", field="at")
