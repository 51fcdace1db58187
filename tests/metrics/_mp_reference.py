"""mpmath references for every prediction of every CLV model, at 30 significant digits (60 for the closed forms that cancel).

Independent of the library: no scipy, no numpy, none of its rewrites. Each quantity is either the
published closed form (evaluated in arbitrary precision, where the double-precision version overflows or
cancels) or, where a closed form is ill-conditioned even in mpmath (concentrated betas, heavy buyers),
the model's defining integral by mpmath's tanh-sinh quadrature, split at the points where the integrand
changes scale.
"""

from __future__ import annotations

import mpmath as mp

DPS = 30


def _mpf(*values: float) -> list[mp.mpf]:
    return [mp.mpf(float(v)) for v in values]


# ----------------------------------------------------------------------------------------------- BG/NBD
def _beta_points(a: mp.mpf, b: mp.mpf, extra: list[mp.mpf]) -> list[mp.mpf]:
    """Break points for ∫_0^1 of a Beta(a, b)-weighted integrand: around the mode at 1, 4, 10, 30 sd."""
    mean = a / (a + b)
    sd = mp.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    pts = {mp.mpf(0), mp.mpf(1), mean}
    for k in (1, 4, 10, 30):
        pts.update({mean - k * sd, mean + k * sd})
    pts.update(extra)
    return sorted(p for p in pts if 0 <= p <= 1)


def bg_expected(t: float, r: float, alpha: float, a: float, b: float, modified: bool = False) -> float:
    """E[X(t)] of a new BG/NBD (or MBG/NBD) customer: E over p ~ Beta(a, b) of (1 - (α/(α+pt))^r)/p,
    times (1 - p) for MBG (who may leave at time 0). The model's definition, integrated.

    A shape below 1 makes the beta's end singular; then it is removed by substitution (p = v^(1/a) on
    [0, 1/2] when a < 1, 1 - p = v^(1/b) on [1/2, 1] when b < 1). Break points go around the beta's mode
    and where the integrand changes scale.
    """
    with mp.workdps(DPS):
        t_, r_, al, a_, b_ = _mpf(t, r, alpha, a, b)
        if t_ == 0:
            return 0.0
        u = t_ / al
        log_norm = mp.log(mp.beta(a_, b_))
        half = mp.mpf(1) / 2

        def h(p: mp.mpf, log_p: mp.mpf, log_q: mp.mpf) -> mp.mpf:
            """The integrand without p^(a-1) (1-p)^(b-1), times p^(a-1) or (1-p)^(b-1) when asked."""
            g = -mp.expm1(-r_ * mp.log1p(p * u)) / p
            return g * (1 - p) if modified else g

        def left(v: mp.mpf) -> mp.mpf:  # p = v^(1/a): p^(a-1) dp = dv / a
            if v <= 0:
                return mp.mpf(0)
            log_p = mp.log(v) / a_
            p = mp.exp(log_p)
            return h(p, log_p, mp.log1p(-p)) * mp.exp((b_ - 1) * mp.log1p(-p) - log_norm) / a_

        def right(v: mp.mpf) -> mp.mpf:  # 1 - p = v^(1/b)
            if v <= 0:
                return mp.mpf(0)
            log_q = mp.log(v) / b_
            p = -mp.expm1(log_q)
            if p <= 0:
                return mp.mpf(0)
            return h(p, mp.log(p), log_q) * mp.exp((a_ - 1) * mp.log(p) - log_norm) / b_

        knee = 1 / (1 + r_ * u)
        pts = [p for p in _beta_points(a_, b_, [knee / 10, knee, 10 * knee]) if 0 < p < 1]

        def plain(p: mp.mpf) -> mp.mpf:
            if p <= 0 or p >= 1:
                return mp.mpf(0)
            return h(p, mp.log(p), mp.log1p(-p)) * mp.exp(
                (a_ - 1) * mp.log(p) + (b_ - 1) * mp.log1p(-p) - log_norm
            )

        lower = sorted({mp.mpf(0), half, *(p for p in pts if p < half)})
        upper = sorted({half, mp.mpf(1), *(p for p in pts if p > half)})
        total = mp.mpf(0)
        if a_ < 1:
            total += mp.quad(left, sorted({p**a_ for p in lower}))
        else:
            total += mp.quad(plain, lower)
        if b_ < 1:
            total += mp.quad(right, sorted({(1 - p) ** b_ for p in upper}))
        else:
            total += mp.quad(plain, upper)
        return float(total)


def bg_expected_closed_form(t: float, r: float, alpha: float, a: float, b: float) -> float:
    """Fader, Hardie & Lee (2005) eq. (7), as printed, at 60 digits (only where mpmath's 2F1 converges)."""
    with mp.workdps(60):
        t_, r_, al, a_, b_ = _mpf(t, r, alpha, a, b)
        z = t_ / (al + t_)
        return float(
            (a_ + b_ - 1) / (a_ - 1) * (1 - (al / (al + t_)) ** r_ * mp.hyp2f1(r_, b_, a_ + b_ - 1, z))
        )


def bg_p_alive(
    x: int, t_x: float, T: float, r: float, alpha: float, a: float, b: float, modified: bool
) -> float:
    """FHL (2005) eq. (A.?) P(alive | x, t_x, T); Batislam et al. (2007) for MBG/NBD."""
    with mp.workdps(DPS):
        x_, tx, T_, r_, al, a_, b_ = _mpf(x, t_x, T, r, alpha, a, b)
        ratio = ((al + T_) / (al + tx)) ** (r_ + x_)
        if modified:
            return float(1 / (1 + a_ / (b_ + x_) * ratio))
        if x == 0:
            return 1.0
        return float(1 / (1 + a_ / (b_ + x_ - 1) * ratio))


def bg_conditional(
    t: float,
    x: int,
    t_x: float,
    T: float,
    r: float,
    alpha: float,
    a: float,
    b: float,
    modified: bool,
) -> float:
    """E[X(T, T+t) | x, t_x, T]: P(alive) times the expected purchases of a customer alive at T, whose λ
    and p have the posterior Gamma(r+x, α+T) and Beta(a, b+x) (b+x+1 for MBG)."""
    alive = bg_p_alive(x, t_x, T, r, alpha, a, b, modified)
    post = bg_expected(t, r + x, alpha + T, a, b + x + (1 if modified else 0))
    return alive * post


def bg_conditional_closed_form(
    t: float, x: int, t_x: float, T: float, r: float, alpha: float, a: float, b: float
) -> float:
    """FHL (2005) eq. (10), as printed, at 60 digits."""
    with mp.workdps(60):
        t_, x_, tx, T_, r_, al, a_, b_ = _mpf(t, x, t_x, T, r, alpha, a, b)
        z = t_ / (al + T_ + t_)
        num = (
            (a_ + b_ + x_ - 1)
            / (a_ - 1)
            * (
                1
                - ((al + T_) / (al + T_ + t_)) ** (r_ + x_) * mp.hyp2f1(r_ + x_, b_ + x_, a_ + b_ + x_ - 1, z)
            )
        )
        den = 1 + (a_ / (b_ + x_ - 1) * ((al + T_) / (al + tx)) ** (r_ + x_) if x > 0 else 0)
        return float(num / den)


def _nb_pmf(n: int, r: mp.mpf, p: mp.mpf) -> mp.mpf:
    """Γ(r+n)/(Γ(r) n!) p^r (1-p)^n."""
    return mp.exp(mp.loggamma(r + n) - mp.loggamma(r) - mp.loggamma(n + 1)) * p**r * (1 - p) ** n


def bg_prob_n(n: int, t: float, r: float, alpha: float, a: float, b: float, modified: bool) -> float:
    """P(X(t) = n) for a new customer: FHL (2005) eq. (8) (its finite sum for P(N >= n)); for MBG the
    same reasoning with one more chance to leave, at time 0."""
    with mp.workdps(DPS):
        t_, r_, al, a_, b_ = _mpf(t, r, alpha, a, b)
        p = al / (al + t_)
        tail = mp.betainc(n, r_, 0, 1 - p, regularized=True) if n else mp.mpf(1)  # P(N >= n)
        lb = mp.log(mp.beta(a_, b_))
        k = 1 if modified else 0
        stay = mp.exp(mp.log(mp.beta(a_, b_ + n + k)) - lb) * _nb_pmf(n, r_, p)
        if n == 0:
            gone = a_ / (a_ + b_) if modified else mp.mpf(0)
        else:
            gone = mp.exp(mp.log(mp.beta(a_ + 1, b_ + n - 1 + k)) - lb) * tail
        return float(stay + gone)


# -------------------------------------------------------------------------------------------- Pareto/NBD
def pareto_expected(t: float, r: float, alpha: float, s: float, beta: float) -> float:
    """Schmittlein et al. (1987): E[X(t)] = rβ / (α(s-1)) [1 - (β/(β+t))^(s-1)]."""
    with mp.workdps(DPS):
        t_, r_, al, s_, be = _mpf(t, r, alpha, s, beta)
        if s_ == 1:
            return float(r_ * be / al * mp.log((be + t_) / be))
        return float(r_ * be / (al * (s_ - 1)) * (1 - (be / (be + t_)) ** (s_ - 1)))


def pareto_p_alive(x: int, t_x: float, T: float, r: float, alpha: float, s: float, beta: float) -> float:
    """Fader & Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions", eq. (11)
    with A_0 from eqs. (12)-(13) (the 2F1(r+s+x, ·; r+s+x+1; ·) form)."""
    with mp.workdps(60):
        x_, tx, T_, r_, al, s_, be = _mpf(x, t_x, T, r, alpha, s, beta)
        c = r_ + s_ + x_
        if al >= be:
            big, b2 = al, s_ + 1

            def term(tt: mp.mpf) -> mp.mpf:
                return mp.hyp2f1(c, b2, c + 1, (big - be) / (big + tt)) / (big + tt) ** c
        else:
            big, b2 = be, r_ + x_

            def term(tt: mp.mpf) -> mp.mpf:
                return mp.hyp2f1(c, b2, c + 1, (big - al) / (big + tt)) / (big + tt) ** c

        a0 = term(tx) - term(T_)
        return float(1 / (1 + s_ / c * (al + T_) ** (r_ + x_) * (be + T_) ** s_ * a0))


def pareto_conditional(
    t: float, x: int, t_x: float, T: float, r: float, alpha: float, s: float, beta: float
) -> float:
    """Fader & Hardie (2005) eq. (22): (r+x)(β+T) / ((α+T)(s-1)) [1 - ((β+T)/(β+T+t))^(s-1)] P(alive)."""
    with mp.workdps(DPS):
        t_, x_, T_, r_, al, s_, be = _mpf(t, x, T, r, alpha, s, beta)
        if s_ == 1:
            rate = (r_ + x_) / (al + T_) * (be + T_) * mp.log((be + T_ + t_) / (be + T_))
        else:
            rate = (
                (r_ + x_)
                * (be + T_)
                / ((al + T_) * (s_ - 1))
                * (1 - ((be + T_) / (be + T_ + t_)) ** (s_ - 1))
            )
    return float(rate) * pareto_p_alive(x, t_x, T, r, alpha, s, beta)


def pareto_prob_n(n: int, t: float, r: float, alpha: float, s: float, beta: float) -> float:
    """P(X(t) = n): alive at t (prob (β/(β+t))^s) with an NBD count, or dead at τ < t (Lomax(s, β)
    density) with the NBD count up to τ; the τ integral by mpmath quadrature."""
    with mp.workdps(30):
        t_, r_, al, s_, be = _mpf(t, r, alpha, s, beta)
        alive = (be / (be + t_)) ** s_ * _nb_pmf(n, r_, al / (al + t_))

        def died(tau: mp.mpf) -> mp.mpf:
            return s_ * be**s_ / (be + tau) ** (s_ + 1) * _nb_pmf(n, r_, al / (al + tau))

        return float(alive + mp.quad(died, [0, min(t_, be / s_), t_]))


# ------------------------------------------------------------------------------------------ Gamma-Gamma
def gg_conditional_spend(x: int, m: float, p: float, q: float, v: float) -> float:
    """Fader & Hardie note 025 eq. (5): a weighted mean of the population mean pv/(q-1) and the
    customer's mean m, with weight px/(px+q-1) on the latter."""
    with mp.workdps(DPS):
        x_, m_, p_, q_, v_ = _mpf(x, m, p, q, v)
        w = p_ * x_ / (p_ * x_ + q_ - 1)
        return float((1 - w) * p_ * v_ / (q_ - 1) + w * m_)


def gg_expected_spend(p: float, q: float, v: float) -> float:
    with mp.workdps(DPS):
        p_, q_, v_ = _mpf(p, q, v)
        return float(p_ * v_ / (q_ - 1))


# ---------------------------------------------------------------------------------------------------- sBG
def sbg_survival(t: int, a: float, b: float) -> float:
    """Fader & Hardie (2007) eq. (3): S(t) = B(a, b+t) / B(a, b)."""
    with mp.workdps(DPS):
        a_, b_ = _mpf(a, b)
        return float(mp.beta(a_, b_ + t) / mp.beta(a_, b_))


def sbg_churn(t: int, a: float, b: float) -> float:
    """Eq. (2): P(T = t) = B(a+1, b+t-1) / B(a, b)."""
    with mp.workdps(DPS):
        a_, b_ = _mpf(a, b)
        return float(mp.beta(a_ + 1, b_ + t - 1) / mp.beta(a_, b_))


def sbg_retention(t: int, a: float, b: float) -> float:
    """Eq. (4): r_t = S(t) / S(t-1)."""
    with mp.workdps(DPS):
        a_, b_ = _mpf(a, b)
        return float(mp.beta(a_, b_ + t) / mp.beta(a_, b_ + t - 1))


def sbg_future_renewals(n: int, a: float, b: float, discount_rate: float) -> float:
    """Σ_{k>=1} S(n+k)/S(n) / (1+d)^k, summed by mpmath; without discounting the terms fall off only
    as k^-a, too slowly for nsum, and mpmath's 2F1(1, b+n; a+b+n; 1) - 1 (Gauss's sum) is used."""
    with mp.workdps(DPS):
        a_, b_, d = _mpf(a, b, discount_rate)
        if d == 0:
            return float(mp.hyp2f1(1, b_ + n, a_ + b_ + n, 1) - 1)
        base = mp.beta(a_, b_ + n)
        return float(mp.nsum(lambda k: mp.beta(a_, b_ + n + k) / base / (1 + d) ** k, [1, mp.inf]))
