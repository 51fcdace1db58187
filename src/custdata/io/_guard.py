"""The guard every CSV cell passes on its way out (and back in): spreadsheet formula injection, and long
digit strings that a spreadsheet would turn into numbers.

Formula injection: a cell that starts with ``= + - @`` (or their full-width forms ``＝＋－＠``, which some
spreadsheets take as formulas too), a tab or a carriage return, after any run of ``'``, gets a leading
``'`` (OWASP's advice), so a spreadsheet shows it as text.

Digit strings: a spreadsheet opening a CSV reads ``00123`` as 123, ``13800138000`` as 1.38E+10 and an id
of 19 digits as a rounded float. Cells of ASCII digits that start with ``0`` or have 11 digits or more
are written as ``="00123"``: a formula whose value is that text, which Excel and LibreOffice show as it
was. The formula is a constant string, so it cannot run anything. (A number with ``+``, ``+86…``, gets
the formula guard's ``'``: spreadsheets show it as text.) :func:`unguard_cell` undoes both.
"""

from __future__ import annotations

import re

from custdata.exceptions import ValidationError

__all__ = ["guard_cell", "unguard_cell"]

_DANGER = re.compile(r"'*[=+\-@\t\r＝＋－＠]")
_FIRST = frozenset("'=+-@\t\r＝＋－＠")
_DIGITS = frozenset("0123456789")
_NUMBER = re.compile(r"[0-9]+")
_KEPT = re.compile(r'="([0-9]+)"')


def guard_cell(text: str) -> str:
    """The cell as written to CSV: formula injection neutralised, long digit strings kept as text.

    >>> guard_cell("=1+1"), guard_cell("＝1+1"), guard_cell("plain")
    ("'=1+1", "'＝1+1", 'plain')
    >>> guard_cell("+8613800138000"), guard_cell("00123"), guard_cell("42")
    ("'+8613800138000", '="00123"', '42')

    Anything but a ``str`` raises :class:`~custdata.exceptions.ValidationError` (field ``text``).
    """
    if type(text) is not str and not isinstance(text, str):
        raise ValidationError(f"must be text, got {type(text).__name__}", field="text")
    return guard(text)


def guard(text: str) -> str:
    """:func:`guard_cell` without the check of its argument: for the writers, whose cells are text."""
    if not text:
        return text
    first = text[0]
    if first in _DIGITS and len(text) > 1 and (first == "0" or len(text) >= 11) and _NUMBER.fullmatch(text):
        return f'="{text}"'
    if first not in _FIRST:
        return text
    return "'" + text if _DANGER.match(text) else text


def unguard_cell(text: str) -> str:
    """Undo :func:`guard_cell`: drop one leading ``'`` that stands before a guarded cell, and read
    ``="00123"`` as ``00123``. Anything but a ``str`` raises
    :class:`~custdata.exceptions.ValidationError` (field ``text``)."""
    if not isinstance(text, str):
        raise ValidationError(f"must be text, got {type(text).__name__}", field="text")
    return unguard(text)


def unguard(text: str) -> str:
    """:func:`unguard_cell` without the check of its argument: for the readers, whose cells are text."""
    first = text[:1]
    if first == "'":
        return text[1:] if _DANGER.match(text, 1) else text
    if first == "=":
        m = _KEPT.fullmatch(text)
        if m:
            return m.group(1)
    return text
