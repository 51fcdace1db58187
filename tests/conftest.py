"""Shared test configuration."""

from __future__ import annotations

import importlib.util
import os

from hypothesis import HealthCheck, settings

# the database servers, one each per session for every test under tests/ (import them nowhere else)
from tests.servers import mariadb_server, postgres_server  # noqa: F401  (fixtures)

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "default")


def has(module: str) -> bool:
    """Is an optional dependency importable?"""
    return importlib.util.find_spec(module) is not None
