"""Customer metrics: purchase summaries, retention, cohorts, KPIs and predictive CLV models.

The summaries and business metrics are pure Python. The predictive models (BG/NBD, MBG/NBD, Pareto/NBD,
Gamma-Gamma, shifted-beta-geometric) need the ``models`` extra (numpy and scipy), imported on first use
of a model class, so ``import custdata.metrics`` works without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from custdata.exceptions import MissingExtraError
from custdata.metrics._kpi import (
    CohortMatrix,
    PeriodRetention,
    average_order_value,
    churn_rate,
    cohort_matrix,
    complaint_rate,
    conversion_rate,
    csat,
    historical_clv,
    nps,
    purchase_frequency,
    repeat_purchase_rate,
    retention,
    retention_rate,
    simple_clv,
)
from custdata.metrics._summary import CustomerSummary, summarize

if TYPE_CHECKING:
    from custdata.metrics._models import (
        BetaGeoModel,
        GammaGammaModel,
        ModifiedBetaGeoModel,
        ParetoNBDModel,
        ShiftedBetaGeoModel,
    )

_MODELS = {
    "BetaGeoModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "ShiftedBetaGeoModel",
}

__all__ = [
    "BetaGeoModel",
    "CohortMatrix",
    "CustomerSummary",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "PeriodRetention",
    "ShiftedBetaGeoModel",
    "average_order_value",
    "churn_rate",
    "cohort_matrix",
    "complaint_rate",
    "conversion_rate",
    "csat",
    "historical_clv",
    "nps",
    "purchase_frequency",
    "repeat_purchase_rate",
    "retention",
    "retention_rate",
    "simple_clv",
    "summarize",
]


def __getattr__(name: str) -> Any:
    if name not in _MODELS:
        raise AttributeError(f"module 'custdata.metrics' has no attribute {name!r}")
    try:
        module = importlib.import_module("custdata.metrics._models")
    except ImportError as exc:
        if getattr(exc, "name", None) in {"numpy", "scipy"} or "numpy" in str(exc) or "scipy" in str(exc):
            raise MissingExtraError("models", name, ["numpy", "scipy"]) from exc
        raise
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
