"""CLV models: published CDNOW fits, agreement with independent numerical integration, stability."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

import tests.metrics._clv_reference as ref  # noqa: E402
from custdata import datasets, metrics  # noqa: E402
from custdata.exceptions import ConvergenceError, ValidationError  # noqa: E402

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
GG = {"p": 6.25, "q": 3.74, "v": 15.44}


@pytest.fixture(scope="module")
def cdnow() -> list[dict[str, float | int | str]]:
    return [
        {
            "customer_id": s.customer_id,
            "frequency": s.frequency,
            "recency": s.recency,
            "T": s.T,
            "monetary_value": s.monetary_value,
        }
        for s in datasets.load_cdnow_summary()
    ]


@pytest.fixture(scope="module")
def bg(cdnow: list[dict[str, float | int | str]]) -> metrics.BetaGeoModel:
    return metrics.BetaGeoModel().fit(cdnow)


@pytest.fixture(scope="module")
def pnbd(cdnow: list[dict[str, float | int | str]]) -> metrics.ParetoNBDModel:
    return metrics.ParetoNBDModel().fit(cdnow)


# ---------------------------------------------------------------------------------- published figures
def test_bgnbd_reproduces_fader_hardie_lee_2005(bg: metrics.BetaGeoModel) -> None:
    for k, want in BG.items():
        assert bg.params[k] == pytest.approx(want, rel=2e-3), k
    assert bg.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert bg.n_customers == 2357
    assert all(isinstance(v, float) for v in bg.params.values())
    # standard errors are positive and sensible (the paper does not print them; the scale is what matters)
    assert all(0 < bg.standard_errors[k] < bg.params[k] for k in BG)
    # the paper's worked example: customer with x=2, t_x=30.43, T=38.86 -> 1.226 purchases in 39 weeks
    assert bg.conditional_expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=1e-3)


def test_pareto_nbd_reproduces_published_fit(pnbd: metrics.ParetoNBDModel) -> None:
    for k, want in PNBD.items():
        assert pnbd.params[k] == pytest.approx(want, rel=2e-3), k
    assert pnbd.log_likelihood == pytest.approx(-9595.0, abs=0.1)


def test_gamma_gamma_reproduces_note_025(cdnow: list[dict[str, float | int | str]]) -> None:
    gg = metrics.GammaGammaModel().fit(cdnow)  # the 1,411 customers without repeat purchases are skipped
    assert gg.n_customers == 946
    for k, want in GG.items():
        assert gg.params[k] == pytest.approx(want, rel=3e-3), k
    # the note: E(M) for a customer with x=2 repeat purchases averaging 22.35 (the population mean is 35.22)
    assert gg.expected_spend == pytest.approx(6.25 * 15.44 / 2.74, rel=2e-3)


def test_sbg_reproduces_fader_hardie_2007() -> None:
    regular = metrics.ShiftedBetaGeoModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
    assert regular.params == pytest.approx({"alpha": 0.704, "beta": 1.182}, rel=2e-3)
    high_end = metrics.ShiftedBetaGeoModel().fit([1000, 869, 743, 653, 593, 551, 517, 491])
    assert high_end.params == pytest.approx({"alpha": 0.668, "beta": 3.806}, rel=2e-3)
    for t in (1, 4, 12):
        assert regular.survival(t) == pytest.approx(
            ref.sbg_survival(t, regular.params["alpha"], regular.params["beta"]), rel=1e-6
        )
    # retention rises with tenure: the heterogeneity story of the paper
    rates = regular.retention_rate([1, 2, 5, 10])
    assert rates == sorted(rates)
    # durations/churned give the same fit as survivor counts
    counts = [1000, 631, 468, 382, 326, 289, 262, 241]
    durations, churned = [], []
    for t in range(1, len(counts)):
        durations += [t] * (counts[t - 1] - counts[t])
        churned += [True] * (counts[t - 1] - counts[t])
    durations += [len(counts) - 1] * counts[-1]
    churned += [False] * counts[-1]
    again = metrics.ShiftedBetaGeoModel().fit(durations=durations, churned=churned)
    assert again.params == pytest.approx(regular.params, rel=1e-6)
    renewals = regular.expected_future_renewals([0, 5], discount_rate=0.1)
    assert renewals[1] > renewals[0] > 0


def test_mbgnbd_fits_cdnow_close_to_bgnbd(cdnow: list[dict[str, float | int | str]]) -> None:
    m = metrics.ModifiedBetaGeoModel().fit(cdnow)
    assert m.log_likelihood == pytest.approx(-9582.1, abs=1.0)
    # customers without repeat purchases are no longer certainly alive
    assert 0 < m.p_alive(0, 0, 38.86) < 1
    assert metrics.BetaGeoModel.from_params(**BG).p_alive(0, 0, 38.86) == 1.0


# ---------------------------------------------------------------------- independent computation (1e-3)
HISTORIES = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 1.71, 38.86), (7, 35.0, 35.0), (4, 10.0, 60.0)]


@pytest.mark.parametrize("t", [1.0, 39.0, 156.0])
def test_bgnbd_expected_purchases_match_integration(t: float) -> None:
    m = metrics.BetaGeoModel.from_params(**BG)
    assert m.expected_purchases(t) == pytest.approx(ref.bg_expected(t, **BG), rel=1e-3)
    mbg = metrics.ModifiedBetaGeoModel.from_params(**BG)
    assert mbg.expected_purchases(t) == pytest.approx(ref.bg_expected(t, **BG, modified=True), rel=1e-3)


@pytest.mark.parametrize(("x", "t_x", "T"), HISTORIES)
def test_bgnbd_posterior_matches_integration(x: int, t_x: float, T: float) -> None:
    for cls, modified in [(metrics.BetaGeoModel, False), (metrics.ModifiedBetaGeoModel, True)]:
        m = cls.from_params(**BG)
        alive, future = ref.bg_posterior(x, t_x, T, **BG, t=52.0, modified=modified)
        assert m.p_alive(x, t_x, T) == pytest.approx(alive, rel=1e-3)
        assert m.conditional_expected_purchases(52.0, x, t_x, T) == pytest.approx(future, rel=1e-3)


def test_bgnbd_probability_of_purchases_matches_integration() -> None:
    m = metrics.BetaGeoModel.from_params(**BG)
    for n in (0, 1, 3, 8):
        want = ref.bg_prob_n_by_simulation_free_sum(n, 39.0, **BG)
        assert m.probability_of_purchases(n, 39.0) == pytest.approx(want, rel=1e-3)
    # the distribution sums to 1 and its mean is the expected count
    ns = list(range(400))
    probs = m.probability_of_purchases(ns, 39.0)
    assert sum(probs) == pytest.approx(1.0, abs=1e-9)
    assert sum(n * p for n, p in zip(ns, probs, strict=True)) == pytest.approx(
        m.expected_purchases(39.0), rel=1e-6
    )
    mbg = metrics.ModifiedBetaGeoModel.from_params(**BG)
    probs = mbg.probability_of_purchases(ns, 39.0)
    assert sum(n * p for n, p in zip(ns, probs, strict=True)) == pytest.approx(
        mbg.expected_purchases(39.0), rel=1e-6
    )


@pytest.mark.parametrize("t", [1.0, 39.0, 156.0])
def test_pareto_expected_purchases_match_integration(t: float) -> None:
    m = metrics.ParetoNBDModel.from_params(**PNBD)
    assert m.expected_purchases(t) == pytest.approx(ref.pareto_expected(t, **PNBD), rel=1e-3)


@pytest.mark.parametrize(("x", "t_x", "T"), HISTORIES)
@pytest.mark.parametrize("params", [PNBD, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 31.0}])
def test_pareto_posterior_matches_integration(x: int, t_x: float, T: float, params: dict[str, float]) -> None:
    """Both branches of the likelihood (alpha >= beta and alpha < beta)."""
    m = metrics.ParetoNBDModel.from_params(**params)
    alive, future = ref.pareto_posterior(x, t_x, T, **params, t=52.0)
    assert m.p_alive(x, t_x, T) == pytest.approx(alive, rel=1e-3)
    assert m.conditional_expected_purchases(52.0, x, t_x, T) == pytest.approx(future, rel=1e-3)


def test_pareto_probability_of_purchases_is_a_distribution_with_the_right_mean() -> None:
    m = metrics.ParetoNBDModel.from_params(**PNBD)
    ns = list(range(80))
    probs = m.probability_of_purchases(ns, 39.0)
    assert sum(probs) == pytest.approx(1.0, abs=1e-6)
    assert sum(n * p for n, p in zip(ns, probs, strict=True)) == pytest.approx(
        m.expected_purchases(39.0), rel=1e-4
    )


@pytest.mark.parametrize(("x", "m"), [(1, 10.0), (2, 22.35), (10, 80.0)])
def test_gamma_gamma_spend_matches_integration(x: int, m: float) -> None:
    gg = metrics.GammaGammaModel.from_params(**GG)
    assert gg.conditional_expected_spend(x, m) == pytest.approx(
        ref.gg_conditional_spend(x, m, **GG), rel=1e-3
    )
    assert gg.conditional_expected_spend(0, 0.0) == pytest.approx(gg.expected_spend)


# ------------------------------------------------------------------------------------------ stability
def test_no_nan_at_the_edges() -> None:
    for cls, params in [
        (metrics.BetaGeoModel, BG),
        (metrics.ModifiedBetaGeoModel, BG),
        (metrics.ParetoNBDModel, PNBD),
        (metrics.ParetoNBDModel, {**PNBD, "beta": 40.0}),
    ]:
        m = cls.from_params(**params)
        x = np.array([0, 1, 5, 300, 2000, 300])
        t_x = np.array([0.0, 38.86, 38.86, 38.0, 38.86, 1.0])  # recency == T, heavy buyers
        T = np.array([38.86, 38.86, 38.86, 38.86, 38.86, 500.0])
        for horizon in (1e-3, 52.0, 5200.0):  # long horizons
            got = m.conditional_expected_purchases(horizon, x, t_x, T)
            assert np.all(np.isfinite(got)) and np.all(got >= 0), (cls, horizon, got)
        pa = m.p_alive(x, t_x, T)
        assert np.all((pa >= 0) & (pa <= 1)), (cls, pa)
        assert np.all(np.isfinite(m.expected_purchases(np.array([0.0, 1.0, 1e4]))))


def test_heavy_buyer_expectation_is_close_to_the_rate() -> None:
    """300 purchases in 38.86 weeks and recency == T: about 7.7 a week, and certainly alive."""
    m = metrics.BetaGeoModel.from_params(**BG)
    assert m.p_alive(300, 38.86, 38.86) > 0.99
    assert m.conditional_expected_purchases(1.0, 300, 38.86, 38.86) == pytest.approx(
        300.243 / 43.274, rel=0.02
    )


def test_a_equal_to_one_is_not_a_singularity() -> None:
    near = metrics.BetaGeoModel.from_params(r=0.5, alpha=4.0, a=1.0 + 1e-4, b=2.0).expected_purchases(10.0)
    at = metrics.BetaGeoModel.from_params(r=0.5, alpha=4.0, a=1.0, b=2.0).expected_purchases(10.0)
    assert math.isfinite(at) and at == pytest.approx(near, rel=1e-3)


def test_convergence_error_has_advice() -> None:
    # every customer bought every week: no sign of dropping out, the dropout parameters run off to infinity
    rows = [{"frequency": 30, "recency": 30.0, "T": 30.0}] * 50 + [
        {"frequency": 29, "recency": 30.0, "T": 30.0}
    ]
    with pytest.raises(ConvergenceError, match="penalizer"):
        metrics.BetaGeoModel().fit(rows)
    fitted = metrics.BetaGeoModel(penalizer=0.01).fit(rows)
    assert all(math.isfinite(v) for v in fitted.params.values())


def test_bad_summaries_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="recency must be <= T"):
        metrics.BetaGeoModel().fit([{"frequency": 1, "recency": 5.0, "T": 3.0}])
    with pytest.raises(ValidationError, match="no customer made a repeat purchase"):
        metrics.BetaGeoModel().fit([{"frequency": 0, "recency": 0.0, "T": 3.0}])
    with pytest.raises(ValidationError, match="not fitted"):
        _ = metrics.BetaGeoModel().params
    with pytest.raises(ValidationError):
        metrics.BetaGeoModel(penalizer=-1)
    with pytest.raises(ValidationError, match="period length"):
        metrics.BetaGeoModel.from_params(**BG).expected_purchases(-1.0)
    with pytest.raises(ValidationError, match="finite"):
        metrics.ParetoNBDModel.from_params(**PNBD).p_alive(float("nan"), 1.0, 2.0)


# ---------------------------------------------------------------------------------- inputs and outputs
def test_fit_accepts_records_dicts_dataframes_and_arrays(cdnow: list[dict[str, float | int | str]]) -> None:
    pd = pytest.importorskip("pandas")
    want = metrics.BetaGeoModel().fit(cdnow).params
    df = pd.DataFrame(cdnow)
    assert metrics.BetaGeoModel().fit(df).params == pytest.approx(want, rel=1e-6)
    lt = df.rename(columns={"frequency": "x", "recency": "t_x"})
    assert metrics.BetaGeoModel().fit(lt).params == pytest.approx(want, rel=1e-6)
    arrays = {
        "frequency": df["frequency"].to_numpy(),
        "recency": df["recency"].to_numpy(),
        "T": df["T"].to_numpy(),
    }
    assert metrics.BetaGeoModel().fit(**arrays).params == pytest.approx(want, rel=1e-6)
    summaries = [
        metrics.CustomerSummary(
            str(r["customer_id"]), int(r["frequency"]), float(r["recency"]), float(r["T"]), 0.0
        )
        for r in cdnow
    ]
    assert metrics.BetaGeoModel().fit(summaries).params == pytest.approx(want, rel=1e-6)
    # weights: the same as repeating the rows
    half = cdnow[:1000]
    doubled = metrics.BetaGeoModel().fit(half + half).params
    weighted = metrics.BetaGeoModel().fit(pd.DataFrame(half), weights=[2.0] * 1000).params
    assert weighted == pytest.approx(doubled, rel=1e-6)


def test_outputs_are_shaped_like_inputs(bg: metrics.BetaGeoModel) -> None:
    pd = pytest.importorskip("pandas")
    assert isinstance(bg.p_alive(2, 30.43, 38.86), float)
    assert isinstance(bg.p_alive([2, 1], [30.43, 1.71], [38.86, 38.86]), list)
    got = bg.p_alive(np.array([2, 1]), np.array([30.43, 1.71]), 38.86)
    assert isinstance(got, np.ndarray) and got.shape == (2,)
    s = pd.Series([2, 1], index=["a", "b"])
    out = bg.p_alive(s, pd.Series([30.43, 1.71], index=["a", "b"]), 38.86)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b"]


def test_predict_and_clv(cdnow: list[dict[str, float | int | str]], bg: metrics.BetaGeoModel) -> None:
    pd = pytest.importorskip("pandas")
    gg = metrics.GammaGammaModel.from_params(**GG)
    rows = bg.predict(cdnow[:3], t=52, spend_model=gg, discount_rate=0.01)
    assert [r["customer_id"] for r in rows] == ["1", "2", "3"]
    assert set(rows[0]) >= {"p_alive", "expected_purchases", "expected_spend", "clv"}
    first = rows[0]
    # undiscounted CLV is expected purchases times expected spend
    flat = bg.customer_lifetime_value(gg, 2, 30.43, 38.86, 22.35, horizon=52)
    assert flat == pytest.approx(
        bg.conditional_expected_purchases(52, 2, 30.43, 38.86) * gg.conditional_expected_spend(2, 22.35)
    )
    assert 0 < first["clv"] < flat  # discounting lowers it
    # a by-hand discounted sum over four-week steps
    steps = [bg.conditional_expected_purchases(4.0 * k, 2, 30.43, 38.86) for k in range(14)]
    by_hand = sum((steps[k] - steps[k - 1]) / 1.01**k for k in range(1, 14)) * gg.conditional_expected_spend(
        2, 22.35
    )
    assert bg.customer_lifetime_value(
        gg, 2, 30.43, 38.86, 22.35, horizon=52, step=4, discount_rate=0.01
    ) == pytest.approx(by_hand)
    frame = bg.predict(pd.DataFrame(cdnow).set_index("customer_id"), t=52)
    assert list(frame.columns[:3]) == ["customer_id", "frequency", "recency"]
    assert frame["p_alive"].between(0, 1).all()


def test_json_round_trip_and_repr(
    tmp_path: Path, bg: metrics.BetaGeoModel, pnbd: metrics.ParetoNBDModel
) -> None:
    for m in (bg, pnbd):
        again = type(m).from_json(m.to_json())
        assert again == m and again.params == m.params and again.standard_errors == m.standard_errors
        assert again.log_likelihood == m.log_likelihood
        path = tmp_path / "m.json"
        m.save(path)
        loaded = type(m).load(path)
        assert loaded.conditional_expected_purchases(52, 3, 20.0, 38.0) == m.conditional_expected_purchases(
            52, 3, 20.0, 38.0
        )
        assert json.loads(path.read_text())["model"] == type(m).__name__
    with pytest.raises(ValidationError, match="holds a 'BetaGeoModel'"):
        metrics.ParetoNBDModel.from_json(bg.to_json())
    text = repr(bg)
    assert "BG/NBD" in text and "2,357 customers" in text and "r=0.2426" in text and "-9,582" in text
    assert repr(metrics.GammaGammaModel()) == "GammaGammaModel() <not fitted>"
