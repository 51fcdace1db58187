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
    from custdata.dedupe import DedupeResult, LinkResult, Matcher, dedupe, link
    from custdata.io import RecordReader, RowProblem, read_csv, read_jsonl, write_csv, write_jsonl
    from custdata.metrics import CustomerSummary, summarize
    from custdata.normalize import (
        NormalizedEmail,
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
    from custdata.storage import Store, open_store

# name -> module that defines it; imported on first use (PEP 562), so `import custdata` stays light.
_LAZY = {
    "sample_path": "custdata._sample",
    "RecordReader": "custdata.io",
    "RowProblem": "custdata.io",
    "read_csv": "custdata.io",
    "read_jsonl": "custdata.io",
    "write_csv": "custdata.io",
    "write_jsonl": "custdata.io",
    "NormalizeResult": "custdata.normalize",
    "NormalizedEmail": "custdata.normalize",
    "NormalizedPhone": "custdata.normalize",
    "normalize": "custdata.normalize",
    "normalize_address": "custdata.normalize",
    "normalize_date": "custdata.normalize",
    "normalize_email": "custdata.normalize",
    "normalize_many": "custdata.normalize",
    "normalize_name": "custdata.normalize",
    "normalize_phone": "custdata.normalize",
    "QualityReport": "custdata.quality",
    "quality_report": "custdata.quality",
    "DedupeResult": "custdata.dedupe",
    "LinkResult": "custdata.dedupe",
    "Matcher": "custdata.dedupe",
    "dedupe": "custdata.dedupe",
    "link": "custdata.dedupe",
    "CustomerSummary": "custdata.metrics",
    "summarize": "custdata.metrics",
    "Store": "custdata.storage",
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
    "FrozenMap",
    "Interaction",
    "InteractionKind",
    "LifecycleStage",
    "LineItem",
    "LinkResult",
    "Matcher",
    "MonthDay",
    "NormalizeResult",
    "NormalizedEmail",
    "NormalizedPhone",
    "PersonName",
    "Phone",
    "PhoneKind",
    "QualityReport",
    "RecordReader",
    "RowProblem",
    "Store",
    "Transaction",
    "__version__",
    "dedupe",
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
    "quality_report",
    "read_csv",
    "read_jsonl",
    "sample_path",
    "summarize",
    "write_csv",
    "write_jsonl",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'custdata' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # cache: the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
