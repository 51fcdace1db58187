"""Segments: customer profiles, composable rules (Python, JSON and text forms), named segmentations, RFM,
value tiers, lifecycle stages and care reminders, and rules that run inside the database.

>>> from custdata.segments import F, Rule
>>> rule = (F.total_spend >= 5000) & (F.recency_days <= 90)
>>> str(rule)
'total_spend >= 5000 and recency_days <= 90'
>>> Rule.parse(str(rule)) == Rule.from_json(rule.to_json()) == rule
True
"""

from __future__ import annotations

from custdata.segments._profiles import PROFILE_SCHEMA, Profile, profiles
from custdata.segments._rfm import CN_GROUPS, RFM_SEGMENTS, SEGMENT_GRID
from custdata.segments._rules import F, Field, Rule
from custdata.segments._segmentation import Explanation, Segment, Segmentation

__all__ = [
    "CN_GROUPS",
    "PROFILE_SCHEMA",
    "RFM_SEGMENTS",
    "SEGMENT_GRID",
    "Explanation",
    "F",
    "Field",
    "Profile",
    "Rule",
    "Segment",
    "Segmentation",
    "profiles",
]
