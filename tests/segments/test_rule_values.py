"""A rule holds only values every store can hold: text without NUL characters (PostgreSQL refuses NUL in
text), numbers whose millionths fit in 64 bits (amounts are compared as millionths). Anything else is refused when
the rule is built, in every form (Python, JSON, text), with custdata's own errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custdata.exceptions import CustdataError, RuleSyntaxError, ValidationError
from custdata.segments import F, Rule
from custdata.segments._rules import MAX_NUMBER, format_value

_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=8)


@st.composite
def nul_texts(draw: st.DrawFn) -> str:
    head, tail = draw(_TEXT), draw(_TEXT)
    return head + "\x00" + tail


def _python_forms(value: Any) -> list[Callable[[], Any]]:
    forms: list[Callable[[], Any]] = [
        lambda: F.city == value,
        lambda: F.city != value,
        lambda: F.orders >= value,
        lambda: F.city.is_in(["a", value]),
    ]
    if isinstance(value, str):
        forms += [lambda: F.tags.contains(value), lambda: F.name.startswith(value)]
    return forms


def _json_forms(value: Any) -> list[str]:
    objs: list[dict[str, Any]] = [
        {"op": "==", "field": "city", "value": "@"},
        {"op": "<", "field": "orders", "value": "@"},
        {"op": "in", "field": "city", "values": ["a", "@"]},
    ]
    if isinstance(value, str):
        objs += [
            {"op": "contains", "field": "tags", "value": "@"},
            {"op": "startswith", "field": "name", "value": "@"},
        ]
    # numbers as JSON numbers (the JSON form reads them exactly, as Decimals or ints)
    lit = json.dumps(value) if isinstance(value, str) else str(value)
    return [json.dumps(o).replace('"@"', lit) for o in objs]


def _text_forms(value: Any) -> list[str]:
    lit = format_value(value)
    out = [f"city == {lit}", f"orders > {lit}", f"city in ['a', {lit}]", f"not (city == {lit}) or orders > 1"]
    if isinstance(value, str):
        out += [f"tags contains {lit}", f"name startswith {lit}"]
    return out


def _refused_everywhere(value: Any) -> None:
    for make in _python_forms(value):
        with pytest.raises(ValidationError):
            make()
    for text in _json_forms(value):
        with pytest.raises(RuleSyntaxError):
            Rule.from_json(text)
    for text in _text_forms(value):
        with pytest.raises(RuleSyntaxError) as info:
            Rule.parse(text)
        pos = info.value.position  # it points at the value
        assert pos is not None and text[pos:].startswith(format_value(value)[:1]), (text, pos)
    # never a dependency's error, never a rule that a store would refuse later
    assert issubclass(RuleSyntaxError, CustdataError) and issubclass(ValidationError, CustdataError)


@settings(max_examples=200, deadline=None)
@given(nul_texts())
def test_text_with_a_nul_is_refused_in_every_form(value: str) -> None:
    _refused_everywhere(value)


@settings(max_examples=200, deadline=None)
@given(st.integers().filter(lambda i: abs(i) > MAX_NUMBER))
def test_whole_numbers_beyond_the_limit_are_refused_in_every_form(value: int) -> None:
    _refused_everywhere(value)


@settings(max_examples=200, deadline=None)
@given(
    st.builds(
        lambda d, neg: -d if neg else d,
        st.decimals(min_value=MAX_NUMBER, allow_nan=False, allow_infinity=False).filter(
            lambda d: d > MAX_NUMBER
        ),
        st.booleans(),
    )
)
def test_decimals_beyond_the_limit_are_refused_in_every_form(value: Decimal) -> None:
    _refused_everywhere(value)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        _TEXT.filter(lambda t: "\x00" not in t),
        st.integers(min_value=-int(MAX_NUMBER), max_value=int(MAX_NUMBER)),
        st.decimals(min_value=-MAX_NUMBER, max_value=MAX_NUMBER, allow_nan=False, allow_infinity=False),
    )
)
def test_values_the_stores_hold_build_in_every_form(value: Any) -> None:
    rule = F.city == value
    assert Rule.parse(str(rule)) == rule
    assert Rule.from_json(rule.to_json()) == rule


def test_the_limits_themselves_are_accepted() -> None:
    for v in (int(MAX_NUMBER), -int(MAX_NUMBER), MAX_NUMBER, -MAX_NUMBER):
        assert Rule.parse(str(F.orders <= v)) == (F.orders <= v)
