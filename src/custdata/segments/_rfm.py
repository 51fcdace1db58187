"""RFM: quantile scores for recency, frequency and monetary value, and the named RFM segments.

Scores (``bins`` from 3 to 10, 5 by default):

* The edges are the ``bins - 1`` interior quantiles of the values over every customer with a purchase, at
  ``i / bins``, with linear interpolation between the sorted values (numpy's and pandas' default
  ``quantile``), computed exactly (no floating point).
* A value's score is ``1 +`` the number of edges strictly below it: intervals are closed on the right, as
  in ``pandas.qcut``. Equal values always get the same score. When edges coincide (many customers with one
  order) the scores in between are skipped: ``qcut(..., duplicates="drop")`` puts the same customers in the
  same bins, numbered without the gaps.
* Frequency and monetary score high for high values; recency (days since the last purchase) scores high
  for *low* values: ``r = bins + 1 - (1 + edges below)``.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from custdata.exceptions import ValidationError

__all__ = [
    "CN_GROUPS",
    "RFM_SEGMENTS",
    "Edges",
    "check_bins",
    "cn_group",
    "edges_of",
    "score",
    "segment_of",
]

Number = int | Decimal


def check_bins(bins: Any) -> int:
    if isinstance(bins, bool) or not isinstance(bins, int) or not 3 <= bins <= 10:
        raise ValidationError(f"bins must be a whole number from 3 to 10, got {bins!r}", field="bins")
    return bins


def edges_of(values: Sequence[Number], bins: int) -> tuple[Fraction, ...]:
    """The ``bins - 1`` interior quantile edges of ``values`` (exact; linear interpolation)."""
    if not values:
        return ()
    xs = sorted(values)
    n = len(xs)
    out = []
    for i in range(1, bins):
        h = Fraction((n - 1) * i, bins)
        lo = math.floor(h)
        frac = h - lo
        a = Fraction(xs[lo])
        b = Fraction(xs[min(lo + 1, n - 1)])
        out.append(a + (b - a) * frac)
    return tuple(out)


def score(value: Number, edges: Sequence[Fraction], *, reverse: bool = False) -> int:
    """``1 +`` the number of edges strictly below ``value`` (reversed for recency)."""
    below = bisect.bisect_left(edges, value)  # edges < value (Fraction and Decimal compare exactly)
    return len(edges) + 1 - below if reverse else 1 + below


def floor_edges(edges: Sequence[Fraction]) -> tuple[int, ...]:
    """The edges rounded down: for a whole-number value ``v``, ``e < v`` exactly when ``floor(e) < v``, so
    ``bisect_left`` over these counts the same edges as :func:`score` (and compares ints, not Fractions)."""
    return tuple(math.floor(e) for e in edges)


def float_edges(edges: Sequence[Fraction]) -> tuple[float, ...] | None:
    """The edges as floats (correctly rounded, so the order is kept: ``float(e) < float(v)`` implies
    ``e < v``); None when an edge is beyond the float range."""
    try:
        return tuple(float(e) for e in edges)
    except OverflowError:
        return None


def count_below(value: Number, edges: Sequence[Fraction], approx: Sequence[float]) -> int:
    """The number of ``edges`` strictly below ``value``, as :func:`score` counts them, bracketed with the
    floats ``approx`` (:func:`float_edges`): only edges whose float equals the value's float are compared
    exactly. Both roundings are correct (round half to even), hence monotone: ``float(e) < float(v)``
    implies ``e < v`` and ``float(e) > float(v)`` implies ``e > v``."""
    fv = float(value)
    lo = bisect.bisect_left(approx, fv)
    hi = bisect.bisect_right(approx, fv, lo)
    while lo < hi and edges[lo] < value:
        lo += 1
    return lo


@attrs.frozen
class Edges:
    """The quantile edges of one population: recency (days), frequency (orders), monetary (net spend)."""

    bins: int
    recency: tuple[Fraction, ...]
    frequency: tuple[Fraction, ...]
    monetary: tuple[Fraction, ...]
    # the fast path of scores(), pinned to score() by tests/segments/test_profiles_fast.py
    _r_int: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    _f_int: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    _m_float: tuple[float, ...] | None = attrs.field(init=False, eq=False, repr=False)
    _segments: dict[tuple[int, int, int], str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_r_int", floor_edges(self.recency))
        object.__setattr__(self, "_f_int", floor_edges(self.frequency))
        object.__setattr__(self, "_m_float", float_edges(self.monetary))
        n = self.bins
        grid = {
            (r, f, m): segment_of(r, f, m, n)
            for r in range(1, n + 1)
            for f in range(1, n + 1)
            for m in range(1, n + 1)
        }
        object.__setattr__(self, "_segments", grid)

    @classmethod
    def of(cls, rows: Iterable[tuple[int, int, Number]], bins: int) -> Edges:
        """From (recency_days, orders, total_spend) of every customer with a purchase."""
        rs: list[int] = []
        fs: list[int] = []
        ms: list[Number] = []
        for r, f, m in rows:
            rs.append(r)
            fs.append(f)
            ms.append(m)
        return cls(bins, edges_of(rs, bins), edges_of(fs, bins), edges_of(ms, bins))

    def scores(self, recency: int, frequency: int, monetary: Number) -> tuple[int, int, int]:
        """``(R, F, M)``: :func:`score` of each, on a fast path (whole-number comparisons for recency and
        frequency, floats bracketing exact comparisons for money; the same counts)."""
        if type(recency) is not int or type(frequency) is not int or self._m_float is None:
            return self.scores_exact(recency, frequency, monetary)
        n = len(self.recency)
        return (
            n + 1 - bisect.bisect_left(self._r_int, recency),
            1 + bisect.bisect_left(self._f_int, frequency),
            1 + count_below(monetary, self.monetary, self._m_float),
        )

    def scores_exact(self, recency: int, frequency: int, monetary: Number) -> tuple[int, int, int]:
        """``(R, F, M)`` by :func:`score` itself (the general definition)."""
        return (
            score(recency, self.recency, reverse=True),
            score(frequency, self.frequency),
            score(monetary, self.monetary),
        )

    def segment(self, r: int, f: int, m: int) -> str:
        """:func:`segment_of` the scores, from a table made once."""
        return self._segments[(r, f, m)]


#: The named RFM segments: id -> (English name, Chinese name, what it means). The table that assigns them
#: (on the 5-point scale; other bin counts are scaled to it) is :data:`SEGMENT_GRID`.
RFM_SEGMENTS: dict[str, tuple[str, str, str]] = {
    "champions": ("Champions", "冠军客户", "bought recently, buy often and spend the most"),
    "loyal": ("Loyal", "忠诚客户", "buy regularly and spend well"),
    "potential_loyalist": ("Potential Loyalist", "潜力客户", "recent customers with average frequency"),
    "new": ("New", "新客户", "bought most recently, but not often"),
    "promising": ("Promising", "有望客户", "recent shoppers who have not spent much"),
    "need_attention": ("Need Attention", "需关注客户", "above average recency, frequency and spend"),
    "about_to_sleep": ("About to Sleep", "即将沉睡客户", "below average recency and frequency"),
    "at_risk": ("At Risk", "流失风险客户", "spent and bought often, but long ago"),
    "cant_lose": ("Can't Lose", "不能失去的客户", "the best customers once, not back for a long time"),
    "hibernating": ("Hibernating", "休眠客户", "last purchase long ago, few orders, low spend"),
    "lost": ("Lost", "流失客户", "the lowest recency, frequency and spend"),
}

#: Segment by (R, FM) on the 5-point scale, FM = the average of F and M rounded half up. Rows R = 5 .. 1,
#: columns FM = 1 .. 5. Scores on another number of bins are put on the 5-point scale first (1 stays 1,
#: the top score becomes 5, linear between, rounded half up).
SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),
    4: ("promising", "potential_loyalist", "potential_loyalist", "loyal", "champions"),
    3: ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    2: ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    1: ("lost", "lost", "hibernating", "at_risk", "cant_lose"),
}


def _five(s: int, bins: int) -> int:
    """A score on ``bins`` points put on the 5-point scale: 1 stays 1, ``bins`` becomes 5, linear between
    (rounded half up)."""
    return 1 + ((s - 1) * 8 + bins - 1) // (2 * (bins - 1))


def segment_of(r: int, f: int, m: int, bins: int = 5) -> str:
    """The named segment of a customer's R, F and M scores (see :data:`SEGMENT_GRID`)."""
    r5, f5, m5 = _five(r, bins), _five(f, bins), _five(m, bins)
    fm = (f5 + m5 + 1) // 2
    return SEGMENT_GRID[r5][fm - 1]


#: The eight RFM groups Chinese CRM users know (R, F and M each high or low): id -> (Chinese, English).
CN_GROUPS: dict[str, tuple[str, str]] = {
    "important_value": ("重要价值客户", "important value"),
    "important_develop": ("重要发展客户", "important to develop"),
    "important_keep": ("重要保持客户", "important to keep"),
    "important_retain": ("重要挽留客户", "important to win back"),
    "general_value": ("一般价值客户", "general value"),
    "general_develop": ("一般发展客户", "general to develop"),
    "general_keep": ("一般保持客户", "general to keep"),
    "general_retain": ("一般挽留客户", "general to win back"),
}


def cn_group(r: int, f: int, m: int, bins: int = 5) -> str:
    """The eight-group map: a score is high when it is above the middle of the scale ((bins + 1) / 2)."""
    mid = (bins + 1) / 2
    rh, fh, mh = r > mid, f > mid, m > mid
    prefix = "important" if mh else "general"
    if rh and fh:
        kind = "value"
    elif rh:
        kind = "develop"
    elif fh:
        kind = "keep"
    else:
        kind = "retain"
    return f"{prefix}_{kind}"
