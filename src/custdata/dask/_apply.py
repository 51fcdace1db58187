"""A fitted model's predictions and a segment rule, mapped over the partitions of a bag."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import dask.bag as db

from custdata.dask._normalize import as_bag
from custdata.exceptions import ValidationError
from custdata.segments import PROFILE_SCHEMA, Rule
from custdata.segments._schema import check_predicate

__all__ = ["predict", "select_profiles"]


def _predict_part(part: Iterable[Any], model: Any, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    rows = list(part)
    if not rows:
        return []
    out: list[dict[str, Any]] = model.predict(rows, **kwargs)
    return out


def predict(
    model: Any,
    summaries: Any,
    *,
    t: float,
    spend_model: Any = None,
    horizon: float | None = None,
    discount_rate: float = 0.0,
    step: float = 1.0,
    npartitions: int | None = None,
) -> db.Bag:
    """``model.predict`` (a fitted transaction model of :mod:`custdata.metrics`, with an optional fitted
    ``spend_model``) on every partition of ``summaries`` (a bag of :class:`CustomerSummary` or mappings,
    or an iterable split into ``npartitions``): a bag of the same per-customer dicts, in input order, as
    ``model.predict`` on all the summaries at once. Fit the models on the client, on
    :func:`summarize`'s output; the fitted models travel to the workers."""
    fn = getattr(model, "predict", None)
    if not callable(fn):
        raise ValidationError(f"expected a fitted model, got {type(model).__name__}", field="model")
    kwargs = {
        "t": t,
        "spend_model": spend_model,
        "horizon": horizon,
        "discount_rate": discount_rate,
        "step": step,
    }
    bag = as_bag(summaries, npartitions, "summaries")
    out: db.Bag = bag.map_partitions(_predict_part, model, kwargs)  # type: ignore[no-untyped-call]
    return out


def _select_part(part: Iterable[Any], rule_json: str, as_of: dt.date | None) -> list[Any]:
    # a rule travels in its JSON form (rules do not pickle: they are immutable objects with slots)
    return list(Rule.from_json(rule_json).filter(part, as_of=as_of))


def select_profiles(
    rule: Rule, profiles: Any, *, as_of: dt.date | None = None, npartitions: int | None = None
) -> db.Bag:
    """The profiles ``rule`` matches (``rule.filter(profiles, as_of=as_of)``), evaluated partition by
    partition: a bag of the matching profiles in input order. ``profiles``: a bag of
    :class:`~custdata.segments.Profile` (or mappings with the profile fields), or an iterable split into
    ``npartitions``. The rule is checked against the profile fields on the client first."""
    if not isinstance(rule, Rule):
        raise ValidationError(f"expected a rule, got {type(rule).__name__}", field="rule")
    if as_of is not None and (not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime)):
        raise ValidationError(f"expected a date, got {type(as_of).__name__}", field="as_of")
    for p in rule.predicates():
        check_predicate(p, PROFILE_SCHEMA)
    bag = as_bag(profiles, npartitions, "profiles")
    out: db.Bag = bag.map_partitions(_select_part, rule.to_json(), as_of)  # type: ignore[no-untyped-call]
    return out
