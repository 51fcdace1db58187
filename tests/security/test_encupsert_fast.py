"""The encrypted stores' write fast paths pinned to their general paths.

- the one-pass body writer (``storage._core.sealed_writer`` + ``RecordCipher.seal_text``) against
  ``encode(RecordCipher.seal_body(compact_dict(c)))``: the same stored text apart from the token's nonce,
  tokens that decrypt to the same text, and the general path taken only where the writer cannot match it;
- ``SubjectKeys.create_many`` against ``create``: keys that wrap, unwrap and encrypt alike;
- the blind index against a one-shot ``hmac.digest``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
import custdata.testing as cst
from custdata.exceptions import DecryptionError
from custdata.security import PII_FIELDS, BlindIndex, FieldEncryptor, Keyring, RecordCipher
from custdata.security._encryptor import _LABEL_SUBJECT_COMMIT, SubjectKeys
from custdata.storage._core import compact_dict, encode, encode_keys, sealed_writer

RING = Keyring.generate()
CIPHER = RecordCipher(RING, store="s1")
KEY = CIPHER.subjects.create("c")[1]
SPLIT = sealed_writer(PII_FIELDS)
TOKEN = re.compile(r'"pii":"(v1\.[^"]+)"')


def opened(text: str, record_id: str) -> tuple[str, str | None]:
    """The body text with its token cut out, and what the token decrypts to (exact text)."""
    found = TOKEN.search(text)
    if found is None:
        return text, None
    plain = CIPHER.encryptor.decrypt_under(KEY, found.group(1), record_id=record_id, field="customer")
    return text[: found.start(1)] + text[found.end(1) :], plain


@given(cst.customers())
@settings(max_examples=300)
def test_one_pass_body_writer_matches_the_general_path(c):
    general = encode(CIPHER.seal_body(compact_dict(c), KEY))
    parts = SPLIT(c)
    if parts is None:
        # only where the secret text holds what the writer does not spell as json.dumps(ensure_ascii=False)
        # does: a control character (escaped \u00XX) or a character outside the BMP
        secret = json.dumps({k: v for k, v in compact_dict(c).items() if k in PII_FIELDS}, ensure_ascii=False)
        assert re.search(r"\\u00[01]|[\U00010000-\U0010ffff]", secret)
        return
    fast = CIPHER.seal_text(parts[0], parts[1], c.id, KEY)
    assert fast.isascii()
    assert opened(fast, c.id) == opened(general, c.id)  # same text, same plaintext, nonces apart
    assert CIPHER.open_body(json.loads(fast), KEY) == compact_dict(c)


@pytest.mark.parametrize(
    "name",
    ["客户", "Zoë", "a\\u5ba2", "\\\\u00e9", "tab\there", "\x7f", "𠮷野", "\u2028", 'q"uote\\'],
)
def test_one_pass_body_writer_on_awkward_names(name):
    c = custdata.Customer(id="c", name=custdata.PersonName(full=name))
    general = encode(CIPHER.seal_body(compact_dict(c), KEY))
    parts = SPLIT(c)
    if parts is None:
        assert name in ("tab\there", "𠮷野")  # the general path's cases
        return
    assert opened(CIPHER.seal_text(parts[0], parts[1], c.id, KEY), c.id) == opened(general, c.id)


def test_a_customer_without_personal_fields_has_no_token():
    c = custdata.Customer(id="c", tags=frozenset({"vip"}))
    parts = SPLIT(c)
    assert parts is not None and parts[0] is None
    assert CIPHER.seal_text(parts[0], parts[1], c.id, KEY) == encode(CIPHER.seal_body(compact_dict(c), KEY))


@given(cst.customers())
@settings(max_examples=100)
def test_the_fast_body_is_bound_like_the_general_one(c):
    parts = SPLIT(c)
    if parts is None or parts[0] is None:
        return
    body = json.loads(CIPHER.seal_text(parts[0], parts[1], c.id, KEY))
    moved = {**body, "id": c.id + "x"}
    with pytest.raises(DecryptionError):
        CIPHER.open_body(moved, KEY)
    other = CIPHER.subjects.create("c")[1]
    with pytest.raises(DecryptionError):
        CIPHER.open_body(body, other)


@given(st.lists(cst.storable_text(min_size=1, max_size=8), min_size=1, max_size=20, unique=True))
@settings(max_examples=50)
def test_create_many_makes_the_keys_create_makes(ids):
    enc = FieldEncryptor(RING, store="s1")
    many = SubjectKeys(enc).create_many(ids)
    assert len(many) == len(ids)
    fresh = SubjectKeys(enc)  # no cache: every key is unwrapped from its stored form
    materials = set()
    for cid, (wrapped, key) in zip(ids, many, strict=True):
        assert FieldEncryptor.key_id_of(wrapped) == RING.active_id
        text = enc.decrypt(wrapped, record_id=cid, field="subject-key")
        material = base64.b64decode(text, validate=True)
        assert len(material) == 32 and base64.b64encode(material).decode() == text
        materials.add(material)
        assert key[1] == SubjectKeys._key(material)[1]  # the commitment create() gives that material
        assert key[1] == hmac.digest(material, _LABEL_SUBJECT_COMMIT, "sha256")
        again = fresh.open(cid, wrapped)
        token = enc.encrypt_under(key, "x", record_id=cid, field="f")
        assert enc.decrypt_under(again, token, record_id=cid, field="f") == "x"
        with pytest.raises(DecryptionError):
            fresh.open(cid + "y", wrapped)  # bound to its customer
    assert len(materials) == len(ids)


@given(
    st.sampled_from(["phone", "email", "external_id"]),
    cst.storable_text(max_size=30),
    st.sampled_from([8, 32, 64, 256]),
)
def test_blind_index_is_a_truncated_hmac(kind, value, bits):
    index = BlindIndex(RING, bits=bits, store="s1")
    want = hmac.digest(index.field_key(kind), value.encode("utf-8", "surrogatepass"), "sha256").hex()
    assert index(kind, value) == want[: bits // 4]


def test_a_bulk_write_forgets_claimed_keys_and_finds_them_again(tmp_path, monkeypatch):
    """upsert_many drops the data keys it holds between chunks: customers repeated in later chunks (and a
    put inside the same transaction) find their stored key again instead of getting a second one."""
    import custdata.storage._sql as sql

    monkeypatch.setattr(sql, "CHUNK", 10)  # keys dropped once more than 40 are held
    people = [
        custdata.Customer(
            id=f"c{i}", name=custdata.PersonName(full=f"客户{i}"), phones=[custdata.Phone(f"+86138{i:08d}")]
        )
        for i in range(95)
    ]
    again = [p.evolve(name=custdata.PersonName(full=f"顾客{p.id}")) for p in people[::7]]
    with custdata.open_store(f"sqlite:///{tmp_path}/s.db", keyring=RING) as store:
        with store.transaction():
            store.upsert_many(people + again)
            store.put(store.get("c3").evolve(name=custdata.PersonName(full="张三")))
        assert store.query_sql("SELECT COUNT(*) FROM cd_subject_keys") == [(95,)]
        got = store.get_many([p.id for p in people])
        renamed = {p.id: p.name.full for p in again} | {"c3": "张三"}
        for p in people:
            assert got[p.id].name.full == renamed.get(p.id, p.name.full)
        changes = store.history("c7")[-1].changes
        assert [(c.field, c.old["full"], c.new["full"]) for c in changes] == [("name", "客户7", "顾客c7")]
        assert store.find(phone="+8613800000090")[0].id == "c90"


@given(
    st.lists(cst.storable_text(min_size=1, max_size=8), min_size=1, max_size=12, unique=True),
    st.data(),
)
@settings(max_examples=50)
def test_create_sealing_makes_the_keys_and_tokens_create_and_encrypt_under_make(ids, data):
    texts = data.draw(
        st.lists(st.none() | cst.storable_text(max_size=40), min_size=len(ids), max_size=len(ids))
    )
    enc = FieldEncryptor(RING, store="s1")
    wrapped, tokens = SubjectKeys(enc).create_sealing(ids, texts, "customer")
    assert len(wrapped) == len(tokens) == len(ids)
    fresh = SubjectKeys(enc)  # no cache: every key is unwrapped from its stored form
    for cid, w, token, text in zip(ids, wrapped, tokens, texts, strict=True):
        assert FieldEncryptor.key_id_of(w) == RING.active_id
        material = base64.b64decode(enc.decrypt(w, record_id=cid, field="subject-key"), validate=True)
        key = fresh.open(cid, w)
        assert key[1] == hmac.digest(material, _LABEL_SUBJECT_COMMIT, "sha256")
        if text is None:
            assert token is None
            continue
        assert FieldEncryptor.key_id_of(token) == "*"
        assert enc.decrypt_under(key, token, record_id=cid, field="customer") == text
        # the same token layout encrypt_under gives (prefix, nonce | commitment | ciphertext | tag)
        general = enc.encrypt_under(key, text, record_id=cid, field="customer")
        assert len(general) == len(token) and general[:5] == token[:5]
        with pytest.raises(DecryptionError):
            enc.decrypt_under(key, token, record_id=cid + "y", field="customer")
        with pytest.raises(DecryptionError):
            enc.decrypt_under(key, token, record_id=cid, field="history.name")


@given(st.sampled_from(["phone", "email"]), st.lists(cst.storable_text(max_size=30), max_size=10))
def test_blind_index_many_is_the_index_of_each(kind, values):
    index = BlindIndex(RING, bits=32, store="s1")
    assert index.many(kind, values) == [BlindIndex(RING, bits=32, store="s1")(kind, v) for v in values]


def stored_rows(store):
    return (
        sorted(store.query_sql("SELECT kind, key, customer_id FROM cd_lookup")),
        dict(store.query_sql("SELECT id, keys FROM cd_customers")),
        store.query_sql("SELECT COUNT(*) FROM cd_subject_keys")[0][0],
    )


@given(st.lists(cst.customers(), max_size=12, unique_by=lambda c: c.id), st.data())
@settings(max_examples=40, deadline=None)
def test_the_one_pass_insert_of_new_customers_stores_what_the_general_path_stores(people, data):
    """SQLiteStore._insert_sealed (keys created and bodies sealed in one call, index keys per kind, index
    entries set aside and written sorted) against the general path (SQLStore._insert_new: _claim, _body,
    sorted_keys, entries written at once), on the same store so that the blind-index keys compare."""
    from custdata.storage._sql import SQLStore
    from custdata.storage._sqlite import SQLiteStore

    # some customers already have a data key (transactions stored before the customer): general path
    early = data.draw(st.lists(st.sampled_from([c.id for c in people]), unique=True)) if people else []
    out = {}
    for way in ("fast", "general"):
        with custdata.open_store("sqlite://", keyring=RING) as store:
            if early:
                at = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
                store.add_transactions(
                    [custdata.Transaction(customer_id=cid, at=at, amount=Decimal(1)) for cid in early]
                )
            if way == "general":
                store._insert_new = lambda batch, at, src, s=store: SQLStore._insert_new(s, batch, at, src)
            assert store.upsert_many(people).inserted == len(people)
            got = store.get_many([c.id for c in people])
            assert [got[c.id] for c in people] == [c.evolve(version=c.version + 1) for c in people]
            lookup, keys, n_keys = stored_rows(store)
            want = sorted((k, v, c.id) for c in people for k, v in store._lookup.sorted_keys(c))
            assert lookup == want
            assert n_keys == len({c.id for c in people} | set(early))
            for c in people:
                assert keys[c.id] == encode_keys(store._lookup.sorted_keys(c))
                for p in c.phones:
                    assert c.id in [x.id for x in store.find(phone=p.number)]
            out[way] = n_keys
            assert isinstance(store, SQLiteStore)
    assert out["fast"] == out["general"]
