"""Quadrature for the points where scipy's ``hyp2f1`` gives up or cannot be trusted.

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


_GX, _GW = np.polynomial.legendre.leggauss(64)
_TX, _TW = np.polynomial.legendre.leggauss(24)


def _log_rate_part(log_p: Array, r: Array, u: Array) -> Array:
    """log(1 - (1 + p u)^-r): the chance that a customer dropping out at rate λp bought, averaged over λ."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.log(-np.expm1(-r * np.log1p(np.exp(log_p) * u)))


def _log_integrand(y: Array, a: Array, b: Array, r: Array, u: Array) -> Array:
    """log of p^a (1-p)^b (1 - (1+pu)^-r) / p at p = logistic(y) (the BG/NBD integrand over y = logit p)."""
    log_p = -np.logaddexp(0.0, -y)
    log_q = -np.logaddexp(0.0, y)
    return (a - 1.0) * log_p + b * log_q + _log_rate_part(log_p, r, u)


def _legendre(lo: Array, hi: Array, x: Array, w: Array) -> tuple[Array, Array]:
    half = (hi - lo) / 2.0
    return lo + half * (x[:, None] + 1.0), half * w[:, None]


def bg_expected(t: Array, r: Array, alpha: Array, a: Array, b: Array) -> Array:
    """E[X(t)] of a BG/NBD customer alive at 0: ∫ Beta(p; a, b) (1 - (α/(α+pt))^r) / p dp.

    Given the dropout probability p, the purchases until dropout are geometric and, averaged over the
    purchase rate λ ~ Gamma(r, α), E[X(t) | p] = (1 - (α/(α+pt))^r) / p. The integral is split where
    the integrand changes character, each part in the variable that makes it smooth, so concentrated
    betas (large a and b, where the closed form's hypergeometric function overflows) and slowly
    decaying ones (a or b far below 1) are both exact to about 1e-7:

    * the middle, over y = logit(p), centred on the integrand's peak and stretched by y = c + w·sinh(s)
      so a peak of width 1e-3 and a tail 40 units long are both resolved (Gauss-Legendre in s);
    * below p_L, p = p_L·v^(1/a): there (1-p)^(b-1) and the rest are smooth in v (p^(a-1) is absorbed);
    * above p_R, 1-p = (1-p_R)·v^(1/b), likewise.

    Everything is summed in log space. Vectorised; about 300 integrand evaluations per point.
    """
    t, r, alpha, a, b = np.broadcast_arrays(
        *(np.asarray(v, dtype=float).ravel() for v in (t, r, alpha, a, b))
    )
    n = len(t)
    u = t / alpha
    # beyond p_L and p_R the integrand is a power of p (or of 1-p) times a factor smooth in v
    p_l = 0.25 / (1.0 + np.abs(b - 1.0) + (r + 1.0) * u)
    q_r = 0.25 / (1.0 + np.abs(a - 1.0) + r * u / (1.0 + u))  # 1 - p_R
    y_lo = np.log(p_l) - np.log1p(-p_l)
    y_hi = np.log1p(-q_r) - np.log(q_r)
    # the integrand's peak (coarse search from the beta's mode) and its width (curvature there)
    sig = np.sqrt(1.0 / a + 1.0 / b)
    y0 = np.clip(np.log(a) - np.log(b), y_lo, y_hi)
    s_lo, s_hi = np.arcsinh((y_lo - y0) / sig), np.arcsinh((y_hi - y0) / sig)
    coarse = y0 + sig * np.sinh(s_lo + (s_hi - s_lo) * np.linspace(0.0, 1.0, 97)[:, None])
    yc = coarse[np.argmax(_log_integrand(coarse, a, b, r, u), axis=0), np.arange(n)]
    d = np.minimum(sig, 1.0) * 1e-3
    curv = (
        -(
            _log_integrand(yc + d, a, b, r, u)
            - 2 * _log_integrand(yc, a, b, r, u)
            + _log_integrand(yc - d, a, b, r, u)
        )
        / d**2
    )
    width = np.minimum(np.where(curv > 0, 1.0 / np.sqrt(np.abs(curv)), sig), sig)
    terms = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for end in (y_lo, y_hi):
            s, ws = _legendre(np.zeros(n), np.arcsinh((end - yc) / width), _GX, _GW)
            y = yc + width * np.sinh(s)
            terms.append(_log_integrand(y, a, b, r, u) + np.log(np.abs(ws) * width * np.cosh(s)))
        v, wv = _legendre(np.zeros(n), np.ones(n), _TX, _TW)
        log_p = np.log(p_l) + np.log(v) / a  # left tail
        terms.append(
            a * np.log(p_l)
            - np.log(a)
            + np.log(wv)
            + (b - 1.0) * np.log1p(-np.exp(log_p))
            + _log_rate_part(log_p, r, u)
            - log_p
        )
        log_q = np.log(q_r) + np.log(v) / b  # right tail
        log_p = np.log1p(-np.exp(log_q))
        terms.append(
            b * np.log(q_r) - np.log(b) + np.log(wv) + (a - 1.0) * log_p + _log_rate_part(log_p, r, u) - log_p
        )
    total = special.logsumexp(np.vstack(terms), axis=0)
    return np.asarray(np.where(t > 0, np.exp(total - special.betaln(a, b)), 0.0))
