"""Key rotation: re-encrypt a store's records under the keyring's active key, page by page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from custdata.exceptions import ValidationError

__all__ = ["key_usage", "rotate"]


def rotate(store: Any, *, progress: Callable[[int, int], object] | None = None, page: int = 500) -> int:
    """Re-encrypt every customer body and history change of an encrypted ``store`` that is not under its
    keyring's active key; returns how many rows were rewritten.

    Typical use: ``keyring.promote(keyring.add())``, save the keyring, then ``rotate(store)``; once it has
    finished, the old key can be retired. Each page of ``page`` customers is one transaction, and rows
    already under the active key are skipped, so an interrupted rotation (even a killed process) is
    simply run again: nothing is lost and nothing is done twice. ``progress(customers_seen, rewritten)``
    is called after each page (a tqdm bar's update fits).
    """
    step = getattr(store, "reencrypt_page", None)
    if not callable(step):
        raise ValidationError(
            f"{type(store).__name__} cannot re-encrypt (an encrypted SQLite or PostgreSQL store can)",
            field="store",
        )
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise ValidationError("page must be a positive int", field="page")
    after: str | None = ""
    seen = total = 0
    while after is not None:
        after, looked, rewritten = step(after, page)
        seen += looked
        total += rewritten
        if progress is not None:
            progress(seen, total)
    return total


def key_usage(store: Any) -> dict[str, int]:
    """How many stored values (customer bodies, history changes) each data key still encrypts in ``store``."""
    usage = getattr(store, "key_usage", None)
    if not callable(usage):
        raise ValidationError(
            f"{type(store).__name__} cannot report key usage (an encrypted SQLite or PostgreSQL store can)",
            field="store",
        )
    return dict(usage())
