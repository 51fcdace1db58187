"""The encrypted write path's fast forms pinned to their general forms: the blind index's prepared HMAC
against a one-shot ``hmac.digest``, and data keys created in a batch (one draw of key material, the
wrapping key looked up once) against :meth:`SubjectKeys.create` / :meth:`SubjectKeys.open`."""

from __future__ import annotations

import base64
import hmac

from hypothesis import given, settings
from hypothesis import strategies as st

from custdata.exceptions import DecryptionError, ValidationError
from custdata.security import BlindIndex, FieldEncryptor, Keyring
from custdata.security._encryptor import SubjectKeys

RING = Keyring.generate()
kinds = st.sampled_from(["phone", "email", "name", "é", ""])
values = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.text(max_size=10)


@settings(max_examples=300)
@given(st.sampled_from([8, 32, 64, 256]), st.lists(st.tuples(kinds, values), min_size=1, max_size=8))
def test_the_prepared_blind_index_agrees_with_a_one_shot_hmac(bits: int, asks: list[tuple[str, str]]) -> None:
    index = BlindIndex(RING, bits=bits, store="s")
    for kind, value in asks:  # repeated kinds reuse the prepared HMAC, which must stay unchanged
        general = hmac.digest(index.field_key(kind), value.encode("utf-8", "surrogatepass"), "sha256")
        assert index(kind, value) == general.hex()[: bits // 4]


def test_the_blind_index_still_refuses_non_text_after_warming() -> None:
    index = BlindIndex(RING)
    index("phone", "+8613812345678")
    try:
        index("phone", 5)  # type: ignore[arg-type]
    except ValidationError:
        pass
    else:  # pragma: no cover - guards the property above
        raise AssertionError("a non-text value was indexed")


ids = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=12, unique=True)


@settings(max_examples=100)
@given(ids)
def test_data_keys_created_in_a_batch_match_one_at_a_time(customer_ids: list[str]) -> None:
    enc = FieldEncryptor(RING, store="s")
    batch = SubjectKeys(enc).create_many(customer_ids)
    single = SubjectKeys(enc)
    commits = set()
    for cid, (wrapped, key) in zip(customer_ids, batch, strict=True):
        # the general path opens each (a fresh cache: unwrapped from the token) to the same key
        assert single.open(cid, wrapped)[1] == key[1]
        # the wrapped form is exactly what create() wraps: base64 of the 32 key bytes, bound to the id
        text = enc.decrypt(wrapped, record_id=cid, field="subject-key")
        material = base64.b64decode(text, validate=True)
        assert len(material) == 32 and base64.b64encode(material).decode() == text
        assert FieldEncryptor.key_id_of(wrapped) == RING.active_id
        commits.add(key[1])
        for other in customer_ids:
            if other != cid:
                try:
                    single.open(other, wrapped)
                except DecryptionError:
                    pass
                else:  # pragma: no cover
                    raise AssertionError("a wrapped key opened for another customer")
    assert len(commits) == len(customer_ids)  # every customer got key material of its own
    wrapped_one, key_one = single.create(customer_ids[0])
    assert SubjectKeys(enc).open(customer_ids[0], wrapped_one)[1] == key_one[1]
