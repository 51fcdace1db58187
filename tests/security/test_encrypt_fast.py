"""The encryptor's fast paths pinned to their general forms: the canonical-base64 check (length and last
character) against re-encoding the decoded bytes, and nonces drawn in blocks against the rule that no two
tokens share one (threads and forked children included)."""

from __future__ import annotations

import binascii
import os
import threading

from hypothesis import example, given, settings
from hypothesis import strategies as st

from custdata.exceptions import DecryptionError
from custdata.security import FieldEncryptor, Keyring
from custdata.security._encryptor import _NONCE

ENC = FieldEncryptor(Keyring.generate(), store="s")
URL_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def general(body: str) -> bytes | None:
    """The bytes of a canonical URL-safe unpadded base64 text, else None (decode, re-encode, compare)."""
    try:
        data = body.encode("ascii")
        std = data.replace(b"-", b"+").replace(b"_", b"/")
        if b"+" in data or b"/" in data:
            return None
        raw = binascii.a2b_base64(std + b"=" * (-len(data) % 4))  # not strict: 3.10 has no strict_mode
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None
    again = binascii.b2a_base64(raw, newline=False).rstrip(b"=")
    return raw if again.replace(b"+", b"-").replace(b"/", b"_") == data else None


def fast(body: str) -> bytes | None:
    try:
        return FieldEncryptor._parse(f"v1.k.{body}")[1]
    except DecryptionError:
        return None


@st.composite
def bodies(draw: st.DrawFn) -> str:
    """Token bodies: real ones, with one character changed, added or removed, or arbitrary text."""
    real = ENC.encrypt(draw(st.text(max_size=20)), record_id="r", field="f").split(".")[2]
    how = draw(st.sampled_from(["real", "change", "add", "drop", "any"]))
    alphabet = st.sampled_from(URL_SAFE + "+/= .\n\x00é")
    if how == "real":
        return real
    i = draw(st.integers(0, len(real) - 1))
    if how == "change":
        return real[:i] + draw(alphabet) + real[i + 1 :]
    if how == "add":
        return real[:i] + draw(alphabet) + real[i:]
    if how == "drop":
        return real[:i] + real[i + 1 :]
    return draw(st.text(alphabet=URL_SAFE + "+/=", min_size=60, max_size=120))


@settings(max_examples=600)
@given(bodies())
def test_the_fast_canonical_check_agrees_with_re_encoding(body: str) -> None:
    expected = general(body)
    if expected is not None and len(expected) < 60:
        expected = None  # too short for a token: refused as truncated
    assert fast(body) == expected


def test_the_check_catches_unused_low_bits() -> None:
    # guards the property above: a last character differing only in its unused bits decodes to the
    # same bytes, and is refused
    token = ENC.encrypt("x", record_id="r", field="f")
    body = token.split(".")[2]
    assert len(body) % 4 in (2, 3)
    alt = URL_SAFE[URL_SAFE.index(body[-1]) + 1]
    other = body[:-1] + alt
    std = other.replace("-", "+").replace("_", "/").encode()
    assert binascii.a2b_base64(std + b"=" * (-len(std) % 4)) == FieldEncryptor._parse(token)[1]
    assert fast(other) is None


def nonce_of(token: str) -> bytes:
    return FieldEncryptor._parse(token)[1][:_NONCE]


def test_nonces_never_repeat_across_blocks_and_threads() -> None:
    seen: list[bytes] = []

    def work() -> None:
        seen.extend(nonce_of(ENC.encrypt("v", record_id="r", field="f")) for _ in range(1500))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 6000 == len(set(seen))


def test_a_forked_child_does_not_reuse_the_parents_nonces() -> None:
    ENC.encrypt("warm", record_id="r", field="f")  # the parent holds a block of nonces
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        os.write(write, b"".join(nonce_of(ENC.encrypt("c", record_id="r", field="f")) for _ in range(50)))
        os._exit(0)
    os.close(write)
    got = b""
    while chunk := os.read(read, 4096):
        got += chunk
    os.close(read)
    os.waitpid(pid, 0)
    child = {got[i : i + _NONCE] for i in range(0, len(got), _NONCE)}
    parent = {nonce_of(ENC.encrypt("p", record_id="r", field="f")) for _ in range(50)}
    assert len(child) == 50 and not child & parent


# ---- encrypt and decrypt, written out as one function each, against _seal / _parse + _open (the general
# path that encrypt_under and decrypt_under take)

# lone surrogates often (tokens carry them: surrogatepass), beside any other character
ANY_CHAR = st.one_of(st.characters(categories=["Cs"]), st.characters(exclude_categories=()))
TEXT = st.lists(ANY_CHAR, max_size=30).map("".join)
RECORD = st.one_of(TEXT, st.text(min_size=250, max_size=300))  # both forms of the length prefix


def outcome(fn, *args, **kwargs):
    try:
        return ("value", fn(*args, **kwargs))
    except DecryptionError as exc:
        return ("refused", str(exc))


@settings(max_examples=300)
@given(TEXT, RECORD, TEXT)
@example("a\ud800", "r\udfff", "f\udc80")
def test_encrypt_gives_the_token_the_general_seal_gives(value, record_id, field):
    key_id = ENC._active_id()
    key = ENC._key(key_id)
    fast = ENC.encrypt(value, record_id=record_id, field=field)
    general = ENC._seal(key_id, key, value, record_id, field)
    assert fast.split(".")[:2] == general.split(".")[:2] == ["v1", key_id]
    assert len(fast) == len(general)
    for token in (fast, general):  # each opens under the other's path, to the same value
        kid, raw = ENC._parse(token)
        assert ENC._open(kid, ENC._key(kid), raw, record_id, field) == value
        assert ENC.decrypt(token, record_id=record_id, field=field) == value
    raw_fast, raw_general = ENC._parse(fast)[1], ENC._parse(general)[1]
    assert raw_fast[_NONCE:44] == raw_general[_NONCE:44]  # the key commitment
    assert raw_fast[:_NONCE] != raw_general[:_NONCE]  # a nonce of its own


@st.composite
def tokens(draw: st.DrawFn) -> object:
    """Tokens as decrypt meets them: real ones, with the body altered, with another version, key id or
    shape, under a customer's own key, or not a str at all."""
    how = draw(st.sampled_from(["real", "body", "version", "key", "parts", "subject", "other", "any"]))
    real = ENC.encrypt(draw(TEXT), record_id="r", field="f")
    version, key_id, body = real.split(".")
    if how == "real":
        return real
    if how == "body":
        return f"{version}.{key_id}.{draw(bodies())}"
    if how == "version":
        return f"{draw(st.sampled_from(['v2', 'V1', '', 'v1 ']))}.{key_id}.{body}"
    if how == "key":
        return f"{version}.{draw(st.text(max_size=10))}.{body}"
    if how == "parts":
        return draw(st.sampled_from([f"{real}.", f"{version}.{body}", f"{version}..{key_id}.{body}", ""]))
    if how == "subject":
        return f"{version}.*.{body}"
    if how == "other":
        return draw(st.sampled_from([None, b"v1.k.AAAA", 7, ["v1", key_id, body]]))
    return draw(st.text(max_size=80))


@settings(max_examples=600)
@given(tokens(), st.sampled_from(["r", "s", "", "r\ud800"]), st.sampled_from(["f", "g"]))
def test_decrypt_answers_as_the_general_path_does(token, record_id, field):
    general = outcome(ENC._decrypt, token, record_id, field)
    assert outcome(ENC.decrypt, token, record_id=record_id, field=field) == general


@settings(max_examples=100)
@given(TEXT, TEXT, TEXT)
def test_decrypt_refuses_a_token_moved_to_another_binding(value, record_id, other):
    token = ENC.encrypt(value, record_id=record_id, field="phone")
    if other != record_id:
        assert outcome(ENC.decrypt, token, record_id=other, field="phone")[0] == "refused"
    assert outcome(ENC.decrypt, token, record_id=record_id, field="email")[0] == "refused"
    assert ENC.decrypt(token, record_id=record_id, field="phone") == value


def test_decrypt_after_the_keyring_changes():
    ring = Keyring.generate()
    enc = FieldEncryptor(ring, store="s")
    old = enc.encrypt("v", record_id="r", field="f")
    ring.promote(ring.add())  # a new generation: cached keys dropped, the old key still decrypts
    new = enc.encrypt("w", record_id="r", field="f")
    assert FieldEncryptor.key_id_of(new) != FieldEncryptor.key_id_of(old)
    assert enc.decrypt(old, record_id="r", field="f") == "v"
    assert enc.decrypt(new, record_id="r", field="f") == "w"
