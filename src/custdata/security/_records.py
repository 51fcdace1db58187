"""Encryption of stored customer bodies and history changes: what a store hands to its database.

A body is the compact dict form of a customer (``Customer.to_dict()`` without empty fields). Its personal
fields (name, phones, e-mails, addresses, birthday, and custom attributes named sensitive) are taken out
and encrypted together as one token under the key ``"pii"``, bound to the record id (so a body copied to
another record does not open). The other fields (tags, channel, consents, time stamps …) stay readable,
so a database can still filter on them. History changes of personal fields are encrypted the same way,
each bound to its record id and field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from custdata.exceptions import DecryptionError, ValidationError
from custdata.security._encryptor import BlindIndex, FieldEncryptor
from custdata.security._keyring import Keyring

__all__ = ["PII_FIELDS", "RecordCipher"]

#: The top-level fields of ``Customer.to_dict()`` encrypted at rest.
PII_FIELDS = ("name", "phones", "emails", "addresses", "birthday")
_SEALED = "pii"
_CHANGE = "$enc"


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class RecordCipher:
    """Seals and opens stored customer bodies and history changes; derives blind-index lookup keys.

    >>> from custdata.security import Keyring, RecordCipher
    >>> cipher = RecordCipher(Keyring.generate())
    >>> body = {"schema": 1, "id": "c1", "phones": [{"number": "+8613812345678"}], "tags": ["vip"]}
    >>> sealed = cipher.seal_body(body)
    >>> sorted(sealed), "+8613812345678" in json.dumps(sealed)
    (['id', 'pii', 'schema', 'tags'], False)
    >>> cipher.open_body(sealed) == body
    True
    """

    def __init__(
        self, keyring: Keyring, *, store: str = "", index_bits: int = 32, sensitive_custom: Iterable[str] = ()
    ) -> None:
        self.keyring = keyring
        self.encryptor = FieldEncryptor(keyring, store=store)
        self.index = BlindIndex(keyring, bits=index_bits, store=store)
        self.sensitive_custom = frozenset(sensitive_custom)
        if not all(isinstance(k, str) for k in self.sensitive_custom):
            raise ValidationError("sensitive_custom names custom attributes (str)", field="sensitive_custom")

    # ------------------------------------------------------------------------------------------ bodies
    def seal_body(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The body with its personal fields replaced by one token under ``"pii"`` (none: unchanged)."""
        out = dict(body)
        pii = {k: out.pop(k) for k in PII_FIELDS if k in out}
        custom = out.get("custom")
        if self.sensitive_custom and isinstance(custom, Mapping):
            hidden = {k: v for k, v in custom.items() if k in self.sensitive_custom}
            if hidden:
                pii["custom"] = hidden
                rest = {k: v for k, v in custom.items() if k not in self.sensitive_custom}
                if rest:
                    out["custom"] = rest
                else:
                    del out["custom"]
        if _SEALED in out:
            raise ValidationError(f"a body cannot carry a {_SEALED!r} key of its own", field=_SEALED)
        if pii:
            out[_SEALED] = self.encryptor.encrypt(
                _dumps(pii), record_id=str(body.get("id")), field="customer"
            )
        return out

    def open_body(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`seal_body` undone (DecryptionError for a tampered or moved token)."""
        out = dict(body)
        token = out.pop(_SEALED, None)
        if token is None:
            return out
        pii = json.loads(self.encryptor.decrypt(token, record_id=str(body.get("id")), field="customer"))
        hidden = pii.pop("custom", None)
        out.update(pii)
        if hidden:
            out["custom"] = {**out.get("custom", {}), **hidden}
        return out

    @staticmethod
    def is_sealed(body: Mapping[str, Any]) -> bool:
        return _SEALED in body

    # ------------------------------------------------------------------------------------------ history
    def _secret(self, field: str) -> bool:
        return field in PII_FIELDS or (field == "custom" and bool(self.sensitive_custom))

    def seal_changes(self, record_id: str, changes: Sequence[Sequence[Any]]) -> list[list[Any]]:
        """``[field, old, new]`` triples with the old and new values of personal fields encrypted."""
        out: list[list[Any]] = []
        for field, old, new in changes:
            if self._secret(field):
                token = self.encryptor.encrypt(
                    _dumps([old, new]), record_id=record_id, field=f"history.{field}"
                )
                out.append([field, {_CHANGE: token}, None])
            else:
                out.append([field, old, new])
        return out

    def open_changes(self, record_id: str, changes: Sequence[Sequence[Any]]) -> list[list[Any]]:
        out: list[list[Any]] = []
        for field, old, new in changes:
            if isinstance(old, Mapping) and set(old) == {_CHANGE}:
                text = self.encryptor.decrypt(old[_CHANGE], record_id=record_id, field=f"history.{field}")
                old, new = json.loads(text)
            elif self._secret(field) and (old is not None or new is not None):
                raise DecryptionError(f"a history change of {field!r} is stored in the clear")
            out.append([field, old, new])
        return out

    # ------------------------------------------------------------------------------------------ rotation
    def _stale(self, token: object) -> bool:
        return isinstance(token, str) and FieldEncryptor.key_id_of(token) != self.keyring.active_id

    def reseal_body(self, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """The body sealed again under the active key, or None when it already is (or holds nothing)."""
        if not self._stale(body.get(_SEALED)):
            return None
        return self.seal_body(self.open_body(body))

    def reseal_changes(self, record_id: str, changes: Sequence[Sequence[Any]]) -> list[list[Any]] | None:
        """History changes sealed again under the active key, or None when none needs it."""
        if not any(isinstance(o, Mapping) and self._stale(o.get(_CHANGE)) for _, o, _ in changes):
            return None
        return self.seal_changes(record_id, self.open_changes(record_id, changes))

    # ------------------------------------------------------------------------------------------ lookups
    def derive(self, kind: str, value: str) -> str:
        """The blind-index key of a normalised look-up value (a ``KeyDeriver``)."""
        return self.index(kind, value)
