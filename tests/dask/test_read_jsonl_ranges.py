"""A large JSON Lines file read in byte ranges (``blocksize=``) gives the records, the per-row problems and
their line numbers of the single-machine reader, wherever the ranges are cut."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata.dask as cdd
import dask
from custdata.exceptions import ParseError, ValidationError
from custdata.io import read_jsonl, write_jsonl
from custdata.testing import customers, household_records

# (a line "{}" is a record without an id: it gets the id derived from its line, in ranges as in the whole file)
_BAD = [b"{}", b"{not json", b'{"id": 5, "phones": "x"}', b"[1, 2]", b'"text"', b'{"id": "x", "emails": 3}']


def _single(path: Path, **kwargs: Any) -> tuple[list[Any], list[Any]]:
    with read_jsonl(path, **kwargs) as reader:
        records = list(reader)
    return records, reader.problems


def _file(tmp_path: Path, n: int = 40) -> Path:
    p = tmp_path / "big.jsonl"
    write_jsonl(household_records(n, seed=11).records, p)
    lines = p.read_bytes().split(b"\n")[:-1]
    lines[5:5] = [b"{not json", b"", b"   "]
    lines[30:30] = [b'{"id": 5}']
    p.write_bytes(b"\n".join([*lines, b"{broken tail"]))
    return p


def _bad_lines(p: Path) -> list[int]:
    """The line numbers (from 1) of the lines _file made bad."""
    lines = p.read_bytes().split(b"\n")
    return [k + 1 for k, line in enumerate(lines) if line.startswith((b"{not", b'{"id": 5', b"{broken"))]


def test_ranges_on_a_cluster_equal_the_single_reader(client: Any, tmp_path: Path) -> None:
    p = _file(tmp_path)
    read = cdd.read_jsonl(str(p), errors="collect", blocksize=1_000)
    assert read.records.npartitions > 5, "the file is read in many ranges"
    records, problems = read.compute()
    want_records, want_problems = _single(p, errors="collect")
    assert records == want_records
    assert [x.problem for x in problems] == want_problems
    assert {x.path for x in problems} == {str(p)}
    assert [x.problem.row for x in problems] == _bad_lines(p)  # the line numbers of the whole file
    assert _bad_lines(p)[-1] > 40


def test_default_blocksize_reads_a_small_file_whole(tmp_path: Path) -> None:
    p = _file(tmp_path)
    assert cdd.read_jsonl(str(p)).records.npartitions == 1
    assert cdd.read_jsonl(str(p), blocksize=None).records.npartitions == 1


def test_raise_names_the_line_of_the_whole_file(client: Any, tmp_path: Path) -> None:
    p = tmp_path / "one-bad.jsonl"
    write_jsonl(household_records(40, seed=2).records, p)
    lines = p.read_bytes().split(b"\n")
    lines[33:33] = [b"{not json"]
    p.write_bytes(b"\n".join(lines))
    with pytest.raises(ParseError) as want:
        _single(p)
    with pytest.raises(ParseError) as got:
        cdd.read_jsonl(str(p), blocksize=500).records.compute()
    assert got.value.row == want.value.row == 34
    assert str(got.value) == str(want.value)


def test_bad_utf8_in_a_later_range_is_a_parse_error(tmp_path: Path) -> None:
    p = tmp_path / "latin1.jsonl"
    write_jsonl(household_records(20, seed=2).records, p)
    p.write_bytes(p.read_bytes() + b'{"id": "caf\xe9"}\n')
    with pytest.raises(ParseError, match="not UTF-8"):
        _single(p, errors="collect")
    with (
        dask.config.set(scheduler="synchronous"),
        pytest.raises(ParseError, match="not UTF-8") as got,
    ):
        cdd.read_jsonl(str(p), errors="collect", blocksize=300).compute()
    # the single reader names the line it was at when its 8 KiB decoding chunk failed; a range names
    # the line of its own chunk: both at or before the bad line
    assert got.value.row is not None
    assert got.value.row <= len(p.read_bytes().splitlines())


@pytest.mark.parametrize("blocksize", [0, -1, 1.5, True, "64MB"])
def test_bad_blocksize(tmp_path: Path, blocksize: Any) -> None:
    p = _file(tmp_path)
    with pytest.raises(ValidationError):
        cdd.read_jsonl(str(p), blocksize=blocksize)


def test_missing_file_is_a_parse_error(tmp_path: Path) -> None:
    with pytest.raises(ParseError):
        cdd.read_jsonl(str(tmp_path / "none.jsonl"))


_ENDINGS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def _jsonl_bytes(draw: st.DrawFn) -> bytes:
    """JSON Lines text with valid records, bad lines, blank lines, mixed line endings, maybe a BOM."""
    recs = draw(st.lists(customers(), max_size=10, unique_by=lambda c: c.id))
    lines = [json.dumps(r.to_dict(), ensure_ascii=draw(st.booleans())).encode() for r in recs]
    for _ in range(draw(st.integers(0, 4))):
        bad = draw(st.sampled_from([*_BAD, b"", b"  ", b"\xef\xbb\xbf[]"]))
        lines.insert(draw(st.integers(0, len(lines))), bad)
    out = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    for line in lines:
        out += line + draw(_ENDINGS)
    if draw(st.booleans()) and out:
        out = out.rstrip(b"\r\n")  # no line break after the last line
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_jsonl_bytes(), cut=st.integers(1, 400), errors=st.sampled_from(["collect", "skip"]))
def test_property_any_range_size_equals_the_single_reader(
    tmp_path: Path, data: bytes, cut: int, errors: str
) -> None:
    p = tmp_path / "drawn.jsonl"
    p.write_bytes(data)
    want_records, want_problems = _single(p, errors=errors)
    with dask.config.set(scheduler="synchronous"):
        records, problems = cdd.read_jsonl(str(p), errors=errors, blocksize=cut).compute()
    assert records == want_records
    assert [x.problem for x in problems] == want_problems
