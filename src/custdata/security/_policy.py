"""Role-based access: which actions a role may take, and how it sees each field (full, masked, hidden)."""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from custdata.exceptions import AccessDenied, ValidationError
from custdata.security._mask import mask_email, mask_name, mask_phone

__all__ = ["Access", "Action", "Policy"]


class Access(str, enum.Enum):
    """How a role sees a field."""

    FULL = "full"
    MASKED = "masked"
    HIDDEN = "hidden"


class Action(str, enum.Enum):
    """What a role may do with customer records."""

    READ = "read"
    WRITE = "write"
    EXPORT = "export"
    ERASE = "erase"


def _mask_phones(v: Any) -> Any:
    return [{**p, "number": mask_phone(p.get("number") or "")} for p in v or []]


def _mask_emails(v: Any) -> Any:
    return [{**e, "address": mask_email(e.get("address") or "")} for e in v or []]


def _mask_name_dict(v: Any) -> Any:
    if not isinstance(v, Mapping):
        return v
    return {k: (mask_name(x) if isinstance(x, str) else x) for k, x in v.items()}


def _mask_addresses(v: Any) -> Any:
    keep = ("country", "province", "city")
    return [{k: (x if k in keep or x is None else "***") for k, x in a.items()} for a in v or []]


def _mask_birthday(v: Any) -> Any:
    return None if v is None else "****-**-**"


def _mask_other(v: Any) -> Any:
    return None if v is None else "***"


#: How a masked field of ``Customer.to_dict()`` looks (anything not named: ``"***"``).
MASKS: dict[str, Callable[[Any], Any]] = {
    "phones": _mask_phones,
    "emails": _mask_emails,
    "name": _mask_name_dict,
    "addresses": _mask_addresses,
    "birthday": _mask_birthday,
}

_ALL = "*"
#: A field name ``custom.NAME`` sets the access of one custom attribute (a sensitive one, say).
_CUSTOM = "custom."


class Policy:
    """Roles mapped to allowed actions and per-field access.

    ``roles`` maps a role name to ``{"actions": [...], "fields": {field: access}}``; a field not named
    takes the ``"*"`` entry (``hidden`` when there is none). Decisions are looked up in tables built
    once, so a check costs a dictionary look-up or two.

    >>> policy = Policy({
    ...     "support": {
    ...         "actions": ["read"],
    ...         "fields": {"*": "full", "phones": "masked", "birthday": "hidden"},
    ...     },
    ...     "dpo": {"actions": ["read", "export", "erase"], "fields": {"*": "full"}},
    ... })
    >>> policy.allows("support", "read"), policy.allows("support", "export")
    (True, False)
    >>> policy.access("support", "phones").value
    'masked'
    >>> record = {"id": "c1", "phones": [{"number": "+8613812345678"}], "birthday": "1990-01-02"}
    >>> view = policy.apply("support", record)
    >>> view["phones"][0]["number"], "birthday" in view
    ('138****5678', False)
    """

    def __init__(self, roles: Mapping[str, Mapping[str, Any]]) -> None:
        if not isinstance(roles, Mapping):
            raise ValidationError("roles must be a mapping of role name to its rules", field="roles")
        self._actions: dict[tuple[str, str], bool] = {}
        self._fields: dict[str, dict[str, Access]] = {}
        #: per role, the custom attributes named on their own (``"custom.salary": "hidden"``)
        self._custom: dict[str, dict[str, Access]] = {}
        self._default: dict[str, Access] = {}
        for role, rule in roles.items():
            if not isinstance(role, str) or not isinstance(rule, Mapping):
                raise ValidationError("each role is a name mapped to its rules", field="roles")
            unknown = set(rule) - {"actions", "fields"}
            if unknown:
                raise ValidationError(f"role {role!r}: unknown keys {sorted(unknown)}", field="roles")
            try:
                actions = {Action(a) for a in rule.get("actions", ())}
                fields = {str(f): Access(a) for f, a in dict(rule.get("fields", {})).items()}
            except ValueError as exc:
                raise ValidationError(f"role {role!r}: {exc}", field="roles") from None
            for a in Action:
                self._actions[(role, a.value)] = a in actions
            self._default[role] = fields.pop(_ALL, Access.HIDDEN)
            self._fields[role] = fields
            custom = {f[len(_CUSTOM) :]: a for f, a in fields.items() if f.startswith(_CUSTOM)}
            if custom:
                self._custom[role] = custom
        self.roles = tuple(roles)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Policy:
        """A policy from a JSON file holding the ``roles`` mapping."""
        if not isinstance(path, (str, os.PathLike)):
            raise ValidationError("path must be a file path", field="path")
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            bad_json = isinstance(exc, ValueError) and not isinstance(exc, UnicodeDecodeError)
            what = "is not JSON" if bad_json else f"cannot be read ({type(exc).__name__})"
            raise ValidationError(f"the policy file {what}", field="path") from None
        return cls(data)

    def allows(self, role: str, action: str | Action) -> bool:
        """May ``role`` take ``action``? Unknown roles and actions may not."""
        return self._actions.get((role, action.value if isinstance(action, Action) else action), False)

    def check(self, role: str, action: str | Action, *, record_id: str | None = None) -> None:
        """Raise :class:`~custdata.exceptions.AccessDenied` unless ``role`` may take ``action``."""
        if not self._actions.get((role, action.value if isinstance(action, Action) else action), False):
            what = action.value if isinstance(action, Action) else action
            raise AccessDenied(
                f"role {role!r} may not {what}" + (f" record {record_id!r}" if record_id else "")
            )

    def access(self, role: str, field: str) -> Access:
        """How ``role`` sees ``field`` (a top-level key of ``Customer.to_dict()``)."""
        fields = self._fields.get(role)
        if fields is None:
            return Access.HIDDEN
        found = fields.get(field)
        if found is None and field.startswith(_CUSTOM):
            return self.access(role, "custom")  # an attribute not named on its own: as custom is
        return found or self._default[role]

    def custom_view(self, role: str, custom: Any) -> Any:
        """A ``custom`` mapping as ``role`` may see it, attribute by attribute (``"custom.NAME"`` entries of
        the role's fields, the ``custom`` entry for the others): hidden attributes left out, masked ones
        ``"***"``. None when the role sees none of them. Without ``custom.NAME`` entries, the mapping as
        the ``custom`` entry says (masked: ``"***"`` as a whole)."""
        whole = self.access(role, "custom")
        named = self._custom.get(role)
        if not named or not isinstance(custom, Mapping):
            if whole is Access.HIDDEN:
                return None
            return custom if whole is Access.FULL else MASKS.get("custom", _mask_other)(custom)
        out: dict[str, Any] = {}
        for name, value in custom.items():
            a = named.get(name, whole)
            if a is Access.FULL:
                out[name] = value
            elif a is Access.MASKED:
                out[name] = _mask_other(value)
        return out or None

    def apply(self, role: str, record: Mapping[str, Any], *, keep: Iterable[str] = ("id",)) -> dict[str, Any]:
        """The dict form of a record as ``role`` may see it: hidden fields left out, masked ones masked.
        ``keep`` names fields always shown in full (the record id by default)."""
        if not self._actions.get((role, Action.READ.value), False):
            raise AccessDenied(f"role {role!r} may not read")
        return self.shape(role, record, keep=keep)

    def shape(self, role: str, record: Mapping[str, Any], *, keep: Iterable[str] = ("id",)) -> dict[str, Any]:
        """The record as :meth:`apply` shapes it, without checking an action (the caller has checked the
        one it takes: ``read``, or ``export`` for an export)."""
        kept = set(keep)
        out: dict[str, Any] = {}
        named = role in self._custom
        for k, v in record.items():
            if named and k == "custom" and k not in kept:
                shown = self.custom_view(role, v)
                if shown is not None:
                    out[k] = shown
                continue
            a = Access.FULL if k in kept else self.access(role, k)
            if a is Access.FULL:
                out[k] = v
            elif a is Access.MASKED:
                out[k] = MASKS.get(k, _mask_other)(v)
        return out
