"""Per-customer purchase summaries (frequency, recency, T, monetary value), pure Python."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, overload

import attrs

from custdata.exceptions import CustdataWarning, ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from custdata._records import Transaction
from custdata.metrics import _periods
from custdata.metrics._input import (
    Window,
    bound_day,
    cutoff,
    get,
    is_dataframe,
    natural_key,
    on_or_before,
    rows,
)

__all__ = ["CustomerSummary", "summarize"]


@attrs.frozen
class CustomerSummary:
    """One customer's purchase history, summarised the way the CLV models read it.

    * ``frequency``: the number of *repeat* purchase periods (periods with a purchase after the first one).
    * ``recency``: the time from the first to the last purchase period (the customer's "age" at the last
      purchase). This is the BG/NBD and Pareto/NBD meaning. The other common meaning, used by RFM, is the
      time *since* the last purchase: that is :attr:`time_since_last_purchase` (``T - recency``).
    * ``T``: the time from the first purchase period to the end of observation (the customer's age).
    * ``monetary_value``: the mean total spend of the repeat purchase periods (0.0 without repeats).
    * ``first_purchase``: the first day of the first purchase period.

    With ``calibration_end`` the figures above cover the calibration period only, and
    ``frequency_holdout`` (purchase periods after it), ``monetary_value_holdout`` (their mean spend) and
    ``duration_holdout`` (its length) describe the holdout period.
    """

    customer_id: str
    frequency: int
    recency: float
    T: float
    monetary_value: float
    first_purchase: dt.date | None = None
    frequency_holdout: int | None = None
    monetary_value_holdout: float | None = None
    duration_holdout: float | None = None

    @property
    def time_since_last_purchase(self) -> float:
        """``T - recency``: the time since the last purchase (what RFM calls recency)."""
        return self.T - self.recency

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (dates as ISO text); the holdout keys only when they are set."""
        d: dict[str, Any] = {
            "customer_id": self.customer_id,
            "frequency": self.frequency,
            "recency": self.recency,
            "T": self.T,
            "monetary_value": self.monetary_value,
            "first_purchase": self.first_purchase.isoformat() if self.first_purchase else None,
        }
        if self.frequency_holdout is not None:
            d["frequency_holdout"] = self.frequency_holdout
            d["monetary_value_holdout"] = self.monetary_value_holdout
            d["duration_holdout"] = self.duration_holdout
        return d


def _mean(totals: list[Decimal]) -> float:
    return float(sum(totals, Decimal(0)) / len(totals)) if totals else 0.0


@overload
def summarize(
    transactions: pd.DataFrame,
    *,
    observation_end: dt.date | dt.datetime | str,
    calibration_end: dt.date | dt.datetime | str | None = None,
    period: str = "D",
    unit: str | None = None,
    tz: dt.tzinfo | None = None,
) -> pd.DataFrame: ...


@overload
def summarize(
    transactions: Iterable[Transaction | Mapping[str, Any]],
    *,
    observation_end: dt.date | dt.datetime | str,
    calibration_end: dt.date | dt.datetime | str | None = None,
    period: str = "D",
    unit: str | None = None,
    tz: dt.tzinfo | None = None,
) -> list[CustomerSummary]: ...


def summarize(
    transactions: Iterable[Any],
    *,
    observation_end: dt.date | dt.datetime | str,
    calibration_end: dt.date | dt.datetime | str | None = None,
    period: str = "D",
    unit: str | None = None,
    tz: dt.tzinfo | None = None,
) -> list[CustomerSummary] | pd.DataFrame:
    """Summarise transactions per customer for the CLV models (and for RFM-style segmentation).

    ``transactions``: :class:`~custdata.Transaction` records, mappings with ``customer_id``, ``at`` and
    ``amount``, or a DataFrame with those columns. Transactions up to and including ``observation_end``
    count (a date includes its whole day); those after it, or dated in the future, are left out with a
    :class:`~custdata.exceptions.RowsLeftOutWarning` that counts them. ``period`` (``"D"``, ``"W"``,
    ``"M"``, ``"Q"``, ``"Y"``) groups purchases: several purchases in one period count once.
    ``recency`` and ``T`` are measured in ``unit`` (default: ``period``); with ``period="D", unit="W"``
    they are days / 7. A purchase's day is its own wall-clock day, or its day in ``tz`` when given.

    Refunds (negative amounts) are not purchases and are left out. All amounts must share one currency.

    Returns one :class:`CustomerSummary` per customer, ordered by customer id (numeric ids by number), or
    a DataFrame with one row per customer when ``transactions`` is a DataFrame. With ``calibration_end``
    only customers whose first purchase falls in the calibration period are summarised.

    >>> import custdata
    >>> txs = [{"customer_id": "a", "at": "2026-01-01T10:00:00+00:00", "amount": "10"},
    ...        {"customer_id": "a", "at": "2026-01-01T18:00:00+00:00", "amount": "5"},
    ...        {"customer_id": "a", "at": "2026-01-15T09:00:00+00:00", "amount": "20"}]
    >>> s, = custdata.summarize(txs, observation_end="2026-01-29", unit="W")
    >>> (s.frequency, s.recency, s.T, s.monetary_value)
    (1, 2.0, 4.0, 20.0)
    """
    per = _periods.check_period(period)
    unit_code = per if unit is None else _periods.check_period(unit, "unit")
    obs = cutoff(observation_end, "observation_end")
    cal = None if calibration_end is None else cutoff(calibration_end, "calibration_end")
    obs_idx = _periods.index(bound_day(obs), per)
    cal_idx = None if cal is None else _periods.index(bound_day(cal), per)
    if cal is not None and bound_day(cal) > bound_day(obs):
        raise ValidationError("calibration_end is after observation_end", field="calibration_end")
    as_frame = is_dataframe(transactions)

    window = Window(obs, tz)
    if bound_day(obs) > window.today:
        warnings.warn(
            CustdataWarning(
                f"observation_end {obs.isoformat()} is in the future: T counts time not observed yet"
            ),
            stacklevel=2,
        )
    # customer -> period index -> [total spend, in calibration?]
    spend: dict[str, dict[int, list[Any]]] = {}
    currencies: set[str] = set()
    for row in rows(transactions):
        amount = _periods.as_decimal(get(row, "amount"))
        if amount < 0:
            continue
        at = get(row, "at")
        day = _periods.local_date(at, tz)
        if not window.keep(at, day):
            continue
        currency = get(row, "currency", default=None)
        if currency:
            currencies.add(str(currency))
        in_cal = cal is None or on_or_before(at, day, cal)
        cid = str(get(row, "customer_id"))
        periods = spend.get(cid)
        if periods is None:
            periods = spend[cid] = {}
        idx = _periods.index(day, per)
        cell = periods.get(idx)
        if cell is None:
            periods[idx] = [amount, in_cal]
        else:
            cell[0] += amount
            cell[1] = cell[1] or in_cal
    window.report()
    if len(currencies) > 1:
        raise ValidationError(
            f"transactions in several currencies ({', '.join(sorted(currencies))}): "
            "convert them to one first",
            field="currency",
        )

    out: list[CustomerSummary] = []
    for cid in sorted(spend, key=natural_key):
        periods = spend[cid]
        cal_periods = sorted(i for i, (_, inside) in periods.items() if inside)
        if not cal_periods:
            continue  # first purchase after the calibration period
        first, last = cal_periods[0], cal_periods[-1]
        end_idx = obs_idx if cal_idx is None else cal_idx
        repeat = [periods[i][0] for i in cal_periods[1:]]
        summary = CustomerSummary(
            customer_id=cid,
            frequency=len(cal_periods) - 1,
            recency=_periods.distance(first, last, per, unit_code),
            T=_periods.distance(first, end_idx, per, unit_code),
            monetary_value=_mean(repeat),
            first_purchase=_periods.start(first, per),
        )
        if cal_idx is not None:
            hold = [cell[0] for _, cell in sorted(periods.items()) if not cell[1]]
            summary = attrs.evolve(
                summary,
                frequency_holdout=len(hold),
                monetary_value_holdout=_mean(hold),
                duration_holdout=_periods.distance(cal_idx, obs_idx, per, unit_code),
            )
        out.append(summary)
    if as_frame:
        import pandas as pd

        frame: pd.DataFrame = pd.DataFrame([s.to_dict() for s in out])
        return frame
    return out
