"""JSON Lines and Parquet customers without an id: ids derived from the source, the line's number and its text, so a
second read of the same file gives the same customers (never new random ones), as read_csv does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custdata.exceptions import ParseError, ValidationError
from custdata.io import read_jsonl


def _write(tmp_path: Path, lines: list[str], name: str = "people.jsonl") -> Path:
    p = tmp_path / name
    p.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return p


def _ids(p: Path, **kwargs: object) -> list[str]:
    with read_jsonl(p, **kwargs) as reader:  # type: ignore[arg-type]
        return [c.id for c in reader]


def test_a_second_read_gives_the_same_ids(tmp_path: Path) -> None:
    p = _write(
        tmp_path, ['{"name": {"full": "王小明"}}', "{}", '{"id": null, "emails": [{"address": "a@b.cn"}]}']
    )
    first = _ids(p)
    assert first == _ids(p)
    assert len(set(first)) == 3


def test_equal_lines_are_distinct_customers(tmp_path: Path) -> None:
    p = _write(tmp_path, ['{"name": {"full": "Li Lei"}}'] * 3)
    assert len(set(_ids(p))) == 3


def test_a_given_id_is_kept(tmp_path: Path) -> None:
    p = _write(tmp_path, ['{"id": "c1"}', "{}"])
    got = _ids(p)
    assert got[0] == "c1"
    assert got[1] != "c1"


def test_the_source_names_the_ids(tmp_path: Path) -> None:
    a = _write(tmp_path, ["{}"], "a.jsonl")
    b = _write(tmp_path, ["{}"], "b.jsonl")
    assert _ids(a) != _ids(b)
    assert _ids(a, source="crm") == _ids(b, source="crm")


def test_random_ids_on_request(tmp_path: Path) -> None:
    p = _write(tmp_path, ["{}"])
    assert _ids(p, missing_id="random") != _ids(p, missing_id="random")


def test_error_reports_the_line(tmp_path: Path) -> None:
    p = _write(tmp_path, ['{"id": "c1"}', "{}"])
    with read_jsonl(p, missing_id="error", errors="collect") as reader:
        assert [c.id for c in reader] == ["c1"]
    assert [(x.row, x.field) for x in reader.problems] == [(2, "id")]
    with pytest.raises(ParseError), read_jsonl(p, missing_id="error") as reader:
        list(reader)


def test_bad_missing_id(tmp_path: Path) -> None:
    p = _write(tmp_path, ["{}"])
    with pytest.raises(ValidationError):
        read_jsonl(p, missing_id="sometimes")  # type: ignore[arg-type]


def test_transactions_are_untouched(tmp_path: Path) -> None:
    p = _write(tmp_path, ['{"customer_id": "c1", "amount": "10.00", "at": "2026-01-01T00:00:00+00:00"}'])
    with read_jsonl(p, kind="transaction", missing_id="error") as reader:
        assert len(list(reader)) == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.one_of(st.none(), st.text(min_size=1, max_size=8)), min_size=1, max_size=12))
def test_property_ids_are_stable_and_distinct(tmp_path: Path, names: list[str | None]) -> None:
    lines = [json.dumps({} if n is None else {"name": {"full": n}}) for n in names]
    p = _write(tmp_path, lines)
    first = _ids(p, errors="skip")
    assert first == _ids(p, errors="skip")
    assert len(set(first)) == len(first)


def test_parquet_rows_without_an_id_get_stable_ids(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from custdata.io import from_arrow, read_parquet

    p = tmp_path / "export.parquet"
    table = pa.table({"id": [None, "c2", None], "gender": ["f", None, "f"]})
    pq.write_table(table, p)
    first = [c.id for c in read_parquet(p)]
    assert first == [c.id for c in read_parquet(p)]
    assert first[1] == "c2"
    assert len(set(first)) == 3
    assert [c.id for c in from_arrow(table)] == [c.id for c in from_arrow(table)]
    with read_parquet(p, missing_id="error", errors="collect") as reader:
        assert [c.id for c in reader] == ["c2"]
    assert [(x.row, x.field) for x in reader.problems] == [(1, "id"), (3, "id")]
    assert [c.id for c in read_parquet(p, source="a")] != first
    with pytest.raises(ValidationError):
        read_parquet(p, missing_id="never")  # type: ignore[arg-type]
