"""Tests, docs, benchmarks and the package read no data from outside the repository: the reference data
ship in custdata.datasets, so the test suite passes on a clone of the repository alone."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("tests", "docs", "benchmarks", "src", "scripts")
FILES = ("README.md", "noxfile.py", "conftest.py")

#: ../shared, /work/shared, shared/data, and the path spelled in pieces: "shared" / "data", ("shared", "data")
OUTSIDE = re.compile(
    r"""\.\./+shared\b|/work/shared\b|\bshared/+data\b|["']shared["']\s*[/,]\s*["']data["']""",
    re.IGNORECASE,
)


def offending_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if OUTSIDE.search(line)]


def test_the_pattern_finds_the_ways_the_path_was_written() -> None:
    for line in (
        'SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"',
        "open('../shared/data/febrl/dataset3.csv')",
        "path = os.path.join(root, 'shared', 'data')",
        "cat /work/shared/data/README.md",
        "see ../shared/acceptance/run",
    ):
        assert offending_lines(line), line
    for line in ("shared contact points", "a shared office phone", "the shared venv", "data_path('febrl')"):
        assert not offending_lines(line), line


def candidates() -> list[Path]:
    """The repository's files in those folders: git's tracked and new files (ignored ones, such as
    generated benchmark data, left out), or every file when there is no git checkout."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *FOLDERS, *FILES],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        paths = [p for folder in FOLDERS for p in (ROOT / folder).rglob("*")]
        return [p for p in paths + [ROOT / name for name in FILES] if p.is_file()]
    return [ROOT / name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


def test_no_file_reads_data_from_outside_the_repository() -> None:
    found = []
    paths = candidates()
    assert any(p.name == "test_datasets.py" for p in paths)  # the listing works
    for path in paths:
        if path == Path(__file__).resolve() or "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):  # data and other binary files
            continue
        found += [f"{path.relative_to(ROOT)}: {line}" for line in offending_lines(text)]
    assert not found, "paths outside the repository (use custdata.datasets):\n" + "\n".join(found)
