"""The examples in custdata.security's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["_audit", "_encryptor", "_keyring", "_mask", "_policy", "_records", "_view"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"custdata.security.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
