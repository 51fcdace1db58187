"""Hypothesis properties of the CLV models over random parameters and histories."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as hs

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

from custdata import metrics  # noqa: E402

positive = hs.floats(0.05, 20.0)
MODELS = {
    metrics.BetaGeoModel: ("r", "alpha", "a", "b"),
    metrics.ModifiedBetaGeoModel: ("r", "alpha", "a", "b"),
    metrics.ParetoNBDModel: ("r", "alpha", "s", "beta"),
}


@hs.composite
def models(draw: hs.DrawFn) -> metrics.BetaGeoModel | metrics.ParetoNBDModel:
    cls = draw(hs.sampled_from(list(MODELS)))
    return cls.from_params(**{k: draw(positive) for k in MODELS[cls]})


@hs.composite
def histories(draw: hs.DrawFn) -> tuple[int, float, float]:
    T = draw(hs.floats(0.0, 200.0))
    x = draw(hs.integers(0, 500))
    t_x = 0.0 if x == 0 else draw(hs.floats(0.0, 1.0)) * T
    return x, t_x, T


@given(models(), histories())
def test_property_p_alive_is_a_probability(
    model: metrics.BetaGeoModel, history: tuple[int, float, float]
) -> None:
    p = model.p_alive(*history)
    assert 0.0 <= p <= 1.0


@given(models(), histories(), hs.floats(0.01, 100.0), hs.floats(1.01, 10.0))
def test_property_expected_purchases_increase_with_t(
    model: metrics.BetaGeoModel, history: tuple[int, float, float], t: float, factor: float
) -> None:
    e1 = model.expected_purchases(t)
    e2 = model.expected_purchases(t * factor)
    # two methods meet here (closed form, integral exact to ~1e-7): monotone up to that
    assert math.isfinite(e2) and e2 >= e1 - 1e-7 * max(1.0, abs(e1))
    c1 = model.conditional_expected_purchases(t, *history)
    c2 = model.conditional_expected_purchases(t * factor, *history)
    assert math.isfinite(c2) and c1 >= 0 and c2 >= c1 - 1e-7 * max(1.0, c1)


@given(models(), hs.lists(histories(), min_size=1, max_size=5), hs.floats(0.1, 100.0))
def test_property_json_round_trip_gives_identical_predictions(
    model: metrics.BetaGeoModel, hist: list[tuple[int, float, float]], t: float
) -> None:
    again = type(model).from_json(model.to_json())
    x, t_x, T = (list(v) for v in zip(*hist, strict=True))
    assert again.p_alive(x, t_x, T) == model.p_alive(x, t_x, T)
    assert again.conditional_expected_purchases(t, x, t_x, T) == model.conditional_expected_purchases(
        t, x, t_x, T
    )
    assert again.expected_purchases(t) == model.expected_purchases(t)


@given(
    hs.floats(0.5, 20.0),
    hs.floats(1.05, 20.0),
    hs.floats(0.5, 200.0),
    hs.integers(0, 50),
    hs.floats(0.01, 1e4),
)
def test_property_gamma_gamma_spend_lies_between_the_population_and_customer_means(
    p: float, q: float, v: float, x: int, m: float
) -> None:
    gg = metrics.GammaGammaModel.from_params(p=p, q=q, v=v)
    got = gg.conditional_expected_spend(x, m)
    lo, hi = sorted([gg.expected_spend, m if x else gg.expected_spend])
    assert lo * (1 - 1e-9) <= got <= hi * (1 + 1e-9)
    assert metrics.GammaGammaModel.from_json(gg.to_json()).conditional_expected_spend(x, m) == got


def test_fitted_models_round_trip_through_json() -> None:
    """Round trip of a fitted model (with standard errors and log-likelihood), on simulated data."""
    rng = np.random.default_rng(7)
    n = 3000
    lam = rng.gamma(0.5, 1 / 5.0, n)
    p = rng.beta(1.0, 3.0, n)
    T = rng.uniform(20, 40, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    for i in range(n):  # the BG/NBD story, one customer at a time
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p[i]:
                break
    for cls in (metrics.BetaGeoModel, metrics.ModifiedBetaGeoModel, metrics.ParetoNBDModel):
        m = cls().fit(frequency=x, recency=t_x, T=T)
        again = cls.from_json(m.to_json())
        assert again.params == m.params and again.standard_errors == m.standard_errors
        assert np.array_equal(again.p_alive(x, t_x, T), m.p_alive(x, t_x, T))
    bg = metrics.BetaGeoModel().fit(frequency=x, recency=t_x, T=T)
    # the simulated truth is recovered within a few standard errors
    for k, want in {"r": 0.5, "alpha": 5.0, "a": 1.0, "b": 3.0}.items():
        assert abs(bg.params[k] - want) < 4 * bg.standard_errors[k], (k, bg)


@given(
    hs.floats(0.01, 3000.0),
    hs.floats(0.05, 500.0),
    hs.floats(0.02, 1e6),
    hs.floats(0.02, 1e6),
    hs.floats(1e-3, 1e4),
)
def test_property_bg_integral_is_pinned_to_the_closed_form(
    r: float, alpha: float, a: float, b: float, t: float
) -> None:
    """BG/NBD's E[X(t)]: wherever the closed form is trusted (both hypergeometric forms agree), the
    integral used everywhere else gives the same value."""
    from hypothesis import assume

    from custdata.metrics._models import _quad, _transactions

    args = (np.array([t]), np.array([r]), np.array([alpha]), a, np.array([b]))
    closed, trusted = _transactions._bg_closed_form(*args)
    assume(bool(trusted[0]))
    assert _quad.bg_expected(*args)[0] == pytest.approx(closed[0], rel=1e-6)
