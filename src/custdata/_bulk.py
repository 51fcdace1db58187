"""What every bulk operation shares: the ``errors=`` policy and the check of its input.

``read_csv``, ``read_jsonl``, ``from_dataframe``, ``normalize_many`` and ``Store.upsert_many`` all take
``errors: Errors = DEFAULT_ERRORS`` and check it with :func:`check_errors`, so the name, the values and
the default are defined once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final, Literal, TypeVar

from custdata.exceptions import ValidationError

__all__ = ["DEFAULT_ERRORS", "ERRORS", "Errors", "check_errors", "items_of"]

T = TypeVar("T")

#: What a bulk operation does with a bad item: ``"raise"`` stops at the first one with a custdata error,
#: ``"skip"`` leaves it out, ``"collect"`` leaves it out and reports it (each operation says where).
Errors = Literal["raise", "skip", "collect"]

#: The values of :data:`Errors`, in that order.
ERRORS: Final = ("raise", "skip", "collect")

#: The one default: nothing is left out unless the caller asks.
DEFAULT_ERRORS: Final[Errors] = "raise"


def check_errors(errors: object) -> None:
    """Refuse an ``errors=`` value that is not one of :data:`ERRORS` with a ``ValidationError``."""
    if errors not in ERRORS:
        raise ValidationError(f"errors must be 'raise', 'skip' or 'collect', got {errors!r}", field="errors")


def items_of(value: Iterable[T], field: str, what: str = "records") -> Iterator[T]:
    """An iterator over a bulk operation's input ``value``, or a ``ValidationError`` naming ``field``.

    Text, bytes and a single mapping are refused too: each is one item, not many (iterating them would
    turn characters or keys into "records").
    """
    if isinstance(value, (str, bytes, bytearray, Mapping)):
        raise ValidationError(
            f"must be an iterable of {what}, got a single {type(value).__name__}", field=field
        )
    try:
        return iter(value)
    except TypeError:
        raise ValidationError(
            f"must be an iterable of {what}, got {type(value).__name__}", field=field
        ) from None
