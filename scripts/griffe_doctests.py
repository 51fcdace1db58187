"""A griffe extension for the API reference page (mkdocs.yml loads it): docstrings read as Markdown.

custdata's docstrings hold doctest examples (``>>> ...`` and the expected output), which the test suite
runs, and Sphinx roles (``:func:`normalize```). Markdown would read the examples as prose (``[('a', True)]``
becomes a broken link) and show the roles' colons. When the docs are built this wraps each run of example
lines in a ``pycon`` fence and turns each role into a code span (``~a.b.C`` shows ``C``, as in Sphinx);
the source and the doctests are unchanged.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

# A doctest: a '>>>' line, then its '...' continuations and output lines, up to a blank line.
_EXAMPLE = re.compile(r"^(?P<indent>[ \t]*)>>> .*(?:\n(?P=indent)(?!\s*$).*)*", re.MULTILINE)
_FENCE = re.compile(r"^\s*(```|~~~)", re.MULTILINE)
_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|exc|obj|const):`(?P<tilde>~?)(?P<target>[^`]+)`")


def plain_roles(text: str) -> str:
    """Sphinx cross-reference roles as Markdown code spans."""

    def code(match: re.Match[str]) -> str:
        target = match.group("target")
        return f"`{target.rsplit('.', 1)[-1] if match.group('tilde') else target}`"

    return _ROLE.sub(code, text)


def fence_examples(text: str) -> str:
    """The docstring text with every doctest example inside a ``pycon`` code fence (fenced text is kept)."""
    if ">>> " not in text or _FENCE.search(text):
        return text

    def fence(match: re.Match[str]) -> str:
        indent = match.group("indent")
        return f"{indent}```pycon\n{match.group(0)}\n{indent}```"

    return _EXAMPLE.sub(fence, text)


class DoctestFences(griffe.Extension):
    """Fence the doctest examples of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(fence_examples(obj.docstring.value))
