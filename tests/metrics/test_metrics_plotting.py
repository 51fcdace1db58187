"""Plots: each returns the axes it drew on, on a given axes or a new one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("scipy")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from custdata import Transaction, datasets, metrics, plotting, summarize
from custdata.exceptions import ValidationError

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow_txs() -> list[Transaction]:
    return datasets.load_cdnow_transactions()


def test_cohort_heatmap(cdnow_txs: list[Transaction], tmp_path: Path) -> None:
    m = metrics.cohort_matrix(cdnow_txs, period="M", observation_end="1998-06-30")
    fig, ax = plt.subplots()
    assert plotting.plot_cohort_retention(m, ax=ax) is ax
    assert len(ax.get_yticklabels()) == 3  # acquired January to March 1997
    fig.savefig(tmp_path / "cohorts.png")
    plt.close("all")


def test_model_matrices_and_clv(tmp_path: Path) -> None:
    model = metrics.BetaGeoModel.from_params(**BG)
    ax = plotting.plot_frequency_recency_matrix(model, T=39, t=39)
    assert ax.get_title().startswith("Expected purchases")
    ax = plotting.plot_p_alive_matrix(model, T=39, max_frequency=20)
    image = ax.get_images()[0].get_array()
    assert image.shape == (21, 50) and float(image.min()) >= 0 and float(image.max()) <= 1
    with pytest.raises(ValidationError):
        plotting.plot_p_alive_matrix(model, T=10, max_recency=20)
    gg = metrics.GammaGammaModel.from_params(p=6.25, q=3.74, v=15.44)
    rows = model.predict(
        [
            {
                "customer_id": str(i),
                "frequency": i % 5,
                "recency": float(i % 5) * 5,
                "T": 39.0,
                "monetary_value": 20.0 + i,
            }
            for i in range(200)
        ],
        t=52,
        spend_model=gg,
    )
    ax = plotting.plot_clv_distribution(rows)
    assert ax.get_xlabel() == "predicted customer lifetime value"
    ax.figure.savefig(tmp_path / "clv.png")
    plotting.plot_clv_distribution([r["clv"] for r in rows], log=False)
    plt.close("all")


def test_calibration_vs_holdout(cdnow_txs: list[Transaction], tmp_path: Path) -> None:
    cal = summarize(
        cdnow_txs, calibration_end=dt.date(1997, 9, 30), observation_end=dt.date(1998, 6, 30), unit="W"
    )
    model = metrics.BetaGeoModel().fit(cal)
    ax = plotting.plot_calibration_vs_holdout(model, cal)
    actual, predicted = (line.get_ydata() for line in ax.get_lines())
    # the BG/NBD paper's validation: the model tracks the holdout means closely for light buyers
    assert abs(actual[0] - predicted[0]) < 0.1 and abs(actual[1] - predicted[1]) < 0.3
    ax.figure.savefig(tmp_path / "holdout.png")
    with pytest.raises(ValidationError, match="calibration_end"):
        plotting.plot_calibration_vs_holdout(model, summarize(cdnow_txs[:50], observation_end="1997-09-30"))
    plt.close("all")
