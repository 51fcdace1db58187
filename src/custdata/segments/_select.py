"""Selecting a store's customers with a rule: inside the database where the store speaks SQL, in Python
otherwise; exactly the customers ``rule.matches`` selects over ``profiles(...)`` of the store's data."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import warnings
from decimal import Decimal
from typing import Any

from custdata._records import Customer
from custdata.exceptions import StoreError, ValidationError
from custdata.segments._profiles import PROFILE_SCHEMA, ProfileBuilder, as_of_date
from custdata.segments._rfm import Edges, check_bins
from custdata.segments._rules import Rule
from custdata.segments._schema import check_predicate
from custdata.segments._sql import (
    DIALECTS,
    NOT_PUSHED,
    RFM_FIELDS,
    TX_FIELDS,
    check_query,
    compile_rule,
    edges_query,
)

__all__ = ["RuleNotPushedWarning", "select"]

log = logging.getLogger(__name__)


class RuleNotPushedWarning(UserWarning):
    """A rule ran in Python over the store's data instead of inside the database (the answer is the same;
    only slower). The message says why."""


def _day(text: Any) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(str(text)[:10])


def _spend(value: Any) -> Decimal:
    return Decimal(value).scaleb(-6) if value is not None else Decimal(0)


def select(
    store: Any, rule: Rule, *, as_of: dt.date | str, bins: int = 5, region: str | None = "CN"
) -> list[Customer]:
    """The customers of ``store`` that ``rule`` selects as of ``as_of``, in id order.

    On a store with SQL tables (``store.sql_dialect`` ``"sqlite"``, ``"postgresql"`` or ``"mariadb"`` and
    ``store.query_sql``) the rule runs inside the database: the profile figures are computed there from the
    stored transactions and interactions. Rows whose answer SQL cannot know (a region from the phone's
    geodata, the display name, the average order value) are checked again in Python. Any other store, and a
    store whose amounts SQL cannot sum exactly (more than six decimals), is evaluated in Python over
    ``profiles(...)`` of its data (with a :class:`RuleNotPushedWarning` for a SQL store; also for a store that
    encrypts personal fields at rest, whose bodies SQL cannot read, and for a rule that reads an interest
    field, ``top_category``, ``top_category_share`` or ``top_categories``, which come from line items). The
    rule is checked against the profile fields first: an unknown field raises
    :class:`~custdata.exceptions.RuleSyntaxError`. In SQL, a rule that reads no transaction figure does not
    read the transactions (so it does not see a mix of currencies, which :func:`custdata.profiles` refuses).
    """
    if not isinstance(rule, Rule):
        raise ValidationError(f"expected a rule, got {type(rule).__name__}", field="rule")
    day = as_of_date(as_of)
    check_bins(bins)
    for p in rule.predicates():
        check_predicate(p, PROFILE_SCHEMA)
    dialect = getattr(store, "sql_dialect", None)
    if dialect in DIALECTS and callable(getattr(store, "query_sql", None)):
        unpushed = rule.fields() & NOT_PUSHED
        if unpushed:
            warnings.warn(
                f"{store.url}: {', '.join(sorted(unpushed))} cannot be pushed down to SQL (interests come "
                "from the transactions' line items); the rule ran in Python",
                RuleNotPushedWarning,
                stacklevel=2,
            )
        elif getattr(store, "encrypted", False):
            warnings.warn(
                f"{store.url}: the store encrypts personal fields at rest, which SQL cannot read; the rule "
                "ran in Python",
                RuleNotPushedWarning,
                stacklevel=2,
            )
        else:
            try:
                got = _select_sql(store, rule, dialect, day, bins, region)
            except StoreError as exc:
                if not _sum_overflow(exc):
                    raise
                warnings.warn(
                    f"{store.url}: a customer's net spend is beyond what the database sums in 64 bits "
                    "(±9,223,372,036,854.775807); the rule ran in Python",
                    RuleNotPushedWarning,
                    stacklevel=2,
                )
                got = None
            if got is not None:
                return got
    return _select_python(store, rule, day, bins, region)


def _sum_overflow(exc: StoreError) -> bool:
    """Whether SQLite refused a sum beyond 64-bit integers (its ``sum()`` raises rather than round: the
    amounts are whole millionths, so a net spend beyond ±9.2e12 overflows)."""
    cause = exc.__cause__
    return isinstance(cause, sqlite3.Error) and "integer overflow" in str(cause).lower()


def _select_python(store: Any, rule: Rule, day: dt.date, bins: int, region: str | None) -> list[Customer]:
    builder = ProfileBuilder(day, bins=bins, region=region)
    builder.add_transactions(store.transactions())
    builder.add_interactions(store.interactions())
    builder.finish()
    return [c for c in store.scan() if rule.matches(builder.profile(c))]


def _checked(store: Any, bad: Any, lows: list[Any], highs: list[Any]) -> bool:
    """False (with a warning) when an amount cannot be summed exactly in SQL; ValidationError for several
    currencies, as :func:`custdata.profiles` raises."""
    if bad:
        warnings.warn(
            f"{store.url}: some amounts have more than six decimals (or an exponent), which SQL cannot sum "
            "exactly; the rule ran in Python",
            RuleNotPushedWarning,
            stacklevel=4,
        )
        return False
    currencies = {c for c in (*lows, *highs) if c is not None}
    if len(currencies) > 1:
        raise ValidationError(
            "transactions in several currencies: convert them to one first", field="currency"
        )
    return True


def _select_sql(
    store: Any, rule: Rule, dialect: str, day: dt.date, bins: int, region: str | None
) -> list[Customer] | None:
    query = store.query_sql
    needs_tx = bool(rule.fields() & TX_FIELDS)  # a rule that reads no transaction figure scans none
    edges = None
    if rule.fields() & RFM_FIELDS:
        eq = edges_query(dialect, day)
        agg = query(eq.sql, list(eq.params))
        if not _checked(store, any(r[3] for r in agg), [r[4] for r in agg], [r[5] for r in agg]):
            return None
        edges = Edges.of(
            (((day - _day(ld)).days, int(n), _spend(s)) for ld, n, s, *_ in agg if n),  # type: ignore[operator]
            bins,
        )
        needs_tx = False  # checked
    compiled = compile_rule(rule, dialect, day, edges)
    rows = query(compiled.sql, list(compiled.params))
    if needs_tx:
        if rows:
            bad, low, high = rows[0][7:10]
        else:
            check = check_query(dialect, day)
            ((bad, low, high),) = query(check.sql, list(check.params))
        if not _checked(store, bad, [low], [high]):
            return None
    ids = [r[0] for r in rows]
    found = store.get_many(ids)
    if compiled.exact:
        return [found[i] for i in ids if i in found]
    builder = ProfileBuilder(day, bins=bins, region=region)
    builder.edges = edges
    out = []
    for cid, must, n, s, fd, ld, lc, *_ in rows:
        c = found.get(cid)
        if c is None:
            continue
        if must:
            out.append(c)
            continue
        if n is not None:
            builder.tx[cid] = [int(n), _spend(s), _day(fd), _day(ld)]
        if lc is not None:
            builder.contact[cid] = _day(lc)  # type: ignore[assignment]
        if rule.matches(builder.profile(c)):
            out.append(c)
    log.debug(
        "%s: %d rows from SQL, %d rechecked in Python", store.url, len(rows), sum(1 for r in rows if not r[1])
    )
    return out
