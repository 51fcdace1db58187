"""Rules: the three forms round-trip exactly, evaluation agrees with an independent reference, bad text is
refused with the position of the bad token."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata.testing as cst
from custdata import MonthDay
from custdata.exceptions import CustdataError, RuleSyntaxError, ValidationError
from custdata.segments import PROFILE_SCHEMA, F, Rule

# --------------------------------------------------------------------------------------------- reference


def _missing(v: Any) -> bool:
    return v is None or v == "" or (isinstance(v, (frozenset, set, list, tuple)) and len(v) == 0)


def _day(v: Any) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v


def _cmp(op: str, a: Any, b: Any) -> bool:
    return {
        "==": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]


def _lit(field_value: Any, lit: Any) -> tuple[Any, Any]:
    if isinstance(field_value, (dt.date, dt.datetime)):
        return _day(field_value), dt.date.fromisoformat(lit)
    return field_value, lit


def _days_to_next(md: tuple[int, int], today: dt.date) -> int:
    # brute force: walk day by day (29 February counts on 28 February in common years)
    d = today
    while True:
        leap = d.year % 4 == 0 and (d.year % 100 != 0 or d.year % 400 == 0)
        target = (2, 28) if md == (2, 29) and not leap else md
        if (d.month, d.day) == target:
            return (d - today).days
        d += dt.timedelta(days=1)


def reference(obj: dict[str, Any], p: dict[str, Any]) -> bool:
    """Evaluate the JSON form of a rule on a dict profile, written independently of custdata."""
    op = obj["op"]
    if op == "and":
        return all(reference(r, p) for r in obj["rules"])
    if op == "or":
        return any(reference(r, p) for r in obj["rules"])
    if op == "not":
        return not reference(obj["rule"], p)
    v = p.get(obj["field"])
    if op == "missing":
        return _missing(v)
    if op == "present":
        return not _missing(v)
    if _missing(v):
        return False
    today = p["as_of"]
    if op == "in":
        items = v if isinstance(v, frozenset) else [v]
        return any(_cmp("==", *_lit(i, lit)) for i in items for lit in obj["values"])
    if op == "contains":
        return obj["value"] in v
    if op == "startswith":
        items = v if isinstance(v, frozenset) else [v]
        return any(i.startswith(obj["value"]) for i in items)
    if op == "within_next":
        md = (v.month, v.day)
        return _days_to_next(md, today) <= obj["days"]
    if op == "within_last":
        if isinstance(v, MonthDay):
            return False
        return 0 <= (today - _day(v)).days <= obj["days"]
    a, b = _lit(v, obj["value"])
    return _cmp(op, a, b)


def _obj(rule: Rule) -> dict[str, Any]:
    return json.loads(rule.to_json(), parse_float=Decimal)


# --------------------------------------------------------------------------------------------- properties


@settings(max_examples=150)
@given(cst.rules())
def test_three_forms_round_trip_exactly(rule: Rule) -> None:
    text = str(rule)
    js = rule.to_json()
    assert isinstance(js, str)
    assert Rule.parse(text).to_json() == js, text
    assert Rule.parse(text, schema=PROFILE_SCHEMA) == rule
    assert Rule.from_json(js).to_json() == js
    assert Rule.from_json(json.loads(js, parse_float=Decimal)) == rule
    assert str(Rule.from_json(js)) == text
    assert Rule.parse(json.loads(json.dumps(text))) == rule


@settings(max_examples=200)
@given(cst.rules(), cst.profile_dicts())
def test_matches_equals_the_reference(rule: Rule, profile: dict[str, Any]) -> None:
    assert rule.matches(profile) == reference(_obj(rule), profile)


@settings(max_examples=100)
@given(cst.rules(max_leaves=3), cst.rules(max_leaves=3), cst.profile_dicts())
def test_de_morgan_and_double_negation(a: Rule, b: Rule, p: dict[str, Any]) -> None:
    assert (~(a & b)).matches(p) == ((~a) | (~b)).matches(p)
    assert (~(a | b)).matches(p) == ((~a) & (~b)).matches(p)
    assert (~~a).matches(p) == a.matches(p)
    assert (a | ~a).matches(p)


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_any_text_parses_or_raises_rule_syntax_error(text: str) -> None:
    try:
        rule = Rule.parse(text)
    except RuleSyntaxError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)  # noqa: PT017
    else:
        assert Rule.parse(str(rule)) == rule


@settings(max_examples=200)
@given(cst.rules(max_leaves=3), st.data())
def test_a_cut_rule_points_at_the_end(rule: Rule, data: st.DataObject) -> None:
    text = str(rule)
    # drop the last token: what remains is either a complete rule or an error at a position inside it
    cut = text[: data.draw(st.integers(0, len(text)))]
    try:
        Rule.parse(cut)
    except RuleSyntaxError as exc:
        assert exc.position is not None and 0 <= exc.position <= len(cut)  # noqa: PT017
        assert isinstance(exc, ValueError) and isinstance(exc, CustdataError)  # noqa: PT017


# --------------------------------------------------------------------------------------------- examples


def test_python_text_and_json_forms_agree() -> None:
    rule = (F.total_spend >= 5000) & (F.recency_days <= 90) | F.tags.contains("vip")
    assert str(rule) == "total_spend >= 5000 and recency_days <= 90 or tags contains 'vip'"
    assert Rule.parse("(total_spend >= 5000 and recency_days <= 90) or tags contains 'vip'") == rule
    assert Rule.parse("total_spend >= 5000 and (recency_days <= 90 or tags contains 'vip')") != rule
    assert str(~(F.a == 1) & F.b.is_missing()) == "not a == 1 and b is missing"
    assert str(~((F.a == 1) & (F.b == 2))) == "not (a == 1 and b == 2)"
    assert Rule.parse('city = "上海市"') == (F.city == "上海市")


def test_values_keep_one_canonical_form() -> None:
    assert (
        (F.x >= 12.5).to_json() == Rule.parse("x >= 12.5").to_json() == '{"field":"x","op":">=","value":12.5}'
    )
    assert (F.x >= 12.50).to_json() != Rule.parse("x >= 12.50").to_json()  # 12.50 is written as typed
    assert (F.d >= dt.date(2026, 1, 2)) == Rule.parse("d >= '2026-01-02'")
    assert str(F.s == "it's \\ \n") == "s == 'it\\'s \\\\ \\n'"
    assert Rule.parse(str(F.s == "it's \\ \n")) == (F.s == "it's \\ \n")


@pytest.mark.parametrize(
    ("text", "position", "token"),
    [
        ("monetary >= ", 12, ""),
        ("monetary >> 3", 10, ">"),
        ("monetary >= 5000 and", 20, ""),
        ("a == 1 & b == 2", 7, "&"),
        ("__import__('os').system('x')", 10, "("),
        ("a in ['x', ]", 11, "]"),
        ("a == 'open", 5, "'"),
        ("(a == 1", 7, ""),
        ("a within next -3 days", 14, "-3"),
        ("and == 1", 0, "and"),
        ("a == 1e", 5, "1e"),
    ],
)
def test_syntax_errors_point_at_the_token(text: str, position: int, token: str) -> None:
    with pytest.raises(RuleSyntaxError) as info:
        Rule.parse(text)
    assert info.value.position == position
    assert text[position:].startswith(token)
    assert "^" in str(info.value)


def test_unknown_fields_with_a_schema_suggest_the_closest() -> None:
    with pytest.raises(RuleSyntaxError, match="did you mean 'recency_days'") as info:
        Rule.parse("orders > 1 and recency_dys <= 30", schema=PROFILE_SCHEMA)
    assert info.value.position == 15
    with pytest.raises(RuleSyntaxError, match="unknown field"):
        Rule.from_json('{"op":"==","field":"ctiy","value":"x"}', schema=PROFILE_SCHEMA)
    with pytest.raises(RuleSyntaxError, match="holds a number"):
        Rule.parse("orders >= 'many'", schema=PROFILE_SCHEMA)
    with pytest.raises(RuleSyntaxError, match="holds no date"):
        Rule.parse("orders within next 3 days", schema=PROFILE_SCHEMA)
    assert Rule.parse("anything == 1") == (F.anything == 1)  # without a schema any name goes


def test_bad_json_is_refused() -> None:
    for bad in [
        '{"op":"~","field":"a"}',
        '{"op":"and","rules":[{"op":"missing","field":"a"}]}',
        "[1",
        '{"op":"==","field":"a","value":null}',
        '{"op":"==","field":"a","value":NaN}',
        '{"op":"and","rules":[{"op":"and","rules":[{"op":"missing","field":"a"},{"op":"missing","field":"b"}]},'
        '{"op":"missing","field":"c"}]}',
        '{"op":"missing","field":"a","x":1}',
    ]:
        with pytest.raises(RuleSyntaxError):
            Rule.from_json(bad)


def test_rules_have_no_truth_value() -> None:
    with pytest.raises(TypeError):
        bool(F.a == 1)
    with pytest.raises(TypeError):
        _ = (F.a == 1) and (F.b == 2)
    with pytest.raises(ValidationError):
        _ = F.a == None  # noqa: E711


def test_birthday_windows_with_year_less_birthdays_and_29_february() -> None:
    rule = F.birthday.within_next(7)
    as_of = dt.date(2027, 2, 25)  # 2027 is a common year
    assert rule.matches({"birthday": MonthDay(2, 29)}, as_of=as_of)  # celebrated on 28 February
    assert rule.matches({"birthday": dt.date(1996, 2, 29)}, as_of=as_of)
    assert rule.matches({"birthday": "--03-04"}, as_of=as_of)
    assert not rule.matches({"birthday": MonthDay(3, 5)}, as_of=as_of)
    assert rule.matches({"birthday": MonthDay(1, 2)}, as_of=dt.date(2026, 12, 28))  # across the new year
    assert not F.birthday.within_next(0).matches({"birthday": MonthDay(2, 29)}, as_of=dt.date(2028, 2, 28))
    assert F.birthday.within_next(1).matches({"birthday": MonthDay(2, 29)}, as_of=dt.date(2028, 2, 28))
    assert not rule.matches({"birthday": None}, as_of=as_of)
    assert not F.birthday.within_last(30).matches({"birthday": MonthDay(2, 1)}, as_of=as_of)


def test_windows_count_from_the_profile_as_of() -> None:
    rule = F.last_contact.within_last(90)
    p = {"last_contact": dt.date(2026, 1, 1), "as_of": dt.date(2026, 3, 31)}
    assert rule.matches(p)  # 89 days
    assert not rule.matches({**p, "as_of": dt.date(2026, 4, 2)})
    assert (~rule).matches({"last_contact": None, "as_of": dt.date(2026, 4, 2)})  # never contacted


def test_type_mismatch_is_an_error_not_a_silent_false() -> None:
    with pytest.raises(ValidationError, match="orders"):
        (F.orders >= "3").matches({"orders": 5})
    with pytest.raises(ValidationError):
        (F.tags == "vip").matches({"tags": frozenset({"vip"})})


@settings(max_examples=200)
@given(cst.rules(), cst.profile_dicts())
def test_the_compiled_fast_path_equals_the_general_evaluation(rule: Rule, profile: dict[str, Any]) -> None:
    from custdata.segments import Profile

    today = profile["as_of"]
    try:
        general = rule._eval(profile, today)
    except ValidationError:
        with pytest.raises(ValidationError):
            rule._compile()(profile, today)
        return
    assert rule._compile()(profile, today) == general
    p = Profile(id="x", **{k: v for k, v in profile.items() if k != "id" and k in Profile.__annotations__})
    assert rule._compile()(p, today) == rule._eval(p, today)


def test_a_field_a_profile_lacks_is_missing() -> None:
    from custdata import Customer
    from custdata.segments import profiles

    (p,) = profiles([Customer(id="a")], as_of="2026-01-01")
    assert not (F.monetary >= 1).matches(p) and F.monetary.is_missing().matches(p)
    assert not (F.monetary >= 1).matches({"id": "a"}) and not (F.monetary >= 1).matches(object())
