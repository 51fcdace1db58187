"""Plots of customer metrics and CLV models (the ``plot`` extra: matplotlib).

Each function draws on ``ax`` (a new figure's axes when not given) and returns the axes, so plots compose
in notebooks and reports::

    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    plot_cohort_retention(matrix, ax=left)
    plot_p_alive_matrix(model, ax=right)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from custdata.exceptions import MissingExtraError, ValidationError

try:
    import matplotlib.pyplot as plt
    import numpy as np
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("plot", "custdata.plotting", ["matplotlib", "numpy"]) from exc

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from custdata.metrics import CohortMatrix

__all__ = [
    "plot_calibration_vs_holdout",
    "plot_clv_distribution",
    "plot_cohort_retention",
    "plot_frequency_recency_matrix",
    "plot_p_alive_matrix",
]

logger = logging.getLogger(__name__)


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    _, new = plt.subplots()
    return new


def plot_cohort_retention(matrix: CohortMatrix, *, annotate: bool = True, ax: Axes | None = None) -> Axes:
    """Heatmap of a :func:`~custdata.metrics.cohort_matrix`: cohorts down, periods since acquisition
    across; censored cells are left blank (not drawn as 0 %)."""
    ax = _axes(ax)
    width = max((len(r) for r in matrix.retention), default=0)
    data = np.full((len(matrix.cohorts), max(width, 1)), np.nan)
    for i, row in enumerate(matrix.retention):
        for k, v in enumerate(row):
            if v is not None:
                data[i, k] = v
    image = ax.imshow(np.ma.masked_invalid(data), aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0)
    ax.figure.colorbar(image, ax=ax, label="retained")
    ax.set_yticks(
        range(len(matrix.cohorts)),
        [f"{c} (n={n})" for c, n in zip(matrix.cohorts, matrix.sizes, strict=True)],
    )
    ax.set_xticks(range(width))
    ax.set_xlabel(f"periods since acquisition ({matrix.period})")
    ax.set_ylabel("cohort")
    ax.set_title("Cohort retention")
    if annotate and data.size <= 400:
        for (i, k), v in np.ndenumerate(data):
            if not math.isnan(v):
                ax.text(
                    k,
                    i,
                    f"{v:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if v < 0.6 else "black",
                )
    return ax


def _grid(
    model: Any, max_frequency: int | None, max_recency: float | None, age: float | None
) -> tuple[Any, ...]:
    if age is None:
        age = max_recency if max_recency is not None else 52.0
    if max_recency is None:
        max_recency = age
    if max_recency > age:
        raise ValidationError("max_recency must be <= T", field="max_recency")
    if max_frequency is None:
        max_frequency = max(round(float(model.expected_purchases(age)) * 4), 10)
    freq = np.arange(max_frequency + 1, dtype=float)
    rec = np.linspace(0.0, max_recency, 50)
    x, t_x = np.meshgrid(freq, rec, indexing="ij")
    t_x = np.where(x == 0, 0.0, t_x)  # no repeat purchase: recency is 0
    return x, t_x, float(age), freq, rec


def _matrix_plot(ax: Axes, values: Any, freq: Any, rec: Any, label: str, title: str) -> Axes:
    image = ax.imshow(
        values,
        origin="lower",
        aspect="auto",
        extent=(float(rec[0]), float(rec[-1]), float(freq[0]) - 0.5, float(freq[-1]) + 0.5),
        cmap="viridis",
    )
    ax.figure.colorbar(image, ax=ax, label=label)
    ax.set_xlabel("recency (time of the last purchase)")
    ax.set_ylabel("frequency (repeat purchases)")
    ax.set_title(title)
    return ax


def plot_frequency_recency_matrix(
    model: Any,
    *,
    t: float = 1.0,
    T: float | None = None,  # noqa: N803
    max_frequency: int | None = None,
    max_recency: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Expected purchases in the next ``t`` for every (frequency, recency) of customers observed for
    ``T``: the best customers bought often and recently (top right)."""
    ax = _axes(ax)
    x, t_x, age, freq, rec = _grid(model, max_frequency, max_recency, T)
    values = np.asarray(
        model.conditional_expected_purchases(np.full_like(x, t), x, t_x, np.full_like(x, age))
    )
    return _matrix_plot(
        ax, values, freq, rec, f"expected purchases in the next {t:g}", f"Expected purchases (T = {age:g})"
    )


def plot_p_alive_matrix(
    model: Any,
    *,
    T: float | None = None,  # noqa: N803
    max_frequency: int | None = None,
    max_recency: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """P(alive) for every (frequency, recency) of customers observed for ``T``: frequent buyers who have
    not bought for a while are the likeliest to have left."""
    ax = _axes(ax)
    x, t_x, age, freq, rec = _grid(model, max_frequency, max_recency, T)
    values = np.asarray(model.p_alive(x, t_x, np.full_like(x, age)))
    return _matrix_plot(
        ax, values, freq, rec, "P(alive)", f"Probability a customer is still active (T = {age:g})"
    )


def _values(data: Any, key: str) -> Any:
    if hasattr(data, "columns"):
        return np.asarray(data[key], dtype=float)
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
        items = list(data)
        if items and isinstance(items[0], dict):
            return np.asarray([row[key] for row in items], dtype=float)
        return np.asarray(items, dtype=float)
    raise ValidationError(f"expected numbers or rows with {key!r}", field=key)


def plot_clv_distribution(values: Any, *, bins: int = 50, log: bool = True, ax: Axes | None = None) -> Axes:
    """Histogram of predicted CLV: numbers, the rows :meth:`BetaGeoModel.predict` returns (their ``clv``),
    or a DataFrame with a ``clv`` column. CLV is skewed, so the count axis is logarithmic by default;
    the dashed line marks the mean."""
    ax = _axes(ax)
    v = _values(values, "clv")
    v = v[np.isfinite(v)]
    ax.hist(v, bins=bins, log=log, color="tab:blue", alpha=0.8)
    if v.size:
        ax.axvline(float(v.mean()), color="black", linestyle="--", label=f"mean {v.mean():.2f}")
        top = np.sort(v)[::-1]
        share = top[: max(len(top) // 10, 1)].sum() / top.sum() if top.sum() > 0 else math.nan
        ax.legend(title=f"top 10 % hold {share:.0%}" if math.isfinite(share) else None)
    ax.set_xlabel("predicted customer lifetime value")
    ax.set_ylabel("customers")
    ax.set_title("CLV distribution")
    return ax


def plot_calibration_vs_holdout(
    model: Any, summaries: Sequence[Any], *, max_frequency: int = 7, ax: Axes | None = None
) -> Axes:
    """Mean purchases in the holdout period, actual against predicted, by the number of repeat purchases
    in the calibration period (summaries from :func:`~custdata.summarize` with ``calibration_end``)."""
    ax = _axes(ax)

    def field(row: Any, name: str) -> float:
        value = row[name] if isinstance(row, dict) else getattr(row, name)
        if value is None:
            raise ValidationError(
                "the summaries have no holdout figures: summarize with calibration_end=", field=name
            )
        return float(value)

    x = np.array([field(r, "frequency") for r in summaries])
    t_x = np.array([field(r, "recency") for r in summaries])
    age = np.array([field(r, "T") for r in summaries])
    actual = np.array([field(r, "frequency_holdout") for r in summaries])
    duration = np.array([field(r, "duration_holdout") for r in summaries])
    predicted = np.asarray(model.conditional_expected_purchases(duration, x, t_x, age))
    groups = np.minimum(x, max_frequency)
    labels = list(range(max_frequency + 1))
    mean_actual = [actual[groups == g].mean() if np.any(groups == g) else np.nan for g in labels]
    mean_pred = [predicted[groups == g].mean() if np.any(groups == g) else np.nan for g in labels]
    ax.plot(labels, mean_actual, "o-", label="actual")
    ax.plot(labels, mean_pred, "s--", label="model")
    ax.set_xticks(labels, [str(g) if g < max_frequency else f"{g}+" for g in labels])
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout period")
    ax.set_title("Calibration vs holdout")
    ax.legend()
    return ax
