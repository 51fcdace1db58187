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

from custdata.segments._care import (
    LIFECYCLE_STAGES,
    Reminder,
    Reminders,
    RFMScore,
    TierChange,
    birthday_reminders,
    care_reminders,
    lifecycle,
    member_tiers,
    quantile_tiers,
    rfm,
    tiers,
)
from custdata.segments._frame import to_dataframe
from custdata.segments._plot import plot_rfm_grid, plot_segment_sizes
from custdata.segments._profiles import PROFILE_SCHEMA, Profile, profiles
from custdata.segments._rfm import CN_GROUPS, RFM_SEGMENTS, SEGMENT_GRID
from custdata.segments._rules import F, Field, Rule
from custdata.segments._segmentation import Explanation, Segment, Segmentation
from custdata.segments._select import RuleNotPushedWarning, select

__all__ = [
    "CN_GROUPS",
    "LIFECYCLE_STAGES",
    "PROFILE_SCHEMA",
    "RFM_SEGMENTS",
    "SEGMENT_GRID",
    "Explanation",
    "F",
    "Field",
    "Profile",
    "RFMScore",
    "Reminder",
    "Reminders",
    "Rule",
    "RuleNotPushedWarning",
    "Segment",
    "Segmentation",
    "TierChange",
    "birthday_reminders",
    "care_reminders",
    "lifecycle",
    "member_tiers",
    "plot_rfm_grid",
    "plot_segment_sizes",
    "profiles",
    "quantile_tiers",
    "rfm",
    "select",
    "tiers",
    "to_dataframe",
]
