"""The shifted-beta-geometric (sBG) model of contract renewals (Fader & Hardie 2007, "How to Project
Customer Retention", Journal of Interactive Marketing 21(1)).

Each subscriber renews at the end of every period with a constant probability ``1 - θ`` and θ varies
across subscribers as Beta(alpha, beta). Because the subscribers most likely to cancel leave first, the
aggregate retention rate rises over time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from scipy import special

from custdata.exceptions import ValidationError
from custdata.metrics._models._base import Array, FittedModel, arrays, hyp2f1, log_beta_ratio, shape_like


class ShiftedBetaGeoModel(FittedModel):
    """sBG model for subscriptions. Parameters ``alpha`` and ``beta``.

    Fit it on the number of subscribers still active at the start of each period of one cohort
    (``[1000, 631, 468, …]``), or on per-subscriber ``durations`` (periods paid) with ``churned`` flags.

    >>> from custdata.metrics import ShiftedBetaGeoModel
    >>> m = ShiftedBetaGeoModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> [round(v, 3) for v in m.survival([1, 2, 12])]
    [0.627, 0.474, 0.17]
    """

    _names = ("alpha", "beta")
    _label = "sBG"
    _limits = (
        (
            "beta",
            "alpha",
            "beta",
            lambda p: (
                "the data show no heterogeneity in churn: every subscriber churns with the same "
                f"probability alpha/(alpha+beta) = {p['alpha'] / (p['alpha'] + p['beta']):.4g} per period, "
                "so retention does not rise with tenure"
            ),
        ),
    )
    _near_zero: ClassVar[Mapping[str, str]] = {
        "alpha": "churn probabilities are concentrated at 0: almost no subscriber churns",
        "beta": "churn probabilities are concentrated at 1: nearly every subscriber churns after one period",
    }

    def fit(
        self,
        survivors: Sequence[float] | None = None,
        *,
        durations: Any = None,
        churned: Any = None,
    ) -> ShiftedBetaGeoModel:
        """Fit by maximum likelihood and return the model itself.

        ``survivors[t]`` is the number still active at the start of period ``t`` (``survivors[0]`` the cohort
        size; the sequence must not increase). Or ``durations`` (whole periods each subscriber stayed,
        >= 1) with ``churned`` (True: cancelled after that many periods; False: still active).
        """
        if survivors is not None:
            n = np.asarray(survivors, dtype=float)
            if n.ndim != 1 or len(n) < 2 or np.any(n < 0) or np.any(np.diff(n) > 0):
                raise ValidationError(
                    "survivors must be a non-increasing sequence of >= 2 counts", field="survivors"
                )
            t_lost = np.arange(1, len(n), dtype=float)
            lost = -np.diff(n)
            t_cens = np.array([len(n) - 1.0])
            cens = n[-1:]
        elif durations is not None and churned is not None:
            d, c = arrays(durations, churned)
            d, c = d.ravel(), c.ravel().astype(bool)
            if np.any(d < 1) or np.any(d != np.floor(d)):
                raise ValidationError("durations must be whole numbers >= 1", field="durations")
            t_lost, lost = np.unique(d[c], return_counts=True)
            t_cens, cens = np.unique(d[~c], return_counts=True)
            t_lost, lost, t_cens, cens = (v.astype(float) for v in (t_lost, lost, t_cens, cens))
        else:
            raise ValidationError("fit needs survivors, or durations= and churned=")
        if lost.sum() == 0:
            raise ValidationError("nobody churned: the sBG model cannot be fitted", field="survivors")

        def objective(theta: Array) -> tuple[float, Array | None]:
            a, b = np.exp(theta)
            lb = special.betaln(a, b)
            # P(T = t) = B(a+1, b+t-1) / B(a, b);  S(t) = B(a, b+t) / B(a, b)
            ll = lost @ (special.betaln(a + 1.0, b + t_lost - 1.0) - lb) + cens @ (
                special.betaln(a, b + t_cens) - lb
            )
            dab = special.digamma(a + b)
            g_lb_a, g_lb_b = special.digamma(a) - dab, special.digamma(b) - dab
            d1 = special.digamma(a + b + t_lost)
            g_a = lost @ (special.digamma(a + 1.0) - d1 - g_lb_a)
            g_b = lost @ (special.digamma(b + t_lost - 1.0) - d1 - g_lb_b)
            d2 = special.digamma(a + b + t_cens)
            g_a += cens @ (special.digamma(a) - d2 - g_lb_a)
            g_b += cens @ (special.digamma(b + t_cens) - d2 - g_lb_b)
            return -float(ll), -np.array([g_a * a, g_b * b])

        total = float(lost.sum() + cens.sum())
        self._run_fit(objective, np.zeros(2), total, True)
        return self

    def _check_t(self, t: Any) -> Array:
        (tt,) = arrays(t)
        if np.any(tt < 0) or np.any(tt != np.floor(tt)):
            raise ValidationError("periods must be whole numbers >= 0", field="t")
        return tt

    def survival(self, t: Any) -> Any:
        """Share of a new cohort still active after ``t`` periods: ``B(alpha, beta+t) / B(alpha, beta)``."""
        a, b = self._p()
        tt = self._check_t(t)
        return shape_like(np.exp(log_beta_ratio(a, b, tt)), t)

    def churn_probability(self, t: Any) -> Any:
        """Probability that a new subscriber cancels at the end of period ``t`` (t >= 1)."""
        a, b = self._p()
        tt = self._check_t(t)
        if np.any(tt < 1):
            raise ValidationError("t must be >= 1", field="t")
        # B(a+1, b+t-1) / B(a, b) = a / (a+b+t-1) · B(a, b+t-1) / B(a, b)
        return shape_like(a / (a + b + tt - 1.0) * np.exp(log_beta_ratio(a, b, tt - 1.0)), t)

    def retention_rate(self, t: Any) -> Any:
        """Share of the subscribers active in period ``t - 1`` who renew for period ``t`` (t >= 1):
        ``(beta + t - 1) / (alpha + beta + t - 1)``, rising with t."""
        a, b = self._p()
        tt = self._check_t(t)
        if np.any(tt < 1):
            raise ValidationError("t must be >= 1", field="t")
        return shape_like((b + tt - 1.0) / (a + b + tt - 1.0), t)

    def expected_future_renewals(self, periods_survived: Any = 0, *, discount_rate: float = 0.0) -> Any:
        """Expected discounted number of future renewals of a subscriber active now who has already
        renewed ``periods_survived`` times: ``Σ_k≥1 S(n+k)/S(n) / (1+d)^k``. Multiply by the value of a
        period to get the subscriber's residual lifetime value. Infinite when ``discount_rate`` is 0 and
        alpha <= 1."""
        a, b = self._p()
        n = self._check_t(periods_survived)
        if discount_rate < 0:
            raise ValidationError("discount_rate must be >= 0", field="discount_rate")
        if discount_rate == 0 and a <= 1.0:
            return shape_like(np.full_like(n, math.inf), periods_survived)
        if discount_rate == 0:  # Gauss: 2F1(1, b+n; a+b+n; 1) = (a+b+n-1) / (a-1)
            return shape_like((b + n) / (a - 1.0), periods_survived)
        z = 1.0 / (1.0 + discount_rate)
        return shape_like(hyp2f1(1.0, b + n, a + b + n, z) - 1.0, periods_survived)
