"""``custdata.testing`` exports every public strategy and generator its private modules define."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

pytest.importorskip("hypothesis")

import custdata.testing as cst


def test_every_public_name_of_the_private_modules_is_exported() -> None:
    for info in pkgutil.iter_modules(cst.__path__):
        if not info.name.startswith("_") or info.name == "_names":
            continue  # public submodules (custdata.testing.stores) are imported by name; _names: data pools
        module = importlib.import_module(f"custdata.testing.{info.name}")
        for name in module.__all__:
            assert name in cst.__all__, (
                f"custdata.testing.{info.name}.{name} is not in custdata.testing.__all__"
            )
            assert getattr(cst, name) is getattr(module, name)


def test_every_exported_name_exists_and_is_documented() -> None:
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "testing.md").read_text(encoding="utf-8")
    for name in cst.__all__:
        assert hasattr(cst, name), name
        assert f"`{name}" in page, f"docs/testing.md does not mention {name}"
