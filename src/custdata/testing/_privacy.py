"""Hypothesis strategies for privacy operations: consents per purpose and channel, retention policies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

__all__ = ["consent_maps", "consents", "retention_policies"]

#: The purposes and channels the strategies draw from (few, so keys collide and override each other).
PURPOSES = ("marketing", "service", "profiling")
CHANNELS = ("sms", "email", "wechat", "phone")

_UTC = dt.timezone.utc
_START = dt.datetime(2025, 1, 1, tzinfo=_UTC)


def _moments() -> st.SearchStrategy[dt.datetime]:
    """Aware times in 2025-2027 at whole minutes, with offsets from -12:00 to +14:00."""
    return st.builds(
        lambda minutes, offset: (_START + dt.timedelta(minutes=minutes)).astimezone(
            dt.timezone(dt.timedelta(minutes=offset))
        ),
        st.integers(0, 3 * 366 * 24 * 60),
        st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15),
    )


@st.composite
def consents(draw: st.DrawFn) -> dict[str, Any]:
    """A consent's dict form (granted or withdrawn, time given or unknown, with or without expiry)."""
    granted = draw(st.booleans())
    at = draw(st.none() | _moments())
    expires = None
    if granted and draw(st.booleans()):
        base = at or _START
        expires = base + dt.timedelta(minutes=draw(st.integers(1, 2 * 366 * 24 * 60)))
    return {
        "granted": granted,
        "at": None if at is None else at.isoformat(),
        "source": draw(st.none() | st.sampled_from(["web form", "store", "call centre"])),
        "expires": None if expires is None else expires.isoformat(),
    }


def consent_maps() -> st.SearchStrategy[dict[str, dict[str, Any]]]:
    """``Customer.consents`` in dict form, keyed by purpose (every channel) or ``purpose_channel``."""
    keys = st.sampled_from(PURPOSES).flatmap(lambda p: st.sampled_from([p, *(f"{p}_{c}" for c in CHANNELS)]))
    return st.dictionaries(keys, consents(), max_size=5)


def retention_policies() -> st.SearchStrategy[dict[str, int | None]]:
    """The dict form of a ``security.RetentionPolicy``: days (or None: kept) per kind of data."""
    days = st.none() | st.integers(0, 4000)
    return st.fixed_dictionaries(
        {},
        optional={
            "inactive_customers": days,
            "deleted_customers": days,
            "transactions": days,
            "interactions": days,
            "history": days,
        },
    )
