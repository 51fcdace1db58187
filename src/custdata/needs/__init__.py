"""Customer needs: recommendations, item similarity, interest groups and their offline evaluation.

Built on transactions' line items (``Transaction.items``); refunds are netted out. Needs the ``models``
extra (numpy and scipy): ``pip install 'custdata[models]'``.
"""

from __future__ import annotations

from custdata.exceptions import MissingExtraError

try:
    import numpy  # noqa: F401
    import scipy.sparse  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("models", "custdata.needs", ["numpy", "scipy"]) from exc

from custdata.needs._catalogue import ItemCatalogue, item_catalogue, net_quantities
from custdata.needs._evaluate import coverage, hit_rate, ndcg_at_k, recall_at_k, time_split
from custdata.needs._interests import Interests, interests
from custdata.needs._recommender import PROFILING_PURPOSE, Contribution, Recommendation, Recommender

__all__ = [
    "PROFILING_PURPOSE",
    "Contribution",
    "Interests",
    "ItemCatalogue",
    "Recommendation",
    "Recommender",
    "coverage",
    "hit_rate",
    "interests",
    "item_catalogue",
    "ndcg_at_k",
    "net_quantities",
    "recall_at_k",
    "time_split",
]
