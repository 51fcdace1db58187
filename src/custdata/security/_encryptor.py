"""Field encryption (AES-256-GCM with a key commitment) and blind indexes (truncated HMAC-SHA256).

Token layout (all URL-safe ASCII, so it fits any text column)::

    v1.<key id>.<base64url without padding of: nonce (12) | key commitment (32) | ciphertext | tag (16)>

- The associated data binds the format version, the store name, the record id, the field name and the
  key id (each length-prefixed, so no two bindings encode alike). A token copied to another record,
  field or store, or with its key id edited, fails authentication.
- The key commitment is HKDF-SHA256 output of the key under its own label; decryption compares it (in
  constant time) before AES-GCM runs. AES-GCM alone is not key-committing: a ciphertext can be built that
  authenticates under two chosen keys. The commitment makes a token open under exactly one key.
- The base64 text must be canonical: text that decodes to the same bytes but is spelt differently (the
  unused low bits of the last character, stray characters) is refused, so *every* changed character is
  detected, not only every changed byte.
- Nonces are 96 random bits: keep well under 2**32 tokens per key (rotate keys long before that).
"""

from __future__ import annotations

import base64
import binascii
import collections
import hmac
import os
import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from custdata.exceptions import DecryptionError, ValidationError
from custdata.security._keyring import Keyring

__all__ = ["SUBJECT", "BlindIndex", "FieldEncryptor", "SubjectKey", "SubjectKeys"]

#: An AES-GCM object and the key's 32-byte commitment.
SubjectKey = tuple[AESGCM, bytes]
#: The key id of tokens under a customer's own data key (not a valid keyring key id, so never confused).
SUBJECT = "*"
_urandom = os.urandom
_hmac_digest: Callable[[bytes, bytes, str], bytes]
try:  # what hmac.digest calls, without its Python wrapper
    from _hashlib import hmac_digest as _openssl_digest

    _hmac_digest = _openssl_digest
except ImportError:  # pragma: no cover - CPython without OpenSSL's hashlib
    _hmac_digest = hmac.digest
_hmac_new: Callable[..., Any] | None
try:  # OpenSSL's HMAC object itself: its copy() skips the hmac module's Python wrapper
    from _hashlib import hmac_new as _openssl_hmac

    _hmac_new = _openssl_hmac
except ImportError:  # pragma: no cover - CPython without OpenSSL's hashlib
    _hmac_new = None


def _commit_of(material: bytes) -> bytes:
    """HMAC-SHA256 of the subject-key commitment label under ``material`` (a customer key's commitment).
    Through OpenSSL's HMAC object: its one-shot ``hmac_digest`` looks the algorithm up on every call and
    costs about twice as much (pinned to ``hmac.digest`` by a property test)."""
    if _hmac_new is not None:
        return cast("bytes", _hmac_new(material, _LABEL_SUBJECT_COMMIT, "sha256").digest())
    return _hmac_digest(material, _LABEL_SUBJECT_COMMIT, "sha256")  # pragma: no cover


_b2a = binascii.b2a_base64
_a2b = binascii.a2b_base64
# Nonces come from the operating system's generator in blocks (one system call per 1,024 tokens instead
# of one each). deque.popleft is atomic, so two threads never take the same nonce; a forked child drops
# the block it inherited, so parent and child never reuse one either.
_NONCES: collections.deque[bytes] = collections.deque()
_BLOCK = 1024


def _nonce() -> bytes:
    try:
        return _NONCES.popleft()
    except IndexError:
        block = _urandom(12 * _BLOCK)
        _NONCES.extend(block[i : i + 12] for i in range(12, len(block), 12))
        return block[:12]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_NONCES.clear)
# The value of each standard base64 character (255: not one), to check that a token's last character has
# its unused low bits zero (the only way two spellings can decode to the same bytes)
_B64 = bytes(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".find(bytes([c])) % 256
    for c in range(256)
)

VERSION = "v1"
_NONCE = 12
_COMMIT = 32
_TAG = 16
_LABEL_ENC = b"custdata field encryption key v1"
_LABEL_COMMIT = b"custdata field key commitment v1"
_LABEL_INDEX = b"custdata blind index key v1"
_AAD_PREFIX = b"custdata/field/" + VERSION.encode()
_TO_URL = bytes.maketrans(b"+/", b"-_")
_PAD = (b"", b"===", b"==", b"=")  # by the body's length modulo 4
_compare = hmac.compare_digest
_LEN4 = tuple(i.to_bytes(4, "big") for i in range(256))  # the length prefix of a short record id
# a "+" or "/" in a token is swapped to "-"/"_", so the text re-encodes differently and is refused
_FROM_URL = bytes.maketrans(b"-_+/", b"+/-_")


def _expand(material: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDFExpand(algorithm=hashes.SHA256(), length=length, info=info).derive(material)


def _lp(text: str) -> bytes:
    data = text.encode("utf-8", "surrogatepass")
    return struct.pack(">I", len(data)) + data


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a str, got {type(value).__name__}", field=name)
    return value


class FieldEncryptor:
    """Encrypts one field value at a time under the keyring's active key, bound to its place.

    >>> from custdata.security import FieldEncryptor, Keyring
    >>> enc = FieldEncryptor(Keyring.generate())
    >>> token = enc.encrypt("+8613812345678", record_id="c1", field="phone")
    >>> enc.decrypt(token, record_id="c1", field="phone")
    '+8613812345678'
    """

    def __init__(self, keyring: Keyring, *, store: str = "") -> None:
        if not isinstance(keyring, Keyring):
            raise ValidationError(f"expected a Keyring, got {type(keyring).__name__}", field="keyring")
        self.keyring = keyring
        self.store = _text(store, "store")
        self._store_lp = _lp(store)
        self._keys: dict[str, SubjectKey] = {}
        self._aads: dict[tuple[str, str], bytes] = {}
        self._prefixes: dict[str, str] = {}
        self._active = ""
        self._generation = -1

    def _sync(self) -> None:
        self._keys.clear()
        self._active = ""
        self._generation = self.keyring.generation

    def _active_id(self) -> str:
        """The keyring's active key id, after dropping cached keys of an older keyring generation
        (``encrypt`` writes this out inline: it is the per-value hot path)."""
        if self._generation != self.keyring.generation or not self._active:
            self._sync()
            self._active = self.keyring.active_id
        return self._active

    def _key(self, key_id: str) -> SubjectKey:
        if self._generation != self.keyring.generation:
            self._sync()
        hit = self._keys.get(key_id)
        if hit is None:
            material = self.keyring.material(key_id)
            hit = (AESGCM(_expand(material, _LABEL_ENC)), _expand(material, _LABEL_COMMIT, _COMMIT))
            self._keys[key_id] = hit
        return hit

    def _aad_head(self, field: str, key_id: str) -> bytes:
        # format version | store | field | key id, each length-prefixed; the record id follows
        head = self._aads.get((field, key_id))
        if head is None:
            head = b"".join((_AAD_PREFIX, self._store_lp, _lp(field), _lp(key_id)))
            if len(self._aads) < 4096:
                self._aads[(field, key_id)] = head
        return head

    def encrypt(self, value: str, *, record_id: str, field: str) -> str:
        """The token for ``value`` under the active key, bound to (store, record_id, field, key id)."""
        # _active_id() written out: this is the per-value hot path
        if self._generation != self.keyring.generation or not self._active:
            self._sync()
            self._active = self.keyring.active_id
        key_id = self._active
        aead, commit = self._keys.get(key_id) or self._key(key_id)  # this generation's keys only
        # _seal and _nonce written out (pinned to them by tests/security/test_encrypt_fast.py)
        if type(value) is not str or type(record_id) is not str or type(field) is not str:
            _text(value, "value")
            _text(record_id, "record_id")
            _text(field, "field")
        try:
            nonce = _NONCES.popleft()
        except IndexError:
            nonce = _nonce()
        # strict UTF-8 first (about half the cost); the same bytes whenever it succeeds
        try:
            rid = record_id.encode()
            data = value.encode()
        except UnicodeEncodeError:
            rid = record_id.encode("utf-8", "surrogatepass")
            data = value.encode("utf-8", "surrogatepass")
        head = self._aads.get((field, key_id)) or self._aad_head(field, key_id)
        n = len(rid)
        ct = aead.encrypt(nonce, data, head + (_LEN4[n] if n < 256 else n.to_bytes(4, "big")) + rid)
        prefix = self._prefixes.get(key_id) or self._prefix(key_id)
        return prefix + _b2a(nonce + commit + ct, newline=False).translate(_TO_URL).rstrip(b"=").decode(
            "ascii"
        )

    def _prefix(self, key_id: str) -> str:
        prefix = f"{VERSION}.{key_id}."
        if len(self._prefixes) < 4096:
            self._prefixes[key_id] = prefix
        return prefix

    def encrypt_under(self, key: SubjectKey, value: str, *, record_id: str, field: str) -> str:
        """The token for ``value`` under a customer's own data key (:class:`SubjectKeys`): key id ``*``."""
        return self._seal(SUBJECT, key, value, record_id, field)

    def _seal(self, key_id: str, key: SubjectKey, value: str, record_id: str, field: str) -> str:
        if type(value) is not str or type(record_id) is not str or type(field) is not str:
            _text(value, "value")
            _text(record_id, "record_id")
            _text(field, "field")
        aead, commit = key
        nonce = _nonce()
        # strict UTF-8 first (about half the cost); the same bytes whenever it succeeds
        try:
            rid = record_id.encode()
            data = value.encode()
        except UnicodeEncodeError:
            rid = record_id.encode("utf-8", "surrogatepass")
            data = value.encode("utf-8", "surrogatepass")
        head = self._aads.get((field, key_id)) or self._aad_head(field, key_id)
        n = len(rid)
        ct = aead.encrypt(nonce, data, head + (_LEN4[n] if n < 256 else n.to_bytes(4, "big")) + rid)
        prefix = self._prefixes.get(key_id) or self._prefix(key_id)
        return prefix + _b2a(nonce + commit + ct, newline=False).translate(_TO_URL).rstrip(b"=").decode(
            "ascii"
        )

    def decrypt(self, token: str, *, record_id: str, field: str) -> str:
        """The value of a token made by :meth:`encrypt` with the same binding; else DecryptionError."""
        # _parse and _open written out: this is the per-value hot path (pinned to them by
        # tests/security/test_encrypt_fast.py); anything unusual takes the general path
        if type(token) is not str or type(record_id) is not str or type(field) is not str:
            return self._decrypt(token, record_id, field)
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != VERSION:
            return self._decrypt(token, record_id, field)
        key_id, body = parts[1], parts[2]
        key = self._keys.get(key_id) if self._generation == self.keyring.generation else None
        n = len(body)
        tail = n % 4
        if key is None or not body.isascii() or tail == 1:
            return self._decrypt(token, record_id, field)
        data = body.encode("ascii").translate(_FROM_URL)
        try:
            raw = _a2b(data + _PAD[tail])
        except (binascii.Error, ValueError):
            raise DecryptionError("the token's body is not base64") from None
        if len(raw) != n * 3 // 4 or (tail and _B64[data[-1]] & (0x0F if tail == 2 else 0x03)):
            raise DecryptionError("the token's body is not canonical base64 (altered)")
        if len(raw) < 60:  # _NONCE + _COMMIT + _TAG
            raise DecryptionError("the token is truncated")
        aead, commit = key
        if not _compare(raw[12:44], commit):  # raw[_NONCE : _NONCE + _COMMIT]
            raise DecryptionError("the token was not made with this key (key commitment differs)")
        try:
            rid = record_id.encode()
        except UnicodeEncodeError:
            rid = record_id.encode("utf-8", "surrogatepass")
        head = self._aads.get((field, key_id)) or self._aad_head(field, key_id)
        n = len(rid)
        try:
            plain = aead.decrypt(
                raw[:12], raw[44:], head + (_LEN4[n] if n < 256 else n.to_bytes(4, "big")) + rid
            )
        except InvalidTag:
            raise DecryptionError(
                "the token does not authenticate: tampered with, or bound to another record, field or store"
            ) from None
        try:
            return plain.decode()
        except UnicodeDecodeError:
            return plain.decode("utf-8", "surrogatepass")

    def _decrypt(self, token: object, record_id: str, field: str) -> str:
        """:meth:`decrypt`'s general path."""
        key_id, raw = self._parse(token)
        if key_id == SUBJECT:
            raise DecryptionError("the token is under a customer's own data key, which is not given here")
        key = self._keys.get(key_id) if self._generation == self.keyring.generation else None
        return self._open(key_id, key or self._key(key_id), raw, record_id, field)

    def decrypt_under(self, key: SubjectKey, token: str, *, record_id: str, field: str) -> str:
        """The value of a token made by :meth:`encrypt_under` with the same key and binding."""
        key_id, raw = self._parse(token)
        if key_id != SUBJECT:
            raise DecryptionError("the token is not under a customer's own data key")
        return self._open(key_id, key, raw, record_id, field)

    def _open(self, key_id: str, key: SubjectKey, raw: bytes, record_id: str, field: str) -> str:
        if type(record_id) is not str or type(field) is not str:
            _text(record_id, "record_id")
            _text(field, "field")
        aead, commit = key
        if not hmac.compare_digest(raw[_NONCE : _NONCE + _COMMIT], commit):
            raise DecryptionError("the token was not made with this key (key commitment differs)")
        rid = record_id.encode("utf-8", "surrogatepass")
        head = self._aads.get((field, key_id)) or self._aad_head(field, key_id)
        try:
            plain = aead.decrypt(
                raw[:_NONCE], raw[_NONCE + _COMMIT :], head + len(rid).to_bytes(4, "big") + rid
            )
        except InvalidTag:
            raise DecryptionError(
                "the token does not authenticate: tampered with, or bound to another record, field or store"
            ) from None
        return plain.decode("utf-8", "surrogatepass")

    @staticmethod
    def key_id_of(token: str) -> str:
        """The id of the key a token was encrypted under (DecryptionError for a malformed token)."""
        return FieldEncryptor._parse(token)[0]

    @staticmethod
    def _parse(token: object) -> tuple[str, bytes]:
        if type(token) is not str:
            raise DecryptionError(f"a token is a str, got {type(token).__name__}")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != VERSION:
            raise DecryptionError("not a custdata field token (or an unknown token version)")
        key_id, body = parts[1], parts[2]
        n = len(body)
        try:
            data = body.encode("ascii").translate(_FROM_URL)
            raw = _a2b(data + b"=" * (-n % 4))
        except (UnicodeEncodeError, binascii.Error, ValueError):
            raise DecryptionError("the token's body is not base64") from None
        # canonical: no character skipped by the decoder (a "+", "/", "=" or anything else outside the
        # URL-safe alphabet makes the bytes fewer) and the last character's unused low bits zero, i.e.
        # exactly the text encoding these bytes gives (pinned to that re-encoding by a property test)
        tail = n % 4
        if len(raw) != n * 3 // 4 or tail == 1 or (tail and _B64[data[-1]] & (0x0F if tail == 2 else 0x03)):
            raise DecryptionError("the token's body is not canonical base64 (altered)")
        if len(raw) < _NONCE + _COMMIT + _TAG:
            raise DecryptionError("the token is truncated")
        return key_id, raw


def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC-SHA256 object keyed with ``key``, for ``copy()`` + ``update`` + ``hexdigest``."""
    if _hmac_new is not None:
        try:
            return cast("hmac.HMAC", _hmac_new(key, digestmod="sha256"))  # the same methods
        except (TypeError, ValueError):  # pragma: no cover - an OpenSSL that refuses it
            pass
    return hmac.new(key, digestmod="sha256")


class BlindIndex:
    """Keyed, truncated HMAC-SHA256 of a normalised value: an index key that finds without revealing.

    Each field (``kind``) gets its own HMAC key, derived with HKDF from the keyring's index key and the
    store name, so equal phones in two stores, or a phone and an e-mail with equal text, index apart.
    ``bits`` (a multiple of 4, 8-256) sets the leakage trade-off: fewer bits make more unrelated values
    share an index entry (false candidates, which the store decrypts and drops) and hide more about which
    records share a value. Expected false candidates per look-up among ``n`` stored values: ``n / 2**bits``.

    An instance is a :class:`custdata.storage.KeyDeriver`: ``index(kind, value) -> str``.

    >>> from custdata.security import BlindIndex, Keyring
    >>> index = BlindIndex(Keyring.generate(), bits=32)
    >>> key = index("phone", "+8613812345678")
    >>> len(key), key == index("phone", "+8613812345678"), key == index("email", "+8613812345678")
    (8, True, False)
    """

    def __init__(self, keyring: Keyring, *, bits: int = 32, store: str = "") -> None:
        if not isinstance(bits, int) or isinstance(bits, bool) or not 8 <= bits <= 256 or bits % 4:
            raise ValidationError("bits must be a multiple of 4 from 8 to 256", field="bits")
        if not isinstance(keyring, Keyring):
            raise ValidationError(f"expected a Keyring, got {type(keyring).__name__}", field="keyring")
        self.bits = bits
        self.store = _text(store, "store")
        self._root = keyring.index_key
        self._chars = bits // 4
        self._keys: dict[str, bytes] = {}
        # per kind, an HMAC already keyed (its key block hashed once): each value copies it, which costs
        # about half of a one-shot hmac.digest (pinned to hmac.digest by a property test)
        self._macs: dict[str, hmac.HMAC] = {}

    def field_key(self, kind: str) -> bytes:
        key = self._keys.get(kind)
        if key is None:
            key = _expand(self._root, _LABEL_INDEX + _lp(self.store) + _lp(_text(kind, "kind")))
            self._keys[kind] = key
        return key

    def __call__(self, kind: str, value: str) -> str:
        mac = self._macs.get(kind)
        if mac is None or type(value) is not str:
            key = self.field_key(kind)
            _text(value, "value")
            mac = self._macs[kind] = _keyed(key)
        h = mac.copy()
        h.update(value.encode("utf-8", "surrogatepass"))
        return h.hexdigest()[: self._chars]

    def many(self, kind: str, values: Iterable[str]) -> list[str]:
        """``[self(kind, v) for v in values]`` in one loop (pinned to it by a property test)."""
        mac = self._macs.get(kind)
        if mac is None:
            mac = self._macs[kind] = _keyed(self.field_key(kind))
        copy, chars = mac.copy, self._chars
        out: list[str] = []
        add = out.append
        for value in values:
            if type(value) is not str:
                _text(value, "value")
            h = copy()
            h.update(value.encode("utf-8", "surrogatepass"))
            add(h.hexdigest()[:chars])
        return out

    def expected_false_positives(self, n: int) -> float:
        """Expected unrelated candidates per exact look-up among ``n`` stored values of one kind."""
        return float(n) / float(2**self.bits)


_LABEL_SUBJECT_COMMIT = b"custdata subject key commitment v1"
_SUBJECT_FIELD = "subject-key"


class SubjectKeys:
    """Per-customer data keys ("subject keys") for crypto-shredding.

    Each customer's personal data (body, history values, transactions' and interactions' free text) is
    encrypted under a data key of its own: 32 random bytes, used directly as the AES-256-GCM key (with a
    commitment, HMAC-SHA256 of the key under its own label). A store keeps the key only *wrapped*: a
    token of :class:`FieldEncryptor` under the keyring's active key, bound to the store and the customer.
    Deleting that one stored row destroys the customer's data for good, in every copy that does not
    carry the key itself (backups written by ``storage.export`` never do).

    Unwrapped keys are cached by their wrapped text (so a key rewrapped or deleted is looked up anew).

    >>> from custdata.security import FieldEncryptor, Keyring
    >>> keys = SubjectKeys(FieldEncryptor(Keyring.generate(), store="s1"))
    >>> wrapped, key = keys.create("c1")
    >>> keys.open("c1", wrapped)[1] == key[1]
    True
    """

    _CACHE = 65536

    def __init__(self, encryptor: FieldEncryptor) -> None:
        self.encryptor = encryptor
        self._cache: dict[tuple[str, str], SubjectKey] = {}

    @staticmethod
    def _key(material: bytes) -> SubjectKey:
        return AESGCM(material), _commit_of(material)

    def create(self, customer_id: str) -> tuple[str, SubjectKey]:
        """A new key for ``customer_id``: (its wrapped form to store, the key)."""
        material = _urandom(32)
        wrapped = self.encryptor.encrypt(
            base64.b64encode(material).decode("ascii"), record_id=customer_id, field=_SUBJECT_FIELD
        )
        key = self._key(material)
        self._remember((customer_id, wrapped), key)
        return wrapped, key

    def create_many(self, customer_ids: Iterable[str]) -> list[tuple[str, SubjectKey]]:
        """:meth:`create` for each of ``customer_ids`` (in order), with one call to the operating system's
        generator for all the key material and the wrapping key looked up once."""
        ids = list(customer_ids)
        for customer_id in ids:
            if type(customer_id) is not str:
                _text(customer_id, "record_id")
        enc = self.encryptor
        key_id = enc._active_id()
        wrapping, commit = enc._key(key_id)
        # FieldEncryptor._seal written out for this one field (pinned to create() by a property test):
        # each key's material and the nonce that wraps it come from one draw of the system's generator
        wrap = wrapping.encrypt
        head = enc._aad_head(_SUBJECT_FIELD, key_id)
        prefix = f"{VERSION}.{key_id}."
        block = _urandom((32 + _NONCE) * len(ids))
        cache = self._cache
        if len(cache) + len(ids) > self._CACHE:
            cache.clear()
        out: list[tuple[str, SubjectKey]] = []
        add = out.append
        at = 0
        for customer_id in ids:
            material = block[at : at + 32]
            nonce = block[at + 32 : at + 32 + _NONCE]
            at += 32 + _NONCE
            rid = customer_id.encode("utf-8", "surrogatepass")
            ct = wrap(nonce, _b2a(material, newline=False), head + len(rid).to_bytes(4, "big") + rid)
            body = _b2a(nonce + commit + ct, newline=False).translate(_TO_URL).rstrip(b"=")
            wrapped = prefix + body.decode("ascii")
            key = (AESGCM(material), _commit_of(material))
            cache[customer_id, wrapped] = key
            add((wrapped, key))
        return out

    def create_sealing(
        self, customer_ids: Sequence[str], texts: Sequence[str | None], field: str
    ) -> tuple[list[str], list[str | None]]:
        """For bulk loads of new customers: a new key for each of ``customer_ids`` (in order), returned
        wrapped (as :meth:`create` gives it), and the token of the matching text of ``texts`` under that
        key (what ``encryptor.encrypt_under(key, text, record_id=id, field=field)`` gives; None for a None
        text). The keys themselves are not kept (:meth:`open` unwraps them when they are needed again).
        One draw of the system's generator gives every key, wrapping nonce and token nonce; pinned to
        :meth:`create` and ``encrypt_under`` by a property test."""
        ids = list(customer_ids)
        if len(texts) != len(ids):
            raise ValidationError("one text (or None) per customer id", field="texts")
        for customer_id, text in zip(ids, texts, strict=True):
            if type(customer_id) is not str:
                _text(customer_id, "record_id")
            if text is not None and type(text) is not str:
                _text(text, "value")
        _text(field, "field")
        enc = self.encryptor
        key_id = enc._active_id()
        wrapping, commit = enc._key(key_id)
        wrap = wrapping.encrypt
        wrap_head = enc._aad_head(_SUBJECT_FIELD, key_id)
        seal_head = enc._aad_head(field, SUBJECT)
        wrap_prefix = f"{VERSION}.{key_id}."
        seal_prefix = f"{VERSION}.{SUBJECT}."
        commit_of, aesgcm, b2a, to_url = _commit_of, AESGCM, _b2a, _TO_URL
        step = 32 + 2 * _NONCE
        block = _urandom(step * len(ids))
        wrapped: list[str] = []
        tokens: list[str | None] = []
        at = 0
        for customer_id, text in zip(ids, texts, strict=True):
            material = block[at : at + 32]
            nonce = block[at + 32 : at + 44]
            rid = customer_id.encode("utf-8", "surrogatepass")
            bound = len(rid).to_bytes(4, "big") + rid
            ct = wrap(nonce, b2a(material, newline=False), wrap_head + bound)
            wrapped.append(
                wrap_prefix
                + b2a(nonce + commit + ct, newline=False).translate(to_url).rstrip(b"=").decode("ascii")
            )
            if text is None:
                tokens.append(None)
            else:
                nonce = block[at + 44 : at + 56]
                ct = aesgcm(material).encrypt(nonce, text.encode("utf-8", "surrogatepass"), seal_head + bound)
                raw = nonce + commit_of(material) + ct
                tokens.append(
                    seal_prefix + b2a(raw, newline=False).translate(to_url).rstrip(b"=").decode("ascii")
                )
            at += step
        return wrapped, tokens

    def open(self, customer_id: str, wrapped: str) -> SubjectKey:
        """The key a stored wrapped key holds (DecryptionError: wrong keyring, moved or damaged)."""
        hit = self._cache.get((customer_id, wrapped))
        if hit is None:
            hit = self._key(self._unwrap(customer_id, wrapped))
            self._remember((customer_id, wrapped), hit)
        return hit

    def _unwrap(self, customer_id: str, wrapped: str) -> bytes:
        text = self.encryptor.decrypt(wrapped, record_id=customer_id, field=_SUBJECT_FIELD)
        material = base64.b64decode(text.encode("ascii"))
        if len(material) != 32:  # pragma: no cover - only our own tokens authenticate
            raise DecryptionError("a wrapped customer key is damaged")
        return material

    def rewrap(self, customer_id: str, wrapped: str) -> str | None:
        """The key wrapped again under the keyring's active key, or None when it already is."""
        if FieldEncryptor.key_id_of(wrapped) == self.encryptor.keyring.active_id:
            return None
        material = self._unwrap(customer_id, wrapped)
        return self.encryptor.encrypt(
            base64.b64encode(material).decode("ascii"), record_id=customer_id, field=_SUBJECT_FIELD
        )

    def _remember(self, where: tuple[str, str], key: SubjectKey) -> None:
        if len(self._cache) >= self._CACHE:
            self._cache.clear()
        self._cache[where] = key

    def forget(self) -> None:
        """Drop the cache of unwrapped keys."""
        self._cache.clear()
