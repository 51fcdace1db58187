"""custdata: customer information management.

Typed customer records, reading and writing the files people really have, normalisation and data
quality, dedupe and entity resolution, storage backends, and customer metrics with predictive CLV.

The public names live in this one flat namespace. Submodules that need an optional extra
(``custdata.metrics`` models, ``custdata.pandas``, ``custdata.plotting``, ``custdata.cli``) import it only
when used, so ``import custdata`` stays fast and works with no extra installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from custdata import exceptions
from custdata._bulk import Errors
from custdata._records import (
    SCHEMA_VERSION,
    Address,
    Channel,
    Consent,
    Customer,
    Email,
    EmailKind,
    FrozenMap,
    Interaction,
    InteractionKind,
    LifecycleStage,
    LineItem,
    MonthDay,
    PersonName,
    Phone,
    PhoneKind,
    Transaction,
)
from custdata._version import __version__

if TYPE_CHECKING:
    from custdata._sample import sample_path
    from custdata.io import (
        RecordReader,
        RowProblem,
        read_csv,
        read_excel,
        read_jsonl,
        read_parquet,
        write_csv,
        write_excel,
        write_jsonl,
        write_parquet,
    )
    from custdata.matching import (
        DedupeResult,
        GoldenRecord,
        LinkResult,
        Match,
        Matcher,
        MatchExplanation,
        ScoredPair,
        dedupe,
        dedupe_store,
        link,
    )
    from custdata.metrics import CustomerSummary, summarize
    from custdata.normalization import (
        Issue,
        NormalizedEmail,
        NormalizedName,
        NormalizedPhone,
        NormalizeResult,
        normalize,
        normalize_address,
        normalize_date,
        normalize_email,
        normalize_many,
        normalize_name,
        normalize_phone,
    )
    from custdata.quality import QualityReport, quality_report
    from custdata.segments import Profile, profiles
    from custdata.storage import Store, UpsertProblem, UpsertResult, open_store

# name -> module that defines it; imported on first use (PEP 562), so `import custdata` stays light.
_LAZY = {
    "sample_path": "custdata._sample",
    "RecordReader": "custdata.io",
    "RowProblem": "custdata.io",
    "read_csv": "custdata.io",
    "read_excel": "custdata.io",
    "read_jsonl": "custdata.io",
    "read_parquet": "custdata.io",
    "write_csv": "custdata.io",
    "write_excel": "custdata.io",
    "write_jsonl": "custdata.io",
    "write_parquet": "custdata.io",
    "Issue": "custdata.normalization",
    "NormalizeResult": "custdata.normalization",
    "NormalizedName": "custdata.normalization",
    "NormalizedEmail": "custdata.normalization",
    "NormalizedPhone": "custdata.normalization",
    "normalize": "custdata.normalization",
    "normalize_address": "custdata.normalization",
    "normalize_date": "custdata.normalization",
    "normalize_email": "custdata.normalization",
    "normalize_many": "custdata.normalization",
    "normalize_name": "custdata.normalization",
    "normalize_phone": "custdata.normalization",
    "QualityReport": "custdata.quality",
    "quality_report": "custdata.quality",
    "DedupeResult": "custdata.matching",
    "MatchExplanation": "custdata.matching",
    "GoldenRecord": "custdata.matching",
    "Match": "custdata.matching",
    "ScoredPair": "custdata.matching",
    "LinkResult": "custdata.matching",
    "Matcher": "custdata.matching",
    "dedupe": "custdata.matching",
    "dedupe_store": "custdata.matching",
    "link": "custdata.matching",
    "CustomerSummary": "custdata.metrics",
    "summarize": "custdata.metrics",
    "Store": "custdata.storage",
    "UpsertProblem": "custdata.storage",
    "UpsertResult": "custdata.storage",
    "Profile": "custdata.segments",
    "profiles": "custdata.segments",
    "open_store": "custdata.storage",
}

__all__ = [
    "SCHEMA_VERSION",
    "Address",
    "Channel",
    "Consent",
    "Customer",
    "CustomerSummary",
    "DedupeResult",
    "Email",
    "EmailKind",
    "Errors",
    "FrozenMap",
    "GoldenRecord",
    "Interaction",
    "InteractionKind",
    "Issue",
    "LifecycleStage",
    "LineItem",
    "LinkResult",
    "Match",
    "MatchExplanation",
    "Matcher",
    "MonthDay",
    "NormalizeResult",
    "NormalizedEmail",
    "NormalizedName",
    "NormalizedPhone",
    "PersonName",
    "Phone",
    "PhoneKind",
    "Profile",
    "QualityReport",
    "RecordReader",
    "RowProblem",
    "ScoredPair",
    "Store",
    "Transaction",
    "UpsertProblem",
    "UpsertResult",
    "__version__",
    "dedupe",
    "dedupe_store",
    "exceptions",
    "link",
    "normalize",
    "normalize_address",
    "normalize_date",
    "normalize_email",
    "normalize_many",
    "normalize_name",
    "normalize_phone",
    "open_store",
    "profiles",
    "quality_report",
    "read_csv",
    "read_excel",
    "read_jsonl",
    "read_parquet",
    "sample_path",
    "summarize",
    "write_csv",
    "write_excel",
    "write_jsonl",
    "write_parquet",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        from custdata._deprecation import renamed

        return renamed("custdata", name, globals())
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
