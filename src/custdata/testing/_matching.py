"""Strategies for what record matching must see through: slips of the keyboard in a name."""

from __future__ import annotations

from hypothesis import strategies as st

from custdata.exceptions import ValidationError

__all__ = ["misspellings"]

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@st.composite
def misspellings(draw: st.DrawFn, word: str) -> str:
    """``word`` (two or more characters) with one slip: a letter replaced by another, two neighbouring
    letters swapped, or a letter dropped. The result differs from ``word``."""
    if not isinstance(word, str) or len(word) < 2:
        raise ValidationError("misspellings needs a word of two or more characters", field="word")
    kind = draw(st.sampled_from(["replace", "swap", "drop"]))
    k = draw(st.integers(0, len(word) - 1))
    if kind == "swap" and k < len(word) - 1 and word[k] != word[k + 1]:
        return word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    if kind == "replace":
        ch = draw(st.sampled_from([c for c in _LETTERS if c != word[k]]))
        return word[:k] + ch + word[k + 1 :]
    return word[:k] + word[k + 1 :]
