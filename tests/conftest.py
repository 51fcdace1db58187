"""Shared test configuration."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")

#: Public reference data (CDNOW, Febrl, splink sets) lives beside the repository in ../shared/data.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of public reference data; the test fails (never skips) when it is missing."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the reference data folder {SHARED_DATA} is missing (it sits beside the repository)")
    return SHARED_DATA


def has(module: str) -> bool:
    """Is an optional dependency importable?"""
    return importlib.util.find_spec(module) is not None
