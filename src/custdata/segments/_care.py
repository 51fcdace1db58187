"""Ready-made segmentations and care: RFM scores per customer, value tiers, lifecycle stages, and
reminders (birthdays, anniversaries, no contact for a while) that respect consent per purpose and channel."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from custdata._records import Customer, Interaction, Transaction
from custdata.exceptions import ValidationError
from custdata.security._consent import ReasonCounter, contact_channel
from custdata.segments._profiles import Profile, ProfileBuilder, _activity, _customer, as_of_date, items_of
from custdata.segments._rfm import CN_GROUPS, RFM_SEGMENTS, check_bins, cn_group, edges_of, segment_of
from custdata.segments._rules import F, Rule, month_day, next_occurrence
from custdata.segments._segmentation import Segment, Segmentation

__all__ = [
    "RFMScore",
    "Reminder",
    "Reminders",
    "TierChange",
    "birthday_reminders",
    "care_reminders",
    "lifecycle",
    "member_tiers",
    "quantile_tiers",
    "rfm",
    "tiers",
]


# --------------------------------------------------------------------------------------------- RFM
@attrs.frozen
class RFMScore:
    """One customer's RFM figures, scores and segments."""

    customer_id: str
    recency_days: int
    orders: int
    total_spend: Decimal
    r: int
    f: int
    m: int
    segment: str  # an id of RFM_SEGMENTS
    group: str  # an id of CN_GROUPS (the eight-group map)

    @property
    def score(self) -> str:
        """The scores as one code, ``"545"``."""
        return f"{self.r}{self.f}{self.m}"

    @property
    def label(self) -> str:
        """The segment's English name."""
        return RFM_SEGMENTS[self.segment][0]

    @property
    def label_zh(self) -> str:
        """The segment's Chinese name."""
        return RFM_SEGMENTS[self.segment][1]

    @property
    def group_zh(self) -> str:
        """The eight-group map's Chinese name (重要价值客户 …)."""
        return CN_GROUPS[self.group][0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "recency_days": self.recency_days,
            "orders": self.orders,
            "total_spend": str(self.total_spend),
            "r": self.r,
            "f": self.f,
            "m": self.m,
            "score": self.score,
            "segment": self.segment,
            "label": self.label,
            "label_zh": self.label_zh,
            "group": self.group,
            "group_zh": self.group_zh,
        }


def rfm(
    transactions: Iterable[Transaction | Mapping[str, Any]], *, as_of: dt.date | str, bins: int = 5
) -> list[RFMScore]:
    """RFM scores of every customer with a purchase up to ``as_of``, in customer id order.

    Recency is the days since the last purchase, frequency the number of purchases, monetary the net spend
    (refunds subtracted), as in :func:`custdata.profiles`. Scores use ``bins`` (3–10) quantile bins; the
    tie rule is in :mod:`custdata.segments` docs: equal values always share a score, and a score is
    ``1 +`` the number of quantile edges below the value (reversed for recency). ``segment`` is one of
    :data:`RFM_SEGMENTS` and ``group`` one of the eight :data:`CN_GROUPS`.

    >>> import custdata.segments as seg
    >>> txs = [{"customer_id": c, "at": f"2026-0{m}-01T10:00:00+08:00", "amount": a}
    ...        for c, m, a in [("a", 6, "500"), ("a", 5, "300"), ("b", 1, "20"), ("c", 3, "80")]]
    >>> [(s.customer_id, s.score, s.segment) for s in seg.rfm(txs, as_of="2026-06-30", bins=3)]
    [('a', '333', 'champions'), ('b', '111', 'lost'), ('c', '212', 'about_to_sleep')]
    """
    day = as_of_date(as_of)
    builder = ProfileBuilder(day, bins=check_bins(bins))
    builder.add_transactions(transactions)
    builder.finish()
    assert builder.edges is not None
    out = []
    for cid in sorted(builder.tx):
        orders, spend, _, last = builder.tx[cid]
        if orders == 0:
            continue
        recency = (day - last).days
        r, f, m = builder.edges.scores(recency, orders, spend)
        out.append(
            RFMScore(cid, recency, orders, spend, r, f, m, segment_of(r, f, m, bins), cn_group(r, f, m, bins))
        )
    return out


# --------------------------------------------------------------------------------------------- tiers
def tiers(
    thresholds: Mapping[str, int | float | Decimal], *, field: str = "total_spend", default: str | None = None
) -> Segmentation:
    """Value tiers as a :class:`Segmentation`: a tier for each threshold (``field >= threshold``), the
    highest first, so each profile lands in the best tier it reaches.

    >>> t = tiers({"gold": 5000, "silver": 1000}, default="bronze")
    >>> [t.assign({"total_spend": v}) for v in (8000, 1000, 10)]
    ['gold', 'silver', 'bronze']
    """
    if not isinstance(thresholds, Mapping) or not thresholds:
        raise ValidationError("tiers need a mapping of tier name to threshold", field="thresholds")
    for name, value in thresholds.items():
        _threshold(name, value)
    ordered = sorted(thresholds.items(), key=lambda kv: _threshold(*kv), reverse=True)
    return Segmentation([(name, F[field] >= value) for name, value in ordered], default=default)


def _threshold(name: Any, value: Any) -> Decimal:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"a tier name must be text, got {type(name).__name__}", field="thresholds")
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValidationError(f"tier {name!r}: the threshold must be a number", field="thresholds")
    d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not d.is_finite():
        raise ValidationError(f"tier {name!r}: the threshold must be finite", field="thresholds")
    return d


def quantile_tiers(
    profiles: Iterable[Any], names: Sequence[str], *, field: str = "total_spend", default: str | None = None
) -> Segmentation:
    """Tiers by quantiles of ``field`` over ``profiles`` (missing values left out): ``names`` from the best
    down, e.g. ``["top", "middle"]`` with ``default="bottom"`` splits into thirds. The thresholds are the
    quantile edges of :func:`rfm` (exact, linear interpolation); a value on an edge falls in the lower tier.
    """
    if (
        isinstance(names, (str, bytes))
        or not isinstance(names, Sequence)
        or not all(isinstance(n, str) and n for n in names)
    ):
        raise ValidationError("names must be a list of tier names (text)", field="names")
    F[field]  # a valid field name, or ValidationError
    values = []
    for p in items_of(profiles, "profiles"):
        v = p.get(field) if isinstance(p, Mapping) else getattr(p, field, None)
        if v is not None:
            values.append(_threshold(field, v))
    n = len(names) + (1 if default is not None else 0)
    if n < 2:
        raise ValidationError("quantile tiers need at least two tiers (names plus default)")
    edges = edges_of(values, n)
    top_down = list(reversed(edges))
    segs = []
    for name, edge in zip(names, top_down, strict=False):
        segs.append(Segment(name, F[field] > Decimal(edge.numerator) / Decimal(edge.denominator)))
    return Segmentation(segs, default=default)


@attrs.frozen
class TierChange:
    """A member's tier after a review: ``tier`` (``None``: below every level), the ``previous`` tier, the
    ``change`` (``"up"``, ``"down"``, ``"same"``, ``"new"``) and the spend in the window that decided it."""

    customer_id: str
    tier: str | None
    previous: str | None
    change: str
    window_spend: Decimal


def member_tiers(
    transactions: Iterable[Transaction | Mapping[str, Any]],
    levels: Mapping[str, int | float | Decimal],
    *,
    as_of: dt.date | str,
    window_days: int = 365,
    current: Mapping[str, str | None] | None = None,
    max_down: int = 1,
) -> dict[str, TierChange]:
    """Review member tiers (会员等级) as a shop system does: the net spend in the last ``window_days`` days
    (up to and including ``as_of``) qualifies a member for the highest level whose threshold it reaches.
    A member moves up at once to the level qualified for; a member who no longer qualifies for the
    ``current`` level moves down at most ``max_down`` levels per review (never below the qualified one).
    Members in ``current`` without transactions in the window are reviewed too (with spend 0).

    >>> txs = [{"customer_id": "a", "at": "2026-05-01T10:00:00+08:00", "amount": "6000"},
    ...        {"customer_id": "b", "at": "2026-05-01T10:00:00+08:00", "amount": "50"}]
    >>> got = member_tiers(txs, {"gold": 5000, "silver": 1000, "bronze": 0}, as_of="2026-06-30",
    ...                    current={"a": "silver", "b": "gold"})
    >>> [(c.customer_id, c.tier, c.change) for c in got.values()]
    [('a', 'gold', 'up'), ('b', 'silver', 'down')]
    """
    day = as_of_date(as_of)
    if not isinstance(levels, Mapping) or not levels:
        raise ValidationError("member tiers need a mapping of level name to threshold", field="levels")
    for name, value in levels.items():
        _threshold(name, value)
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 0:
        raise ValidationError(
            f"window_days must be a whole number, 0 or more, got {window_days!r}", field="window_days"
        )
    if isinstance(max_down, bool) or not isinstance(max_down, int) or max_down < 1:
        raise ValidationError(
            f"max_down must be a whole number of 1 or more, got {max_down!r}", field="max_down"
        )
    order = [name for name, _ in sorted(levels.items(), key=lambda kv: _threshold(*kv), reverse=True)]
    bounds = {name: _threshold(name, levels[name]) for name in order}
    start = day - dt.timedelta(days=window_days)
    spend: dict[str, Decimal] = {}
    for item in transactions:
        t: Transaction = item if type(item) is Transaction else _activity(item, Transaction)
        d = t.at.date()
        if start < d <= day:
            spend[t.customer_id] = spend.get(t.customer_id, Decimal(0)) + t.amount
    now = dict(current or {})
    unknown = sorted({v for v in now.values() if v is not None and v not in bounds})
    if unknown:
        raise ValidationError(f"current tiers not among the levels: {', '.join(unknown)}", field="current")
    out: dict[str, TierChange] = {}
    for cid in sorted(set(spend) | set(now)):
        total = spend.get(cid, Decimal(0))
        qualified = next((i for i, name in enumerate(order) if total >= bounds[name]), len(order))
        if cid not in now:
            idx, change = qualified, "new"
        else:
            prev = now[cid]
            had = order.index(prev) if prev is not None else len(order)
            if qualified < had:
                idx, change = qualified, "up"
            elif qualified == had:
                idx, change = had, "same"
            else:
                idx, change = min(qualified, had + max_down), "down"
        tier = order[idx] if idx < len(order) else None
        out[cid] = TierChange(cid, tier, now.get(cid), change, total)
    return out


# --------------------------------------------------------------------------------------------- lifecycle
LIFECYCLE_STAGES = ("new", "active", "reactivated", "at_risk", "churned")


def lifecycle(
    transactions: Iterable[Transaction | Mapping[str, Any]],
    *,
    as_of: dt.date | str,
    new_days: int = 30,
    active_days: int = 90,
    churn_days: int = 365,
) -> dict[str, str]:
    """Each purchasing customer's lifecycle stage as of ``as_of`` (customers without purchases are left
    out: they are prospects):

    * ``new``: the first purchase is within ``new_days``;
    * ``reactivated``: the last purchase is within ``active_days`` and came after a gap of more than
      ``churn_days`` without purchases;
    * ``active``: the last purchase is within ``active_days``;
    * ``at_risk``: the last purchase is within ``churn_days``;
    * ``churned``: no purchase for more than ``churn_days``.
    """
    day = as_of_date(as_of)
    if new_days < 0 or not 0 <= active_days <= churn_days:
        raise ValidationError("windows must satisfy 0 <= new_days and 0 <= active_days <= churn_days")
    days: dict[str, set[dt.date]] = {}
    for item in transactions:
        t: Transaction = item if type(item) is Transaction else _activity(item, Transaction)
        d = t.at.date()
        if d <= day and t.amount >= 0:
            days.setdefault(t.customer_id, set()).add(d)
    out = {}
    for cid, ds in days.items():
        seq = sorted(ds)
        first, last = seq[0], seq[-1]
        since_last = (day - last).days
        if (day - first).days <= new_days:
            stage = "new"
        elif since_last <= active_days:
            gaps = [(b - a).days for a, b in itertools.pairwise(seq)]
            stage = "reactivated" if gaps and gaps[-1] > churn_days else "active"
        elif since_last <= churn_days:
            stage = "at_risk"
        else:
            stage = "churned"
        out[cid] = stage
    return dict(sorted(out.items()))


# --------------------------------------------------------------------------------------------- reminders
@attrs.frozen
class Reminder:
    """Something to do for one customer: ``kind`` (``birthday``, ``anniversary``, ``no_contact``), the day
    it is for, and the channel to use (one the customer consented to for the purpose)."""

    customer_id: str
    kind: str
    on: dt.date
    channel: str
    days_until: int = 0
    note: str | None = None


@attrs.frozen
class Reminders:
    """The reminders, and the customers left out for lack of consent on every usable channel (counted, by
    kind, and by reason: ``no_consent``, ``withdrawn``, ``expired``, ``unreachable``, see
    :func:`custdata.security.contact_channel`)."""

    items: tuple[Reminder, ...]
    left_out: int
    left_out_by_kind: Mapping[str, int] = attrs.field(factory=dict)
    left_out_by_reason: Mapping[str, int] = attrs.field(factory=dict)

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def birthday_reminders(
    customers: Iterable[Customer | Mapping[str, Any]],
    *,
    as_of: dt.date | str,
    days: int = 7,
    purpose: str = "marketing",
    channels: Sequence[str] = ("sms", "wechat", "email"),
    anniversaries: bool = False,
) -> Reminders:
    """Birthdays (year-less ones included; 29 February on 28 February in common years) in the next
    ``days`` days, and with ``anniversaries=True`` the anniversaries of becoming a customer
    (``created_at``). Each reminder names the first of ``channels`` the customer can be reached on and
    consented to for ``purpose`` (consent ``"marketing_sms"`` or ``"marketing"`` for every channel, valid
    all day on ``as_of``: the consent model of :mod:`custdata.security`); customers without such a channel
    get no reminder and are counted in ``left_out``, by kind and by reason."""
    day = as_of_date(as_of)
    items: list[Reminder] = []
    left: Counter[str] = Counter()
    reasons = ReasonCounter(keep_ids=False)
    for item in customers:
        c = _customer(item)
        due: list[tuple[str, dt.date, str | None]] = []
        md = month_day(c.birthday) if c.birthday is not None else None
        if md is not None:
            when = next_occurrence(md[0], md[1], day)
            if (when - day).days <= days:
                due.append(("birthday", when, None))
        if anniversaries and c.created_at is not None:
            created = c.created_at.date()
            when = next_occurrence(created.month, created.day, day)
            years = when.year - created.year
            if (when - day).days <= days and years > 0:
                due.append(("anniversary", when, f"{years} years"))
        for kind, when, note in due:
            ch, why = contact_channel(c, purpose, channels, at=day)
            if ch is None:
                left[kind] += 1
                reasons.add(str(why), c.id)
                continue
            items.append(Reminder(c.id, kind, when, ch, (when - day).days, note))
    items.sort(key=lambda r: (r.on, r.customer_id, r.kind))
    return Reminders(tuple(items), sum(left.values()), dict(left), reasons.counts())


def care_reminders(
    profiles_or_customers: Iterable[Any],
    interactions: Iterable[Interaction | Mapping[str, Any]] | None = None,
    *,
    as_of: dt.date | str,
    days: int = 90,
    purpose: str = "service",
    channels: Sequence[str] = ("phone", "wechat", "email"),
    rule: Rule | None = None,
) -> Reminders:
    """Customers with no contact (interaction) for ``days`` days or more, or never contacted: a
    ``no_contact`` reminder on the first of ``channels`` they consented to for ``purpose``. ``rule``
    narrows the customers (e.g. ``F.rfm_segment.is_in(["champions", "loyal"])``); it reads their profiles.
    Pass customers and their ``interactions`` (and transactions through ``profiles`` yourself for rules
    on spend)."""
    day = as_of_date(as_of)
    builder = ProfileBuilder(day)
    if interactions is not None:
        builder.add_interactions(interactions)
    builder.finish()
    items: list[Reminder] = []
    left = 0
    reasons = ReasonCounter(keep_ids=False)
    for item in profiles_or_customers:
        c = _customer(item)
        p: Profile = builder.profile(c)
        if rule is not None and not rule.matches(p):
            continue
        if p.days_since_contact is not None and p.days_since_contact < days:
            continue
        ch, why = contact_channel(c, purpose, channels, at=day)
        if ch is None:
            left += 1
            reasons.add(str(why), c.id)
            continue
        note = "never contacted" if p.last_contact is None else f"last contact {p.last_contact.isoformat()}"
        items.append(Reminder(c.id, "no_contact", day, ch, 0, note))
    items.sort(key=lambda r: r.customer_id)
    return Reminders(tuple(items), left, {"no_contact": left} if left else {}, reasons.counts())
