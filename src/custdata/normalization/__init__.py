"""Normalisation: phones, e-mails, names, addresses and dates as people really type them.

Each normaliser takes any string and returns a clean value, or raises its own
:mod:`custdata.exceptions` error (a ``ValueError``) with a machine-readable ``reason``; no other exception
escapes. :func:`normalize` and :func:`normalize_many` apply them to whole :class:`~custdata.Customer`
records and report every problem as an :class:`Issue`.

>>> normalize_phone("手机：138 0013 8000").e164
'+8613800138000'
>>> normalize_email("Zhang.Wei+shop@GMAIL.com").match_key
'zhangwei@gmail.com'
"""

from __future__ import annotations

from custdata.normalization._address import ADDRESS_REASONS, PROVINCES, country_code, normalize_address
from custdata.normalization._date import DATE_REASONS, normalize_date
from custdata.normalization._email import EMAIL_REASONS, PROVIDERS, NormalizedEmail, Provider, normalize_email
from custdata.normalization._name import (
    COMPOUND_SURNAMES,
    NAME_REASONS,
    NormalizedName,
    normalize_name,
    script_of,
)
from custdata.normalization._phone import PHONE_REASONS, NormalizedPhone, normalize_phone
from custdata.normalization._record import Issue, NormalizeResult, normalize, normalize_many

__all__ = [
    "ADDRESS_REASONS",
    "COMPOUND_SURNAMES",
    "DATE_REASONS",
    "EMAIL_REASONS",
    "NAME_REASONS",
    "PHONE_REASONS",
    "PROVIDERS",
    "PROVINCES",
    "Issue",
    "NormalizeResult",
    "NormalizedEmail",
    "NormalizedName",
    "NormalizedPhone",
    "Provider",
    "country_code",
    "normalize",
    "normalize_address",
    "normalize_date",
    "normalize_email",
    "normalize_many",
    "normalize_name",
    "normalize_phone",
    "script_of",
]
