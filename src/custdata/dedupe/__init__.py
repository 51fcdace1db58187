"""Dedupe and entity resolution: blocking, unsupervised Fellegi–Sunter scoring, clustering, golden records,
incremental matching.

>>> from custdata import Customer
>>> from custdata.dedupe import dedupe
>>> people = [
...     Customer(id="a", name={"full": "张伟"}, phones=[{"number": "138 0013 8000"}], birthday="1990-01-02"),
...     Customer(id="b", name={"full": "张伟"}, phones=[{"number": "+8613800138000"}], birthday="1990-01-02"),
...     Customer(id="c", name={"full": "李娜"}, phones=[{"number": "13900139000"}], birthday="1985-05-06"),
... ]
>>> sorted(sorted(c) for c in dedupe(people).clusters)
[['a', 'b'], ['c']]
"""

import sys
import types
from collections.abc import Iterable
from typing import Any

from custdata._records import Customer
from custdata.dedupe._api import DedupeResult, LinkResult, ScoredPair, dedupe, link
from custdata.dedupe._blocking import DEFAULT_PASSES, SORTED_PASSES, BlockingStats, LargeBlockWarning
from custdata.dedupe._compare import DEFAULT_FIELDS, FieldComparison
from custdata.dedupe._golden import (
    BUILTIN_RULES,
    DEFAULT_RULES,
    GoldenRecord,
    golden_record,
    source_priority,
)
from custdata.dedupe._matcher import DEFAULT_THRESHOLD, Explanation, FieldExplanation, Match, Matcher
from custdata.dedupe._model import FSModel, RuleModel
from custdata.dedupe._settings import MatchSettings

__all__ = [
    "BUILTIN_RULES",
    "DEFAULT_FIELDS",
    "DEFAULT_PASSES",
    "DEFAULT_RULES",
    "DEFAULT_THRESHOLD",
    "SORTED_PASSES",
    "BlockingStats",
    "DedupeResult",
    "Explanation",
    "FSModel",
    "FieldComparison",
    "FieldExplanation",
    "GoldenRecord",
    "LargeBlockWarning",
    "LinkResult",
    "Match",
    "MatchSettings",
    "Matcher",
    "RuleModel",
    "ScoredPair",
    "dedupe",
    "golden_record",
    "link",
    "source_priority",
]


class _CallableModule(types.ModuleType):
    """``custdata.dedupe`` is both this package and the function :func:`dedupe`.

    Importing the package binds the attribute ``custdata.dedupe`` to it, which would hide the function;
    making the package callable keeps ``custdata.dedupe(records)`` working however the names were imported.
    """

    def __call__(self, records: Iterable[Customer], **options: Any) -> DedupeResult:
        return dedupe(records, **options)


sys.modules[__name__].__class__ = _CallableModule
