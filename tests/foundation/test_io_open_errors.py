"""Every reader reports a file it cannot open with the same ParseError (one helper, io._args.open_file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import custdata
from custdata.exceptions import ParseError
from custdata.io._encoding import detect_encoding

READERS: dict[str, Callable[[Path], Any]] = {
    "read_csv": lambda p: list(custdata.read_csv(p)),
    "read_csv(encoding=utf-8)": lambda p: list(custdata.read_csv(p, encoding="utf-8")),
    "read_jsonl": lambda p: list(custdata.read_jsonl(p)),
    "detect_encoding": detect_encoding,
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_missing_file_and_folder_read_the_same_everywhere(reader: str, tmp_path: Path) -> None:
    read = READERS[reader]
    with pytest.raises(ParseError, match="no such file") as info:
        read(tmp_path / "nope.csv")
    assert info.value.path == str(tmp_path / "nope.csv")
    with pytest.raises(ParseError, match="is a directory, not a file") as info:
        read(tmp_path)
    assert info.value.path == str(tmp_path)
