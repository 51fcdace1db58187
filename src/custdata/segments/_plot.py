"""Segment plots (the ``plot`` extra: matplotlib): the RFM grid and segment sizes over time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from custdata.exceptions import MissingExtraError, ValidationError

__all__ = ["plot_rfm_grid", "plot_segment_sizes"]


def _plt() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingExtraError("plot", "custdata.segments plots", ["matplotlib"]) from exc
    return plt


def _check_ax(ax: Any, method: str) -> None:
    if ax is not None and not callable(getattr(ax, method, None)):
        raise ValidationError(f"ax must be matplotlib Axes, got {type(ax).__name__}", field="ax")


def plot_rfm_grid(scores: Iterable[Any], *, bins: int = 5, ax: Any = None) -> Any:
    """The RFM grid: recency score across, frequency score up, each cell coloured by the mean monetary score
    of its customers and labelled with their count. ``scores``: :func:`rfm` results (or profiles, with
    ``rfm_r``/``rfm_f``/``rfm_m``). Returns the axes."""
    from custdata.segments._profiles import items_of
    from custdata.segments._rfm import check_bins

    check_bins(bins)
    _check_ax(ax, "imshow")
    items = list(items_of(scores, "scores"))
    plt = _plt()
    import numpy as np

    count = np.zeros((bins, bins))
    money = np.zeros((bins, bins))
    for s in items:
        keys = ("r", "f", "m") if hasattr(s, "r") else ("rfm_r", "rfm_f", "rfm_m")
        got = [getattr(s, k, None) for k in keys]
        if got[0] is None:
            continue
        if not all(isinstance(x, int) and not isinstance(x, bool) for x in got):
            raise ValidationError("scores must be rfm() results or profiles with whole-number RFM scores")
        r, f, m = (x if isinstance(x, int) else 0 for x in got)
        if not (1 <= r <= bins and 1 <= f <= bins):
            raise ValidationError(f"scores beyond {bins} bins: pass bins=")
        count[f - 1, r - 1] += 1
        money[f - 1, r - 1] += m
    mean = np.divide(money, count, out=np.full_like(money, np.nan), where=count > 0)
    if ax is None:
        _, ax = plt.subplots()
    image = ax.imshow(np.ma.masked_invalid(mean), origin="lower", cmap="viridis", vmin=1, vmax=bins)
    for i in range(bins):
        for j in range(bins):
            if count[i, j]:
                ax.text(j, i, f"{int(count[i, j])}", ha="center", va="center", color="white", fontsize=8)
    ax.set_xticks(range(bins), [str(k) for k in range(1, bins + 1)])
    ax.set_yticks(range(bins), [str(k) for k in range(1, bins + 1)])
    ax.set_xlabel("recency score (5: bought most recently)" if bins == 5 else "recency score")
    ax.set_ylabel("frequency score")
    ax.set_title("RFM grid: customers per cell, colour = mean monetary score")
    ax.figure.colorbar(image, ax=ax, label="mean monetary score")
    return ax


def plot_segment_sizes(
    sizes: Mapping[Any, Mapping[Any, int]], *, segments: Sequence[str] | None = None, ax: Any = None
) -> Any:
    """Segment sizes over time as stacked areas: ``sizes`` maps each period (a date or a label, in order)
    to a :meth:`Segmentation.sizes` result. Returns the axes."""
    if not isinstance(sizes, Mapping) or not all(
        isinstance(v, Mapping) and all(isinstance(n, int) and not isinstance(n, bool) for n in v.values())
        for v in sizes.values()
    ):
        raise ValidationError("sizes must map each period to a {segment: count} mapping (Segmentation.sizes)")
    if segments is not None and (isinstance(segments, (str, bytes)) or not isinstance(segments, Sequence)):
        raise ValidationError("segments must be a list of segment names")
    _check_ax(ax, "stackplot")
    plt = _plt()
    periods = list(sizes)
    names = (
        list(segments) if segments is not None else list(dict.fromkeys(k for v in sizes.values() for k in v))
    )
    if ax is None:
        _, ax = plt.subplots()
    series = [[sizes[p].get(n, 0) for p in periods] for n in names]
    ax.stackplot(range(len(periods)), series, labels=[str(n) for n in names])
    ax.set_xticks(range(len(periods)), [str(p) for p in periods], rotation=45, ha="right")
    ax.set_ylabel("customers")
    ax.set_title("Segment sizes over time")
    ax.legend(loc="upper left", fontsize=8)
    return ax
