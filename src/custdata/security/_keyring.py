"""Keys and their life cycle: the keyring, its file and environment forms, and key providers.

A keyring holds data keys (32 random bytes each, used for AES-256-GCM through :class:`FieldEncryptor`)
and one index key (for blind indexes, kept apart so that rotating the data keys does not change the
index). Each data key has a state:

- ``active``: new tokens are encrypted under it (exactly one key is active);
- ``decrypt-only``: old tokens still decrypt, nothing new is written under it;
- ``retired``: kept on file, but refused for decryption (a token under it raises ``DecryptionError``);
- ``destroyed``: the key material is gone; tokens under it can never be read again.

Saved to a file (mode 0600, written atomically) or read from an environment variable, the key material
is either in the clear (base64) or wrapped by a :class:`KeyProvider` (envelope encryption: a master key,
for example in AWS KMS, wraps the data keys; only the wrapped form is written).
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import json
import os
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from custdata.exceptions import DecryptionError, ValidationError

__all__ = ["Key", "KeyProvider", "KeyState", "Keyring", "LocalKeyProvider"]

KEY_BYTES = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_FILE_FORMAT = 1
DEFAULT_ENV = "CUSTDATA_KEYRING"


class KeyState(str, enum.Enum):
    """The life-cycle state of a data key."""

    ACTIVE = "active"
    DECRYPT_ONLY = "decrypt-only"
    RETIRED = "retired"
    DESTROYED = "destroyed"


@attrs.frozen(repr=False)
class Key:
    """One data key. ``material`` is ``None`` once the key is destroyed. The repr never shows material."""

    id: str
    state: KeyState
    material: bytes | None
    created_at: dt.datetime

    def __repr__(self) -> str:
        return f"Key(id={self.id!r}, state={self.state.value!r}, created_at={self.created_at.isoformat()!r})"


@runtime_checkable
class KeyProvider(Protocol):
    """Wraps and unwraps data keys under a master key that never leaves the provider (envelope encryption).

    ``name`` is written beside the wrapped keys, so loading with another provider fails clearly.
    ``unwrap`` raises :class:`~custdata.exceptions.DecryptionError` for a wrapped key it cannot open.
    """

    name: str

    def wrap(self, data_key: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes) -> bytes: ...


class LocalKeyProvider:
    """A master key held in the process (32 bytes), wrapping data keys with AES-256-GCM.

    Useful when the master key comes from somewhere safer than the keyring file (a secrets manager, an
    operator's prompt); for a master key that never enters the process use :class:`AwsKmsKeyProvider`.
    """

    name = "local"
    _AAD = b"custdata keyring wrap v1"

    def __init__(self, master_key: bytes) -> None:
        if not isinstance(master_key, bytes) or len(master_key) != KEY_BYTES:
            raise ValidationError(f"the master key must be {KEY_BYTES} bytes", field="master_key")
        self._aead = AESGCM(master_key)

    @staticmethod
    def generate_master_key() -> bytes:
        """32 random bytes from the operating system's generator."""
        return secrets.token_bytes(KEY_BYTES)

    def wrap(self, data_key: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, data_key, self._AAD)

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:12], wrapped[12:], self._AAD)
        except (InvalidTag, ValueError):
            raise DecryptionError("a wrapped data key does not open under this master key") from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise ValidationError(f"{what} must be base64 text", field=what)
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ValidationError(f"{what} is not valid base64", field=what) from None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _new_id(taken: Mapping[str, Key]) -> str:
    while True:
        kid = secrets.token_hex(4)
        if kid not in taken:
            return kid


class Keyring:
    """Data keys with states, plus the index key for blind indexes.

    >>> ring = Keyring.generate()
    >>> len(ring.key_ids), ring.state(ring.active_id).value
    (1, 'active')
    >>> new = ring.add()
    >>> ring.promote(new)
    >>> ring.active_id == new
    True
    """

    def __init__(self, keys: Mapping[str, Key] | None = None, *, index_key: bytes | None = None) -> None:
        self._keys: dict[str, Key] = dict(keys or {})
        self._index_key = index_key if index_key is not None else secrets.token_bytes(KEY_BYTES)
        if len(self._index_key) != KEY_BYTES:
            raise ValidationError(f"the index key must be {KEY_BYTES} bytes", field="index_key")
        active = [k.id for k in self._keys.values() if k.state is KeyState.ACTIVE]
        if len(active) > 1:
            raise ValidationError("a keyring has at most one active key", field="keys")
        #: Bumped on every change, so encryptors can drop cached key schedules.
        self.generation = 0

    # ------------------------------------------------------------------------------------------ building
    @classmethod
    def generate(cls) -> Keyring:
        """A new keyring with one active key and a new index key."""
        ring = cls()
        ring.promote(ring.add())
        return ring

    def add(self, material: bytes | None = None, *, key_id: str | None = None) -> str:
        """Add a key (new random material unless given) as decrypt-only; returns its id."""
        if material is None:
            material = secrets.token_bytes(KEY_BYTES)
        if not isinstance(material, bytes) or len(material) != KEY_BYTES:
            raise ValidationError(f"a key must be {KEY_BYTES} bytes", field="material")
        if key_id is None:
            key_id = _new_id(self._keys)
        elif not _KEY_ID.fullmatch(key_id):
            raise ValidationError("a key id is 1-32 letters, digits, '-' or '_'", field="key_id")
        elif key_id in self._keys:
            raise ValidationError(f"key {key_id!r} is already in the keyring", field="key_id")
        self._keys[key_id] = Key(key_id, KeyState.DECRYPT_ONLY, material, _now())
        self.generation += 1
        return key_id

    def promote(self, key_id: str) -> None:
        """Make ``key_id`` the active key; the previously active key becomes decrypt-only."""
        key = self._get(key_id)
        if key.state in (KeyState.RETIRED, KeyState.DESTROYED):
            raise ValidationError(
                f"key {key_id!r} is {key.state.value} and cannot be promoted", field="key_id"
            )
        for k in list(self._keys.values()):
            if k.state is KeyState.ACTIVE:
                self._keys[k.id] = attrs.evolve(k, state=KeyState.DECRYPT_ONLY)
        self._keys[key_id] = attrs.evolve(key, state=KeyState.ACTIVE)
        self.generation += 1

    def retire(self, key_id: str, *, stores: Iterable[Any] = ()) -> None:
        """Decrypt-only -> retired: tokens under the key are refused from now on. Given ``stores``, refuses
        while any of them still holds values encrypted under the key (run :func:`rotate` on it first)."""
        key = self._get(key_id)
        if stores:
            from custdata.security._rotate import key_usage

            for store in stores:
                left = key_usage(store).get(key_id, 0)
                if left:
                    raise ValidationError(
                        f"key {key_id!r} still encrypts {left} stored values in "
                        f"{getattr(store, 'url', store)}: rotate the store first",
                        field="key_id",
                    )
        if key.state is KeyState.ACTIVE:
            raise ValidationError(f"key {key_id!r} is active: promote another key first", field="key_id")
        if key.state is KeyState.DESTROYED:
            raise ValidationError(f"key {key_id!r} is already destroyed", field="key_id")
        self._keys[key_id] = attrs.evolve(key, state=KeyState.RETIRED)
        self.generation += 1

    def destroy(self, key_id: str) -> None:
        """Forget the key material for good (crypto-shredding of everything encrypted under it)."""
        key = self._get(key_id)
        if key.state is KeyState.ACTIVE:
            raise ValidationError(f"key {key_id!r} is active: promote another key first", field="key_id")
        self._keys[key_id] = attrs.evolve(key, state=KeyState.DESTROYED, material=None)
        self.generation += 1

    # ------------------------------------------------------------------------------------------ reading
    @property
    def key_ids(self) -> list[str]:
        """Every key id, oldest first, destroyed keys included."""
        return list(self._keys)

    @property
    def active_id(self) -> str:
        for k in self._keys.values():
            if k.state is KeyState.ACTIVE:
                return k.id
        raise ValidationError("the keyring has no active key: promote one", field="keys")

    def state(self, key_id: str) -> KeyState:
        return self._get(key_id).state

    def keys(self) -> Iterator[Key]:
        return iter(self._keys.values())

    def material(self, key_id: str) -> bytes:
        """The material of a key that may decrypt (active or decrypt-only); else DecryptionError."""
        key = self._keys.get(key_id)
        if key is None:
            raise DecryptionError("the token's key is not in this keyring")
        if key.material is None or key.state in (KeyState.RETIRED, KeyState.DESTROYED):
            raise DecryptionError(f"the token's key {key_id!r} is {key.state.value}")
        return key.material

    @property
    def index_key(self) -> bytes:
        return self._index_key

    def _get(self, key_id: str) -> Key:
        try:
            return self._keys[key_id]
        except KeyError:
            raise ValidationError(f"no key {key_id!r} in the keyring", field="key_id") from None

    def __repr__(self) -> str:
        states = ", ".join(f"{k.id}:{k.state.value}" for k in self._keys.values())
        return f"Keyring({states})"

    # ------------------------------------------------------------------------------------------ files
    def to_json(self, *, provider: KeyProvider | None = None) -> str:
        """The keyring as JSON text; key material wrapped by ``provider`` when one is given."""

        def seal(data: bytes) -> str:
            return _b64(provider.wrap(data) if provider is not None else data)

        doc: dict[str, Any] = {
            "format": _FILE_FORMAT,
            "provider": provider.name if provider is not None else None,
            "index_key": seal(self._index_key),
            "keys": [
                {
                    "id": k.id,
                    "state": k.state.value,
                    "created_at": k.created_at.isoformat(),
                    "material": None if k.material is None else seal(k.material),
                }
                for k in self._keys.values()
            ],
        }
        return json.dumps(doc, indent=1)

    @classmethod
    def from_json(cls, text: str, *, provider: KeyProvider | None = None) -> Keyring:
        """A keyring from :meth:`to_json`'s text (with the same provider if it was wrapped)."""
        try:
            doc = json.loads(text)
        except (ValueError, TypeError):
            raise ValidationError("the keyring is not valid JSON", field="keyring") from None
        if not isinstance(doc, dict) or doc.get("format") != _FILE_FORMAT:
            raise ValidationError("not a custdata keyring (or an unknown format)", field="keyring")
        wrapped_by = doc.get("provider")
        if wrapped_by is not None and provider is None:
            raise ValidationError(f"the keyring is wrapped by a {wrapped_by!r} key provider: pass provider=")
        if provider is not None and wrapped_by != provider.name:
            raise ValidationError(f"the keyring is wrapped by {wrapped_by!r}, not by {provider.name!r}")

        def unseal(value: object, what: str) -> bytes:
            data = _unb64(value, what)
            return provider.unwrap(data) if provider is not None else data

        keys: dict[str, Key] = {}
        try:
            for item in doc["keys"]:
                state = KeyState(item["state"])
                raw = item.get("material")
                material = None if raw is None else unseal(raw, "material")
                if (material is None) != (state is KeyState.DESTROYED):
                    raise ValidationError(f"key {item['id']!r}: material and state disagree", field="keys")
                if material is not None and len(material) != KEY_BYTES:
                    raise ValidationError(f"key {item['id']!r} is not {KEY_BYTES} bytes", field="keys")
                if not isinstance(item["id"], str) or not _KEY_ID.fullmatch(item["id"]):
                    raise ValidationError("a key id is 1-32 letters, digits, '-' or '_'", field="keys")
                keys[item["id"]] = Key(
                    item["id"], state, material, dt.datetime.fromisoformat(item["created_at"])
                )
            index_key = unseal(doc["index_key"], "index_key")
        except (KeyError, TypeError, AttributeError):
            raise ValidationError("the keyring lacks a required entry", field="keyring") from None
        except ValueError as exc:
            if isinstance(exc, (ValidationError, DecryptionError)):
                raise
            raise ValidationError("the keyring holds an invalid state or time", field="keyring") from None
        return cls(keys, index_key=index_key)

    def save(self, path: str | os.PathLike[str], *, provider: KeyProvider | None = None) -> None:
        """Write the keyring to ``path`` atomically, readable by its owner only (mode 0600)."""
        from custdata.io._atomic import atomic_write

        text = self.to_json(provider=provider)
        with atomic_write(path) as fh:
            os.chmod(fh.name, 0o600)
            fh.write(text)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, provider: KeyProvider | None = None) -> Keyring:
        """Read a keyring written by :meth:`save`."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValidationError("the keyring file does not exist", field="path") from None
        except (OSError, UnicodeDecodeError):
            raise ValidationError("the keyring file cannot be read", field="path") from None
        return cls.from_json(text, provider=provider)

    @classmethod
    def from_env(cls, variable: str = DEFAULT_ENV, *, provider: KeyProvider | None = None) -> Keyring:
        """Read a keyring from an environment variable holding :meth:`to_json`'s text."""
        text = os.environ.get(variable)
        if not text:
            raise ValidationError(f"the environment variable {variable} is not set", field=variable)
        return cls.from_json(text, provider=provider)
