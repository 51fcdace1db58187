"""CLV predictions and segment rules mapped over partitions equal the single-machine calls."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata.dask as cdd
import dask
from custdata import summarize
from custdata.exceptions import RuleSyntaxError, ValidationError
from custdata.segments import F, Rule
from custdata.testing import profile_dicts, rules
from tests.dask.test_metrics import _transactions


def test_predict_equals_model_predict(client: Any) -> None:
    pytest.importorskip("scipy")
    from custdata.metrics import BetaGeoModel, GammaGammaModel

    summaries = summarize(_transactions(2000, seed=9), observation_end="2026-06-30", unit="W")
    model = BetaGeoModel().fit(summaries)
    spend = GammaGammaModel(penalizer=0.001).fit([s for s in summaries if s.frequency > 0])
    want = model.predict(summaries, t=12, spend_model=spend)
    got = cdd.predict(model, summaries, t=12, spend_model=spend, npartitions=4).compute()
    assert got == want


@settings(max_examples=40, deadline=None)
@given(profiles=st.lists(profile_dicts(), max_size=12), rule=rules(), parts=st.integers(1, 4))
def test_select_profiles_equals_rule_filter(profiles: list[dict[str, Any]], rule: Rule, parts: int) -> None:
    as_of = dt.date(2026, 6, 30)
    with dask.config.set(scheduler="synchronous"):
        got = cdd.select_profiles(rule, profiles, as_of=as_of, npartitions=parts).compute()
    assert got == list(rule.filter(profiles, as_of=as_of))


def test_select_profiles_on_the_cluster(client: Any) -> None:
    profiles = [{"customer_id": f"c{k}", "total_spend": k * 100, "orders": k % 7} for k in range(200)]
    rule = (F.total_spend >= 5000) & (F.orders <= 3)
    got = cdd.select_profiles(rule, profiles, npartitions=5).compute()
    assert got and got == list(rule.filter(profiles))


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError):
        cdd.predict(object(), [], t=1)
    with pytest.raises(ValidationError):
        cdd.select_profiles("total_spend > 1", [])  # type: ignore[arg-type]
    with pytest.raises(RuleSyntaxError):
        cdd.select_profiles(F.no_such_field >= 1, [])
