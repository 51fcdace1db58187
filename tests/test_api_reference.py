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


SUBPACKAGES = [
    "io",
    "storage",
    "matching",
    "security",
    "metrics",
    "segments",
    "needs",
    "datasets",
    "testing",
    "dask",
]


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_every_public_name_of_a_subpackage_is_on_the_api_page(package: str) -> None:
    """A name in a subpackage's ``__all__`` is on the page: as the flat ``custdata.X`` (the same object), as
    ``custdata.<package>.X``, in the ``members:`` list of ``::: custdata.<package>``, or through that
    directive without a ``members:`` list (which renders all of ``__all__``)."""
    import importlib

    if package == "dask":
        pytest.importorskip("dask.bag")
    module = importlib.import_module(f"custdata.{package}")
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    flat = set(re.findall(r"^::: custdata\.(\w+)\s*$", page, flags=re.MULTILINE))
    nested = set(re.findall(rf"^::: custdata\.{package}\.(\w+)\s*$", page, flags=re.MULTILINE))
    block = re.search(rf"^::: custdata\.{package}[ \t]*\n((?:[ \t]+.*\n)*)", page + "\n", flags=re.MULTILINE)
    assert block is not None, f"no `::: custdata.{package}` on the page"
    listed = re.search(r"members:\s*\[([^\]]*)\]", block.group(1))
    if listed is None:
        return  # the whole package is rendered
    members = {m.strip() for m in listed.group(1).split(",")}
    missing = [
        n
        for n in module.__all__
        if n not in members
        and n not in nested
        and not (n in flat and getattr(custdata, n, None) is getattr(module, n))
    ]
    assert missing == []
