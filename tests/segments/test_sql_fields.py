"""The SQL compiler knows every profile field, or the field is declared Python-only (one field table)."""

from __future__ import annotations

import datetime as dt

import pytest

from custdata.exceptions import ValidationError
from custdata.segments._profiles import PROFILE_SCHEMA
from custdata.segments._rfm import Edges
from custdata.segments._rules import Present
from custdata.segments._sql import (
    _KIND,
    DIALECTS,
    GEO_FIELDS,
    MODEL_FIELDS,
    NOT_PUSHED,
    PYTHON_ONLY,
    compile_rule,
)


def test_every_profile_field_is_known_to_sql_or_python_only() -> None:
    assert set(_KIND).isdisjoint(PYTHON_ONLY) and set(_KIND).isdisjoint(NOT_PUSHED)
    assert set(_KIND) | PYTHON_ONLY | NOT_PUSHED == set(PROFILE_SCHEMA)
    assert set(_KIND) >= MODEL_FIELDS and all(_KIND[f] == "null" for f in MODEL_FIELDS)


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("field", sorted(PROFILE_SCHEMA))
def test_a_predicate_on_every_field_compiles(field: str, dialect: str) -> None:
    edges = Edges.of([(10, 1, 5), (40, 3, 50), (200, 7, 500)], 5)
    if field in NOT_PUSHED:  # says so, never a wrong query
        with pytest.raises(ValidationError, match="cannot be pushed down"):
            compile_rule(Present(field), dialect, dt.date(2026, 1, 1), edges)
        return
    compiled = compile_rule(Present(field), dialect, dt.date(2026, 1, 1), edges)
    assert compiled.exact is (
        field not in PYTHON_ONLY | GEO_FIELDS
    )  # geo fields: rechecked when from a phone
    if field not in PYTHON_ONLY and field not in MODEL_FIELDS and field != "id":
        assert f" AS {field}" in compiled.sql  # the field is a column of the profile CTE
