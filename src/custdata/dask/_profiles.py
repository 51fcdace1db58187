"""Customer profiles on Dask: :func:`custdata.profiles` with the per-customer sums built on the workers.

1. each partition of transactions (and of interactions) is summed per customer with the single-machine
   :class:`~custdata.segments.ProfileBuilder` (a few numbers per customer, never the transactions);
2. the partial sums are shuffled by customer id and merged, so each customer's sums meet in one place;
3. the RFM quantile edges need every purchasing customer: the workers count each recency and order
   count (few distinct values) and the client takes the same exact quantiles :func:`custdata.segments.rfm`
   takes from the counts; net spend, which has about as many distinct values as customers, stays on the
   workers: each partition sends a sample of its sorted spends, the client bounds each value it needs by
   them, and the partitions send only the spends between the bounds (:func:`exact_edges`);
4. the sums are routed to the partition of the customers they belong to (only ``(customer id,
   partition)`` rows and the small sums are shuffled; the customer records stay where they are), and
   each customer partition is turned into profiles by the single-machine builder, in input order.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import dask.bag as db
from dask.base import compute
from dask.delayed import Delayed, delayed

from custdata._records import Customer, Interaction, Transaction
from custdata.dask._normalize import as_bag
from custdata.exceptions import ValidationError
from custdata.segments._profiles import (
    _UNITS,
    ProfileBuilder,
    _activity,
    _customer,
    _stream,
    as_of_date,
)
from custdata.segments._rfm import Edges

__all__ = ["profiles"]

# a customer's sums: [orders, total spend, first purchase day, last purchase day], purchase days (with a
# model), category spend, last contact day
_Sums = tuple[list[Any] | None, dict[dt.date, Decimal] | None, dict[str, Decimal] | None, dt.date | None]
_CURRENCIES = "currencies"  # the kind of the one row per partition that carries its currencies


# ------------------------------------------------------------------------------------- per partition
def _tx_part(part: Iterable[Any], as_of: dt.date, keep_days: bool) -> list[tuple[Any, ...]]:
    """One partition's transactions summed per customer by the single-machine builder; one row per
    customer and one with the currencies seen (several currencies are reported by the client, naming them
    all, as the single-machine call does)."""
    builder = ProfileBuilder(as_of, model=True if keep_days else None)
    by_currency: dict[str | None, list[Transaction]] = {}
    for item in part:
        t: Transaction = item if type(item) is Transaction else _activity(item, Transaction)
        by_currency.setdefault(t.currency, []).append(t)
    seen: set[str] = set()
    for group in by_currency.values():  # one currency at a time: the builder raises on a second one
        builder.add_transactions(group)
        seen |= builder.currencies
        builder.currencies = set()
    out: list[tuple[Any, ...]] = [(_CURRENCIES, None, frozenset(seen))]
    for cid, cell in builder.tx.items():
        out.append(("t", cid, (cell, builder.days.get(cid), builder.categories.get(cid), None)))
    return out


def _interaction_part(part: Iterable[Any], as_of: dt.date) -> list[tuple[Any, ...]]:
    builder = ProfileBuilder(as_of)
    builder.add_interactions(_activity(i, Interaction) if type(i) is not Interaction else i for i in part)
    return [("t", cid, (None, None, None, day)) for cid, day in builder.contact.items()]


def _add(a: dict[Any, Decimal] | None, b: dict[Any, Decimal] | None) -> dict[Any, Decimal] | None:
    if a is None:
        return None if b is None else dict(b)
    for k, v in (b or {}).items():
        a[k] = a.get(k, Decimal(0)) + v
    return a


def _merge(rows: Iterable[tuple[Any, ...]]) -> _Sums:
    """One customer's partial sums from several partitions, merged."""
    cell: list[Any] | None = None
    days: dict[Any, Decimal] | None = None
    cats: dict[Any, Decimal] | None = None
    contact: dt.date | None = None
    for _, _, (c, d, g, i) in rows:
        if c is not None:
            if cell is None:
                cell = list(c)
            else:
                cell[0] += c[0]
                cell[1] += c[1]
                if c[2] is not None and (cell[2] is None or c[2] < cell[2]):
                    cell[2] = c[2]
                if c[3] is not None and (cell[3] is None or c[3] > cell[3]):
                    cell[3] = c[3]
        days = _add(days, d)
        cats = _add(cats, g)
        if i is not None and (contact is None or i > contact):
            contact = i
    return cell, days, cats, contact


def _merge_part(groups: Iterable[tuple[Any, list[tuple[Any, ...]]]]) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for cid, rows in groups:
        if cid is None:  # the currencies rows of every partition
            out.append((_CURRENCIES, None, frozenset().union(*(r[2] for r in rows))))
        else:
            out.append(("t", cid, _merge(rows)))
    return out


def _rfm_values(
    part: Iterable[tuple[Any, ...]], as_of: dt.date
) -> tuple[Counter[Any], Counter[Any], list[Any]]:
    """Among the purchasing customers here: how often each recency and order count occurs (few distinct
    values), and every net spend (many distinct values: they stay on the worker, see :func:`exact_edges`)."""
    r: Counter[Any] = Counter()
    f: Counter[Any] = Counter()
    m: list[Any] = []
    for kind, _, sums in part:
        if kind == "t" and sums[0] is not None and sums[0][0] > 0:
            orders, spend, _, last = sums[0]
            r[(as_of - last).days] += 1
            f[orders] += 1
            m.append(spend)
    return r, f, m


def _rfm_summary(
    part: Iterable[tuple[Any, ...]], as_of: dt.date, sample: int
) -> tuple[Counter[Any], Counter[Any], _Summary]:
    r, f, m = _rfm_values(part, as_of)
    return r, f, rank_summary(m, sample)


def _rfm_windows(part: Iterable[tuple[Any, ...]], as_of: dt.date, bounds: list[_Bounds]) -> list[_Window]:
    return rank_windows(_rfm_values(part, as_of)[2], bounds)


# exact order statistics of values spread over partitions, in two small rounds ----------------------------
_Summary = tuple[int, list[tuple[int, Any]]]  # a partition's count and (position, value) of sorted values
_Bounds = tuple[Any, Any]  # values known to enclose one wanted rank (None: unbounded)
_Window = tuple[int, Counter[Any]]  # values below the window, and the window's values counted
RANK_SAMPLE = 512  # sorted values a partition reports in the first round


def rank_summary(values: Iterable[Any], sample: int = RANK_SAMPLE) -> _Summary:
    """First round, on a worker: the number of values and about ``sample`` of them at evenly spaced
    positions of their sorted order (the first and the last included)."""
    xs = sorted(values)
    n = len(xs)
    if not n:
        return 0, []
    step = max(1, -(-n // max(1, sample)))
    pos = list(range(0, n, step))
    if pos[-1] != n - 1:
        pos.append(n - 1)
    return n, [(p, xs[p]) for p in pos]


def rank_bounds(summaries: Sequence[_Summary], rank: int) -> _Bounds:
    """On the client: values ``(low, high)`` between which the ``rank``-th smallest value (from 0) of all
    partitions must lie, from the positions the summaries give: at most ``rank`` values are below ``low``
    and more than ``rank`` are at or below ``high`` (``None``: no bound)."""
    cols = [([v for _, v in s], [p for p, _ in s], n) for n, s in summaries]
    candidates = sorted({v for values, _, _ in cols for v in values})

    def most_below(v: Any) -> int:  # at most this many values are < v
        total = 0
        for values, pos, n in cols:
            k = bisect.bisect_left(values, v)  # the first sampled value >= v sits at pos[k]
            total += pos[k] if k < len(pos) else n
        return total

    def least_upto(v: Any) -> int:  # at least this many values are <= v
        total = 0
        for values, pos, _ in cols:
            k = bisect.bisect_right(values, v)  # the last sampled value <= v sits at pos[k - 1]
            total += pos[k - 1] + 1 if k else 0
        return total

    lo, hi = 0, len(candidates)  # the last candidate with most_below <= rank (it grows with the value)
    while lo < hi:
        mid = (lo + hi) // 2
        if most_below(candidates[mid]) <= rank:
            lo = mid + 1
        else:
            hi = mid
    low = candidates[lo - 1] if lo else None
    lo, hi = 0, len(candidates)  # the first candidate with least_upto > rank
    while lo < hi:
        mid = (lo + hi) // 2
        if least_upto(candidates[mid]) > rank:
            hi = mid
        else:
            lo = mid + 1
    high = candidates[lo] if lo < len(candidates) else None
    return low, high


def rank_windows(values: Iterable[Any], bounds: Sequence[_Bounds]) -> list[_Window]:
    """Second round, on a worker: per wanted rank, how many values are below its window and the values in
    it, counted (ties travel as one value and a count)."""
    xs = list(values)
    out = []
    for low, high in bounds:
        below = 0
        window: Counter[Any] = Counter()
        for x in xs:
            if low is not None and x < low:
                below += 1
            elif high is None or x <= high:
                window[x] += 1
        out.append((below, window))
    return out


def rank_values(ranks: Sequence[int], windows: Sequence[Sequence[_Window]]) -> dict[int, Any]:
    """On the client: the value at each rank, from every partition's windows (``windows[partition][k]``
    for ``ranks[k]``)."""
    out: dict[int, Any] = {}
    for k, rank in enumerate(ranks):
        below = sum(part[k][0] for part in windows)
        merged: Counter[Any] = Counter()
        for part in windows:
            merged.update(part[k][1])
        seen = below
        for value, count in sorted(merged.items()):
            seen += count
            if rank < seen:
                out[rank] = value
                break
    return out


def _edge_plan(n: int, bins: int) -> list[tuple[int, int, Fraction]]:
    """Per interior edge of :func:`custdata.segments._rfm.edges_of` over ``n`` values: the two ranks it
    interpolates between and the fraction of the way."""
    plan = []
    for i in range(1, bins):
        h = Fraction((n - 1) * i, bins)
        lo = math.floor(h)
        plan.append((lo, min(lo + 1, n - 1), h - lo))
    return plan


def _edges_at(plan: list[tuple[int, int, Fraction]], at: Mapping[int, Any]) -> tuple[Fraction, ...]:
    out = []
    for lo, hi, frac in plan:
        a = Fraction(at[lo])
        b = Fraction(at[hi])
        out.append(a + (b - a) * frac)
    return tuple(out)


def exact_edges(parts: Sequence[Sequence[Any]], bins: int, sample: int = RANK_SAMPLE) -> tuple[Fraction, ...]:
    """:func:`custdata.segments._rfm.edges_of` of the values of every part, computed as :func:`profiles`
    does over partitions (here in one process): summaries, bounds, windows, values at the ranks."""
    summaries = [rank_summary(p, sample) for p in parts]
    n = sum(c for c, _ in summaries)
    if not n:
        return ()
    plan = _edge_plan(n, bins)
    ranks = sorted({r for lo, hi, _ in plan for r in (lo, hi)})
    bounds = [rank_bounds(summaries, r) for r in ranks]
    return _edges_at(plan, rank_values(ranks, [rank_windows(p, bounds) for p in parts]))


def edges_from_counts(counts: Mapping[Any, int], bins: int) -> tuple[Fraction, ...]:
    """:func:`custdata.segments._rfm.edges_of` of the values ``counts`` counts (value -> occurrences),
    without listing them: the same exact quantiles (linear interpolation between order statistics)."""
    n = sum(counts.values())
    if not n:
        return ()
    plan = _edge_plan(n, bins)
    wanted = sorted({r for lo, hi, _ in plan for r in (lo, hi)})
    at: dict[int, Any] = {}
    seen = 0
    k = 0
    for value, count in sorted(counts.items()):
        seen += count
        while k < len(wanted) and wanted[k] < seen:
            at[wanted[k]] = value
            k += 1
    return _edges_at(plan, at)


def _where(part: Iterable[Any], index: Sequence[int]) -> list[tuple[Any, ...]]:
    """``("w", customer id, partition)`` for every customer of the partition with this index."""
    (k,) = index
    out: list[tuple[Any, ...]] = []
    for c in part:
        rec = c if type(c) is Customer else _customer(c)
        out.append(("w", rec.id, k))
    return out


def _route(groups: Iterable[tuple[Any, list[tuple[Any, ...]]]]) -> list[tuple[int, str, _Sums]]:
    """Each customer's merged sums, addressed to every partition that holds a customer with its id."""
    out: list[tuple[int, str, _Sums]] = []
    for cid, rows in groups:
        sums = next((r[2] for r in rows if r[0] == "t"), None)
        if sums is None:
            continue
        for r in rows:
            if r[0] == "w":
                out.append((r[2], cid, sums))
    return out


def _keys(groups: Iterable[tuple[int, Any]]) -> list[int]:
    return [k for k, _ in groups]


def _pick(groups: Iterable[tuple[int, list[Any]]], k: int) -> list[Any]:
    return next((rows for key, rows in groups if key == k), [])


def _nothing() -> list[Any]:
    return []  # not delayed(list)(): Dask's bag optimisation trips over a list task without arguments


def _profile_part(
    part: Iterable[Any], sums: Iterable[tuple[int, str, _Sums]], kwargs: dict[str, Any], edges: Edges
) -> list[Any]:
    builder = ProfileBuilder(**kwargs)
    for _, cid, (cell, days, cats, contact) in sums:
        if cell is not None:
            builder.tx[cid] = cell
        if days:
            builder.days[cid] = days
        if cats:
            builder.categories[cid] = cats
        if contact is not None:
            builder.contact[cid] = contact
    builder.edges = edges
    return list(_stream(builder, part))


def _rfm_edges(pieces: Sequence[Any], day: dt.date, bins: int) -> Edges:
    """The RFM edges of the purchasing customers, from the merged sums on the workers: recency and order
    counts counted (few distinct values), net spend by exact ranks in two rounds (a sample of each
    partition's sorted spends, then only the spends between the bounds of each wanted rank)."""
    firsts = compute(*(delayed(_rfm_summary)(p, day, RANK_SAMPLE) for p in pieces))  # type: ignore[no-untyped-call]
    recency: Counter[Any] = Counter()
    orders: Counter[Any] = Counter()
    for r, f, _ in firsts:
        recency.update(r)
        orders.update(f)
    summaries = [m for _, _, m in firsts]
    n = sum(c for c, _ in summaries)
    spend: tuple[Fraction, ...] = ()
    if n:
        plan = _edge_plan(n, bins)
        ranks = sorted({r for lo, hi, _ in plan for r in (lo, hi)})
        bounds = [rank_bounds(summaries, r) for r in ranks]
        windows = compute(*(delayed(_rfm_windows)(p, day, bounds) for p in pieces))  # type: ignore[no-untyped-call]
        spend = _edges_at(plan, rank_values(ranks, windows))
    return Edges(bins, edges_from_counts(recency, bins), edges_from_counts(orders, bins), spend)


# -------------------------------------------------------------------------------------------------- api
def _pieces(bag: db.Bag) -> list[Any]:
    """One handle per partition of a persisted bag, in partition order, that keeps the partition's data on
    the cluster for as long as anything built from it refers to it: on a ``distributed`` cluster the
    partitions' futures themselves (a graph keeps a future it holds alive; ``to_delayed`` may leave only
    the keys, and the scheduler then drops the data before the result is computed), otherwise the bag's
    delayed partitions (the local schedulers keep persisted data in the graph)."""
    try:
        from distributed import futures_of
    except ImportError:  # pragma: no cover - the dask extra brings distributed
        futures: list[Any] = []
    else:
        futures = list(futures_of(bag))  # type: ignore[no-untyped-call]
    if not futures:
        return list(bag.to_delayed())  # type: ignore[no-untyped-call]
    by_key = {f.key: f for f in futures}
    return [by_key[k] for k in bag.__dask_keys__()]


def profiles(
    customers: Any,
    transactions: Any = None,
    interactions: Any = None,
    *,
    as_of: dt.date | str,
    model: Any = None,
    spend_model: Any = None,
    unit: str = "W",
    horizon: float = 52,
    bins: int = 5,
    region: str | None = "CN",
    npartitions: int | None = None,
) -> db.Bag:
    """:func:`custdata.profiles` on Dask: a bag of :class:`~custdata.segments.Profile`, one per customer in
    the input order of ``customers``, equal to ``list(custdata.profiles(...))`` with the same arguments.

    ``customers``, ``transactions`` and ``interactions``: Dask bags of records (or their dict forms), or
    iterables split into ``npartitions``. The per-customer sums and the RFM edges are computed when this is
    called (kept on the cluster); the profiles themselves when the bag is computed, each partition of
    customers on a worker, with the fitted ``model``/``spend_model`` shipped to it.
    """
    day = as_of_date(as_of)
    if unit not in _UNITS:
        raise ValidationError(f"unit must be 'D' or 'W', got {unit!r}", field="unit")
    kwargs: dict[str, Any] = {
        "as_of": day,
        "bins": bins,
        "region": region,
        "model": model,
        "spend_model": spend_model,
        "unit_days": _UNITS[unit],
        "horizon": horizon,
    }
    ProfileBuilder(**kwargs)  # the arguments are checked here, on the client
    people = as_bag(customers, npartitions, "customers")
    sources = []
    if transactions is not None:
        txs = as_bag(transactions, npartitions, "transactions")
        sources.append(txs.map_partitions(_tx_part, day, model is not None))  # type: ignore[no-untyped-call]
    if interactions is not None:
        acts = as_bag(interactions, npartitions, "interactions")
        sources.append(acts.map_partitions(_interaction_part, day))  # type: ignore[no-untyped-call]
    empty = Edges(bins, (), (), ())
    if not sources:
        out: db.Bag = people.map_partitions(_profile_part, (), kwargs, empty)  # type: ignore[no-untyped-call]
        return out
    partial = db.concat(sources) if len(sources) > 1 else sources[0]  # type: ignore[no-untyped-call]
    merged = (
        partial.groupby(lambda r: r[1], npartitions=partial.npartitions).map_partitions(_merge_part).persist()
    )
    currencies = compute(merged.filter(lambda r: r[0] == _CURRENCIES).pluck(2))[0]  # type: ignore[no-untyped-call]
    seen = frozenset().union(*currencies)
    if len(seen) > 1:
        raise ValidationError(
            f"transactions in several currencies ({', '.join(sorted(seen))}): convert them to one first",
            field="currency",
        )
    edges = _rfm_edges(_pieces(merged), day, bins)
    n = people.npartitions
    index = db.from_sequence(range(n), npartitions=n)  # type: ignore[no-untyped-call]
    where = db.map_partitions(_where, people, index)  # type: ignore[no-untyped-call]
    routed = (
        db.concat([where, merged.filter(lambda r: r[0] == "t")])  # type: ignore[no-untyped-call]
        .groupby(lambda r: r[1], npartitions=n)
        .map_partitions(_route)
        .groupby(lambda r: r[0], npartitions=n)
        .persist()
    )
    pieces = _pieces(routed)
    holders = compute(*(delayed(_keys)(p) for p in pieces))  # type: ignore[no-untyped-call]
    home = {k: m for m, keys in enumerate(holders) for k in keys}
    aligned: list[Delayed] = [
        delayed(_pick)(pieces[home[k]], k) if k in home else delayed(_nothing)() for k in range(n)
    ]
    sums = db.from_delayed(aligned)  # type: ignore[no-untyped-call]
    done: db.Bag = db.map_partitions(_profile_part, people, sums, kwargs, edges)  # type: ignore[no-untyped-call]
    return done
