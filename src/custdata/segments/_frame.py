"""Profiles as a pandas DataFrame (the ``pandas`` extra)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from custdata.exceptions import MissingExtraError, ValidationError
from custdata.segments._profiles import FIELDS, Profile, items_of

__all__ = ["to_dataframe"]


def to_dataframe(profiles: Iterable[Profile]) -> Any:
    """A DataFrame with a row per profile and a column per profile field, in the order of
    :data:`PROFILE_SCHEMA` (money stays ``Decimal``: ``df.total_spend.astype(float)`` for arithmetic in
    floats; dates stay dates; ``tags`` are frozensets). Needs the ``pandas`` extra."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingExtraError("pandas", "custdata.segments.to_dataframe", ["pandas"]) from exc
    rows = []
    for p in items_of(profiles, "profiles"):
        if not isinstance(p, Profile):
            raise ValidationError(f"expected Profile objects, got {type(p).__name__}", field="profiles")
        rows.append(p.to_dict())
    return pd.DataFrame.from_records(rows, columns=list(FIELDS))
