"""The sample data shipped in the package (used by ``custdata demo`` and the docs)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from custdata.exceptions import ValidationError

__all__ = ["SAMPLE_FILES", "sample_path"]

#: The bundled files: customers (a messy export with duplicates), transactions and interactions.
SAMPLE_FILES = ("sample_customers.csv", "sample_transactions.csv", "sample_interactions.csv")


def sample_path(name: str) -> Path:
    """The path of a bundled sample file, e.g. ``sample_path("sample_customers.csv")``."""
    if name not in SAMPLE_FILES:
        raise ValidationError(
            f"no sample file {name!r}; the samples are {', '.join(SAMPLE_FILES)}", field="name"
        )
    return Path(str(resources.files("custdata") / "data" / name))
