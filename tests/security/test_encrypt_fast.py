"""The encryptor's fast paths pinned to their general forms: the canonical-base64 check (length and last
character) against re-encoding the decoded bytes, and nonces drawn in blocks against the rule that no two
tokens share one (threads and forked children included)."""

from __future__ import annotations

import binascii
import os
import threading

from hypothesis import given, settings
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
