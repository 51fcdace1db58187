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
from custdata.security._encryptor import SUBJECT, BlindIndex, FieldEncryptor, SubjectKey, SubjectKeys
from custdata.security._keyring import Keyring

__all__ = ["PII_FIELDS", "RecordCipher"]

#: The top-level fields of ``Customer.to_dict()`` encrypted at rest.
PII_FIELDS = ("name", "phones", "emails", "addresses", "birthday")
_SEALED = "pii"
_CHANGE = "$enc"
_UNDER_SUBJECT = f"v1.{SUBJECT}."


# what is sealed is always a fresh dict form of a record (no cycles), as for the stored bodies themselves
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


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
        #: Per-customer data keys (crypto-shredding): a store passes each customer's key to the methods.
        self.subjects = SubjectKeys(self.encryptor)
        self.index = BlindIndex(keyring, bits=index_bits, store=store)
        if isinstance(sensitive_custom, str):  # one name would read as its letters
            raise ValidationError(
                "sensitive_custom is a list of custom attribute names", field="sensitive_custom"
            )
        self.sensitive_custom = frozenset(sensitive_custom)
        if not all(isinstance(k, str) for k in self.sensitive_custom):
            raise ValidationError("sensitive_custom names custom attributes (str)", field="sensitive_custom")

    # ------------------------------------------------------------------------------------------ bodies
    def _seal(self, key: SubjectKey | None, value: str, record_id: str, field: str) -> str:
        if key is None:
            return self.encryptor.encrypt(value, record_id=record_id, field=field)
        return self.encryptor.encrypt_under(key, value, record_id=record_id, field=field)

    def _open(self, key: SubjectKey | None, token: object, record_id: str, field: str) -> str:
        if type(token) is str and token.startswith(_UNDER_SUBJECT):
            if key is None:
                raise DecryptionError(
                    "the customer's own data key is gone (the customer was erased: crypto-shredded)"
                )
            return self.encryptor.decrypt_under(key, token, record_id=record_id, field=field)
        return self.encryptor.decrypt(token, record_id=record_id, field=field)  # type: ignore[arg-type]

    def seal_body(self, body: Mapping[str, Any], key: SubjectKey | None = None) -> dict[str, Any]:
        """The body with its personal fields replaced by one token under ``"pii"`` (none: unchanged):
        under the customer's own data key ``key``, or under the keyring's active key without one."""
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
            out[_SEALED] = self._seal(key, _dumps(pii), str(body.get("id")), "customer")
        return out

    def seal_text(self, secret: str | None, rest: str, record_id: str, key: SubjectKey | None = None) -> str:
        """The stored body text :meth:`seal_body` gives (compact ASCII JSON), from a record already split:
        ``rest`` is the compact body text of the fields that stay readable, ``secret`` the JSON text of
        the personal fields (None: there are none). For stores' one-pass writers (no dict form built);
        pinned to ``encode(seal_body(...))`` by a property test. Not for bodies with sensitive custom
        attributes (those are split by :meth:`seal_body`)."""
        if secret is None:
            return rest
        if key is None:
            token = self.encryptor.encrypt(secret, record_id=record_id, field="customer")
        else:  # encrypt_under, one call less
            token = self.encryptor._seal(SUBJECT, key, secret, record_id, "customer")
        return f'{rest[:-1]},"{_SEALED}":"{token}"}}'

    def open_body(self, body: Mapping[str, Any], key: SubjectKey | None = None) -> dict[str, Any]:
        """:meth:`seal_body` undone (DecryptionError for a tampered or moved token, or one under a
        customer key that is not given: the customer was erased)."""
        out = dict(body)
        token = out.pop(_SEALED, None)
        if token is None:
            return out
        pii = json.loads(self._open(key, token, str(body.get("id")), "customer"))
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

    def seal_changes(
        self, record_id: str, changes: Sequence[Sequence[Any]], key: SubjectKey | None = None
    ) -> list[list[Any]]:
        """``[field, old, new]`` triples with the old and new values of personal fields encrypted."""
        out: list[list[Any]] = []
        for field, old, new in changes:
            if self._secret(field):
                token = self._seal(key, _dumps([old, new]), record_id, f"history.{field}")
                out.append([field, {_CHANGE: token}, None])
            else:
                out.append([field, old, new])
        return out

    def open_changes(
        self, record_id: str, changes: Sequence[Sequence[Any]], key: SubjectKey | None = None
    ) -> list[list[Any]]:
        out: list[list[Any]] = []
        for field, old, new in changes:
            if isinstance(old, Mapping) and set(old) == {_CHANGE}:
                text = self._open(key, old[_CHANGE], record_id, f"history.{field}")
                old, new = json.loads(text)
            elif self._secret(field) and (old is not None or new is not None):
                raise DecryptionError(f"a history change of {field!r} is stored in the clear")
            out.append([field, old, new])
        return out

    # ------------------------------------------------------------------------------------------ activity
    def seal_activity(self, body: Mapping[str, Any], key: SubjectKey | None = None) -> dict[str, Any]:
        """A transaction's or interaction's dict form with its free text (an interaction's ``note``, the
        ``name`` of each line item) taken out and encrypted as one token under ``"pii"``; amounts, times,
        currencies, channels, kinds, skus and categories stay readable for queries."""
        out = dict(body)
        secret: dict[str, Any] = {}
        if out.get("note") is not None:
            secret["note"] = out.pop("note")
        items = out.get("items")
        if items:
            names = {}
            plain_items = []
            for i, item in enumerate(items):
                if isinstance(item, Mapping) and item.get("name") is not None:
                    item = dict(item)
                    names[str(i)] = item.pop("name")
                plain_items.append(item)
            if names:
                secret["items"] = names
                out["items"] = plain_items
        if _SEALED in out:
            raise ValidationError(f"a record cannot carry a {_SEALED!r} key of its own", field=_SEALED)
        if secret:
            out[_SEALED] = self._seal(key, _dumps(secret), str(body.get("customer_id")), "activity")
        return out

    def open_activity(self, body: Mapping[str, Any], key: SubjectKey | None = None) -> dict[str, Any]:
        """:meth:`seal_activity` undone."""
        out = dict(body)
        token = out.pop(_SEALED, None)
        if token is None:
            return out
        secret = json.loads(self._open(key, token, str(body.get("customer_id")), "activity"))
        if "note" in secret:
            out["note"] = secret["note"]
        names = secret.get("items")
        if names:
            items = [dict(item) for item in out.get("items", [])]
            for i, name in names.items():
                items[int(i)]["name"] = name
            out["items"] = items
        return out

    # ------------------------------------------------------------------------------------------ rotation
    @staticmethod
    def _legacy(token: object) -> bool:
        # under a keyring key (stores before per-customer keys), not under the customer's own key
        return isinstance(token, str) and not token.startswith(_UNDER_SUBJECT)

    def reseal_body(self, body: Mapping[str, Any], key: SubjectKey) -> dict[str, Any] | None:
        """The body sealed again under the customer's own key ``key``, or None when it already is (or
        holds nothing)."""
        if not self._legacy(body.get(_SEALED)):
            return None
        return self.seal_body(self.open_body(body), key)

    def reseal_changes(
        self, record_id: str, changes: Sequence[Sequence[Any]], key: SubjectKey
    ) -> list[list[Any]] | None:
        """History changes sealed again under the customer's own key, or None when none needs it."""
        if not any(isinstance(o, Mapping) and self._legacy(o.get(_CHANGE)) for _, o, _ in changes):
            return None
        return self.seal_changes(record_id, self.open_changes(record_id, changes), key)

    # ------------------------------------------------------------------------------------------ lookups
    def derive(self, kind: str, value: str) -> str:
        """The blind-index key of a normalised look-up value (a ``KeyDeriver``)."""
        return self.index(kind, value)
