"""Rules inside the database select exactly the customers Python evaluation selects over profiles(...)."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata
import custdata.testing as cst
from custdata.exceptions import RuleSyntaxError
from custdata.segments import PROFILE_SCHEMA, F, Rule
from custdata.segments._select import RuleNotPushedWarning, select
from custdata.segments._sql import NOT_PUSHED, compile_rule

#: The fields the generated data fills with telling values (rules on the others are covered by a few).
FOCUS = {
    k: v
    for k, v in PROFILE_SCHEMA.items()
    if k not in ("title", "owner", "as_of", "p_alive", "clv", *NOT_PUSHED)  # interests: test_interests_*
}


def _python(rule: Rule, data: Any) -> list[str]:
    people, txs, contacts, as_of = data
    return sorted(p.id for p in custdata.profiles(people, txs, contacts, as_of=as_of) if rule.matches(p))


def _load(store: Any, data: Any) -> None:
    people, txs, contacts, _ = data
    store.upsert_many(people)
    store.add_transactions(txs)
    store.add_interactions(contacts)


def _texts(data: Any) -> dict[str, list[str]]:
    """Per field, the text values of the data's profiles and parts of them, for rules that match."""
    out: dict[str, set[str]] = {}
    for p in custdata.profiles(data[0], data[1], data[2], as_of=data[3]):
        for k, v in p.items():
            for t in v if isinstance(v, frozenset) else [v]:
                if isinstance(t, str) and t:
                    out.setdefault(k, set()).update({t, t[1:], t[:-1], t[1:3], t[-2:]} - {""})
    return {k: sorted(v) for k, v in out.items()}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cst.segment_data(), st.data())
def test_sqlite_selects_what_python_selects(data: Any, draw: st.DataObject) -> None:
    rule = draw.draw(cst.rules(FOCUS, max_leaves=4, texts=_texts(data)), label="rule")
    with custdata.open_store("sqlite://") as store:
        _load(store, data)
        got = [c.id for c in select(store, rule, as_of=data[3])]
    assert got == _python(rule, data), str(rule)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cst.rules(max_leaves=4), cst.segment_data(max_customers=5))
def test_memory_store_selects_what_python_selects(rule: Rule, data: Any) -> None:
    with custdata.open_store("memory://") as store:
        _load(store, data)
        got = sorted(c.id for c in select(store, rule, as_of=data[3]))
    assert got == _python(rule, data)


@pytest.mark.postgres
def test_postgres_selects_what_python_selects(pg_url: str) -> None:
    from tests.storage.storage_backends import with_query

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cst.segment_data(max_customers=6), st.data())
    def check(data: Any, draw: st.DataObject) -> None:
        rule = draw.draw(cst.rules(FOCUS, max_leaves=4, texts=_texts(data)), label="rule")
        url = with_query(pg_url, schema="seg_" + uuid.uuid4().hex[:12])
        with custdata.open_store(url) as store:
            _load(store, data)
            got = [c.id for c in select(store, rule, as_of=data[3])]
            store.query_sql("SELECT 1")
        assert got == _python(rule, data), str(rule)

    check()


def test_values_are_parameters_never_sql() -> None:
    evil = "x'); DROP TABLE cd_customers; --"
    rule = (F.city == evil) | F.tags.contains(evil) | F.name.startswith(evil) | F.company.is_in([evil, "a"])
    for dialect in ("sqlite", "postgresql"):
        compiled = compile_rule(rule, dialect, dt.date(2026, 1, 1), None)
        assert evil not in compiled.sql and "DROP" not in compiled.sql
        assert evil in compiled.params
    with custdata.open_store("sqlite://") as store:
        store.upsert_many([custdata.Customer(id="a", company="a")])
        assert [c.id for c in select(store, rule, as_of="2026-01-01")] == ["a"]
        assert store.count() == 1


def test_unknown_fields_are_refused_before_the_query() -> None:
    with (
        custdata.open_store("sqlite://") as store,
        pytest.raises(RuleSyntaxError, match="did you mean 'city'"),
    ):
        select(store, F.ctiy == "x", as_of="2026-01-01")


def test_amounts_sql_cannot_sum_exactly_fall_back_with_a_warning() -> None:
    data = (
        [custdata.Customer(id="a"), custdata.Customer(id="b")],
        [
            custdata.Transaction(customer_id="a", at="2026-01-01T00:00:00Z", amount="0.0000001"),
            custdata.Transaction(customer_id="b", at="2026-01-01T00:00:00Z", amount="1E+3"),
        ],
        [],
        dt.date(2026, 2, 1),
    )
    rule = F.total_spend > 0
    with custdata.open_store("sqlite://") as store:
        _load(store, data)
        with pytest.warns(RuleNotPushedWarning, match="six decimals"):
            got = [c.id for c in select(store, rule, as_of=data[3])]
    assert got == _python(rule, data) == ["a", "b"]


@pytest.mark.parametrize(
    "rule",
    [F.total_spend > 9_000_000_000_000, F.rfm_m == 1, F.orders >= 10, F.recency_days <= 400],
    ids=str,
)
def test_a_sum_beyond_64_bits_on_sqlite_falls_back_with_a_warning(rule: Rule) -> None:
    # each amount is whole millionths in 64 bits; ten of them are not (SQLite's sum() raises on overflow)
    at = "2026-01-01T00:00:00Z"
    big = "999999999999.5"
    data = (
        [custdata.Customer(id="a"), custdata.Customer(id="b")],
        [custdata.Transaction(customer_id="a", at=at, amount=big) for _ in range(10)]
        + [custdata.Transaction(customer_id="b", at=at, amount="7")],
        [],
        dt.date(2026, 2, 1),
    )
    with custdata.open_store("sqlite://") as store:
        _load(store, data)
        with pytest.warns(RuleNotPushedWarning, match="64 bits"):
            got = [c.id for c in select(store, rule, as_of=data[3])]
        assert got == _python(rule, data) != []
        with warnings.catch_warnings():  # a rule that reads no sum runs in SQL, silently
            warnings.simplefilter("error")
            assert [c.id for c in select(store, F.id == "b", as_of=data[3])] == ["b"]


def test_region_from_the_phone_is_rechecked_in_python() -> None:
    people = [
        custdata.Customer(id="a", phones=["13912345678"]),
        custdata.Customer(id="b", phones=["13800138000"]),
    ]
    rule = F.province == "江苏省"
    compiled = compile_rule(rule, "sqlite", dt.date(2026, 1, 1), None)
    assert not compiled.exact
    with custdata.open_store("sqlite://") as store:
        store.upsert_many(people)
        assert [c.id for c in select(store, rule, as_of="2026-01-01")] == ["a"]
        assert [c.id for c in select(store, ~rule, as_of="2026-01-01")] == ["b"]


def _atoms(data: Any) -> list[Rule]:
    """Predicates built from the values the data's profiles hold: every operator on every field, with
    values equal to, around and inside the data's."""
    from custdata.segments._rules import COMPARISONS, Compare, Contains, In, Missing, StartsWith

    out: list[Rule] = []
    profiles = list(custdata.profiles(data[0], data[1], data[2], as_of=data[3]))
    for field, kind in FOCUS.items():
        out += [Missing(field), ~Missing(field)]
        values = [p.get(field) for p in profiles if p.get(field) not in (None, "", frozenset())]
        for v in values[:2]:
            if kind == "text":
                parts = {v, v[1:], v[:2], v[-1:]} - {""}
                out += [Compare(field, op, x) for op in COMPARISONS for x in parts]
                out += [Contains(field, x) for x in parts] + [StartsWith(field, x) for x in parts]
                out.append(In(field, [v, "zz"]))
            elif kind == "tags":
                for t in sorted(v):
                    out += [Contains(field, t), StartsWith(field, t[:2]), In(field, [t])]
            elif kind in ("int", "decimal"):
                out += [Compare(field, op, x) for op in COMPARISONS for x in (v, v + 1, v - 1)]
                out.append(In(field, [v, 10**6]))
            elif kind in ("date", "datetime", "birthday"):
                out += [F[field].within_next(n) for n in (0, 1, 7, 30, 200)]
                out += [F[field].within_last(n) for n in (0, 1, 30, 400)]
                if kind != "birthday":
                    day = v.date() if isinstance(v, dt.datetime) else v
                    out += [Compare(field, op, day.isoformat()) for op in COMPARISONS]
    return out


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cst.segment_data())
def test_every_operator_on_the_data_values(data: Any) -> None:
    profiles = list(custdata.profiles(data[0], data[1], data[2], as_of=data[3]))
    with custdata.open_store("sqlite://") as store:
        _load(store, data)
        for rule in _atoms(data):
            for r in (rule, ~rule):
                want = sorted(p.id for p in profiles if r.matches(p))
                assert [c.id for c in select(store, r, as_of=data[3])] == want, str(r)


def test_an_encrypted_store_is_evaluated_in_python(tmp_path: Any) -> None:
    from custdata.security import Keyring

    people = [custdata.Customer(id="a", addresses=[{"city": "上海市"}]), custdata.Customer(id="b")]
    with custdata.open_store(f"sqlite:///{tmp_path}/e.db", keyring=Keyring.generate()) as store:
        store.upsert_many(people)
        with pytest.warns(RuleNotPushedWarning, match="encrypts"):
            got = [c.id for c in select(store, F.city == "上海市", as_of="2026-01-01")]
    assert got == ["a"]


@pytest.mark.parametrize("rule", [F.orders >= 1, F.orders > 100, F.rfm_r >= 1])
def test_several_currencies_are_refused_as_profiles_refuses_them(rule: Rule) -> None:
    from custdata.exceptions import ValidationError

    txs = [custdata.Transaction(customer_id="a", at="2026-01-01T00:00:00Z", amount="1", currency=c)
           for c in ("CNY", "USD")]  # fmt: skip
    with custdata.open_store("sqlite://") as store:
        store.upsert_many([custdata.Customer(id="a")])
        store.add_transactions(txs)
        with pytest.raises(ValidationError, match="currencies"):
            select(store, rule, as_of="2026-02-01")
    with pytest.raises(ValidationError, match="currencies"):
        list(custdata.profiles([custdata.Customer(id="a")], txs, as_of="2026-02-01"))


@pytest.mark.parametrize("url", ["sqlite://", "memory://"])
def test_store_select_is_the_rule_selection(url: str) -> None:
    from custdata.exceptions import ValidationError
    from custdata.storage import RuleSelectable, Store

    people = [custdata.Customer(id="a", tags=["vip"]), custdata.Customer(id="b")]
    with custdata.open_store(url) as store:
        assert isinstance(store, RuleSelectable) and isinstance(store, Store)
        store.upsert_many(people)
        assert [c.id for c in store.select(F.tags.contains("vip"), as_of="2026-01-01")] == ["a"]
        assert [c.id for c in store.select(Rule.parse("tags is missing"), as_of="2026-01-01")] == ["b"]
        with pytest.raises(ValidationError, match="Rule"):
            store.select("tags contains 'vip'", as_of="2026-01-01")
