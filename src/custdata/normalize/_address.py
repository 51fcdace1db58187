"""Addresses (work in progress)."""

from __future__ import annotations


def split_province_city(location: str) -> tuple[str | None, str | None]:
    """Split ``广东省深圳市`` into (``广东省``, ``深圳市``)."""
    for mark in ("自治区", "特别行政区", "省", "市"):
        i = location.find(mark)
        if i > 0:
            prov = location[: i + len(mark)]
            rest = location[i + len(mark) :] or None
            if mark == "市":
                return prov, rest or prov
            return prov, rest
    return None, None
