"""Segment rules inside MariaDB (``store.select`` through segments' MariaDB dialect) on a real server started by
the tests: the SQL path is taken (no :class:`RuleNotPushedWarning`, no Python evaluation) for every rule the
other dialects push down, falls back with the warning where they do, and selects exactly what Python selects
over ``profiles(...)``, on fixed and generated data and rules (text compared by code point, no trailing-space
padding, whatever the connection's collation)."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

pytest.importorskip("pymysql", reason="the mariadb extra is not installed")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata
import custdata.testing as cst
from custdata._records import Customer, Transaction
from custdata.exceptions import StoreError
from custdata.security import Keyring
from custdata.segments import PROFILE_SCHEMA, F, Rule, RuleNotPushedWarning
from custdata.segments import _select as select_module
from custdata.segments._sql import NOT_PUSHED, compile_rule
from custdata.storage import Store
from custdata.storage._mariadb import _dialect
from custdata.testing.stores import _fixed_rules, select_data
from tests.storage.mariadb_server import MariaDBServer

pytestmark = pytest.mark.mariadb

AS_OF = dt.date(2026, 6, 30)


@pytest.fixture
def store(mariadb_server: MariaDBServer) -> Iterator[Store]:
    with custdata.open_store(mariadb_server.emptied()) as s:
        yield s


def _python(people: Any, txs: Any, contacts: Any, rule: Rule, as_of: Any) -> list[str]:
    return sorted(p.id for p in custdata.profiles(people, txs, contacts, as_of=as_of) if rule.matches(p))


def _load(store: Store, people: Any, txs: Any, contacts: Any) -> None:
    store.upsert_many(people)
    store.add_transactions(txs)
    store.add_interactions(contacts)


def _run(store: Any, rule: Rule, as_of: Any = AS_OF) -> tuple[list[str], list[str]]:
    """The ids ``store.select`` picks and the RuleNotPushedWarning messages it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [c.id for c in store.select(rule, as_of=as_of)]
    return got, [str(w.message) for w in caught if issubclass(w.category, RuleNotPushedWarning)]


@pytest.fixture
def no_python(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python evaluation over profiles is an error: the answer must come from SQL."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the rule ran in Python")

    monkeypatch.setattr(select_module, "_select_python", refuse)


def test_the_store_speaks_mariadb_sql(store: Any) -> None:
    assert store.sql_dialect == "mariadb"
    compiled = compile_rule(F.tags.contains("vip") & (F.total_spend > 10), "mariadb", AS_OF, None)
    store.query_sql(compiled.sql, list(compiled.params))  # MariaDB runs it (empty store: no rows)


@pytest.mark.parametrize(
    ("version", "nopad", "dialect"),
    [
        ("10.11.19-MariaDB-0+deb12u1", True, "mariadb"),
        ("10.6.2-MariaDB", True, "mariadb"),
        ("11.4.3-MariaDB-log", True, "mariadb"),
        ("10.5.26-MariaDB", True, "mariadb-10.5"),
        ("8.0.36", False, "mysql"),
        ("8.4.0-0ubuntu1", True, "mysql"),
    ],
)
def test_only_mariadb_10_6_and_later_speak_the_dialect(version: str, nopad: bool, dialect: str) -> None:
    assert _dialect(version, nopad) == dialect


def test_the_rules_sqlite_pushes_run_in_mariadb_sql(store: Any, tmp_path: Any) -> None:
    """Every fixed rule of the contract: no warning on MariaDB exactly where SQLite gives none, the same
    answer as Python, and (where it is pushed) no Python evaluation over profiles."""
    people, deleted, txs, contacts = select_data()
    with custdata.open_store(f"sqlite:///{tmp_path / 'x.db'}") as lite:
        for s in (store, lite):
            _load(s, [*people, *deleted], txs, contacts)
            for c in deleted:
                s.delete(c.id)
        rules = [*_fixed_rules(), F.top_category == "books", F.top_categories.contains("toys")]
        pushed = 0
        for rule in rules:
            want = _python(people, txs, contacts, rule, AS_OF)
            got, warned = _run(store, rule)
            lite_got, lite_warned = _run(lite, rule)
            assert got == want == lite_got, str(rule)
            assert bool(warned) == bool(lite_warned), f"{rule}: {warned} vs SQLite's {lite_warned}"
            if not warned:
                pushed += 1
                with pytest.MonkeyPatch.context() as mp:
                    mp.setattr(select_module, "_select_python", _refuse)
                    assert [c.id for c in store.select(rule, as_of=AS_OF)] == want
        assert pushed == len(rules) - 2  # only the interest rules run in Python


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the rule ran in Python")


def test_text_is_compared_by_code_point_without_padding(store: Any, no_python: None) -> None:
    """MariaDB's default collations fold case and pad trailing spaces; the dialect compares as Python."""
    people = [
        Customer.from_dict({"id": "a", "company": "Acme", "tags": ["vip"], "gender": "f"}),
        Customer.from_dict({"id": "b", "company": "acme", "tags": ["VIP"], "gender": "F"}),
        Customer.from_dict({"id": "c", "company": "Acme ", "tags": ["vip "], "gender": "f "}),
        Customer.from_dict({"id": "d", "company": "Äcme😀", "tags": ["会员"], "title": " "}),
        Customer.from_dict({"id": "e", "company": "ß", "tags": [], "title": "Ms"}),
    ]
    _load(store, people, [], [])
    for rule in (
        F.company == "Acme",
        F.company != "Acme",
        F.company.is_in(["acme", "ss"]),
        F.company < "Acme ",
        F.company >= "acme",
        F.company.startswith("Acme"),
        F.company.startswith("Ä"),
        F.company.contains("cme"),
        F.company.contains("😀"),
        F.company == "ss",
        F.tags.contains("vip"),
        F.tags.is_in(["VIP", "会员"]),
        F.tags.startswith("vip"),
        F.tags.is_missing(),
        F.gender == "f",
        F.gender.is_in(["F"]),
        F.title.is_present(),
        F.title == " ",
    ):
        want = _python(people, [], [], rule, AS_OF)
        got, warned = _run(store, rule)
        assert (got, warned) == (want, []), str(rule)


def test_big_sums_stay_in_sql(store: Any, no_python: None) -> None:
    """MariaDB sums BIGINT millionths as DECIMAL: a net spend beyond 64 bits is exact in SQL (SQLite runs
    such a rule in Python), compared with the largest bounds a rule takes."""
    big = Decimal("999999999999.999999")
    at = "2026-06-01T10:00:00+08:00"
    people = [Customer(id="c1"), Customer(id="c2"), Customer(id="c3")]
    txs = [Transaction.from_dict({"customer_id": "c1", "at": at, "amount": big}) for _ in range(10)]
    txs += [Transaction.from_dict({"customer_id": "c2", "at": at, "amount": -big}) for _ in range(10)]
    txs += [Transaction.from_dict({"customer_id": "c3", "at": at, "amount": "5"})]
    _load(store, people, txs, [])
    for rule in (
        F.total_spend > Decimal("9223372036854.775807"),
        F.total_spend < Decimal("-9223372036854.775807"),
        (F.total_spend >= 0) & (F.total_spend < 10),
        F.rfm_m >= 3,
    ):
        want = _python(people, txs, [], rule, AS_OF)
        got, warned = _run(store, rule)
        assert (got, warned) == (want, []), str(rule)


def test_amounts_sql_cannot_sum_fall_back_with_a_warning(store: Any) -> None:
    at = "2026-06-01T10:00:00+08:00"
    people = [Customer(id="c1"), Customer(id="c2")]
    txs = [
        Transaction.from_dict({"customer_id": "c1", "at": at, "amount": "0.0000001"}),
        Transaction.from_dict({"customer_id": "c2", "at": at, "amount": "5"}),
    ]
    _load(store, people, txs, [])
    got, warned = _run(store, F.total_spend > 1)
    assert got == _python(people, txs, [], F.total_spend > 1, AS_OF) == ["c2"]
    assert len(warned) == 1 and "six decimals" in warned[0]
    got, warned = _run(store, F.tags.contains("x") | F.gender.is_missing())  # no transaction figure
    assert (got, warned) == (["c1", "c2"], [])


def test_an_encrypted_store_runs_rules_in_python(mariadb_server: MariaDBServer) -> None:
    with custdata.open_store(mariadb_server.emptied(), keyring=Keyring.generate()) as s:
        s.upsert_many([Customer.from_dict({"id": "a", "tags": ["vip"]}), Customer(id="b")])
        got, warned = _run(s, F.tags.contains("vip"))
    assert got == ["a"] and len(warned) == 1 and "encrypts" in warned[0]


# --------------------------------------------------------------------------------------------- hash joins
def _session_level(store: Any) -> int:
    return int(store.query_sql("SELECT @@SESSION.join_cache_level")[0][0])


def _plan(store: Any, sql: str, params: list[Any]) -> str:
    """MariaDB's plan of a rule's query (EXPLAIN placed after its per-statement settings, if any)."""
    head, sep, rest = sql.partition(" FOR WITH ")
    explain = f"{head} FOR EXPLAIN WITH {rest}" if sep else f"EXPLAIN {sql}"
    return "\n".join(" ".join(str(v) for v in row) for row in store.query_sql(explain, params))


def _spenders(store: Any, n: int) -> None:
    at = "2026-06-01T10:00:00+08:00"
    store.upsert_many([Customer(id=f"c{i:04d}") for i in range(n)])
    store.add_transactions(
        [Transaction.from_dict({"customer_id": f"c{i % n:04d}", "at": at, "amount": i}) for i in range(2 * n)]
    )
    store.optimize()


def test_rule_queries_join_the_sums_by_hashing(store: Any) -> None:
    """The per-customer sums are joined by hashing (``join_cache_level = 4`` for the statement), not looked
    up per customer in a nested loop: the plan MariaDB makes for the query says so, and the same query
    without the setting is planned as a nested loop (so the check can fail)."""
    _spenders(store, 300)
    compiled = compile_rule(F.total_spend > 100, "mariadb", AS_OF, None)
    assert compiled.sql.startswith("SET STATEMENT join_cache_level = 4 FOR WITH ")
    hashed = _plan(store, compiled.sql, list(compiled.params))
    assert "BNLH" in hashed or "hash" in hashed, hashed
    plain = _plan(store, compiled.sql.split(" FOR ", 1)[1], list(compiled.params))
    assert "BNLH" not in plain and "hash" not in plain, plain


def test_a_select_leaves_the_session_join_setting_as_it_was(store: Any) -> None:
    """Hash joins only for the rule's statement: after a select (also one whose query fails) the
    session's ``join_cache_level`` is the server's default or what the caller set; bulk writes keep it."""
    _spenders(store, 50)
    before = _session_level(store)
    # the server's own setting (default 2): a store that set hash joins for its whole session fails here
    assert before == int(store.query_sql("SELECT @@GLOBAL.join_cache_level")[0][0])
    if before == 4:  # a server configured with hash joins (CUSTDATA_TEST_MARIADB_URL): start elsewhere
        before = 2
        store._raw("SET SESSION join_cache_level = 2")
    want = _python(store.scan(), store.transactions(), [], F.total_spend > 60, AS_OF)
    got, warned = _run(store, F.total_spend > 60)
    assert (got, warned) == (want, []) and got
    assert _session_level(store) == before
    store._raw("SET SESSION join_cache_level = 3")  # a caller's own session value is kept too
    assert _run(store, F.total_spend > 60)[0] == want
    assert _session_level(store) == 3
    store._raw(f"SET SESSION join_cache_level = {before}")

    def broken(rule: Rule, dialect: str, as_of: Any, edges: Any) -> Any:
        good = compile_rule(rule, dialect, as_of, edges)
        return type(good)(
            good.sql.replace("FROM p", "FROM no_such_table p", 1),
            good.params,
            good.needs_tx,
            good.needs_contact,
            good.exact,
        )

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(select_module, "compile_rule", broken)
        with pytest.raises(StoreError):
            store.select(F.total_spend > 60, as_of=AS_OF)
    assert _session_level(store) == before
    store.upsert_many([Customer(id="later")])  # the store still writes, at the session's own setting
    assert store.get("later") is not None and _session_level(store) == before


# --------------------------------------------------------------------------------------------- generated
FOCUS = {
    k: v
    for k, v in PROFILE_SCHEMA.items()
    if k not in ("title", "owner", "as_of", "p_alive", "clv", "expected_purchases", *NOT_PUSHED)
}


def _texts(data: Any) -> dict[str, list[str]]:
    """Per field, the profiles' texts, parts of them and the near misses MariaDB's default collations would
    confuse (other case, a trailing space)."""
    out: dict[str, set[str]] = {}
    for p in custdata.profiles(data[0], data[1], data[2], as_of=data[3]):
        for k, v in p.items():
            for t in v if isinstance(v, frozenset) else [v]:
                if isinstance(t, str) and t:
                    out.setdefault(k, set()).update({t, t[1:], t[:-1], t.upper(), t.lower(), t + " "} - {""})
    return {k: sorted(v) for k, v in out.items()}


def test_generated_rules_run_in_sql_and_select_what_python_selects(
    mariadb_server: MariaDBServer, no_python: None
) -> None:
    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(cst.segment_data(max_customers=6, max_transactions=15), st.data())
    def check(data: Any, draw: st.DataObject) -> None:
        rule = draw.draw(cst.rules(FOCUS, max_leaves=4, texts=_texts(data)), label="rule")
        people, txs, contacts, as_of = data
        with custdata.open_store(mariadb_server.emptied()) as s:
            _load(s, people, txs, contacts)
            got, warned = _run(s, rule, as_of)
        assert (got, warned) == (_python(people, txs, contacts, rule, as_of), []), str(rule)

    check()
