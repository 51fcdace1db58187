"""What every bulk operation shares: the ``errors=`` policy.

``read_csv``, ``read_jsonl``, ``from_dataframe``, ``normalize_many`` and ``Store.upsert_many`` all take
``errors: Errors = DEFAULT_ERRORS`` and check it with :func:`check_errors`, so the name, the values and
the default are defined once.
"""

from __future__ import annotations

from typing import Final, Literal

from custdata.exceptions import ValidationError

__all__ = ["DEFAULT_ERRORS", "ERRORS", "Errors", "check_errors"]

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
