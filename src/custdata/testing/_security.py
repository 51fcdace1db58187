"""Hypothesis strategies for custdata.security: field values, bindings, audit events, resident IDs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

__all__ = ["audit_events", "bindings", "field_values", "resident_ids"]


def field_values() -> st.SearchStrategy[str]:
    """Any Python text, lone surrogates and the empty string included."""
    return st.text(st.characters(exclude_categories=()), max_size=64)


def bindings() -> st.SearchStrategy[tuple[str, str, str]]:
    """(store, record_id, field) triples a token can be bound to."""
    return st.tuples(
        st.text(max_size=8), field_values(), st.sampled_from(["phone", "email", "name", "street", "x"])
    )


def audit_events() -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments for ``AuditLog.record``."""
    return st.fixed_dictionaries(
        {
            "actor": st.text(min_size=1, max_size=12),
            "action": st.sampled_from(["read", "write", "export", "erase", "key.rotate"]),
            "record_id": st.none() | st.text(max_size=12),
            "fields": st.lists(
                st.sampled_from(["name", "phones", "emails", "addresses", "birthday"]), max_size=3
            ),
            "purpose": st.none() | st.text(max_size=20),
        }
    )


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    """Valid 18-character Chinese resident identity numbers (real birth dates, correct check character)."""
    from custdata.security._mask import resident_id_check_digit

    area = draw(st.integers(110000, 659999).map(str))
    born = draw(st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)))
    seq = draw(st.integers(0, 999))
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + resident_id_check_digit(first17)
