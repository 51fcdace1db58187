"""Buy-till-you-die models of repeat purchasing: BG/NBD, MBG/NBD and Pareto/NBD.

Every formula is evaluated in log space where it matters. Sources:

* BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2).
* MBG/NBD: Batislam, Denizel & Filiztekin (2007), IJRM 24(3): customers may also drop out right after
  their first purchase.
* Pareto/NBD: Schmittlein, Morrison & Colombo (1987); likelihood as in Fader & Hardie (2005), "A Note on
  Deriving the Pareto/NBD Model and Related Expressions".

BG/NBD's expected purchases use the closed form (as written and Euler-transformed) only where the two
agree; elsewhere (large a and b, where the hypergeometric function overflows) the defining integral over
the dropout probability. In Pareto/NBD's likelihood the integral ``∫ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ`` is
written with ``2F1(1, ·; ·; z)``, which converges at ``z = 1``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, overload

if TYPE_CHECKING:
    import pandas as pd
    from typing_extensions import Self

import numpy as np
from scipy import special

from custdata.exceptions import ValidationError
from custdata.metrics._input import is_dataframe
from custdata.metrics._models import _quad
from custdata.metrics._models._base import (
    Array,
    FittedModel,
    arrays,
    check_summary,
    collapse_coded,
    columns,
    customer_ids,
    dot,
    hyp2f1,
    log_beta_ratio,
    shape_like,
)

logger = logging.getLogger(__name__)

_ALIASES: Mapping[str, tuple[str, ...]] = {
    "frequency": ("x", "frequency_cal"),
    "recency": ("t_x", "recency_cal"),
    "T": ("T_cal",),
    "monetary_value": ("zbar", "m", "monetary_value_cal"),
}


def _log_add(a: Array, b: Array) -> Array:
    """log(exp(a) + exp(b)) for finite a (b may be -inf). np.logaddexp takes a slow path on infinities."""
    hi = np.maximum(a, b)
    return hi + np.log1p(np.exp(np.minimum(a, b) - hi))


def _log_diff(a: Array, b: Array) -> Array:
    """log(exp(a) - exp(b)) for a >= b (−inf when they are equal)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return a + np.log1p(-np.exp(np.minimum(b - a, 0.0)))


def _bg_closed_form(t: Array, r: Array, alpha: Array, a: float, b: Array) -> tuple[Array, Array]:
    """BG/NBD's E[X(t)] by the closed form ``(a+b-1)/(a-1) · [1 - (1-z)^r 2F1(r, b; a+b-1; z)]``, and
    where it can be trusted.

    The hypergeometric tail is evaluated twice, as written and Euler-transformed
    (``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b-1; z)``); the value is trusted where both agree to 1e-10, neither
    is a 0/0 (a near 1) and ``1 - tail`` loses at most three digits. Flat float arrays in and out.
    """
    c = a + b - 1.0
    z = t / (alpha + t)
    with np.errstate(all="ignore"):
        log1mz = np.log1p(-z)
        euler = np.exp((a - 1.0) * log1mz) * hyp2f1(c - r, a - 1.0, c, z)
        plain = np.exp(r * log1mz) * hyp2f1(r, b, c, z)
        value = c / (a - 1.0) * (1.0 - euler)
        ok = (
            np.isfinite(value)
            & (np.abs(euler - plain) <= 1e-10 * np.abs(euler))
            & (np.abs(1.0 - euler) >= 1e-3)
            & (abs(a - 1.0) >= 1e-3)
            & (value > 0)
        )
    return value, ok


def _bg_expected(t: Array, r: Array, alpha: Array, a: float, b: Array) -> Array:
    """E[X(t)] of a BG/NBD customer alive at time 0.

    The closed form where it can be trusted (:func:`_bg_closed_form`); everywhere else (large a and b,
    where the hypergeometric function overflows; very short horizons; a near 1) the defining integral
    over the dropout probability (:func:`_quad.bg_expected`), computed on the distinct points only.
    """
    t, r, alpha, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (t, r, alpha, b)))
    shape = t.shape
    t, r, alpha, b = (v.ravel() for v in (t, r, alpha, b))
    value, ok = _bg_closed_form(t, r, alpha, a, b)
    value = np.where(t > 0, value, 0.0)
    redo = ~ok & (t > 0)
    if np.any(redo):
        points = np.column_stack([t[redo], r[redo], alpha[redo], b[redo]])
        distinct, back = np.unique(points, axis=0, return_inverse=True)
        got = _quad.bg_expected(distinct[:, 0], distinct[:, 1], distinct[:, 2], a, distinct[:, 3])
        value[redo] = got[back.ravel()]
    return value.reshape(shape)


def _check_t(t: Array) -> None:
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValidationError("the period length t must be a finite number >= 0", field="t")


# The purchase process (λ ~ Gamma(r, alpha) while active) is the same in BG/NBD and Pareto/NBD: so are its
# boundary reading and its near-zero warning.
_PURCHASE_RATE_LIMIT = (
    "gamma",
    "r",
    "alpha",
    lambda p: (
        "the data show no heterogeneity in purchase rates: every active customer buys at "
        f"the same rate r/alpha = {p['r'] / p['alpha']:.4g} per time unit, and the predictions are "
        "those of that limit"
    ),
)
_R_NEAR_ZERO = (
    "purchase rates are concentrated near 0 with a few very heavy buyers; check the summary's units"
)


class TransactionModel(FittedModel):
    """Shared by the purchase-count models: fitting on summaries, predictions, CLV."""

    _has_grad: ClassVar[bool] = True

    # -- likelihood, implemented by each model: (total log-likelihood, gradient over log-params or None)
    def _loglik(
        self,
        theta: Array,
        x: Array,
        t_x: Array,
        T: Array,  # noqa: N803
        w: Array,
        coded: Any = None,
    ) -> tuple[float, Array | None]:
        raise NotImplementedError

    def _prepare(self, coded: Sequence[tuple[Array, Array]], w: Array) -> Any:
        """Data for the likelihood computed once per fit (default: the coded columns)."""
        return coded

    def _start(self, x: Array, T: Array, w: Array) -> Array:  # noqa: N803
        mean_x = float(np.average(x, weights=w))
        mean_age = float(np.average(T, weights=w))
        alpha = max(mean_age, 1e-3) / max(mean_x, 0.1)
        return np.log(
            np.array([1.0, alpha, 1.0, 1.0 if len(self._names) == 4 else alpha])[: len(self._names)]
        )

    def fit(
        self,
        data: Any = None,
        *,
        frequency: Any = None,
        recency: Any = None,
        T: Any = None,  # noqa: N803
        weights: Any = None,
    ) -> Self:
        """Fit by maximum likelihood and return the model itself.

        ``data``: the list :func:`~custdata.summarize` returns, mappings with ``frequency``, ``recency`` and
        ``T`` (also ``x``/``t_x``), or a DataFrame with those columns; or pass the three columns as
        ``frequency=``, ``recency=``, ``T=`` arrays. ``weights`` (optional) counts each row that many times.
        Identical rows are collapsed into weights first, so large data sets fit quickly.
        """
        if data is not None:
            x, t_x, age = columns(data, ("frequency", "recency", "T"), _ALIASES)
        elif frequency is not None and recency is not None and T is not None:
            x, t_x, age = arrays(frequency, recency, T)
            x, t_x, age = x.ravel(), t_x.ravel(), age.ravel()
        else:
            raise ValidationError("fit needs a summary, or frequency=, recency= and T= arrays")
        if len(x) == 0:
            raise ValidationError("cannot fit a model on no customers", field="summary")
        check_summary(x, t_x, age)
        w_in = None if weights is None else np.asarray(weights, dtype=float).ravel()
        coded, w = collapse_coded([x, t_x, age], w_in)
        ux, utx, u_age = (values[codes] for values, codes in coded)
        logger.debug("%s: %d customers collapsed to %d distinct rows", self._label, len(x), len(ux))
        if not np.any(ux > 0):
            raise ValidationError(
                "no customer made a repeat purchase: the model cannot be fitted", field="frequency"
            )

        prepared = self._prepare(coded, w)

        def objective(theta: Array) -> tuple[float, Array | None]:
            ll, grad = self._loglik(theta, ux, utx, u_age, w, prepared)
            return -ll, (None if grad is None else -grad)

        total = float(w.sum())
        self._run_fit(objective, self._start(ux, u_age, w), total, self._has_grad)
        return self

    # -- predictions (public, shaped like the input)
    def expected_purchases(self, t: Any) -> Any:
        """Expected number of repeat purchases in a period of length ``t`` by a new customer."""
        (tt,) = arrays(t)
        _check_t(tt)
        return shape_like(self._expected(tt), t)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:  # noqa: N803
        """Expected purchases in the next ``t`` by a customer with the given history."""
        tt, x, t_x, age = arrays(t, frequency, recency, T)
        _check_t(tt)
        check_summary(x, t_x, age)
        return shape_like(self._conditional(tt, x, t_x, age), t, frequency, recency, T)

    def p_alive(self, frequency: Any, recency: Any, T: Any) -> Any:  # noqa: N803
        """Probability that a customer with the given history is still active ("alive") at ``T``."""
        x, t_x, age = arrays(frequency, recency, T)
        check_summary(x, t_x, age)
        return shape_like(self._p_alive(x, t_x, age), frequency, recency, T)

    def probability_of_purchases(self, n: Any, t: Any) -> Any:
        """Probability that a new customer makes exactly ``n`` repeat purchases in a period of length
        ``t``."""
        nn, tt = arrays(n, t)
        _check_t(tt)
        if np.any(nn < 0) or np.any(nn != np.floor(nn)):
            raise ValidationError("n must be a whole number >= 0", field="n")
        return shape_like(self._prob_n(nn, tt), n, t)

    def customer_lifetime_value(
        self,
        spend_model: Any,
        frequency: Any,
        recency: Any,
        T: Any,  # noqa: N803
        monetary_value: Any,
        *,
        horizon: float,
        discount_rate: float = 0.0,
        step: float = 1.0,
    ) -> Any:
        """Expected value of each customer's purchases over the next ``horizon`` (in the model's time unit).

        The horizon is cut into steps of length ``step``; the purchases expected in step k are valued at the
        spend the ``spend_model`` (a fitted :class:`GammaGammaModel`) expects from this customer and
        discounted by ``(1 + discount_rate) ** k`` (so ``discount_rate`` is the rate per step: with a
        weekly model, ``step=52/12`` and ``discount_rate=0.01`` mean 1 % a month).
        """
        if horizon <= 0 or step <= 0:
            raise ValidationError("horizon and step must be > 0", field="horizon")
        if discount_rate <= -1:
            raise ValidationError("discount_rate must be > -1", field="discount_rate")
        x, t_x, age, m = arrays(frequency, recency, T, monetary_value)
        check_summary(x, t_x, age)
        spend = np.asarray(spend_model.conditional_expected_spend(x, m), dtype=float)
        k = math.ceil(horizon / step - 1e-9)
        edges = np.minimum(np.arange(1, k + 1) * step, horizon)
        cum = np.stack([self._conditional(np.full_like(x, e), x, t_x, age) for e in edges])
        per_step = np.diff(np.concatenate([np.zeros((1, *x.shape)), cum]), axis=0)
        disc = (1.0 + discount_rate) ** -np.arange(1, k + 1, dtype=float)
        value = np.tensordot(disc, per_step, axes=1) * spend
        return shape_like(value, frequency, recency, T, monetary_value)

    @overload
    def predict(
        self,
        data: pd.DataFrame,
        *,
        t: float,
        spend_model: Any = None,
        horizon: float | None = None,
        discount_rate: float = 0.0,
        step: float = 1.0,
    ) -> pd.DataFrame: ...

    @overload
    def predict(
        self,
        data: Iterable[Any],
        *,
        t: float,
        spend_model: Any = None,
        horizon: float | None = None,
        discount_rate: float = 0.0,
        step: float = 1.0,
    ) -> list[dict[str, Any]]: ...

    def predict(
        self,
        data: Any,
        *,
        t: float,
        spend_model: Any = None,
        horizon: float | None = None,
        discount_rate: float = 0.0,
        step: float = 1.0,
    ) -> list[dict[str, Any]] | pd.DataFrame:
        """Per-customer predictions for a summary: ``p_alive``, ``expected_purchases`` in the next ``t``,
        and with a ``spend_model`` also ``expected_spend`` and ``clv`` over ``horizon`` (default ``t``).

        Returns a list of dicts (one per customer, with its ``customer_id``), or a DataFrame when ``data``
        is one.
        """
        names = (
            ["frequency", "recency", "T", "monetary_value"]
            if spend_model is not None
            else ["frequency", "recency", "T"]
        )
        cols = columns(data, names, _ALIASES)
        x, t_x, age = cols[:3]
        check_summary(x, t_x, age)
        out: dict[str, Any] = {
            "customer_id": customer_ids(data),
            "frequency": x,
            "recency": t_x,
            "T": age,
            "p_alive": self._p_alive(x, t_x, age),
            "expected_purchases": self._conditional(np.full_like(x, t), x, t_x, age),
        }
        if spend_model is not None:
            out["expected_spend"] = np.asarray(
                spend_model.conditional_expected_spend(x, cols[3]), dtype=float
            )
            out["clv"] = np.asarray(
                self.customer_lifetime_value(
                    spend_model,
                    x,
                    t_x,
                    age,
                    cols[3],
                    horizon=t if horizon is None else horizon,
                    discount_rate=discount_rate,
                    step=step,
                ),
                dtype=float,
            )
        if is_dataframe(data):
            import pandas as pd

            frame: pd.DataFrame = pd.DataFrame(out, index=data.index)
            return frame
        ids = out.pop("customer_id")
        keys = list(out)
        result = []
        for i in range(len(x)):
            row: dict[str, Any] = {"customer_id": None if ids is None else ids[i]}
            for key in keys:
                v = out[key][i]
                row[key] = int(v) if key == "frequency" else float(v)
            result.append(row)
        return result

    # -- the model-specific formulas, on broadcast float arrays
    def _expected(self, t: Array) -> Array:
        raise NotImplementedError

    def _conditional(self, t: Array, x: Array, t_x: Array, T: Array) -> Array:  # noqa: N803
        raise NotImplementedError

    def _p_alive(self, x: Array, t_x: Array, T: Array) -> Array:  # noqa: N803
        raise NotImplementedError

    def _prob_n(self, n: Array, t: Array) -> Array:
        raise NotImplementedError


# -------------------------------------------------------------------------------------------------- BG/NBD
class BetaGeoModel(TransactionModel):
    """BG/NBD (beta-geometric / negative binomial) model of repeat purchasing.

    While active, a customer buys as a Poisson process with rate λ ~ Gamma(r, alpha) (alpha in the time
    unit of the summary); after each repeat purchase they drop out with probability p ~ Beta(a, b).
    Parameters: ``r``, ``alpha``, ``a``, ``b`` (Fader, Hardie & Lee 2005).

    >>> from custdata.metrics import BetaGeoModel
    >>> m = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> round(m.p_alive(frequency=2, recency=30.43, T=38.86), 3)
    0.727
    """

    _names = ("r", "alpha", "a", "b")
    _label = "BG/NBD"
    _limits = (
        (
            "beta",
            "a",
            "b",
            lambda p: (
                "the data show no heterogeneity in dropout: every customer drops out with the same "
                f"probability a/(a+b) = {p['a'] / (p['a'] + p['b']):.4g} after each purchase, and the "
                "predictions are those of that limit"
            ),
        ),
        _PURCHASE_RATE_LIMIT,
    )
    _near_zero: ClassVar[Mapping[str, str]] = {
        "a": "dropout probabilities are concentrated at 0, so almost no customer ever drops out (the "
        "model is close to an NBD without dropout)",
        "b": "dropout probabilities are concentrated at 1: nearly every customer drops out right after "
        "a purchase",
        "r": _R_NEAR_ZERO,
    }
    _modified: ClassVar[bool] = False

    def _prepare(self, coded: Sequence[tuple[Array, Array]], w: Array) -> Any:
        """Total weight per distinct frequency and per distinct T (and of frequency per T): the terms of
        the likelihood that depend on one column only are summed with these, not row by row."""
        (xu, xi), _, (age_u, age_i) = coded
        w_x = np.bincount(xi, weights=w, minlength=len(xu))
        w_end = np.bincount(age_i, weights=w, minlength=len(age_u))
        wx_end = np.bincount(age_i, weights=w * xu[xi], minlength=len(age_u))
        return coded, w_x, w_end, wx_end

    def _loglik(
        self,
        theta: Array,
        x: Array,
        t_x: Array,
        T: Array,  # noqa: N803
        w: Array,
        coded: Any = None,
    ) -> tuple[float, Array | None]:
        if coded is None:
            coded = self._prepare([(v, np.arange(len(v))) for v in (x, t_x, T)], w)
        ((xu, xi), (tu, ti), (age_u, age_i)), w_x, w_end, wx_end = coded
        r, alpha, a, b = np.exp(theta)
        total_w = float(w_x.sum())
        la = math.log(alpha)
        # per distinct frequency
        d = 1.0 if self._modified else 0.0  # MBG: one more chance to drop out, after the first purchase
        rx_u, bx_u = r + xu, b + xu + d
        abx_u = a + bx_u
        lg_u = special.gammaln(rx_u) + special.gammaln(bx_u) - special.gammaln(abx_u)
        has_u = xu > 0 if not self._modified else np.ones_like(xu, dtype=bool)
        drop_u = np.where(has_u, bx_u - 1.0, 1.0)  # b+x-1 (BG) or b+x (MBG): the dropout term's denominator
        with np.errstate(divide="ignore"):
            odds_u = np.where(has_u, math.log(a) - np.log(drop_u), -np.inf)
        # per distinct T and recency
        log_end_u, inv_end_u = np.log(alpha + age_u), 1.0 / (alpha + age_u)
        lat_u, inv_at_u = np.log(alpha + tu), 1.0 / (alpha + tu)
        # per row: z is the log-odds of "dropped out after the last purchase" against "alive at T"
        rx = r + x
        gap = log_end_u[age_i] - lat_u[ti]
        z = odds_u[xi] + rx * gap
        p4 = special.expit(z)  # the share of the likelihood from "dropped out after the last purchase"
        wp4 = w * p4
        const = -special.gammaln(r) + r * la - special.gammaln(b) + special.gammaln(a + b)
        ll = (
            dot(lg_u, w_x)
            - r * dot(log_end_u, w_end)
            - dot(log_end_u, wx_end)
            + dot(w, _log_add(np.zeros_like(z), z))
            + const * total_w
        )
        dab = special.digamma(a + b)
        dig_abx_u = special.digamma(abx_u)
        g_r = (
            dot(special.digamma(rx_u), w_x)
            - dot(log_end_u, w_end)
            + dot(wp4, gap)
            + (la - special.digamma(r)) * total_w
        )
        g_alpha = (
            r / alpha * total_w
            - r * dot(inv_end_u, w_end)
            - dot(inv_end_u, wx_end)
            + dot(wp4 * rx, inv_end_u[age_i] - inv_at_u[ti])
        )
        g_a = wp4.sum() / a - dot(dig_abx_u, w_x) + dab * total_w
        wp4_x = np.bincount(xi, weights=wp4, minlength=len(xu))
        g_b = (
            dot(special.digamma(bx_u) - dig_abx_u, w_x)
            - dot(1.0 / drop_u, wp4_x)
            + (dab - special.digamma(b)) * total_w
        )
        grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
        return ll, grad

    def _log_odds_dead(self, x: Array, t_x: Array, T: Array) -> Array:  # noqa: N803
        r, alpha, a, b = self._p()
        if self._modified:
            return math.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        safe = np.where(x > 0, b + x - 1.0, 1.0)
        odds = math.log(a) - np.log(safe) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(x > 0, odds, -np.inf)

    def _p_alive(self, x: Array, t_x: Array, T: Array) -> Array:  # noqa: N803
        return special.expit(-self._log_odds_dead(x, t_x, T))

    def _expected(self, t: Array) -> Array:
        r, alpha, a, b = self._p()
        if self._modified:  # alive after the first purchase with probability b / (a + b)
            return b / (a + b) * _bg_expected(t, r, alpha, a, b + 1.0)
        return _bg_expected(t, r, alpha, a, b)

    def _conditional(self, t: Array, x: Array, t_x: Array, T: Array) -> Array:  # noqa: N803
        r, alpha, a, b = self._p()
        # alive now: the future is a fresh BG/NBD process with the posterior parameters
        post = _bg_expected(t, r + x, alpha + T, a, b + x + (1.0 if self._modified else 0.0))
        return self._p_alive(x, t_x, T) * post

    def _prob_n(self, n: Array, t: Array) -> Array:
        r, alpha, a, b = self._p()
        if self._modified:
            return b / (a + b) * _bg_prob_n(n, t, r, alpha, a, b + 1.0) + np.where(n == 0, a / (a + b), 0.0)
        return _bg_prob_n(n, t, r, alpha, a, b)


def _nb_logpmf(n: Any, r: Any, p: Any) -> Any:
    """log of the negative binomial probability Γ(r+n) / (Γ(r) n!) p^r (1-p)^n."""
    with np.errstate(divide="ignore"):
        return (
            special.gammaln(r + n)
            - special.gammaln(r)
            - special.gammaln(n + 1.0)
            + r * np.log(p)
            + n * np.log1p(-p)
        )


def _bg_prob_n(n: Array, t: Array, r: float, alpha: float, a: float, b: float) -> Array:
    """P(X(t) = n) of a BG/NBD customer alive at 0: still alive after n purchases, or dropped out right
    after the n-th (which happened before t)."""
    n, t = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(t, dtype=float))
    p = alpha / (alpha + t)
    with np.errstate(divide="ignore", invalid="ignore"):
        stay = log_beta_ratio(a, b, n) + _nb_logpmf(n, r, p)
        # B(a+1, b+n-1) / B(a, b) = a/(a+b) · B(a+1, b+n-1) / B(a+1, b)
        gone = np.where(
            n > 0,
            math.log(a / (a + b))
            + log_beta_ratio(a + 1.0, b, np.maximum(n - 1.0, 0.0))
            + np.log(special.betainc(np.maximum(n, 1.0), r, 1.0 - p)),  # log P(N >= n)
            -np.inf,
        )
    return np.exp(np.logaddexp(stay, gone))


class ModifiedBetaGeoModel(BetaGeoModel):
    """MBG/NBD: BG/NBD where a customer may also drop out right after the first purchase, so customers
    without repeat purchases are not all assumed alive (Batislam, Denizel & Filiztekin 2007).
    Parameters: ``r``, ``alpha``, ``a``, ``b``.
    """

    _label = "MBG/NBD"
    _modified = True


# ---------------------------------------------------------------------------------------------- Pareto/NBD
class ParetoNBDModel(TransactionModel):
    """Pareto/NBD model: purchases at rate λ ~ Gamma(r, alpha) while active; an exponential lifetime with
    rate μ ~ Gamma(s, beta). Parameters ``r``, ``alpha``, ``s``, ``beta`` (Schmittlein et al. 1987).

    >>> from custdata.metrics import ParetoNBDModel
    >>> m = ParetoNBDModel.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
    >>> round(m.expected_purchases(39), 3)
    1.213
    """

    _names = ("r", "alpha", "s", "beta")
    _label = "Pareto/NBD"
    _limits = (
        (
            "gamma",
            "s",
            "beta",
            lambda p: (
                "the data show no heterogeneity in dropout: every customer's lifetime is exponential "
                f"with the same rate s/beta = {p['s'] / p['beta']:.4g} (mean {p['beta'] / p['s']:.4g} time "
                "units), and the predictions are those of that limit"
            ),
        ),
        _PURCHASE_RATE_LIMIT,
    )
    _near_zero: ClassVar[Mapping[str, str]] = {
        "s": "dropout rates are concentrated at 0, so almost no customer ever drops out",
        "r": _R_NEAR_ZERO,
    }
    _has_grad = False

    @staticmethod
    def _log_g(r: float, alpha: float, s: float, beta: float, x: Array, t: Array) -> Array:
        """log of (r+s+x) ∫_t^∞ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ (the "dropped out after t" integral)."""
        rx = r + x
        c = rx + s + 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            if alpha >= beta:
                f = hyp2f1(1.0, rx, c, (alpha - beta) / (alpha + t))
                value = np.log(f) - rx * np.log(alpha + t) - s * np.log(beta + t)
                m, n, big, small = rx, s + 1.0, alpha + t, beta + t
            else:
                f = hyp2f1(1.0, s + 1.0, c, (beta - alpha) / (beta + t))
                value = np.log(f) - (s + 1.0) * np.log(beta + t) + (1.0 - rx) * np.log(alpha + t)
                m, n, big, small = s + 1.0, rx, beta + t, alpha + t
        value = np.asarray(value, dtype=float)
        bad = ~np.isfinite(value)
        if np.any(bad):  # scipy's hyp2f1 gave up: integrate numerically instead
            parts = (np.broadcast_to(v, value.shape)[bad] for v in (m, n, big, small))
            value = value.copy() if value.ndim else value.reshape(1)
            value[bad.reshape(value.shape)] = _quad.log_pareto_tail(*parts)
        return value

    def _terms(self, *args: Any) -> tuple[Array, Array, Array]:
        """(log constant, log "alive at T" term, log "dropped out in (t_x, T]" term) of the likelihood,
        from (r, alpha, s, beta, x, t_x, T)."""
        r, alpha, s, beta, x, t_x, age = args
        rx = r + x
        const = special.gammaln(rx) - special.gammaln(r) + r * math.log(alpha) + s * math.log(beta)
        alive = -rx * np.log(alpha + age) - s * np.log(beta + age)
        lg_tx = self._log_g(r, alpha, s, beta, x, t_x)
        lg_end = self._log_g(r, alpha, s, beta, x, age)
        with np.errstate(divide="ignore", invalid="ignore"):
            gone = math.log(s) - np.log(rx + s) + _log_diff(lg_tx, lg_end)
        return const, alive, gone

    def _prepare(self, coded: Sequence[tuple[Array, Array]], w: Array) -> Any:
        """The distinct (frequency, recency) and (frequency, T) pairs: the hypergeometric function is
        evaluated once per pair, not once per row."""
        (xu, xi), (tu, ti), (age_u, age_i) = coded
        pairs_t, inv_t = np.unique(xi * len(tu) + ti, return_inverse=True)
        pairs_end, inv_end = np.unique(xi * len(age_u) + age_i, return_inverse=True)
        return (
            coded,
            (xu[pairs_t // len(tu)], tu[pairs_t % len(tu)], inv_t.ravel()),
            (xu[pairs_end // len(age_u)], age_u[pairs_end % len(age_u)], inv_end.ravel()),
        )

    def _loglik(
        self,
        theta: Array,
        x: Array,
        t_x: Array,
        T: Array,  # noqa: N803
        w: Array,
        coded: Any = None,
    ) -> tuple[float, Array | None]:
        r, alpha, s, beta = np.exp(theta)
        if coded is None:
            const, alive, gone = self._terms(r, alpha, s, beta, x, t_x, T)
        else:
            ((xu, xi), _, (age_u, age_i)), (px, pt, inv_t), (qx, qt, inv_end) = coded
            rx = r + x
            const = (
                (special.gammaln(r + xu) - special.gammaln(r))[xi] + r * math.log(alpha) + s * math.log(beta)
            )
            alive = -rx * np.log(alpha + age_u)[age_i] - s * np.log(beta + age_u)[age_i]
            lg_tx = self._log_g(r, alpha, s, beta, px, pt)[inv_t]
            lg_end = self._log_g(r, alpha, s, beta, qx, qt)[inv_end]
            with np.errstate(divide="ignore", invalid="ignore"):
                gone = math.log(s) - np.log(rx + s) + _log_diff(lg_tx, lg_end)
        ll = dot(w, const + _log_add(alive, gone))
        return (ll if math.isfinite(ll) else -1e300), None

    def _p_alive(self, x: Array, t_x: Array, T: Array) -> Array:  # noqa: N803
        _, alive, gone = self._terms(*self._p(), x, t_x, T)
        return np.exp(alive - np.logaddexp(alive, gone))

    @staticmethod
    def _rate_integral(s: float, beta: Array, t: Array) -> Array:
        """The expected time alive within the next t, E[(1 - e^(-μt)) / μ] for μ ~ Gamma(s, β):
        ``β/(s-1) · [1 - (β/(β+t))^(s-1)]`` (``-β log(β/(β+t))`` at s = 1)."""
        y = -np.log1p(t / beta)  # log(β/(β+t)), exact also when β is far larger than t
        if abs(s - 1.0) < 1e-8:
            return -beta * y
        return beta * -np.expm1((s - 1.0) * y) / (s - 1.0)

    def _expected(self, t: Array) -> Array:
        r, alpha, s, beta = self._p()
        return r / alpha * self._rate_integral(s, np.full_like(t, beta), t)

    def _conditional(self, t: Array, x: Array, t_x: Array, T: Array) -> Array:  # noqa: N803
        r, alpha, s, beta = self._p()
        # alive at T: λ ~ Gamma(r+x, α+T), μ ~ Gamma(s, β+T)
        return self._p_alive(x, t_x, T) * (r + x) / (alpha + T) * self._rate_integral(s, beta + T, t)

    def _prob_n(self, n: Array, t: Array) -> Array:
        from scipy import integrate  # only here: importing it costs most of a second

        r, alpha, s, beta = self._p()

        def one(k: float, tt: float) -> float:
            # in logs: with s and β in the millions β^s overflows
            alive = math.exp(-s * math.log1p(tt / beta) + _nb_logpmf(k, r, alpha / (alpha + tt)))

            def died_at(tau: float) -> float:  # dropped out at τ after exactly k purchases
                log_density = math.log(s / beta) - (s + 1.0) * math.log1p(tau / beta)
                return math.exp(log_density + _nb_logpmf(k, r, alpha / (alpha + tau)))

            # the dropout density falls off on the scale β/s: give quad that point
            knee = min(tt, beta / s)
            gone = sum(
                integrate.quad(died_at, lo, hi, limit=200, epsabs=1e-15, epsrel=1e-11)[0]
                for lo, hi in ((0.0, knee), (knee, tt))
                if hi > lo
            )
            return float(alive + gone)

        return np.vectorize(one, otypes=[float])(n, t)
