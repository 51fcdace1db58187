"""The API reference page: its griffe extension turns docstrings into Markdown without changing them."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import custdata

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("griffe")


def _extension():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("griffe_doctests", ROOT / "scripts" / "griffe_doctests.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_examples_are_fenced_and_prose_is_kept() -> None:
    ext = _extension()
    text = "Prose [not a link].\n\n>>> f([1, 2])\n[('a', True)]\n>>> g(\n...     1)\n3\n\nMore prose."
    out = ext.fence_examples(text)
    assert out == (
        "Prose [not a link].\n\n```pycon\n>>> f([1, 2])\n[('a', True)]\n>>> g(\n...     1)\n3\n```\n\nMore prose."
    )
    assert ext.fence_examples(out) == out  # text with fences already is left alone
    assert ext.fence_examples("no examples") == "no examples"


def test_roles_become_code_spans() -> None:
    ext = _extension()
    text = "See :func:`normalize`, :class:`~custdata.exceptions.ValidationError` and :mod:`custdata.io`."
    assert ext.plain_roles(text) == "See `normalize`, `ValidationError` and `custdata.io`."


def test_every_flat_name_is_on_the_api_page() -> None:
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^::: custdata\.(\w+)\s*$", page, flags=re.MULTILINE))
    missing = [n for n in custdata.__all__ if n not in documented and n not in {"__version__", "exceptions"}]
    assert missing == []
