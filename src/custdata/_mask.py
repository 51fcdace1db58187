"""Masks for messages on the ground floor: what exceptions, ``RowProblem`` values, warnings and logs show
of a phone number, an e-mail address, a name or an address.

Personal data stays out of messages by default; :func:`set_debug_pii` (or the environment variable
``CUSTDATA_DEBUG_PII=1``) shows full values for trusted debugging. ``custdata.security``'s public masks
are these functions. Masks never raise: text they cannot read is hidden whole.
"""

from __future__ import annotations

import contextlib
import os
import re

__all__ = [
    "debug_pii",
    "mask_email",
    "mask_field",
    "mask_name",
    "mask_phone",
    "mask_text",
    "scrub",
    "set_debug_pii",
    "shown",
]

_STARS = "***"
_ENV = "CUSTDATA_DEBUG_PII"
_debug: bool | None = None  # None: follow the environment variable


def debug_pii() -> bool:
    """Whether messages show full personal values (``set_debug_pii(True)`` or ``CUSTDATA_DEBUG_PII=1``)."""
    if _debug is not None:
        return _debug
    return os.environ.get(_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def set_debug_pii(on: bool | None) -> bool:
    """Show full personal values in messages (``True``), mask them (``False``, the default), or follow
    the ``CUSTDATA_DEBUG_PII`` environment variable again (``None``). Returns the previous setting."""
    global _debug
    if on is not None and not isinstance(on, bool):
        from custdata.exceptions import ValidationError  # exceptions imports this module

        raise ValidationError(f"set_debug_pii takes True, False or None, got {type(on).__name__}", field="on")
    before = debug_pii()
    _debug = on
    return before


def mask_phone(text: object) -> str:
    """A phone number with its middle hidden: ``+8613812345678`` -> ``138****5678``.

    The country calling code is dropped; numbers of ten or more digits keep their first three and last
    four digits, six to nine digits keep two and two, and shorter numbers are hidden whole.
    """
    if not isinstance(text, str):
        return _STARS
    t = text.strip()
    digits = "".join(ch for ch in t if ch.isdigit() and ch.isascii())
    if t.startswith("+") and digits:
        import phonenumbers

        with contextlib.suppress(Exception):
            digits = phonenumbers.national_significant_number(phonenumbers.parse(t, None)) or digits
    n = len(digits)
    if n >= 10:
        head, tail = 3, 4
    elif n >= 6:
        head, tail = 2, 2
    else:
        return "*" * n if n else _STARS
    return digits[:head] + "*" * (n - head - tail) + digits[n - tail :]


def mask_email(text: object) -> str:
    """An e-mail address with its local part hidden but the first character: ``z***@example.com``."""
    if not isinstance(text, str):
        return _STARS
    local, at, domain = text.strip().rpartition("@")
    if not at or not local or not domain:
        return _STARS
    return f"{local[0]}***@{domain}"


_SEP = re.compile(r"(\s+|[·•・.\-'])")


def mask_name(text: object) -> str:
    """A name with all but each part's first character hidden: ``张三`` -> ``张*``, ``John Smith`` ->
    ``J*** S****``; a one-character part is hidden whole."""
    if not isinstance(text, str) or not text.strip():
        return _STARS
    out = []
    for part in _SEP.split(text.strip()):
        if not part or _SEP.fullmatch(part):
            out.append(part)
        elif len(part) == 1:
            out.append("*")
        else:
            out.append(part[0] + "*" * (len(part) - 1))
    return "".join(out)


def mask_text(text: object) -> str:
    """Free text (an address, say) hidden but its first character: ``北京市…`` -> ``北***``."""
    if not isinstance(text, str) or not text.strip():
        return _STARS
    return text.strip()[0] + _STARS


_MASKS = {
    "phone": mask_phone,
    "email": mask_email,
    "name": mask_name,
    "address": mask_text,
}


def shown(value: object, kind: str) -> str:
    """``value`` as a message shows it: masked by ``kind`` (``phone``, ``email``, ``name``, ``address``;
    any other kind is shown as is), its ``repr`` under :func:`debug_pii`. A value that is not text is
    shown as its type's name unless debugging (an Address object, say)."""
    if debug_pii():
        return repr(value)
    mask = _MASKS.get(kind)
    if mask is None:
        return repr(value)
    if not isinstance(value, str):
        return f"<{type(value).__name__}>"
    return repr(mask(value))


def scrub(text: str, value: object, kind: str) -> str:
    """``text`` (a library's message about ``value``) with ``value`` in it masked by ``kind``, and an
    e-mail address's local part too; as is under :func:`debug_pii`."""
    mask = _MASKS.get(kind)
    if debug_pii() or mask is None or not isinstance(value, str) or not value.strip():
        return text
    v = value.strip()
    text = text.replace(v, mask(v))
    if kind == "email":
        local = re.split(r"[\s<>:,;\"']", v.rpartition("@")[0])[-1]
        if len(local) > 1:
            text = text.replace(local, local[0] + _STARS)
    return text


_ADDRESS_PARTS = frozenset({"addresses", "address", "street", "district", "city", "postal_code"})


def field_kind(field: str) -> str | None:
    """The mask kind of a record field (``phones.0.number``, ``mobile`` -> ``phone``; ``work_email`` ->
    ``email``; ``name``, ``family_name`` -> ``name``; ``street`` -> ``address``), None when not personal."""
    head = field.split(".", 1)[0].lower()
    if "phone" in head or head == "mobile":
        return "phone"
    if "email" in head:
        return "email"
    if head == "name" or head.endswith("_name"):
        return "name"
    if head in _ADDRESS_PARTS:
        return "address"
    return None


def mask_field(field: str, value: str | None) -> str | None:
    """A record field's raw value as problem reports keep it: masked when the field is personal (unless
    :func:`debug_pii`), as is otherwise."""
    if value is None or debug_pii():
        return value
    kind = field_kind(field)
    if kind is None:
        return value
    return _MASKS[kind](value)
