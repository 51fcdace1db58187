"""Key rotation: re-encrypt a store's records under the keyring's active key, page by page."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from custdata.exceptions import ValidationError
from custdata.security._keyring import Keyring

__all__ = ["encrypt_store", "key_usage", "rotate"]


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
            f"{type(store).__name__} cannot re-encrypt (an encrypted SQLite, PostgreSQL or memory store can)",
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
    finished = getattr(store, "rotation_finished", None)
    if callable(finished):
        finished()  # nothing is left under a keyring key directly: later rotations only rewrap keys
    return total


def key_usage(store: Any) -> dict[str, int]:
    """How many stored values (customer bodies, history changes) each data key still encrypts in ``store``."""
    usage = getattr(store, "key_usage", None)
    if not callable(usage):
        raise ValidationError(
            f"{type(store).__name__} cannot report key usage (a SQLite, PostgreSQL or memory store can)",
            field="store",
        )
    return dict(usage())


def encrypt_store(
    store: Any,
    keyring: Keyring,
    *,
    progress: Callable[[int], object] | None = None,
    page: int = 500,
    sensitive_custom: Iterable[str] | None = None,
) -> int:
    """Encrypt a plaintext SQLite, PostgreSQL or MariaDB store in place under ``keyring``: customer
    bodies, their lookup keys (blind indexes from then on), history changes and the free text of
    transactions and interactions; returns how many customers this call encrypted.

    Open the plaintext store without ``keyring=``; each page of ``page`` customers is one transaction
    that also records how far the work got, so an interrupted run (a killed process included) loses at
    most its page: open the store again with ``keyring=`` and call this again to finish. Until it has
    finished the store refuses every other operation (never half plaintext, half encrypted answers).
    Afterwards, open the store with ``keyring=``. ``progress(customers_so_far)`` is called after each
    page.

    ``sensitive_custom`` names custom attributes to seal with the personal fields; the store records the
    set. On a store that is encrypted already, naming more attributes than it seals seals the new ones in
    place, the same way (page by page, resumable; the count is then of customer bodies rewritten);
    naming fewer is a ValidationError: an attribute once sealed stays sealed.
    """
    step = getattr(store, "encrypt_page", None)
    if not callable(step):
        raise ValidationError(
            f"{type(store).__name__} cannot be encrypted in place "
            "(a SQLite, PostgreSQL or MariaDB store can)",
            field="store",
        )
    if not isinstance(keyring, Keyring):
        raise ValidationError(f"expected a Keyring, got {type(keyring).__name__}", field="keyring")
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise ValidationError("page must be a positive int", field="page")
    names = None if sensitive_custom is None else _names(sensitive_custom)
    done, total = False, 0
    while not done:
        done, n = step(keyring, page) if names is None else step(keyring, page, sensitive_custom=names)
        total += n
        if progress is not None:
            progress(total)
    return total


def _names(value: object) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            "sensitive_custom is a list of custom attribute names", field="sensitive_custom"
        )
    names = list(value)
    if not all(isinstance(n, str) for n in names):
        raise ValidationError(
            "sensitive_custom is a list of custom attribute names", field="sensitive_custom"
        )
    return names
