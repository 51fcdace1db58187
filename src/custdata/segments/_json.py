"""Reading the JSON form of a rule (written by :meth:`Rule.to_json`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from custdata.exceptions import RuleSyntaxError, ValidationError
from custdata.segments._rules import (
    COMPARISONS,
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
    WithinLast,
    WithinNext,
    _loads,
)
from custdata.segments._schema import check_predicate, schema_of

__all__ = ["rule_from_json"]

_KEYS: dict[str, set[str]] = {
    "and": {"op", "rules"},
    "or": {"op", "rules"},
    "not": {"op", "rule"},
    "in": {"op", "field", "values"},
    "contains": {"op", "field", "value"},
    "startswith": {"op", "field", "value"},
    "missing": {"op", "field"},
    "present": {"op", "field"},
    "within_next": {"op", "field", "days"},
    "within_last": {"op", "field", "days"},
    **{c: {"op", "field", "value"} for c in COMPARISONS},
}


def rule_from_json(obj: str | bytes | Mapping[str, Any], *, schema: Any = None) -> Rule:
    data = _loads(obj) if isinstance(obj, (str, bytes)) else obj
    kinds = schema_of(schema)
    rule = _build(data, "$")
    if kinds is not None:
        for p in rule.predicates():
            check_predicate(p, kinds)
    return rule


def _value(v: Any) -> Any:
    if isinstance(v, float):  # a float from a caller's own json.loads: keep its shortest repr
        return Decimal(repr(v))
    return v


def _build(data: Any, path: str) -> Rule:
    if not isinstance(data, Mapping):
        raise RuleSyntaxError(f"rule JSON at {path}: expected an object, got {type(data).__name__}")
    op = data.get("op")
    if not isinstance(op, str) or op not in _KEYS:
        raise RuleSyntaxError(f"rule JSON at {path}: unknown op {op!r} (one of {', '.join(sorted(_KEYS))})")
    extra = set(data) - _KEYS[op]
    missing = _KEYS[op] - set(data)
    if extra or missing:
        raise RuleSyntaxError(
            f"rule JSON at {path} ({op}): "
            + "; ".join(
                x
                for x in (
                    f"unknown keys {sorted(extra)}" if extra else "",
                    f"missing keys {sorted(missing)}" if missing else "",
                )
                if x
            )
        )
    try:
        if op in ("and", "or"):
            rules = data["rules"]
            if not isinstance(rules, list) or len(rules) < 2:
                raise RuleSyntaxError(f"rule JSON at {path} ({op}): 'rules' must be a list of two or more")
            built = [_build(r, f"{path}.rules[{i}]") for i, r in enumerate(rules)]
            group = And(*built) if op == "and" else Or(*built)
            # a nested group of the same kind would be flattened: refuse it so the form stays canonical
            if len(group.rules) != len(built):
                raise RuleSyntaxError(f"rule JSON at {path}: an '{op}' directly inside an '{op}'")
            return group
        if op == "not":
            return Not(_build(data["rule"], f"{path}.rule"))
        field = data["field"]
        pred: Predicate
        if op in COMPARISONS:
            pred = Compare(field, op, _value(data["value"]))
        elif op == "in":
            values = data["values"]
            if not isinstance(values, list):
                raise RuleSyntaxError(f"rule JSON at {path} (in): 'values' must be a list")
            pred = In(field, [_value(v) for v in values])
        elif op == "contains":
            pred = Contains(field, data["value"])
        elif op == "startswith":
            pred = StartsWith(field, data["value"])
        elif op == "missing":
            pred = Missing(field)
        elif op == "present":
            pred = Present(field)
        elif op == "within_next":
            pred = WithinNext(field, data["days"])
        else:
            pred = WithinLast(field, data["days"])
        return pred
    except ValidationError as exc:
        raise RuleSyntaxError(f"rule JSON at {path} ({op}): {exc}") from None
