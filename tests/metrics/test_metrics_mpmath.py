"""Every prediction of every CLV model against an independent mpmath reference (tests/metrics/_mp_reference.py),
over a grid of parameters that includes the boundaries real fits reach: dropout parameters running off to
infinity (a, b or s, beta in the millions: no heterogeneity left), shapes far below 1, a = 1 and s = 1
(where the closed forms are 0/0), heavy buyers (x = 2000), and horizons from 0.01 to 5,200 weeks."""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")
mp = pytest.importorskip("mpmath")

import tests.metrics._mp_reference as ref  # noqa: E402
from custdata import metrics  # noqa: E402

BG_PARAMS = {
    "cdnow": (0.243, 4.414, 0.793, 2.426),
    "issue-17": (0.6029, 4.54, 1661.0, 8927.0),  # a fit whose dropout heterogeneity is almost gone
    "issue-17-limit": (0.6029, 4.54, 1.661e6, 8.927e6),  # ... and gone
    "small-shapes": (0.05, 0.1, 0.02, 0.05),
    "a-is-1": (0.5, 4.0, 1.0, 2.0),
    "skewed": (30.0, 500.0, 5e5, 3.0),
}
HISTORIES = [(0, 0.0, 60.0), (10, 40.0, 60.0), (300, 59.0, 60.0), (2000, 38.86, 38.86)]
PNBD_PARAMS = {
    "published": (0.553, 10.578, 0.606, 11.669),
    "alpha<beta": (0.553, 10.578, 0.606, 31.0),
    "s-to-infinity": (0.553, 10.578, 1e5, 1e5 / 0.052),  # everyone has the same dropout rate
    "r-to-infinity": (1e5, 1e5 * 19.13, 0.606, 11.669),  # everyone has the same purchase rate
    "s-is-1": (0.553, 10.578, 1.0, 11.669),
    "small-shapes": (0.02, 0.1, 0.01, 0.1),
}
REL = 1e-6  # the BG/NBD integral is exact to about 1e-7; everything else to 1e-9 or better


def _bg(cls: type, name: str) -> metrics.BetaGeoModel:
    r, alpha, a, b = BG_PARAMS[name]
    return cls.from_params(r=r, alpha=alpha, a=a, b=b)


BG_CLASSES = [(metrics.BetaGeoModel, False), (metrics.ModifiedBetaGeoModel, True)]


# ----------------------------------------------------------------------------------------------- BG/NBD
def test_the_reference_is_the_published_closed_form_where_that_converges() -> None:
    """The integral reference agrees with FHL (2005) eqs. (7) and (10) evaluated at 60 digits, where
    mpmath's 2F1 converges (with a and b in the thousands and z near 1 it returns -inf for eq. (7): that
    is why the reference integrates)."""
    for name in ("cdnow", "small-shapes"):
        r, alpha, a, b = BG_PARAMS[name]
        for t in (0.01, 52.0, 5200.0):
            assert ref.bg_expected(t, r, alpha, a, b) == pytest.approx(
                ref.bg_expected_closed_form(t, r, alpha, a, b), rel=1e-12
            )
    for name in ("cdnow", "issue-17", "issue-17-limit", "skewed"):
        r, alpha, a, b = BG_PARAMS[name]
        assert ref.bg_conditional(52.0, 10, 40.0, 60.0, r, alpha, a, b, False) == pytest.approx(
            ref.bg_conditional_closed_form(52.0, 10, 40.0, 60.0, r, alpha, a, b), rel=1e-12
        )


def test_issue_17_figures() -> None:
    """The figures of issue 17: 0.358 and 0.0 before, 0.43604 and 0.43537 by mpmath."""
    for name, want in (("issue-17", 0.43604), ("issue-17-limit", 0.43537)):
        got = _bg(metrics.BetaGeoModel, name).conditional_expected_purchases(52, 10, 40, 60)
        assert got == pytest.approx(want, abs=5e-6)
        assert got == pytest.approx(ref.bg_conditional(52, 10, 40, 60, *BG_PARAMS[name], False), rel=REL)


@pytest.mark.parametrize("name", list(BG_PARAMS))
@pytest.mark.parametrize(("cls", "modified"), BG_CLASSES)
def test_bg_expected_purchases(name: str, cls: type, modified: bool) -> None:
    m = _bg(cls, name)
    for t in (0.01, 1.0, 52.0, 5200.0):
        assert m.expected_purchases(t) == pytest.approx(
            ref.bg_expected(t, *BG_PARAMS[name], modified), rel=REL
        ), t


@pytest.mark.parametrize("name", list(BG_PARAMS))
@pytest.mark.parametrize(("cls", "modified"), BG_CLASSES)
def test_bg_p_alive_and_conditional_expected_purchases(name: str, cls: type, modified: bool) -> None:
    m = _bg(cls, name)
    p = BG_PARAMS[name]
    cases = [(52.0, *h) for h in HISTORIES] + [(0.01, 10, 40.0, 60.0), (5200.0, 10, 40.0, 60.0)]
    for t, x, t_x, T in cases:
        assert m.p_alive(x, t_x, T) == pytest.approx(
            ref.bg_p_alive(x, t_x, T, *p, modified), rel=1e-10, abs=1e-300
        )
        want = ref.bg_conditional(t, x, t_x, T, *p, modified)
        assert m.conditional_expected_purchases(t, x, t_x, T) == pytest.approx(want, rel=REL, abs=1e-300), (
            t,
            x,
        )


@pytest.mark.parametrize("name", list(BG_PARAMS))
@pytest.mark.parametrize(("cls", "modified"), BG_CLASSES)
def test_bg_probability_of_purchases(name: str, cls: type, modified: bool) -> None:
    m = _bg(cls, name)
    for t in (1.0, 52.0):
        for n in (0, 1, 5, 40):
            want = ref.bg_prob_n(n, t, *BG_PARAMS[name], modified)
            assert m.probability_of_purchases(n, t) == pytest.approx(want, rel=1e-8, abs=1e-300), (t, n)


@pytest.mark.parametrize(("cls", "modified"), BG_CLASSES)
def test_bg_clv_is_the_sum_of_exact_steps(cls: type, modified: bool) -> None:
    """customer_lifetime_value at the issue's parameters: discounted differences of the exact
    conditional expectation, times the spend (never 0.00 for everyone)."""
    m = _bg(cls, "issue-17-limit")
    gg = metrics.GammaGammaModel.from_params(p=6.25, q=3.74, v=15.44)
    p = BG_PARAMS["issue-17-limit"]
    cum = [ref.bg_conditional(float(k), 10, 40.0, 60.0, *p, modified) if k else 0.0 for k in range(0, 13, 4)]
    want = sum((cum[k] - cum[k - 1]) / 1.01**k for k in range(1, 4)) * ref.gg_conditional_spend(
        10, 30.0, 6.25, 3.74, 15.44
    )
    got = m.customer_lifetime_value(gg, 10, 40.0, 60.0, 30.0, horizon=12.0, step=4.0, discount_rate=0.01)
    assert got == pytest.approx(want, rel=1e-5) and got > 1.0


# -------------------------------------------------------------------------------------------- Pareto/NBD
def _pnbd(name: str) -> metrics.ParetoNBDModel:
    r, alpha, s, beta = PNBD_PARAMS[name]
    return metrics.ParetoNBDModel.from_params(r=r, alpha=alpha, s=s, beta=beta)


@pytest.mark.parametrize("name", list(PNBD_PARAMS))
def test_pareto_expected_purchases(name: str) -> None:
    m = _pnbd(name)
    for t in (0.01, 1.0, 52.0, 5200.0):
        assert m.expected_purchases(t) == pytest.approx(
            ref.pareto_expected(t, *PNBD_PARAMS[name]), rel=1e-9
        ), t


@pytest.mark.parametrize("name", list(PNBD_PARAMS))
def test_pareto_p_alive_and_conditional_expected_purchases(name: str) -> None:
    m = _pnbd(name)
    p = PNBD_PARAMS[name]
    cases = [(52.0, *h) for h in HISTORIES] + [(0.01, 10, 40.0, 60.0), (5200.0, 10, 40.0, 60.0)]
    for t, x, t_x, T in cases:
        alive = ref.pareto_p_alive(x, t_x, T, *p)
        assert m.p_alive(x, t_x, T) == pytest.approx(alive, rel=1e-8, abs=1e-300), (x, t_x, T)
        want = ref.pareto_conditional(t, x, t_x, T, *p)
        assert m.conditional_expected_purchases(t, x, t_x, T) == pytest.approx(want, rel=1e-8, abs=1e-300), (
            t,
            x,
        )


@pytest.mark.parametrize("name", list(PNBD_PARAMS))
def test_pareto_probability_of_purchases(name: str) -> None:
    m = _pnbd(name)
    for t in (1.0, 52.0):
        for n in (0, 1, 5):
            want = ref.pareto_prob_n(n, t, *PNBD_PARAMS[name])
            assert m.probability_of_purchases(n, t) == pytest.approx(want, rel=1e-7, abs=1e-300), (t, n)


# ------------------------------------------------------------------------------------------ Gamma-Gamma
@pytest.mark.parametrize(
    ("p", "q", "v"),
    [
        (6.25, 3.74, 15.44),
        (1e5, 1e5, 1e5 * 35.22 / 1e5 * (1e5 - 1) / 1e5),
        (0.05, 1.0001, 0.01),
        (300.0, 2.5, 1e4),
    ],
)
def test_gamma_gamma_spend(p: float, q: float, v: float) -> None:
    gg = metrics.GammaGammaModel.from_params(p=p, q=q, v=v)
    assert gg.expected_spend == pytest.approx(ref.gg_expected_spend(p, q, v), rel=1e-12)
    for x in (0, 1, 10, 1000):
        for m in (0.5, 22.35, 1e5):
            want = ref.gg_conditional_spend(x, m if x else 0.0, p, q, v)
            assert gg.conditional_expected_spend(x, m) == pytest.approx(want, rel=1e-12), (x, m)


# ---------------------------------------------------------------------------------------------------- sBG
@pytest.mark.parametrize(("a", "b"), [(0.704, 1.182), (0.01, 0.01), (1e5, 1.5e5), (3.0, 1e6), (1.0, 1.0)])
def test_sbg_predictions(a: float, b: float) -> None:
    m = metrics.ShiftedBetaGeoModel.from_params(alpha=a, beta=b)
    for t in (0, 1, 12, 500):
        assert m.survival(t) == pytest.approx(ref.sbg_survival(t, a, b), rel=1e-10, abs=1e-300), t
        if t:
            assert m.churn_probability(t) == pytest.approx(ref.sbg_churn(t, a, b), rel=1e-10, abs=1e-300), t
            assert m.retention_rate(t) == pytest.approx(ref.sbg_retention(t, a, b), rel=1e-12), t
    for n in (0, 7):  # scipy's 2F1(1, b+n; a+b+n; z) is good to about 1e-8 with b in the millions
        want = ref.sbg_future_renewals(n, a, b, 0.1)
        assert m.expected_future_renewals(n, discount_rate=0.1) == pytest.approx(want, rel=1e-7), n
    if a > 1:
        want = ref.sbg_future_renewals(3, a, b, 0.0)
        assert m.expected_future_renewals(3) == pytest.approx(want, rel=1e-7)
    else:
        assert math.isinf(m.expected_future_renewals(3))
