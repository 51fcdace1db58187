"""Rules inside the database: compile a rule to one parameterised SQL query over a store's tables.

The query computes the profile columns a rule reads from the store's ``cd_customers``,
``cd_transactions`` and ``cd_interactions`` tables (see docs/storage.md) with the definitions of
:func:`custdata.profiles`, and filters on the rule. Every value of the rule travels as a query parameter;
field names come from a fixed table (an unknown field is an error), so rule text cannot reach the SQL.

The transaction figures come from the plain columns of store schema 2 (``day``, ``amount_u``,
``currency``, written with every transaction; see :mod:`custdata.storage._sql`), never from the JSON bodies,
and the per-customer sums read the ``(customer_id, day, amount_u, currency)`` index alone.

Exactness: amounts are summed as whole millionths (integers), so spend comparisons are exact; a store holding
an amount that is not exact in millionths is evaluated in Python. Some profile values cannot be computed in
SQL: the region from a phone number (phonenumbers' geodata), the display name and the average order value (a
``Decimal`` division). Each predicate compiles to two conditions: *maybe* (the row may match) and *must* (the
row certainly matches). The query returns the rows that may match; those that are not certain are checked
again in Python with their full profile, so the answer is exactly Python's.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar

import attrs

from custdata.exceptions import ValidationError
from custdata.segments._profiles import PROFILE_SCHEMA
from custdata.segments._rfm import SEGMENT_GRID, Edges
from custdata.segments._rules import (
    And,
    Compare,
    Contains,
    In,
    Missing,
    Not,
    Or,
    Predicate,
    Present,
    Rule,
    StartsWith,
    Value,
    WithinLast,
    WithinNext,
    next_occurrence,
)

__all__ = ["NOT_PUSHED", "SCALE", "Compiled", "Frag", "compile_rule", "month_days_within"]

#: Amounts are compared as whole multiples of 10**-6 (millionths).
SCALE = 10**6
_SCALE_DIGITS = 6


@attrs.frozen
class Frag:
    """A piece of SQL with its parameters (``?`` placeholders, in order)."""

    sql: str
    params: tuple[Any, ...] = ()

    def __add__(self, other: Frag) -> Frag:
        return Frag(self.sql + other.sql, self.params + other.params)


def _join(sep: str, frags: Sequence[Frag]) -> Frag:
    return Frag(sep.join(f.sql for f in frags), tuple(p for f in frags for p in f.params))


_SQL_OP = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

TRUE = Frag("(1=1)")
FALSE = Frag("(1=0)")


def _not(f: Frag) -> Frag:
    if f is TRUE:
        return FALSE
    if f is FALSE:
        return TRUE
    return Frag(f"(NOT {f.sql})", f.params)


def _and(fs: Sequence[Frag]) -> Frag:
    if any(f is FALSE for f in fs):
        return FALSE
    rest = [f for f in fs if f is not TRUE]
    if not rest:
        return TRUE
    return rest[0] if len(rest) == 1 else Frag("(", ()) + _join(" AND ", rest) + Frag(")")


def _or(fs: Sequence[Frag]) -> Frag:
    if any(f is TRUE for f in fs):
        return TRUE
    rest = [f for f in fs if f is not FALSE]
    if not rest:
        return FALSE
    return rest[0] if len(rest) == 1 else Frag("(", ()) + _join(" OR ", rest) + Frag(")")


# --------------------------------------------------------------------------------------------- dialects
class Dialect:
    """What differs between SQLite, PostgreSQL and MariaDB."""

    name = ""
    body = ""  # the customer's parsed body inside the profile CTE
    div = "/"  # division of integers, rounding toward zero
    #: What goes before a rule's query (per-statement settings: MariaDB's hash joins).
    statement = ""

    def p(self, kind: str) -> str:
        """A placeholder (typed where the database needs it)."""
        return "?"

    def j(self, *path: str | int) -> str:
        raise NotImplementedError

    def j_len(self, key: str) -> str:
        raise NotImplementedError

    def days_between(self, later_param: str, earlier: str) -> str:
        raise NotImplementedError

    def b2i(self, expr: str) -> str:
        return f"({expr})"

    def any_tag(self, tags_col: str, cond: Callable[[str], str]) -> str:
        raise NotImplementedError

    def primary(self, key: str, field: str) -> str:
        raise NotImplementedError

    def contains(self, col: str) -> str:
        raise NotImplementedError

    def starts(self, col: str) -> str:
        raise NotImplementedError

    def text_cmp(self, col: str, op: str) -> str:
        return f"{col} {_SQL_OP[op]} {self.p('text')}"

    def tx_ctes(self) -> str:
        raise NotImplementedError

    def tags_col(self) -> str:
        raise NotImplementedError

    def customers_from(self, needs_body: bool = True) -> str:
        raise NotImplementedError

    def bad_max(self) -> str:
        raise NotImplementedError

    def tags_len(self, col: str) -> str:
        raise NotImplementedError

    def typed(self, kind: str, expr: Frag) -> Frag:
        """A profile column of ``kind`` as the rule's comparisons need it (as it is, but on MariaDB)."""
        return expr


class SQLiteDialect(Dialect):
    name = "sqlite"

    def j(self, *path: str | int) -> str:
        return f"json_extract(c.body, '{_path(path)}')"

    def j_len(self, key: str) -> str:
        return f"COALESCE(json_array_length(c.body, '$.{key}'), 0)"

    def days_between(self, later_param: str, earlier: str) -> str:
        return f"CAST(julianday({later_param}) - julianday({earlier}) AS INTEGER)"

    def any_tag(self, tags_col: str, cond: Callable[[str], str]) -> str:
        return f"EXISTS (SELECT 1 FROM json_each({tags_col}) t WHERE {cond('t.value')})"

    def primary(self, key: str, field: str) -> str:
        return (
            f"COALESCE((SELECT json_extract(x.value, '$.{field}') FROM json_each(c.body, '$.{key}') x "
            f"WHERE json_extract(x.value, '$.primary') = 1 ORDER BY x.key LIMIT 1), "
            f"json_extract(c.body, '$.{key}[0].{field}'))"
        )

    def contains(self, col: str) -> str:
        return f"instr({col}, ?) > 0"

    def starts(self, col: str) -> str:
        return f"substr({col}, 1, length(?)) = ?"

    def tags_col(self) -> str:
        return "json_extract(c.body, '$.tags')"

    def customers_from(self, needs_body: bool = True) -> str:
        return "cd_customers c"  # json_extract parses a body only where a column reads it

    def tx_ctes(self) -> str:
        return _TX_CTE

    def bad_max(self) -> str:
        return "MAX(bad)"

    def tags_len(self, col: str) -> str:
        return f"COALESCE(json_array_length({col}), 0)"


class PostgresDialect(Dialect):
    name = "postgresql"
    _TYPES: ClassVar[dict[str, str]] = {"text": "text", "int": "bigint", "num": "numeric", "date": "date"}

    def p(self, kind: str) -> str:
        return f"CAST(? AS {self._TYPES[kind]})"

    def j(self, *path: str | int) -> str:
        inner = "".join(f"->{k}" if isinstance(k, int) else f"->'{k}'" for k in path[:-1])
        last = path[-1]
        return f"(c.b{inner}->>{last if isinstance(last, int) else repr(last)})"

    def j_len(self, key: str) -> str:
        arr = f"CASE WHEN jsonb_typeof(c.b->'{key}') = 'array' THEN c.b->'{key}' END"
        return f"COALESCE(jsonb_array_length({arr}), 0)"

    def days_between(self, later_param: str, earlier: str) -> str:
        return f"({later_param} - CAST({earlier} AS date))"

    def b2i(self, expr: str) -> str:
        return f"CAST(({expr}) AS integer)"

    def any_tag(self, tags_col: str, cond: Callable[[str], str]) -> str:
        return f"EXISTS (SELECT 1 FROM jsonb_array_elements_text({tags_col}) t(v) WHERE {cond('t.v')})"

    def primary(self, key: str, field: str) -> str:
        return (
            f"COALESCE((SELECT x.v->>'{field}' FROM jsonb_array_elements("
            f"CASE WHEN jsonb_typeof(c.b->'{key}') = 'array' THEN c.b->'{key}' ELSE '[]'::jsonb END"
            f") WITH ORDINALITY x(v, n) WHERE (x.v->>'primary') = 'true' ORDER BY x.n LIMIT 1), "
            f"c.b->'{key}'->0->>'{field}')"
        )

    def contains(self, col: str) -> str:
        return f"strpos({col}, CAST(? AS text)) > 0"

    def starts(self, col: str) -> str:
        return f"left({col}, char_length(CAST(? AS text))) = CAST(? AS text)"

    def text_cmp(self, col: str, op: str) -> str:
        return f'{col} COLLATE "C" {_SQL_OP[op]} CAST(? AS text)'

    def tags_col(self) -> str:
        return "CASE WHEN jsonb_typeof(c.b->'tags') = 'array' THEN c.b->'tags' ELSE '[]'::jsonb END"

    def customers_from(self, needs_body: bool = True) -> str:
        # OFFSET 0: each body is parsed once, not at every use; not at all for a rule that reads no body field
        if not needs_body:
            return "cd_customers c"
        return "(SELECT id, deleted_at, body::jsonb AS b FROM cd_customers OFFSET 0) c"

    def tx_ctes(self) -> str:
        return _TX_CTE.replace("?", "CAST(? AS text)")

    def bad_max(self) -> str:
        return "COALESCE(bool_or(bad), false)"

    def tags_len(self, col: str) -> str:
        return f"jsonb_array_length({col})"


#: The transactions up to ``as_of`` (one parameter): customer, day, currency, the amount in millionths
#: (``v``) and whether it is NULL (``bad``: not exact in millionths, so SQL cannot sum it), read from the
#: store's plain columns (store schema 2) through the ``(customer_id, day, amount_u, currency)`` index.
_TX_CTE = (
    "tx2 AS (SELECT customer_id AS cid, day AS d, currency AS cur, amount_u AS v, "
    "(amount_u IS NULL) AS bad FROM cd_transactions WHERE day <= ?)"
)


def _path(path: Sequence[str | int]) -> str:
    out = "$"
    for k in path:
        out += f"[{k}]" if isinstance(k, int) else f".{k}"
    return out


#: MariaDB's exact text comparison: code point order (as Python compares), no trailing-space padding.
_NOPAD = "utf8mb4_nopad_bin"


class MariaDBDialect(Dialect):
    """MariaDB (10.6 and later: ``JSON_TABLE``) over the bodies as the store writes them (JSON text in a
    ``LONGTEXT`` column). Text columns are compared in ``utf8mb4_nopad_bin`` (code point order, ``'a'`` and
    ``'a '`` different, as in Python), whatever the connection's collation; sums of ``BIGINT`` millionths are
    ``DECIMAL`` (exact, no 64-bit overflow)."""

    name = "mariadb"
    div = "DIV"  # "/" gives a DECIMAL
    # Hash joins for this statement alone: the per-customer sums (a grouped derived table) are joined by
    # hashing, not looked up for every customer in a nested loop (one spend rule, on a loaded machine:
    # 20k customers took 106 s in the nested loop, 50k take 3-4 s hashed). ``SET STATEMENT`` leaves the
    # session's own value as it was, also when the query fails; as a session setting it made bulk upserts
    # many times slower.
    statement = "SET STATEMENT join_cache_level = 4 FOR "

    def j(self, *path: str | int) -> str:
        return f"JSON_VALUE(c.body, '{_path(path)}')"

    def j_len(self, key: str) -> str:
        return f"COALESCE(JSON_LENGTH(c.body, '$.{key}'), 0)"

    def days_between(self, later_param: str, earlier: str) -> str:
        return f"DATEDIFF({later_param}, {earlier})"

    def any_tag(self, tags_col: str, cond: Callable[[str], str]) -> str:
        return (
            f"EXISTS (SELECT 1 FROM JSON_TABLE({tags_col}, '$[*]' COLUMNS (v LONGTEXT CHARACTER SET utf8mb4 "
            f"COLLATE {_NOPAD} PATH '$')) t WHERE {cond('t.v')})"
        )

    def primary(self, key: str, field: str) -> str:
        return (
            f"COALESCE((SELECT x.v FROM JSON_TABLE(c.body, '$.{key}[*]' COLUMNS (n FOR ORDINALITY, "
            f"v LONGTEXT CHARACTER SET utf8mb4 PATH '$.{field}', pr VARCHAR(8) PATH '$.primary')) x "
            f"WHERE x.pr IN ('1', 'true') ORDER BY x.n LIMIT 1), JSON_VALUE(c.body, '$.{key}[0].{field}'))"
        )

    def contains(self, col: str) -> str:
        return f"INSTR({col}, ?) > 0"

    def starts(self, col: str) -> str:
        return f"LEFT({col}, CHAR_LENGTH(?)) = ?"

    def text_cmp(self, col: str, op: str) -> str:
        return f"CONVERT({col} USING utf8mb4) COLLATE {_NOPAD} {_SQL_OP[op]} ?"

    def tags_col(self) -> str:
        return "JSON_EXTRACT(c.body, '$.tags')"

    def customers_from(self, needs_body: bool = True) -> str:
        return "cd_customers c"

    def tx_ctes(self) -> str:
        return _TX_CTE

    def bad_max(self) -> str:
        return "MAX(bad)"

    def tags_len(self, col: str) -> str:
        return f"COALESCE(JSON_LENGTH({col}), 0)"

    def typed(self, kind: str, expr: Frag) -> Frag:
        if kind in ("text", "date", "datetime", "birthday"):
            return Frag("CONVERT(", ()) + expr + Frag(f" USING utf8mb4) COLLATE {_NOPAD}")
        return expr


DIALECTS: dict[str, Callable[[], Dialect]] = {
    "sqlite": SQLiteDialect,
    "postgresql": PostgresDialect,
    "mariadb": MariaDBDialect,
}


# --------------------------------------------------------------------------------------------- columns
#: Profile fields SQL cannot compute; predicates on them are checked in Python for every candidate row.
PYTHON_ONLY = frozenset({"name", "average_order_value"})
#: Fields SQL cannot compute at all: the interests come from the transactions' line items, which stay in the
#: JSON bodies. A rule reading one is not pushed down; it runs in Python (see _select.select).
NOT_PUSHED = frozenset({"top_category", "top_category_share", "top_categories"})
#: Fields whose value SQL knows except on rows flagged ``geo_u`` (region from the phone's geodata).
GEO_FIELDS = frozenset({"province", "city", "region_source"})
#: Fields that need the transactions.
TX_FIELDS = frozenset(
    {"orders", "total_spend", "average_order_value", "first_purchase", "last_purchase", "recency_days"}
    | {"rfm_r", "rfm_f", "rfm_m", "rfm_segment"}
)
RFM_FIELDS = frozenset({"rfm_r", "rfm_f", "rfm_m", "rfm_segment"})
CONTACT_FIELDS = frozenset({"last_contact", "days_since_contact"})
#: Fields only a fitted model fills: None in a store's profiles.
MODEL_FIELDS = frozenset({"expected_purchases", "p_alive", "clv"})

_BODY_FIELDS = frozenset(
    {"gender", "company", "title", "owner", "channel", "lifecycle_stage", "birthday", "created_at"}
)

#: How SQL sees a profile kind where it differs: money is stored as a scaled integer.
_SQL_KIND = {"decimal": "scaled"}
# column kind as SQL sees it, from the profile schema (one description): the Python-only fields left out,
# the model fields always NULL in a store
_KIND = {
    name: "null" if name in MODEL_FIELDS else _SQL_KIND.get(kind, kind)
    for name, kind in PROFILE_SCHEMA.items()
    if name not in PYTHON_ONLY and name not in NOT_PUSHED
}


def month_days_within(as_of: dt.date, days: int) -> list[str]:
    """The ``MM-DD`` texts whose next yearly occurrence is within ``days`` days of ``as_of`` (29 February
    counted on 28 February in common years), as :class:`WithinNext` decides."""
    out = []
    for d in (dt.date(2000, 1, 1) + dt.timedelta(days=i) for i in range(366)):
        if (next_occurrence(d.month, d.day, as_of) - as_of).days <= days:
            out.append(f"{d.month:02d}-{d.day:02d}")
    return out


@attrs.frozen
class Compiled:
    """A compiled selection: the query, and what the caller needs to run it."""

    sql: str
    params: tuple[Any, ...]
    needs_tx: bool
    needs_contact: bool
    exact: bool  # every row the query returns is certain (no Python recheck)


class _Compiler:
    def __init__(self, d: Dialect, as_of: dt.date, edges: Edges | None) -> None:
        self.d = d
        self.as_of = as_of
        self.edges = edges

    # ---- column expressions (inside the profile CTE, over c, agg, ia)
    def column(self, name: str) -> Frag:
        d = self.d
        as_of = self.as_of
        if name == "id":
            return Frag("c.id")
        if name == "as_of":
            return Frag(d.p("text"), (as_of.isoformat(),))
        if name in ("phone", "email"):
            return Frag(d.primary("phones", "number") if name == "phone" else d.primary("emails", "address"))
        if name in _BODY_FIELDS:
            return Frag(d.j(name))
        if name == "tags":
            return Frag(d.tags_col())
        if name in ("province", "city", "district"):
            return Frag(f"CASE WHEN {self.addr_has()} THEN {d.j('addresses', 0, name)} END")
        if name == "region_source":
            return Frag(f"CASE WHEN {self.addr_has()} THEN {d.p('text')} END", ("address",))
        if name == "age":
            bd = d.j("birthday")
            return Frag(
                f"CASE WHEN {bd} IS NULL OR substr({bd}, 1, 2) = '--' THEN NULL ELSE "
                f"({d.p('int')} - CAST(substr({bd}, 1, 4) AS integer) - "
                f"{d.b2i(f'substr({bd}, 6, 5) > ' + d.p('text'))}) END",
                (as_of.year, f"{as_of.month:02d}-{as_of.day:02d}"),
            )
        if name == "orders":
            return Frag("COALESCE(agg.n, 0)")
        if name == "total_spend":
            return Frag("COALESCE(agg.s, 0)")
        if name == "first_purchase":
            return Frag("agg.fd")
        if name == "last_purchase":
            return Frag("agg.ld")
        if name == "recency_days":
            return Frag(d.days_between(d.p("date"), "agg.ld"), (as_of.isoformat(),))
        if name == "last_contact":
            return Frag("ia.lc")
        if name == "days_since_contact":
            return Frag(d.days_between(d.p("date"), "ia.lc"), (as_of.isoformat(),))
        if name in RFM_FIELDS:
            return self.rfm(name)
        if name in MODEL_FIELDS:
            return Frag("NULL")
        raise ValidationError(f"field {name!r} cannot be computed in SQL", field=name)  # pragma: no cover

    def addr_has(self) -> str:
        d = self.d
        return f"({d.j('addresses', 0, 'province')} IS NOT NULL OR {d.j('addresses', 0, 'city')} IS NOT NULL)"

    def geo_uncertain(self) -> str:
        return f"(NOT {self.addr_has()} AND {self.d.j_len('phones')} > 0)"

    def rfm(self, name: str) -> Frag:
        d = self.d
        e = self.edges
        assert e is not None
        recency = self.column("recency_days")

        def count_above(col: Frag, edges: Sequence[Any], scale: int) -> Frag:
            parts = [
                Frag(
                    d.b2i(f"{col.sql} > {d.p('num' if scale > 1 else 'int')}"),
                    (*col.params, math.floor(x * scale)),
                )
                for x in edges
            ]
            return _join(" + ", parts) if parts else Frag("0")

        r = Frag(f"({e.bins} - (", ()) + count_above(recency, e.recency, 1) + Frag("))")
        f = Frag("(1 + ", ()) + count_above(Frag("agg.n"), e.frequency, 1) + Frag(")")
        m = Frag("(1 + ", ()) + count_above(Frag("agg.s"), e.monetary, SCALE) + Frag(")")
        score = {"rfm_r": r, "rfm_f": f, "rfm_m": m}
        if name in score:
            return Frag("CASE WHEN agg.n > 0 THEN ", ()) + score[name] + Frag(" END")
        # the segment: (R, FM) on the 5-point scale, as segment_of computes it
        bins = e.bins

        def five(x: Frag) -> Frag:
            return Frag("(1 + ((", ()) + x + Frag(f" - 1) * 8 + {bins - 1}) {d.div} {2 * (bins - 1)})")

        key = Frag("(", ()) + five(r) + Frag(" * 10 + (", ()) + five(f) + Frag(" + ", ())
        key = key + five(m) + Frag(f" + 1) {d.div} 2)")
        whens = []
        for r5, row in SEGMENT_GRID.items():
            for fm, seg in enumerate(row, start=1):
                whens.append(Frag(f" WHEN {r5 * 10 + fm} THEN {d.p('text')}", (seg,)))
        return Frag("CASE WHEN agg.n > 0 THEN (CASE ", ()) + key + _join("", whens) + Frag(" END) END")

    # ---- predicates on the profile CTE's columns (p.<name>)
    def pred(self, pred: Predicate) -> Frag:
        kind = _KIND[pred.field]
        col = f"p.{pred.field}"
        d = self.d
        if kind == "text":
            present = Frag(f"({col} IS NOT NULL AND {col} <> '')")
        else:
            present = Frag(f"({col} IS NOT NULL)")
        if kind == "tags":
            present = Frag(f"{d.b2i(self.tags_len(col))} > 0")
        if kind == "null":
            return TRUE if isinstance(pred, Missing) else FALSE
        if isinstance(pred, Missing):
            return _not(present)
        if isinstance(pred, Present):
            return present
        if kind == "tags":
            return self.tags_pred(pred, col)
        if isinstance(pred, Compare):
            return _and([present, self.compare(col, kind, pred.cmp, pred.value)])
        if isinstance(pred, In):
            if kind == "text":
                if not pred.values:
                    return FALSE
                marks = ", ".join(d.p("text") for _ in pred.values)
                return _and([present, Frag(f"{col} IN ({marks})", tuple(pred.values))])
            return _and([present, _or([self.compare(col, kind, "==", v) for v in pred.values])])
        if isinstance(pred, Contains):
            return _and([present, Frag(d.contains(col), (pred.value,))])
        if isinstance(pred, StartsWith):
            return _and([present, Frag(d.starts(col), (pred.value, pred.value))])
        if isinstance(pred, WithinNext):
            mds = month_days_within(self.as_of, pred.days)
            if len(mds) == 366:
                return present
            if not mds:
                return FALSE
            md = f"substr({col}, length({col}) - 4, 5)" if kind == "birthday" else f"substr({col}, 6, 5)"
            marks = ", ".join(d.p("text") for _ in mds)
            return _and([present, Frag(f"{md} IN ({marks})", tuple(mds))])
        if isinstance(pred, WithinLast):
            lo = max(dt.date.min.toordinal(), self.as_of.toordinal() - pred.days)
            return _and(
                [
                    present,
                    Frag(
                        f"substr({col}, 1, 2) <> '--' AND "
                        f"substr({col}, 1, 10) BETWEEN {d.p('text')} AND {d.p('text')}",
                        (dt.date.fromordinal(lo).isoformat(), self.as_of.isoformat()),
                    ),
                ]
            )
        raise ValidationError(f"cannot compile {pred}")  # pragma: no cover

    def tags_len(self, col: str) -> str:
        return self.d.tags_len(col)

    def tags_pred(self, pred: Predicate, col: str) -> Frag:
        d = self.d
        if isinstance(pred, Contains):
            return Frag(d.any_tag(col, lambda v: f"{v} = {d.p('text')}"), (pred.value,))
        if isinstance(pred, StartsWith):
            return Frag(d.any_tag(col, d.starts), (pred.value, pred.value))
        if isinstance(pred, In):
            if not pred.values:
                return FALSE
            marks = ", ".join(d.p("text") for _ in pred.values)
            return Frag(d.any_tag(col, lambda v: f"{v} IN ({marks})"), tuple(pred.values))
        raise ValidationError(f"field {pred.field!r} holds tags: use contains, startswith, in or is missing")

    def compare(self, col: str, kind: str, op: str, value: Value) -> Frag:
        d = self.d
        if kind == "text":
            if not isinstance(value, str):
                raise ValidationError(f"{col[2:]} holds text, not {value!r}", field=col[2:])
            return Frag(d.text_cmp(col, op), (value,))
        if kind in ("date", "datetime"):
            if not isinstance(value, str):
                raise ValidationError(f"{col[2:]} holds dates, not {value!r}", field=col[2:])
            day = dt.date.fromisoformat(value).isoformat()
            return Frag(d.text_cmp(f"substr({col}, 1, 10)", op), (day,))
        if kind in ("int", "scaled"):
            if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
                raise ValidationError(f"{col[2:]} holds numbers, not {value!r}", field=col[2:])
            x = Decimal(value) * (SCALE if kind == "scaled" else 1)
            whole = x == x.to_integral_value()
            lo, hi = math.floor(x), math.ceil(x)
            ptype = "num" if kind == "scaled" else "int"
            if op == "==":
                return Frag(f"{col} = {d.p(ptype)}", (int(x),)) if whole else FALSE
            if op == "!=":
                return Frag(f"{col} <> {d.p(ptype)}", (int(x),)) if whole else TRUE
            bound = {"<": hi, "<=": lo, ">": lo, ">=": hi}[op]
            return Frag(f"{col} {op} {d.p(ptype)}", (bound,))
        raise ValidationError(f"{col[2:]} cannot be compared with {op}", field=col[2:])

    # ---- maybe / must over the tree
    def both(self, rule: Rule) -> tuple[Frag, Frag]:
        if isinstance(rule, Not):
            maybe, must = self.both(rule.rule)
            return _not(must), _not(maybe)
        if isinstance(rule, (And, Or)):
            parts = [self.both(r) for r in rule.rules]
            comb = _and if isinstance(rule, And) else _or
            return comb([m for m, _ in parts]), comb([s for _, s in parts])
        assert isinstance(rule, Predicate)
        if rule.field in PYTHON_ONLY:
            return TRUE, FALSE
        sql = self.pred(rule)
        if rule.field in GEO_FIELDS:
            u = Frag("p.geo_u")
            return _or([u, sql]), _and([_not(u), sql])
        return sql, sql


def compile_rule(rule: Rule, dialect: str, as_of: dt.date, edges: Edges | None) -> Compiled:
    """The query selecting ``(id, must, n, s, fd, ld, lc, bad, cmin, cmax)`` of the customers that may match
    ``rule`` (the last three: the store-wide checks of :func:`check_query`, on every row).

    Its parameters start with the transaction window's two (when the rule needs transactions)."""
    d = DIALECTS[dialect]()
    comp = _Compiler(d, as_of, edges)
    fields = rule.fields()
    if fields & NOT_PUSHED:
        raise ValidationError(
            f"{', '.join(sorted(fields & NOT_PUSHED))} cannot be pushed down to SQL (interests come from "
            "line items); evaluate the rule in Python",
            field=min(fields & NOT_PUSHED),
        )
    needs_tx = bool(fields & TX_FIELDS)
    needs_contact = bool(fields & CONTACT_FIELDS)
    needs_geo = bool(fields & GEO_FIELDS)
    needs_body = bool(fields - TX_FIELDS - CONTACT_FIELDS - MODEL_FIELDS - {"id", "as_of"})
    ctes: list[Frag] = []
    if needs_tx:
        ctes.append(_agg(d, as_of))
        ctes.append(
            Frag(f"chk AS (SELECT {d.bad_max()} AS bad, MIN(cmin) AS cmin, MAX(cmax) AS cmax FROM agg)")
        )
    if needs_contact:
        ctes.append(
            Frag(
                "ia AS (SELECT customer_id AS cid, MAX(day) AS lc FROM cd_interactions "
                f"WHERE day <= {d.p('text')} GROUP BY customer_id)",
                (as_of.isoformat(),),
            )
        )
    cols = [Frag("c.id AS id")]
    for name in sorted(fields - PYTHON_ONLY):
        if name == "id":
            continue
        cols.append(d.typed(_KIND[name], comp.column(name)) + Frag(f" AS {name}"))
    cols.append(Frag(f"{comp.geo_uncertain()} AS geo_u" if needs_geo else "(1=0) AS geo_u"))
    cols.append(
        Frag(
            "agg.n AS agg_n, agg.s AS agg_s, agg.fd AS agg_fd, agg.ld AS agg_ld"
            if needs_tx
            else "NULL AS agg_n, NULL AS agg_s, NULL AS agg_fd, NULL AS agg_ld"
        )
    )
    cols.append(Frag("ia.lc AS ia_lc" if needs_contact else "NULL AS ia_lc"))
    joins = (" LEFT JOIN agg ON agg.cid = c.id" if needs_tx else "") + (
        " LEFT JOIN ia ON ia.cid = c.id" if needs_contact else ""
    )
    profile = (
        Frag("p AS (SELECT ", ())
        + _join(", ", cols)
        + Frag(f" FROM {d.customers_from(needs_body)}{joins} WHERE c.deleted_at IS NULL)")
    )
    ctes.append(profile)
    maybe, must = comp.both(rule)
    exact = maybe == must
    query = (
        Frag(f"{d.statement}WITH ", ())
        + _join(", ", ctes)
        + Frag(" SELECT p.id, ", ())
        + (TRUE if exact else must)
        + Frag(", p.agg_n, p.agg_s, p.agg_fd, p.agg_ld, p.ia_lc, ", ())
        + Frag("chk.bad, chk.cmin, chk.cmax FROM p CROSS JOIN chk" if needs_tx else "NULL, NULL, NULL FROM p")
        + Frag(" WHERE ", ())
        + maybe
        + Frag(" ORDER BY p.id")
    )
    return Compiled(query.sql, query.params, needs_tx, needs_contact, exact)


def _agg(d: Dialect, as_of: dt.date) -> Frag:
    """Per customer: purchases, net spend (millionths), first and last purchase day, and for the checks
    whether an amount cannot be summed exactly and the lowest and highest currency. Straight from the
    transactions' plain columns (not through a CTE), so the database reads the covering
    ``(customer_id, day, amount_u, currency)`` index in customer order and groups without sorting."""
    bad = d.bad_max().replace("(bad)", "(amount_u IS NULL)")
    return Frag(
        "agg AS (SELECT customer_id AS cid, SUM(CASE WHEN amount_u >= 0 THEN 1 ELSE 0 END) AS n, "
        "SUM(amount_u) AS s, MIN(CASE WHEN amount_u >= 0 THEN day END) AS fd, "
        f"MAX(CASE WHEN amount_u >= 0 THEN day END) AS ld, {bad} AS bad, MIN(currency) AS cmin, "
        f"MAX(currency) AS cmax FROM cd_transactions WHERE day <= {d.p('text')} GROUP BY customer_id)",
        (as_of.isoformat(),),
    )


def edges_query(dialect: str, as_of: dt.date) -> Frag:
    """``(last purchase day, orders, spend in millionths, bad, lowest and highest currency)`` of every
    customer with transactions (the RFM population is those with ``orders > 0``)."""
    d = DIALECTS[dialect]()
    return Frag("WITH ", ()) + _agg(d, as_of) + Frag(" SELECT ld, n, s, bad, cmin, cmax FROM agg")


def check_query(dialect: str, as_of: dt.date) -> Frag:
    """``(any amount SQL cannot sum exactly, lowest currency, highest currency)`` of the transactions up to
    ``as_of`` (run only when a query that carries the same answer returned no rows)."""
    d = DIALECTS[dialect]()
    return Frag(f"WITH {d.tx_ctes()} SELECT {d.bad_max()}, MIN(cur), MAX(cur) FROM tx2", (as_of.isoformat(),))
