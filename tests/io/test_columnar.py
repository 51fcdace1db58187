"""The columnar path of read_csv is pinned to the row reader: the same records, the same problems (rows,
fields, reasons), the same counts, on generated files with bad cells, odd rows, quotes and encodings."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import custdata.testing as st
from custdata import Customer, read_csv, write_csv
from custdata.exceptions import MissingExtraError, ParseError
from custdata.io import _columnar

pytest.importorskip("pyarrow")

# column header -> cells drawn for it (good ones, and ones the row reader reports or treats specially)
COLUMNS: dict[str, list[str]] = {
    "id": ["c1", "c2", "c3", "00123", "'=cmd", "", " ", "c1", '="00123"'],
    "name": ["张三", "Ada Lovelace", "=SUM(A1)", "'+x", "", "王䶮"],
    "姓名": ["李四", "", "O'Brien"],
    "family_name": ["欧阳", ""],
    "phone_1": [
        "13800138000",
        "'+8613800138000",
        "abc-def",
        "13800138000（微信同号）",
        "",
        " ",
        '="013800138000"',
    ],
    "phone_1_kind": ["mobile", " Home ", "MOBILE", "pager", ""],
    "phone_1_primary": ["true", " FALSE", "yes", ""],
    "phone_2": ["+44 20 7946 0000", "", "12", "'+86 138 0013 8000"],
    "email_1": ["a@b.cn", "Wang@Example.COM", "wang#qq.com", "", "x@"],
    "email_1_kind": ["work", "Other", "boss", ""],
    "address_1_city": ["上海", "London", ""],
    "address_1_country": ["CN", ""],
    "mobile": ["13900139000", "139 0013 9000", "13900139000/13800138000", "电话待补", ""],
    "邮箱": ["li@example.com", "li@example.com; wu@example.com", ""],
    "城市": ["北京", ""],
    "birthday": ["1990-01-02", "--02-29", "1990-02-30", "2090-01-01", "1990/1/2", "x", ""],
    "tags": ["vip", "a; b", "vip、新客", "", ";"],
    "channel": ["store", "门店", "weird", " Website ", ""],
    "lifecycle_stage": ["lead", "客户", "zzz", ""],
    "created_at": ["2024-01-02T10:00:00+08:00", "2024/1/2 10:00", "20240102", "bad", ""],
    "version": ["0", "3", "-1", "x", ""],
    "gender": ["f", "m", ""],
    "备注": ["老客户", "", "=1+1"],
    "shoe_size": ["42", ""],
}


@hs.composite
def csv_files(draw: hs.DrawFn) -> tuple[bytes, str]:
    header = draw(hs.lists(hs.sampled_from(sorted(COLUMNS)), min_size=1, max_size=8, unique=True))
    if "id" not in header and draw(hs.integers(0, 4)):
        header.insert(0, "id")  # mostly with ids: rows without one take the row reader's steps

    def cell(h: str) -> hs.SearchStrategy[str]:
        # mostly the first (plain) cells, so that whole rows take the fast path; sometimes any
        return hs.integers(0, 9).flatmap(lambda k: hs.sampled_from(COLUMNS[h][:2] if k < 8 else COLUMNS[h]))

    rows = draw(hs.lists(hs.tuples(*[cell(h) for h in header]).map(list), min_size=0, max_size=8))
    lines = [",".join(header)] + [",".join(r) for r in rows]
    # odd rows the row reader reports or skips
    for _ in range(max(0, draw(hs.integers(-3, 2)))):
        odd = draw(
            hs.sampled_from(
                [
                    "",  # a blank line
                    "," * (len(header) - 1),  # a row of empty cells
                    ",".join(header),  # the header again
                    ",".join(["x"] * (len(header) + 1)),  # a cell too many
                    ",".join(["x"] * (len(header) + 1))[:-1],  # a cell too many, empty
                    "c9" + ("," if len(header) > 1 else ""),  # too few cells (or the right number)
                    '"c7,' + "x" * len(header),  # a quote that is not closed
                    'c8,"quoted, cell"',  # quotes: the row reader's file
                    "c\x00",  # a NUL
                ]
            )
        )
        lines.insert(draw(hs.integers(1, len(lines))), odd)
    ending = draw(hs.sampled_from(["\n", "\r\n"]))
    text = ending.join(lines) + draw(hs.sampled_from(["", ending]))
    encoding, bom = draw(
        hs.sampled_from(
            [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-8", b""), ("gb18030", b""), ("utf-16", b"")]
        )
    )
    try:
        data = bom + text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    return data, draw(hs.sampled_from(["raise", "collect"]))


def _read(path: Path, engine: str, errors: str, **kw: Any) -> tuple[list[Any], Any, str | None]:
    reader = read_csv(path, engine=engine, errors=errors, **kw)  # type: ignore[arg-type]
    out: list[Any] = []
    failure = None
    try:
        for rec in reader:
            out.append(rec)
    except ParseError as exc:
        failure = f"{exc} @ {exc.row}"
    state = (reader.problems, reader.rows, reader.skipped, reader.columns, reader.encoding)
    return out, state, failure


def _same(path: Path, errors: str, **kw: Any) -> None:
    try:
        rows = _read(path, "rows", errors, **kw)
    except ParseError as exc:  # refused as a whole (encoding): refused by both, in the same words
        refused = str(exc)
    else:
        refused = None
    if refused is not None:
        with pytest.raises(ParseError) as info:
            _read(path, "columnar", errors, **kw)
        assert str(info.value) == refused
        return
    cols = _read(path, "columnar", errors, **kw)
    assert cols[0] == rows[0]
    assert [r.to_dict() for r in cols[0]] == [r.to_dict() for r in rows[0]]
    assert cols[1:] == rows[1:]


@settings(max_examples=300)
@given(csv_files())
def test_property_columnar_reads_what_the_row_reader_reads(case: tuple[bytes, str]) -> None:
    data, errors = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.csv"
        path.write_bytes(data)
        _same(path, errors)
        _same(path, "collect", check_contacts=False, missing_id="error")


@settings(max_examples=40)
@given(hs.lists(st.customers(), max_size=5))
def test_property_columnar_reads_written_customers_back(customers: list[Customer]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.csv"
        write_csv(customers, path)
        _same(path, "collect")
        assert list(read_csv(path, engine="columnar")) == customers


@pytest.mark.parametrize("errors", ["collect", "raise"])
@pytest.mark.parametrize("check", [True, False])
def test_every_cell_of_every_column_as_the_row_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, errors: str, check: bool
) -> None:
    """Deterministic companion of the property: one file with every column, a row per listed cell of
    each column (the other cells plain), so every branch of the fast builder meets its row-reader twin."""
    header = [h for h in COLUMNS if h != "姓名"]  # 姓名 and name are one field: the second is custom
    plain = [COLUMNS[h][0] for h in header]
    rows = [plain]
    for j, h in enumerate(header):
        for value in (v for v in COLUMNS[h] if '"' not in v):  # a quote sends the file to the row reader
            row = list(plain)
            row[j] = value
            row[0] = f"c{len(rows)}" if h != "id" else value
            rows.append(row)
    path = tmp_path / "c.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    calls = _counting(monkeypatch)
    _same(path, errors, check_contacts=check)
    if errors == "collect":
        # most rows took the batch or the per-row fast builder (phone_2's plain cell has spaces: the
        # batch builder leaves those rows to the per-row one): the comparison covers it
        assert calls[0] + calls[2] > len(rows) // 2


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """[rows through the per-row fast builder, rows through the row reader's steps, rows made by the
    batch builder]"""
    calls = [0, 0, 0]
    fast, general, batch = _columnar._Builder.fast, _columnar._general, _columnar._Builder.batch

    def counted_batch(self: Any, *args: Any) -> Any:
        sources, special = batch(self, *args)
        calls[2] += len(sources[0]) - len(special)
        return sources, special

    monkeypatch.setattr(_columnar._Builder, "batch", counted_batch)

    def counted_fast(self: Any, cells: Any, *args: Any) -> Any:
        calls[0] += 1
        return fast(self, cells, *args)

    def counted_general(*args: Any, **kw: Any) -> Any:
        calls[1] += 1
        return general(*args, **kw)

    monkeypatch.setattr(_columnar._Builder, "fast", counted_fast)
    monkeypatch.setattr(_columnar, "_general", counted_general)
    return calls


def test_plain_files_are_read_by_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above means something only if the columnar path runs: plain rows take its batch
    builder, a bad row the per-row builder and then the row reader's steps, and a file with quotes the
    row reader."""
    calls = _counting(monkeypatch)
    path = tmp_path / "c.csv"
    path.write_text(
        "id,name,phone_1,phone_1_kind,email_1,birthday,created_at,备注\n"
        "c1,张三,13800138000,mobile,a@b.cn,1990-01-02,2024-01-02T10:00:00+08:00,老客户\n"
        "c2,李四,abc-def,mobile,a@b.cn,1990-01-02,2024-01-02,\n",
        encoding="utf-8",
    )
    reader = read_csv(path, engine="columnar", errors="collect")
    assert [c.id for c in reader] == ["c1"]
    assert calls == [1, 1, 1]
    assert [(p.row, p.field) for p in reader.problems] == [(3, "phones.0.number")]
    path.write_text('id,name\nc1,"Zhang, San"\n', encoding="utf-8")
    calls[:] = [0, 0, 0]
    assert [c.name.full for c in read_csv(path, engine="columnar")] == ["Zhang, San"]
    assert calls == [0, 0, 0]


def test_engine_is_checked_and_columnar_needs_pyarrow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from custdata.exceptions import ValidationError

    path = tmp_path / "c.csv"
    path.write_text("id\nc1\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="engine"):
        read_csv(path, engine="fast")  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingExtraError, match=r"custdata\[parquet\]"):
        read_csv(path, engine="columnar")
    assert [c.id for c in read_csv(path)] == ["c1"]  # "auto" reads row by row without it


@pytest.mark.parametrize("profile", ["zoho", "fxiaoke", "hubspot", "salesforce"])
def test_crm_profiles_read_the_same_by_columns(tmp_path: Path, profile: str) -> None:
    from custdata.io._profiles import profile_headers

    headers = profile_headers(profile, "customer")
    assert headers is not None
    header = list(headers)
    samples = ["c1", "张三", "13800138000", "a@b.cn", "上海", "2024-01-02", "x"]
    rows = [[samples[(i + j) % len(samples)] for i in range(len(header))] for j in range(len(samples))]
    path = tmp_path / "export.csv"
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    _same(path, "collect", profile=profile)


@pytest.mark.parametrize("delimiter", [";", "\t", "|", "；"])
def test_other_delimiters(tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "c.csv"
    rows = [["id", "name", "mobile"], ["c1", "张三", "13800138000"], ["c2", "李四", "abc"]]
    path.write_text("\n".join(delimiter.join(r) for r in rows) + "\n", encoding="utf-8")
    _same(path, "collect", delimiter=delimiter)
    assert [c.id for c in read_csv(path, delimiter=delimiter, errors="skip")] == ["c1"]


# ------------------------------------------------------------------ the column checks (pyarrow.compute)
def _cell_ok(kind: str, raw: str) -> bool:
    """Whether the per-cell steps of the fast builder take a phone or e-mail cell (check_contacts on)."""
    from custdata.io._cells import PHONE_SPLIT, SPLIT
    from custdata.normalization import normalize_email
    from custdata.normalization._phone import phone_text

    t = _columnar._unguard(raw)
    if not t.strip() or t.strip() != t or (PHONE_SPLIT if kind == "phone" else SPLIT).search(t):
        return False
    try:
        if kind == "phone":
            return phone_text(t) == (t, None)
        normalize_email(t)
    except Exception:
        return False
    return True


_ODD_CELLS = [
    "13800138000", "'+8613800138000", "'13800138000", "''+8613800138000", "+12", "+123", "12", "1" * 18,
    "1" * 19, "+" + "1" * 17, "+" + "1" * 18, "138 0013 8000", "a@b.cn", "info@example.com",
    "Abuse@example.com", "a@b.local", "a@x.localhost", "a@b--c.com", "a..b@c.com", ".a@c.com", "a@-b.com",
    "a@b.c", "a" * 65 + "@b.com", "a" * 64 + "@b.com", "a|b@c.com", "a@b.com.", "'=a@b.com", "a@例子.中国",
    "x@in-addr.arpa", "x@y.onion", "x@y.test", "x@b.INVALID", "",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    cells=hs.lists(
        hs.one_of(
            hs.sampled_from(_ODD_CELLS),
            st.emails().map(lambda e: e.address),
            st.phones().map(lambda p: p.number),
            hs.from_regex(r"'?\+?[0-9 ]{0,20}", fullmatch=True),
            hs.from_regex(r"[A-Za-z0-9._%+|-]{0,8}@[A-Za-z0-9.-]{0,12}", fullmatch=True),
            hs.text(max_size=12),
        ),
        min_size=1,
        max_size=20,
    ),
    kind=hs.sampled_from(["phone", "email"]),
)
def test_the_column_checks_take_only_cells_the_cell_checks_take(cells: list[str], kind: str) -> None:
    """A row whose contacts pass the column checks skips the per-cell checks: pinned to them here."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.compute as pc

    batch = pa.record_batch([pa.array(cells, pa.string())], names=["c0"])
    phones, emails = ([0], []) if kind == "phone" else ([], [0])
    checked = _columnar._checked(pc, pa, batch, phones, emails)
    assert checked is not None
    for raw, ok in zip(cells, checked, strict=True):
        if ok and raw:
            assert _cell_ok(kind, raw), raw
            # the batch builder takes a phone column's unguarded cells as the cells without a leading '
            assert _columnar._unguard(raw) == (raw[1:] if raw[0] == "'" else raw), raw


def test_the_column_checks_take_plain_cells() -> None:
    """The property above would hold for checks that take nothing: the plain cells are taken."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.compute as pc

    cells = ["13800138000", "'+8613800138000", "a@b.cn", "Li.Na+x@Example.COM", ""]
    batch = pa.record_batch([pa.array(cells[:2]), pa.array(cells[2:4])], names=["p", "e"])
    assert _columnar._checked(pc, pa, batch, [0], [1]) == [True, True]
    batch = pa.record_batch([pa.array(["", "x@y.test"])], names=["e"])
    assert _columnar._checked(pc, pa, batch, [], [0]) == [True, False]
    assert _columnar._checked(pc, pa, batch, [], []) is None


# ------------------------------------------------------------------ the batch builder (rows made by columns)
def _per_row(path: Path, errors: str, **kw: Any) -> tuple[list[Any], Any, str | None]:
    """The columnar path with the batch builder off: every row by the per-row fast builder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_columnar._Builder, "_compile_combine", lambda self: None)
        return _read(path, "columnar", errors, **kw)


@settings(max_examples=200, deadline=None)
@given(csv_files(), hs.integers(1, 4))
def test_property_batch_builder_makes_what_the_per_row_builder_makes(
    case: tuple[bytes, str], chunk: int
) -> None:
    """Rows made by columns (checks by pyarrow.compute, cells converted once per distinct text, records
    from one generated loop, a chunk of rows at a time) are pinned to the per-row fast builder: same
    records, problems, order and counts."""
    data, errors = case
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(_columnar, "_CHUNK", chunk)  # several chunks in a small file
        path = Path(tmp) / "c.csv"
        path.write_bytes(data)
        for kw in ({}, {"check_contacts": False}):
            try:
                one = _per_row(path, errors, **kw)
            except ParseError as exc:
                with pytest.raises(ParseError, match=re.escape(str(exc))):
                    _read(path, "columnar", errors, **kw)
                continue
            two = _read(path, "columnar", errors, **kw)
            assert [r.to_dict() for r in two[0]] == [r.to_dict() for r in one[0]]
            assert two == one


def test_batch_builder_takes_plain_rows_and_leaves_odd_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The property above would pass if the batch builder took nothing: plain rows are made by it, and
    each kind of odd cell sends its row to the per-row steps."""
    header = "id,name,mobile,phone_1,phone_1_kind,phone_1_primary,email_1,email_1_kind,address_1_city,城市,birthday,tags,备注"
    plain = "c1,张三,13900139000,'+8613800138000,mobile,true,a@b.cn,work,上海,北京,1990-01-02,vip,老客户"
    cells = plain.split(",")
    odd = {0: ["", " ", "'=cmd", "\u3000x"], 1: ["=SUM(A1)"], 2: ["139 0013 9000"], 3: ["", "abc"],
           4: ["pager"], 5: ["yes"], 6: ["wang#qq.com"], 7: ["boss"], 9: ["'+x"], 10: ["1990-02-30"]}  # fmt: skip
    lines = [header, plain]
    for j, values in odd.items():
        for v in values:
            row = list(cells)
            row[j] = v
            if j != 0:
                row[0] = f"c{len(lines)}"
            lines.append(",".join(row))
    lines += [",".join([""] * len(cells)), header]  # empty, and the header again
    path = tmp_path / "c.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    calls = _counting(monkeypatch)
    _same(path, "collect")
    assert calls[2] == 1  # the plain row
    calls[:] = [0, 0, 0]
    list(read_csv(path, engine="columnar", errors="collect"))
    assert calls[2] == 1 and calls[0] == len(lines) - 2 - 2  # every odd row, the empty and header rows apart


@settings(max_examples=300, deadline=None)
@given(hs.one_of(hs.text(max_size=6), hs.sampled_from(["", " ", "\u3000", "\x1c", "'", "=", "'=x", '=""'])))
def test_the_id_check_takes_only_ids_the_cell_steps_take(raw: str) -> None:
    """An id cell the batch builder takes is one the per-row builder takes unchanged."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.compute as pc

    taken = pc.match_substring_regex(pa.array([raw], pa.string()), _columnar._PLAIN_ID)[0].as_py()
    if taken:
        assert raw != "" and _columnar._unguard(raw) == raw and raw.strip()
    elif raw[:1].isalnum():
        raise AssertionError(raw)  # and it takes the plain ones


def test_no_whitespace_above_u3000() -> None:
    """The id check lists Python's whitespace below U+3001 only."""
    assert not any(chr(c).isspace() for c in range(0x3001, 0x110000))
