"""Normalisation: phones, e-mails, names, addresses and dates as people really type them.

Each normaliser takes any string and returns a clean value, or raises its own
:mod:`custdata.exceptions` error (a ``ValueError``) with a machine-readable ``reason``; no other exception
escapes. :func:`normalize` and :func:`normalize_many` apply them to whole :class:`~custdata.Customer`
records and report every problem as an :class:`Issue`.
"""

from __future__ import annotations

from custdata.normalize._email import EMAIL_REASONS, PROVIDERS, NormalizedEmail, Provider, normalize_email
from custdata.normalize._name import (
    COMPOUND_SURNAMES,
    NAME_REASONS,
    NormalizedName,
    normalize_name,
    script_of,
)
from custdata.normalize._phone import PHONE_REASONS, NormalizedPhone, normalize_phone

__all__ = [
    "COMPOUND_SURNAMES",
    "EMAIL_REASONS",
    "NAME_REASONS",
    "PHONE_REASONS",
    "PROVIDERS",
    "NormalizedEmail",
    "NormalizedName",
    "NormalizedPhone",
    "Provider",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "script_of",
]
