"""Independent reference computations for the CLV models.

Nothing here uses the closed forms the library implements (no hypergeometric functions, no conjugate
algebra beyond the model's definition): each quantity is the model's definition integrated numerically
over the gamma and beta mixing distributions with scipy.integrate.quad. Slow, so only a few points are
checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from scipy import integrate, special

EPS = {"epsabs": 0.0, "epsrel": 1e-10, "limit": 400}


def count_until_leaving(lam: float, p: float, t: float) -> float:
    """E[purchases in t | λ, p] = (1 - e^(-λpt)) / p (λt in the limit p -> 0)."""
    return -math.expm1(-lam * p * t) / p if p > 0 else lam * t


def gamma_mix(phi: Callable[[float], float], k: float, c: float) -> float:
    """∫_0^∞ φ(λ) λ^(k-1) e^(-cλ) dλ / (Γ(k) c^-k): E[φ(λ)] for λ ~ Gamma(k, rate c), by quadrature.

    Substituting λ = u^(1/k) / c removes the singularity at 0 when k < 1.
    """

    def f(u: float) -> float:
        lam = u ** (1.0 / k) / c
        return phi(lam) * math.exp(-(u ** (1.0 / k)))

    val, _ = integrate.quad(f, 0.0, math.inf, **EPS)
    return val / (k * math.gamma(k)) if k < 170 else val / math.exp(math.log(k) + special.gammaln(k))


def beta_mix(phi: Callable[[float], float], a: float, b: float) -> float:
    """E[φ(p)] for p ~ Beta(a, b), using quad's algebraic weight for the endpoint singularities."""
    val, _ = integrate.quad(phi, 0.0, 1.0, weight="alg", wvar=(a - 1.0, b - 1.0), **EPS)
    return val / math.exp(special.betaln(a, b))


# ----------------------------------------------------------------------------------------------- BG/NBD
def bg_joint(
    x: int, t_x: float, T: float, modified: bool = False
) -> Callable[[float, float], tuple[float, float]]:
    """(alive part, total) of the likelihood of a history given λ and p, scaled by λ^-x."""

    def f(lam: float, p: float) -> tuple[float, float]:
        stay = (1 - p) ** (x + (1 if modified else 0)) * math.exp(-lam * T)
        if modified:
            gone = p * (1 - p) ** x * math.exp(-lam * t_x)
        else:
            gone = p * (1 - p) ** (x - 1) * math.exp(-lam * t_x) if x > 0 else 0.0
        return stay, stay + gone

    return f


def bg_expected(t: float, r: float, alpha: float, a: float, b: float, modified: bool = False) -> float:
    """E[X(t)] of a new customer: E over λ, p of the expected count given them.

    Given λ and p the customer buys at rate λ and leaves after each purchase with probability p, so the
    number of purchases up to leaving is geometric and E[X(t) | λ, p] = (1 - e^(-λ p t)) / p.
    MBG/NBD also loses the customer at time 0 with probability p.
    """

    def given(p: float) -> float:
        alive = 1 - p if modified else 1.0
        return alive * gamma_mix(lambda lam: count_until_leaving(lam, p, t), r, alpha)

    return beta_mix(given, a, b)


def bg_posterior(
    x: int, t_x: float, T: float, r: float, alpha: float, a: float, b: float, t: float, modified: bool = False
) -> tuple[float, float]:
    """(P(alive), E[purchases in the next t]) by integrating over the posterior of λ and p."""
    joint = bg_joint(x, t_x, T, modified)

    def inner(p: float, which: int) -> float:
        def phi(lam: float) -> float:
            stay, total = joint(lam, p)
            if which == 0:
                return total
            if which == 1:
                return stay
            return stay * count_until_leaving(lam, p, t)

        return gamma_mix(phi, r + x, alpha)  # λ^x folded into the gamma shape

    den = beta_mix(lambda p: inner(p, 0), a, b)
    alive = beta_mix(lambda p: inner(p, 1), a, b)
    future = beta_mix(lambda p: inner(p, 2), a, b)
    return alive / den, future / den


def bg_prob_n_by_simulation_free_sum(n: int, t: float, r: float, alpha: float, a: float, b: float) -> float:
    """P(X(t) = n) of a new BG/NBD customer, by integrating the conditional probability over λ and p.

    Given λ, p: the customer is still alive after n purchases with Poisson(λt) = n and (1-p)^n, or left
    right after the n-th purchase, which came before t: p (1-p)^(n-1) P(Poisson(λt) >= n).
    """

    def given(p: float) -> float:
        def phi(lam: float) -> float:
            mu = lam * t
            pois = math.exp(-mu + n * math.log(mu) - math.lgamma(n + 1)) if mu > 0 else float(n == 0)
            at_least = special.gammainc(n, mu) if n > 0 else 1.0
            return (1 - p) ** n * pois + (p * (1 - p) ** (n - 1) * at_least if n > 0 else 0.0)

        return gamma_mix(phi, r, alpha)

    return beta_mix(given, a, b)


# -------------------------------------------------------------------------------------------- Pareto/NBD
def pareto_expected(t: float, r: float, alpha: float, s: float, beta: float) -> float:
    """E[X(t)] = E[λ] E[(1 - e^(-μt)) / μ]: purchases at rate λ until an exponential(μ) death."""
    return (r / alpha) * gamma_mix(lambda mu: -math.expm1(-mu * t) / mu, s, beta)


def pareto_posterior(
    x: int, t_x: float, T: float, r: float, alpha: float, s: float, beta: float, t: float
) -> tuple[float, float]:
    """(P(alive), E[purchases in the next t]) by integrating over the posterior of λ and μ.

    Given λ, μ (λ^x dropped, folded into the gamma shape): alive at T: e^(-(λ+μ)T); died at τ in
    (t_x, T]: μ e^(-(λ+μ)τ) integrated = μ/(λ+μ) (e^(-(λ+μ)t_x) - e^(-(λ+μ)T)).
    """

    def inner(mu: float, which: int) -> float:
        def phi(lam: float) -> float:
            stay = math.exp(-(lam + mu) * T)
            if which == 1:
                return stay
            if which == 2:
                return stay * lam * -math.expm1(-mu * t) / mu
            gone = mu / (lam + mu) * (math.exp(-(lam + mu) * t_x) - stay)
            return stay + gone

        return gamma_mix(phi, r + x, alpha)

    den = gamma_mix(lambda mu: inner(mu, 0), s, beta)
    alive = gamma_mix(lambda mu: inner(mu, 1), s, beta)
    future = gamma_mix(lambda mu: inner(mu, 2), s, beta)
    return alive / den, future / den


# ------------------------------------------------------------------------------------------- Gamma-Gamma
def gg_conditional_spend(x: int, m: float, p: float, q: float, v: float) -> float:
    """E[p/ν | x transactions of mean m]: the posterior of ν is proportional to the Gamma(q, v) prior times
    the Gamma(px, ν) density of the total x·m, integrated numerically."""

    def like(nu: float) -> float:  # ν^(px) e^(-ν x m), the part of the total's density that depends on ν
        return math.exp(p * x * math.log(nu) - nu * x * m)

    den = gamma_mix(like, q, v)
    num = gamma_mix(lambda nu: like(nu) * p / nu, q, v)
    return num / den


# ---------------------------------------------------------------------------------------------------- sBG
def sbg_survival(t: int, a: float, b: float) -> float:
    """S(t) = E[(1-θ)^t] for θ ~ Beta(a, b)."""
    return beta_mix(lambda th: (1 - th) ** t, a, b)
