"""Customer profiles: one row per customer with everything a segment rule may ask.

``profiles(customers, transactions, interactions, as_of=...)`` reads the transactions and interactions once
(keeping a few numbers per customer, never the transactions themselves), computes the RFM edges over every
customer with a purchase, then streams the customers, yielding a :class:`Profile` for each.

Definitions (the SQL in :mod:`custdata.segments._sql` computes the same):

* A transaction's day is the calendar day written in its own time stamp (its local day, as in
  :func:`custdata.summarize`); transactions and interactions on days after ``as_of`` are ignored.
* A purchase is a transaction with an amount of 0 or more; a refund has a negative amount. ``orders`` counts
  purchases; ``total_spend`` is the sum of every amount (purchases minus refunds), a ``Decimal``;
  ``average_order_value`` is ``total_spend / orders``; ``first_purchase``/``last_purchase`` are the days of
  the first and last purchase and ``recency_days`` the days from the last purchase to ``as_of``.
* ``last_contact`` is the day of the last interaction, ``days_since_contact`` the days from it to ``as_of``.
* ``province``/``city``/``district`` come from the customer's first address when it names a province or a
  city; otherwise ``province``/``city`` come from the primary phone number through phonenumbers' offline
  geocoder (Chinese numbers), and ``region_source`` says which (``"address"`` or ``"phone"``).
* ``age`` is the age in whole years on ``as_of`` (birthdays with a year only; someone born on 29 February
  turns a year older on 1 March in common years).
* ``phone`` and ``email`` are the primary phone number and e-mail address as stored.
* Interests, from the transactions' line items up to ``as_of`` (as :func:`custdata.needs.interests`
  computes them): a line's spend is ``quantity × unit_price``, subtracted for a refund; lines without a
  category or a unit price are not placed in any category; categories with a net spend of zero or less
  are dropped. ``top_category`` is the category with the largest share of the rest (ties: the first name),
  ``top_category_share`` its share (0–1, a float) and ``top_categories`` the three leading categories.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import attrs
import phonenumbers
from phonenumbers import geocoder

from custdata._records import Customer, Interaction, MonthDay, PersonName, Transaction
from custdata.exceptions import ValidationError
from custdata.segments._rfm import Edges, check_bins

__all__ = [
    "PROFILE_SCHEMA",
    "Profile",
    "ProfileBuilder",
    "as_of_date",
    "phone_region",
    "profiles",
]


@attrs.frozen(slots=True)
class Profile(Mapping[str, Any]):
    """One customer's profile as of a date. A mapping (``p["city"]``) with attributes (``p.city``)."""

    _custdata_profile: ClassVar[bool] = True  # rules read its fields as attributes

    id: str
    as_of: dt.date
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    gender: str | None = None
    company: str | None = None
    title: str | None = None
    owner: str | None = None
    tags: frozenset[str] = frozenset()
    channel: str | None = None
    lifecycle_stage: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    region_source: str | None = None
    birthday: dt.date | MonthDay | None = None
    age: int | None = None
    created_at: dt.datetime | None = None
    orders: int = 0
    total_spend: Decimal = Decimal(0)
    average_order_value: Decimal | None = None
    first_purchase: dt.date | None = None
    last_purchase: dt.date | None = None
    recency_days: int | None = None
    last_contact: dt.date | None = None
    days_since_contact: int | None = None
    rfm_r: int | None = None
    rfm_f: int | None = None
    rfm_m: int | None = None
    rfm_segment: str | None = None
    top_category: str | None = None
    top_category_share: float | None = None
    top_categories: frozenset[str] = frozenset()
    expected_purchases: float | None = None
    p_alive: float | None = None
    clv: float | None = None

    def __getitem__(self, key: str) -> Any:
        if key in _NAMES:
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(FIELDS)

    def __len__(self) -> int:
        return len(FIELDS)

    def __contains__(self, key: object) -> bool:
        return key in _NAMES

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in _NAMES else default

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of every field (values as they are: dates, Decimals, a frozenset of tags)."""
        return {k: getattr(self, k) for k in FIELDS}


FIELDS: tuple[str, ...] = tuple(a.name for a in attrs.fields(Profile))
_NAMES = frozenset(FIELDS)

#: Every profile field and its kind (what :meth:`Rule.parse` checks rules against with ``schema=``).
PROFILE_SCHEMA: dict[str, str] = {
    "id": "text",
    "as_of": "date",
    "name": "text",
    "phone": "text",
    "email": "text",
    "gender": "text",
    "company": "text",
    "title": "text",
    "owner": "text",
    "tags": "tags",
    "channel": "text",
    "lifecycle_stage": "text",
    "province": "text",
    "city": "text",
    "district": "text",
    "region_source": "text",
    "birthday": "birthday",
    "age": "int",
    "created_at": "datetime",
    "orders": "int",
    "total_spend": "decimal",
    "average_order_value": "decimal",
    "first_purchase": "date",
    "last_purchase": "date",
    "recency_days": "int",
    "last_contact": "date",
    "days_since_contact": "int",
    "rfm_r": "int",
    "rfm_f": "int",
    "rfm_m": "int",
    "rfm_segment": "text",
    "top_category": "text",
    "top_category_share": "float",
    "top_categories": "tags",
    "expected_purchases": "float",
    "p_alive": "float",
    "clv": "float",
}
assert set(PROFILE_SCHEMA) == _NAMES


def as_of_date(value: Any) -> dt.date:
    """``as_of`` as a date (a date or ISO ``YYYY-MM-DD`` text)."""
    if isinstance(value, dt.datetime):
        raise ValidationError("as_of is a date (YYYY-MM-DD), not a date-time", field="as_of")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"as_of must be a date (YYYY-MM-DD), got {value!r}", field="as_of")


# --------------------------------------------------------------------------------------------- region
_PROVINCE = re.compile(r"^(.+?(?:省|自治区|特别行政区))(.*)$")
_MUNICIPALITIES = frozenset({"北京市", "上海市", "天津市", "重庆市"})
_GEO_CACHE: dict[str, tuple[str | None, str | None]] = {}


def phone_region(number: str, region: str | None = "CN") -> tuple[str | None, str | None]:
    """(province, city) of a Chinese phone number from phonenumbers' offline geodata; (None, None) when the
    number does not parse, is not Chinese or has no geodata (a mobile's home area, a landline's city)."""
    hit = _GEO_CACHE.get(number)
    if hit is not None:
        return hit
    out: tuple[str | None, str | None] = (None, None)
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.region_code_for_number(parsed) == "CN":
        text = geocoder.description_for_number(parsed, "zh")
        if text in _MUNICIPALITIES:
            out = (text, text)
        elif text:
            m = _PROVINCE.match(text)
            if m:
                out = (m.group(1), m.group(2) or None)
    if len(_GEO_CACHE) < 200_000:
        _GEO_CACHE[number] = out
    return out


# --------------------------------------------------------------------------------------------- fast paths
_ZERO = Decimal(0)
_NO_TAGS: frozenset[str] = frozenset()


def display_name(name: PersonName) -> str | None:
    """``name.display or None``, without building the display text of an empty name (pinned to it by
    tests/segments/test_profiles_fast.py)."""
    full = name.full
    if full:
        return full
    if not (name.family or name.given):
        return None
    return name.display or None


def primary(items: Sequence[Any]) -> Any:
    """The item marked primary, else the first, else None (``Customer.primary_phone``/``primary_email``)."""
    if not items:
        return None
    for x in items:
        if x.primary:
            return x
    return items[0]


# --------------------------------------------------------------------------------------------- input
def items_of(value: Any, what: str) -> Iterable[Any]:
    """``value`` as an iterable of items, or a ValidationError naming ``what`` (text, bytes and single
    mappings are not collections of items here)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"{what} must be an iterable of records, got {type(value).__name__}", field=what
        )
    return value


def _customer(item: Any) -> Customer:
    if type(item) is Customer:
        return item
    if isinstance(item, Customer):
        return item
    if isinstance(item, Mapping):
        return Customer.from_dict(item)
    raise ValidationError(f"expected a Customer or its dict form, got {type(item).__name__}")


def _activity(item: Any, cls: type[Any]) -> Any:
    if isinstance(item, cls):
        return item
    if isinstance(item, Mapping):
        return cls.from_dict(item)
    raise ValidationError(f"expected a {cls.__name__} or its dict form, got {type(item).__name__}")


class ProfileBuilder:
    """The per-customer sums of transactions and interactions, and the profile of a customer from them.

    Used by :func:`profiles`, and by the store selection to recheck single customers in Python.
    """

    def __init__(
        self,
        as_of: dt.date,
        *,
        bins: int = 5,
        region: str | None = "CN",
        model: Any = None,
        spend_model: Any = None,
        unit_days: float = 7.0,
        horizon: float = 52.0,
    ) -> None:
        self.as_of = as_of
        self.bins = check_bins(bins)
        self.region = region
        self.model = model
        self.spend_model = spend_model
        self.unit_days = unit_days
        self.horizon = horizon
        # customer id -> [orders, total spend, first purchase day, last purchase day]
        self.tx: dict[str, list[Any]] = {}
        # customer id -> {purchase day: spend} (only with a model)
        self.days: dict[str, dict[dt.date, Decimal]] = {}
        self.contact: dict[str, dt.date] = {}
        # customer id -> {category: net spend of its line items} (only customers with categorised lines)
        self.categories: dict[str, dict[str, Decimal]] = {}
        self.currencies: set[str] = set()
        self.edges: Edges | None = None

    def add_transactions(self, transactions: Iterable[Any]) -> None:
        transactions = items_of(transactions, "transactions")
        as_of = self.as_of
        tx = self.tx
        keep_days = self.model is not None
        currencies = self.currencies
        for item in transactions:
            t: Transaction = item if type(item) is Transaction else _activity(item, Transaction)
            day = t.at.date()
            if day > as_of:
                continue
            if t.currency is not None:
                currencies.add(t.currency)
            amount = t.amount
            cell = tx.get(t.customer_id)
            if cell is None:
                cell = tx[t.customer_id] = [0, Decimal(0), None, None]
            cell[1] += amount
            if t.items:
                self._add_lines(t)
            if amount >= 0:
                cell[0] += 1
                if cell[2] is None or day < cell[2]:
                    cell[2] = day
                if cell[3] is None or day > cell[3]:
                    cell[3] = day
                if keep_days:
                    per = self.days.setdefault(t.customer_id, {})
                    per[day] = per.get(day, Decimal(0)) + amount
        if len(currencies) > 1:
            raise ValidationError(
                f"transactions in several currencies ({', '.join(sorted(currencies))}): convert them to one "
                "first",
                field="currency",
            )

    def _add_lines(self, t: Transaction) -> None:
        sign = -1 if t.amount < 0 else 1
        per: dict[str, Decimal] | None = None
        for line in t.items:
            if line.category is None or line.unit_price is None:
                continue
            if per is None:
                per = self.categories.setdefault(t.customer_id, {})
            per[line.category] = per.get(line.category, Decimal(0)) + sign * line.quantity * line.unit_price

    def interests(self, cid: str) -> tuple[str | None, float | None, frozenset[str]]:
        """``(top_category, top_category_share, top_categories)`` of one customer."""
        per = self.categories.get(cid)
        if not per:
            return None, None, frozenset()
        pos = sorted(((-v, c) for c, v in per.items() if v > 0))
        total = sum((-v for v, _ in pos), Decimal(0))
        if total <= 0:
            return None, None, frozenset()
        return pos[0][1], float(-pos[0][0] / total), frozenset(c for _, c in pos[:3])

    def add_interactions(self, interactions: Iterable[Any]) -> None:
        interactions = items_of(interactions, "interactions")
        as_of = self.as_of
        contact = self.contact
        for item in interactions:
            i: Interaction = item if type(item) is Interaction else _activity(item, Interaction)
            day = i.at.date()
            if day > as_of:
                continue
            last = contact.get(i.customer_id)
            if last is None or day > last:
                contact[i.customer_id] = day

    def finish(self) -> None:
        """Compute the RFM edges over every customer with a purchase."""
        as_of = self.as_of
        self.edges = Edges.of(
            (((as_of - c[3]).days, c[0], c[1]) for c in self.tx.values() if c[0] > 0), self.bins
        )

    def profile(self, c: Customer) -> Profile:
        as_of = self.as_of
        cid = c.id
        cell = self.tx.get(cid)
        r = f = m = None
        segment = None
        if cell is None:
            orders, spend, first, last = 0, _ZERO, None, None
            recency = None
        else:
            orders, spend, first, last = cell
            recency = None if last is None else (as_of - last).days
            edges = self.edges
            if orders > 0 and edges is not None and recency is not None:
                r, f, m = edges.scores(recency, orders, spend)
                segment = edges.segment(r, f, m)
        contact = self.contact.get(cid)
        province = city = district = source = None
        ph = primary(c.phones)
        addresses = c.addresses
        addr = addresses[0] if addresses else None
        if addr is not None and (addr.province or addr.city):
            province, city, district, source = addr.province, addr.city, addr.district, "address"
        elif ph is not None:
            province, city = phone_region(ph.number, self.region)
            if province or city:
                source = "phone"
        b = c.birthday
        age = None
        if isinstance(b, dt.date):
            age = as_of.year - b.year - ((as_of.month, as_of.day) < (b.month, b.day))
        em = primary(c.emails)
        top, top_share, tops = self.interests(cid) if self.categories else (None, None, _NO_TAGS)
        channel = c.channel
        stage = c.lifecycle_stage
        return Profile(
            cid,
            as_of,
            display_name(c.name),
            None if ph is None else ph.number,
            None if em is None else em.address,
            c.gender,
            c.company,
            c.title,
            c.owner,
            c.tags,
            None if channel is None else channel.value,
            None if stage is None else stage.value,
            province,
            city,
            district,
            source,
            b,
            age,
            c.created_at,
            orders,
            spend,
            spend / orders if orders else None,
            first,
            last,
            recency,
            contact,
            None if contact is None else (as_of - contact).days,
            r,
            f,
            m,
            segment,
            top,
            top_share,
            tops,
        )

    def predict(self, batch: list[Profile]) -> list[Profile]:
        """Fill in expected purchases, P(alive) and CLV from the fitted models (vectorised per batch)."""
        if self.model is None or not batch:
            return batch
        import numpy as np  # the models extra is installed: the model was fitted with it

        freq, rec, age, mon = [], [], [], []
        for p in batch:
            per = self.days.get(p.id)
            if not per:
                freq.append(0.0)
                rec.append(0.0)
                age.append(0.0)
                mon.append(0.0)
                continue
            days = sorted(per)
            first, last = days[0], days[-1]
            freq.append(float(len(days) - 1))
            rec.append((last - first).days / self.unit_days)
            age.append((self.as_of - first).days / self.unit_days)
            repeat = [per[d] for d in days[1:]]
            mon.append(float(sum(repeat, Decimal(0)) / len(repeat)) if repeat else 0.0)
        f_, r_, t_ = np.array(freq), np.array(rec), np.array(age)
        expected = np.asarray(
            self.model.conditional_expected_purchases(self.horizon, f_, r_, t_), dtype=float
        )
        alive = np.asarray(self.model.p_alive(f_, r_, t_), dtype=float)
        if self.spend_model is not None:
            spend = np.asarray(self.spend_model.conditional_expected_spend(f_, np.array(mon)), dtype=float)
        else:
            spend = np.array(
                [float(p.average_order_value) if p.average_order_value is not None else 0.0 for p in batch]
            )
        out = []
        for k, p in enumerate(batch):
            if not self.days.get(p.id):  # no purchase: the models say nothing about this customer
                out.append(p)
                continue
            out.append(
                attrs.evolve(
                    p,
                    expected_purchases=float(expected[k]),
                    p_alive=float(alive[k]),
                    clv=float(expected[k] * spend[k]),
                )
            )
        return out


_UNITS = {"D": 1.0, "W": 7.0}


def profiles(
    customers: Iterable[Customer | Mapping[str, Any]],
    transactions: Iterable[Transaction | Mapping[str, Any]] | None = None,
    interactions: Iterable[Interaction | Mapping[str, Any]] | None = None,
    *,
    as_of: dt.date | str,
    model: Any = None,
    spend_model: Any = None,
    unit: str = "W",
    horizon: float = 52,
    bins: int = 5,
    region: str | None = "CN",
) -> Iterator[Profile]:
    """One :class:`Profile` per customer, as of ``as_of`` (a date; later activity is ignored), lazily.

    ``transactions`` and ``interactions`` (records or their dict forms) are read first and summed per
    customer; the customers are then streamed. RFM scores use ``bins`` quantile bins over every customer
    with a purchase (see :func:`custdata.segments.rfm`).

    With a fitted transaction ``model`` (:class:`custdata.metrics.BetaGeoModel`,
    :class:`~custdata.metrics.ParetoNBDModel` …, fitted on summaries counted in ``unit``, ``"W"`` weeks or
    ``"D"`` days), ``expected_purchases`` is the expected number of purchases in the next ``horizon`` units,
    ``p_alive`` the probability the customer is still active, and ``clv`` the expected purchases times the
    expected spend per purchase (from ``spend_model``, a fitted :class:`~custdata.metrics.GammaGammaModel`,
    or else the customer's average order value). They stay ``None`` for customers without purchases.

    >>> import custdata
    >>> c = custdata.Customer(id="c1", tags=["vip"], addresses=[{"province": "上海市", "city": "上海市"}])
    >>> t = custdata.Transaction(customer_id="c1", at="2026-03-01T10:00:00+08:00", amount="120.50")
    >>> p, = custdata.profiles([c], [t], as_of="2026-03-31")
    >>> p.city, p.orders, p.total_spend, p["recency_days"]
    ('上海市', 1, Decimal('120.50'), 30)
    """
    day = as_of_date(as_of)
    customers = items_of(customers, "customers")
    if unit not in _UNITS:
        raise ValidationError(f"unit must be 'D' or 'W', got {unit!r}", field="unit")
    builder = ProfileBuilder(
        day,
        bins=bins,
        region=region,
        model=model,
        spend_model=spend_model,
        unit_days=_UNITS[unit],
        horizon=horizon,
    )
    if transactions is not None:
        builder.add_transactions(transactions)
    if interactions is not None:
        builder.add_interactions(interactions)
    builder.finish()
    return _stream(builder, customers)


def _stream(builder: ProfileBuilder, customers: Iterable[Any]) -> Iterator[Profile]:
    make: Callable[[Customer], Profile] = builder.profile
    if builder.model is None:
        for c in customers:
            yield make(c if type(c) is Customer else _customer(c))
        return
    batch: list[Profile] = []
    for c in customers:
        batch.append(make(c if type(c) is Customer else _customer(c)))
        if len(batch) >= 4096:
            yield from builder.predict(batch)
            batch = []
    yield from builder.predict(batch)
