"""Fits that end on a boundary of the parameter space say what that means (BoundaryFitWarning), or are
refused (ConvergenceError) when the predictions cannot be trusted."""

from __future__ import annotations

import warnings

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

from custdata import metrics  # noqa: E402
from custdata.exceptions import BoundaryFitWarning, ConvergenceError  # noqa: E402


def _simulate_bg(n: int, dropout: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BG/NBD histories where every customer drops out with the same probability (no heterogeneity)."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.6, 1 / 4.5, n)
    T = rng.uniform(20, 60, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < dropout:
                break
    return x, t_x, T


@pytest.fixture(scope="module")
def homogeneous() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _simulate_bg(4000, 0.15, seed=3)


@pytest.mark.parametrize("cls", [metrics.BetaGeoModel, metrics.ModifiedBetaGeoModel])
def test_dropout_heterogeneity_running_to_infinity_warns_with_the_limit(
    cls: type, homogeneous: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    x, t_x, T = homogeneous
    with pytest.warns(BoundaryFitWarning, match="no heterogeneity in dropout") as got:
        m = cls().fit(frequency=x, recency=t_x, T=T)
    p = m.params
    assert f"a/(a+b) = {p['a'] / (p['a'] + p['b']):.4g}" in str(got[0].message)
    assert p["a"] >= 10 and not m.standard_errors["a"] <= p["a"]
    # the limit is the truth here: every customer drops out with probability 0.15
    assert p["a"] / (p["a"] + p["b"]) == pytest.approx(0.15, abs=0.03)


def test_pareto_dropout_heterogeneity_running_to_infinity_warns(
    homogeneous: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    x, t_x, T = homogeneous
    with pytest.warns(BoundaryFitWarning, match="lifetime is exponential with the same rate s/beta"):
        metrics.ParetoNBDModel().fit(frequency=x, recency=t_x, T=T)


def test_the_published_fits_do_not_warn() -> None:
    from custdata import datasets

    cdnow = datasets.load_cdnow_summary()
    with warnings.catch_warnings():
        warnings.simplefilter("error", BoundaryFitWarning)
        for cls in (
            metrics.BetaGeoModel,
            metrics.ModifiedBetaGeoModel,
            metrics.ParetoNBDModel,
            metrics.GammaGammaModel,
        ):
            cls().fit(cdnow)
        metrics.ShiftedBetaGeoModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])


def test_sbg_with_a_constant_churn_rate_warns() -> None:
    counts = [round(10000 * 0.8**t) for t in range(12)]  # every period the same 20 % churn
    with pytest.warns(BoundaryFitWarning, match="no heterogeneity in churn"):
        m = metrics.ShiftedBetaGeoModel().fit(counts)
    assert m.params["alpha"] / (m.params["alpha"] + m.params["beta"]) == pytest.approx(0.2, abs=1e-3)


def test_a_parameter_pinned_at_a_bound_is_refused() -> None:
    # every customer bought every week: no sign of dropping out, a is driven to 0 and pinned there
    rows = [{"frequency": 30, "recency": 30.0, "T": 30.0}] * 50 + [
        {"frequency": 29, "recency": 30.0, "T": 30.0}
    ]
    with pytest.raises(ConvergenceError, match="penalizer"):
        metrics.BetaGeoModel().fit(rows)
