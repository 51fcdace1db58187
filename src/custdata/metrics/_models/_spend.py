"""The Gamma-Gamma model of spend per transaction (Fader & Hardie, "The Gamma-Gamma Model of Monetary
Value", 2013, note 025; Colombo & Jiang 1999).

A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, v): the mean spend per transaction
varies across customers but not over time, and independently of purchase frequency.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import special

from custdata.exceptions import ValidationError
from custdata.metrics._models._base import Array, FittedModel, arrays, collapse, columns, dot, shape_like
from custdata.metrics._models._transactions import _ALIASES


class GammaGammaModel(FittedModel):
    """Gamma-Gamma spend model. Parameters ``p``, ``q`` and ``v`` (the note's γ).

    Fit it on customers with at least one repeat purchase (others are left out: their mean repeat spend
    is unknown). Its :meth:`conditional_expected_spend` feeds the CLV of the purchase-count models.

    >>> from custdata.metrics import GammaGammaModel
    >>> m = GammaGammaModel.from_params(p=6.25, q=3.74, v=15.44)
    >>> round(m.expected_spend, 2), round(m.conditional_expected_spend(2, 22.35), 2)
    (35.22, 24.66)
    """

    _names = ("p", "q", "v")
    _label = "Gamma-Gamma"
    _limits = (
        (
            "gamma",
            "q",
            "v",
            lambda p: (
                "the data show no heterogeneity in spend: every customer's expected spend per "
                f"transaction is the same, p·v/q = {p['p'] * p['v'] / p['q']:.4g}, and the predictions are "
                "those of that limit"
            ),
        ),
    )

    def fit(
        self, data: Any = None, *, frequency: Any = None, monetary_value: Any = None, weights: Any = None
    ) -> GammaGammaModel:
        """Fit by maximum likelihood on ``frequency`` and ``monetary_value`` (the mean repeat spend) and
        return the model itself. ``data`` is a summary list, mappings or a DataFrame; customers with
        frequency 0 are skipped."""
        if data is not None:
            x, m = columns(data, ("frequency", "monetary_value"), _ALIASES)
        elif frequency is not None and monetary_value is not None:
            x, m = (v.ravel() for v in arrays(frequency, monetary_value))
        else:
            raise ValidationError("fit needs a summary, or frequency= and monetary_value= arrays")
        w_in = None if weights is None else np.asarray(weights, dtype=float).ravel()
        keep = x > 0
        if not np.all(np.isfinite(m[keep])) or np.any(m[keep] <= 0):
            raise ValidationError(
                "monetary_value must be > 0 for customers with repeat purchases", field="monetary_value"
            )
        if np.count_nonzero(keep) < 2:
            raise ValidationError("the Gamma-Gamma model needs at least two repeat buyers", field="frequency")
        (ux, um), w = collapse([x[keep], m[keep]], None if w_in is None else w_in[keep])

        def objective(theta: Array) -> tuple[float, Array | None]:
            p, q, v = np.exp(theta)
            px = p * ux
            lv = math.log(v)
            lvxm = np.log(v + ux * um)
            ll_i = (
                special.gammaln(px + q)
                - special.gammaln(px)
                - special.gammaln(q)
                + q * lv
                + (px - 1.0) * np.log(um)
                + px * np.log(ux)
                - (px + q) * lvxm
            )
            dpq = special.digamma(px + q)
            g_p = ux * (dpq - special.digamma(px) + np.log(um) + np.log(ux) - lvxm)
            g_q = dpq - special.digamma(q) + lv - lvxm
            g_v = q / v - (px + q) / (v + ux * um)
            grad = np.array([dot(w, g_p) * p, dot(w, g_q) * q, dot(w, g_v) * v])
            return -dot(w, ll_i), -grad

        total = float(w.sum())
        mean_m = float(np.average(um, weights=w))
        x0 = np.log(np.array([1.0, 2.0, mean_m]))
        self._run_fit(objective, x0, total, True)
        return self

    @property
    def expected_spend(self) -> float:
        """The population mean spend per transaction, ``p v / (q - 1)`` (infinite when q <= 1)."""
        p, q, v = self._p()
        return p * v / (q - 1.0) if q > 1.0 else math.inf

    def conditional_expected_spend(self, frequency: Any, monetary_value: Any) -> Any:
        """Expected spend per transaction of a customer with ``frequency`` repeat purchases of mean value
        ``monetary_value``: a weighted mean of the population mean and the customer's own (customers without
        repeat purchases get the population mean)."""
        x, m = arrays(frequency, monetary_value)
        p, q, v = self._p()
        if q <= 1.0:
            raise ValidationError("q <= 1: the expected spend is infinite under these parameters", field="q")
        m = np.where(x > 0, m, 0.0)
        value = (v + x * m) * p / (p * x + q - 1.0)
        return shape_like(value, frequency, monetary_value)
