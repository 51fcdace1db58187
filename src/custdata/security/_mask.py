"""Masking for display and messages, and keyed pseudonyms for analytics exports.

Masks never raise on odd input (they are used in error messages and logs): text they cannot read is
masked whole. The one exception is :func:`mask_resident_id`, which validates the number it masks.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from custdata import _mask as _ground
from custdata.exceptions import ValidationError
from custdata.security._keyring import Keyring

__all__ = [
    "Pseudonymizer",
    "debug_pii",
    "mask_email",
    "mask_name",
    "mask_phone",
    "mask_resident_id",
    "set_debug_pii",
]


def mask_phone(text: str) -> str:
    """A phone number with its middle hidden: ``+8613812345678`` -> ``138****5678``.

    The country calling code is dropped (for ``+86`` and any code phonenumbers knows); numbers of ten or
    more digits keep their first three and last four digits, six to nine digits keep two and two, and
    shorter numbers are hidden whole. Exception messages and problem reports use this same mask.

    >>> mask_phone("+8613812345678"), mask_phone("010-8765 4321"), mask_phone("12345")
    ('138****5678', '010****4321', '*****')
    """
    return _ground.mask_phone(text)


def mask_email(text: str) -> str:
    """An e-mail address with its local part hidden but the first character: ``z***@example.com``.

    >>> mask_email("zhang.san@example.com")
    'z***@example.com'
    """
    return _ground.mask_email(text)


def mask_name(text: str) -> str:
    """A person's name with all but each part's first character hidden, keeping its length.

    Chinese names keep the family name's first character (``张三`` -> ``张*``); names in words keep each
    word's initial (``John Smith`` -> ``J*** S****``); a one-character name is hidden whole.

    >>> mask_name("张三"), mask_name("John Smith"), mask_name("诸葛亮")
    ('张*', 'J*** S****', '诸**')
    """
    return _ground.mask_name(text)


def set_debug_pii(on: bool | None) -> bool:
    """Show full personal values in exception messages, ``RowProblem.value``, warnings and logs (``True``,
    for trusted debugging only), mask them (``False``, the default), or follow the environment variable
    ``CUSTDATA_DEBUG_PII`` again (``None``). Returns the previous setting.

    >>> from custdata import normalize_phone
    >>> try:
    ...     normalize_phone("+86 138 1234 56789 0")
    ... except ValueError as exc:
    ...     print(exc)
    invalid phone number '138******7890': too long
    >>> before = set_debug_pii(True)
    >>> try:
    ...     normalize_phone("+86 138 1234 56789 0")
    ... except ValueError as exc:
    ...     print(exc)
    invalid phone number '+86 138 1234 56789 0': too long
    >>> _ = set_debug_pii(before)
    """
    return _ground.set_debug_pii(on)


def debug_pii() -> bool:
    """Whether messages show full personal values now (see :func:`set_debug_pii`)."""
    return _ground.debug_pii()


_ID = re.compile(r"[1-9][0-9]{16}[0-9X]")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def resident_id_check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of a resident ID's first 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17[:17], _WEIGHTS, strict=True)) % 11]


def mask_resident_id(text: str) -> str:
    """A Chinese resident identity number (18 characters) with its birth date and sequence hidden:
    ``110101199003071234`` -> ``110101********1234``.

    The number is validated first (shape, birth date and check character); an invalid one raises
    :class:`~custdata.exceptions.ValidationError` (the message does not repeat the number).

    >>> mask_resident_id("11010519491231002X")
    '110105********002X'
    """
    if not isinstance(text, str):
        raise ValidationError(f"a resident ID is a str, got {type(text).__name__}", field="resident_id")
    t = text.strip().upper()
    if not _ID.fullmatch(t):
        raise ValidationError("a resident ID is 17 digits and a check digit or X", field="resident_id")
    try:
        dt.date(int(t[6:10]), int(t[10:12]), int(t[12:14]))
    except ValueError:
        raise ValidationError("the resident ID's birth date does not exist", field="resident_id") from None
    if resident_id_check_digit(t[:17]) != t[17]:
        raise ValidationError("the resident ID's check character is wrong", field="resident_id")
    return t[:6] + "*" * 8 + t[14:]


class Pseudonymizer:
    """Stable keyed pseudonyms (HMAC-SHA256) for analytics exports: the same value under the same keyring
    and field always gives the same pseudonym, another keyring gives unrelated ones, and without the key
    a pseudonym cannot be turned back or checked against a guessed phone number.

    ``chars`` hex characters are kept (16 = 64 bits: among a million values the chance that any two
    share a pseudonym is about 3 in 100 million).

    >>> from custdata.security import Keyring, Pseudonymizer
    >>> p = Pseudonymizer(Keyring.generate())
    >>> p("+8613812345678", field="phone") == p("+8613812345678", field="phone")
    True
    """

    _LABEL = b"custdata pseudonym key v1"

    def __init__(self, keyring: Keyring, *, chars: int = 16) -> None:
        if not isinstance(keyring, Keyring):
            raise ValidationError(f"expected a Keyring, got {type(keyring).__name__}", field="keyring")
        if not isinstance(chars, int) or isinstance(chars, bool) or not 8 <= chars <= 64:
            raise ValidationError("chars must be from 8 to 64", field="chars")
        self.chars = chars
        self._root = keyring.index_key
        self._keys: dict[str, bytes] = {}

    def __call__(self, value: str, *, field: str = "") -> str:
        if not isinstance(value, str):
            raise ValidationError(
                f"a value to pseudonymise is a str, got {type(value).__name__}", field=field
            )
        key = self._keys.get(field)
        if key is None:
            info = self._LABEL + b"\0" + field.encode("utf-8", "surrogatepass")
            key = HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(self._root)
            self._keys[field] = key
        return hmac.digest(key, value.encode("utf-8", "surrogatepass"), "sha256").hex()[: self.chars]
