"""Quadrature fallbacks for the few points where scipy's ``hyp2f1`` gives up.

``scipy.special.hyp2f1`` returns NaN for some large parameters with z close to 1 (heavy buyers whose
dropout or purchase rates differ by orders of magnitude). There the same quantities are computed as
one-dimensional integrals, in log space, with Gauss-Legendre rules on geometrically growing panels so
both sharp peaks near an end and long tails are resolved. Vectorised over the failing points.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from custdata.metrics._models._base import Array

_X, _W = np.polynomial.legendre.leggauss(16)


def _panels(length: Array, first: float = 1e-7) -> tuple[Array, Array]:
    """Nodes and weights for ∫_0^L on panels [0, h], [h, 2h], [2h, 4h] … (per point: L varies)."""
    length = np.asarray(length, dtype=float)
    n_panels = int(np.ceil(np.log2(max(float(np.max(length)), first) / first))) + 1
    edges = np.concatenate([[0.0], first * 2.0 ** np.arange(n_panels)])  # (P+1,)
    lo = np.minimum(edges[:-1][:, None], length[None, :])  # (P, N)
    hi = np.minimum(edges[1:][:, None], length[None, :])
    half = (hi - lo) / 2.0
    nodes = (lo + half)[:, None, :] + half[:, None, :] * _X[None, :, None]  # (P, 16, N)
    weights = half[:, None, :] * _W[None, :, None]
    return nodes.reshape(-1, len(length)), weights.reshape(-1, len(length))


def _log_integral(log_f: Array, weights: Array) -> Array:
    """log Σ w f from log f, column by column (zero-width panels carry zero weight)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logw = np.where(weights > 0, np.log(np.where(weights > 0, weights, 1.0)), -np.inf)
        terms = np.where(np.isfinite(log_f) | (log_f == -np.inf), log_f, -np.inf) + logw
    return np.asarray(special.logsumexp(terms, axis=0))


def log_pareto_tail(m: Array, n: Array, big: Array, small: Array) -> Array:
    """log of (m+n-1) ∫_t^∞ (A+τ)^-m (B+τ)^-n dτ, given ``big = A+t`` > ``small = B+t`` (A > B).

    With u = (B+τ)/(A+τ) the integral is (A-B)^(1-m-n) ∫_{u_t}^1 u^-n (1-u)^(m+n-2) du, and y = ln(u/u_t)
    turns that into a smooth integral over [0, ln(1/u_t)].
    """
    m, n, big, small = np.broadcast_arrays(*(np.asarray(v, dtype=float).ravel() for v in (m, n, big, small)))
    log_ut = np.log(small) - np.log(big)
    nodes, weights = _panels(-log_ut)
    log_u = log_ut[None, :] + nodes
    with np.errstate(divide="ignore", invalid="ignore"):
        log_f = (1.0 - n) * log_u + (m + n - 2.0) * np.log(-np.expm1(log_u))
    log_i = _log_integral(log_f, weights)
    return np.log(m + n - 1.0) + (1.0 - m - n) * np.log(big - small) + log_i


def bg_expected(t: Array, r: Array, alpha: Array, a: float, b: Array) -> Array:
    """E[X(t)] of a BG/NBD customer alive at 0, as ∫ Beta(p; a, b) (1 - (α/(α+pt))^r) / p dp.

    Given p the purchases until dropout are geometric and E[X(t) | λ, p] = (1 - e^(-λpt)) / p; averaging
    over λ ~ Gamma(r, α) gives the integrand. With p = e^-y the integral runs over [0, ∞) without
    singularities; it is cut where the integrand is below 1e-300 of its size.
    """
    t, r, alpha, b = np.broadcast_arrays(*(np.asarray(v, dtype=float).ravel() for v in (t, r, alpha, b)))
    upper = np.full(len(t), 800.0 / min(a, 1.0) + 50.0)
    nodes, weights = _panels(upper)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = -nodes
        log_1mp = np.log(-np.expm1(-nodes))
        p = np.exp(log_p)
        h = -np.expm1(-r * np.log1p(p * t / alpha))  # 1 - (α/(α+pt))^r
        log_f = (a - 1.0) * log_p + (b - 1.0) * log_1mp + np.log(h)
    out = np.exp(_log_integral(log_f, weights) - special.betaln(a, b))
    return np.asarray(np.where(t > 0, out, 0.0))
