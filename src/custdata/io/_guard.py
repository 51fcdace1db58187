"""The spreadsheet formula-injection guard applied to every CSV cell written."""

from __future__ import annotations

import re

__all__ = ["guard_cell", "unguard_cell"]

_DANGER = re.compile(r"'*[=+\-@\t\r]")
_FIRST = frozenset("'=+-@\t\r")


def guard_cell(text: str) -> str:
    """Neutralise spreadsheet formula injection: a cell starting with ``= + - @``, a tab or a carriage
    return (after any run of ``'``) gets a leading ``'``, so a spreadsheet shows it as text.

    >>> guard_cell("=1+1"), guard_cell("+8613800138000"), guard_cell("plain")
    ("'=1+1", "'+8613800138000", 'plain')
    """
    if not text or text[0] not in _FIRST:
        return text
    return "'" + text if _DANGER.match(text) else text


def unguard_cell(text: str) -> str:
    """Undo :func:`guard_cell`: drop one leading ``'`` that stands before a guarded cell."""
    return text[1:] if text[:1] == "'" and _DANGER.match(text, 1) else text
