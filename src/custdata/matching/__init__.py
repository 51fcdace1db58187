"""Dedupe and entity resolution: blocking, unsupervised Fellegi–Sunter scoring, clustering, golden records,
incremental matching.

>>> from custdata import Customer
>>> from custdata.matching import dedupe
>>> people = [
...     Customer(id="a", name={"full": "张伟"}, phones=[{"number": "138 0013 8000"}], birthday="1990-01-02"),
...     Customer(id="b", name={"full": "张伟"}, phones=[{"number": "+8613800138000"}], birthday="1990-01-02"),
...     Customer(id="c", name={"full": "李娜"}, phones=[{"number": "13900139000"}], birthday="1985-05-06"),
... ]
>>> sorted(sorted(c) for c in dedupe(people).clusters)
[['a', 'b'], ['c']]
"""

from typing import Any

from custdata.matching._api import DedupeResult, LinkResult, ScoredPair, dedupe, link
from custdata.matching._blocking import DEFAULT_PASSES, SORTED_PASSES, BlockingStats, LargeBlockWarning
from custdata.matching._compare import DEFAULT_FIELDS, FieldComparison
from custdata.matching._golden import (
    BUILTIN_RULES,
    DEFAULT_RULES,
    GoldenRecord,
    golden_record,
    source_priority,
)
from custdata.matching._matcher import DEFAULT_THRESHOLD, FieldExplanation, Match, Matcher, MatchExplanation
from custdata.matching._model import FSModel, RuleModel
from custdata.matching._settings import MatchSettings
from custdata.matching._store import (
    INDEX_PASSES,
    StoreDedupeResult,
    block_keys,
    dedupe_store,
    indexed_passes,
    update_block_index,
)

__all__ = [
    "BUILTIN_RULES",
    "DEFAULT_FIELDS",
    "DEFAULT_PASSES",
    "DEFAULT_RULES",
    "DEFAULT_THRESHOLD",
    "INDEX_PASSES",
    "SORTED_PASSES",
    "BlockingStats",
    "DedupeResult",
    "FSModel",
    "FieldComparison",
    "FieldExplanation",
    "GoldenRecord",
    "LargeBlockWarning",
    "LinkResult",
    "Match",
    "MatchExplanation",
    "MatchSettings",
    "Matcher",
    "RuleModel",
    "ScoredPair",
    "StoreDedupeResult",
    "block_keys",
    "dedupe",
    "dedupe_store",
    "golden_record",
    "indexed_passes",
    "link",
    "source_priority",
    "update_block_index",
]


def __getattr__(name: str) -> Any:
    """Renamed names, kept as deprecated aliases (``Explanation`` is now :class:`MatchExplanation`)."""
    from custdata._deprecation import renamed

    return renamed(__name__, name, globals())
