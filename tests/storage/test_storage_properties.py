"""Any valid customer survives the store exactly (custdata.testing's strategies)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
from custdata import Customer, _fields, testing
from custdata.storage._core import (
    Lookup,
    _encode,
    body_text,
    compact_dict,
    decode_customer,
    expand,
)


@given(testing.customers())
@settings(max_examples=100)
def test_compact_body_round_trips(c: Customer) -> None:
    d = compact_dict(c)
    assert d == _fields.compact_dict(c, leave_out=["version"])  # the general path
    assert decode_customer(json.dumps(d), c.version) == c
    full = c.to_dict()
    del full["version"]
    assert expand(json.loads(json.dumps(d))) == full


@given(st.lists(testing.customers(), min_size=1, max_size=5, unique_by=lambda c: c.id))
@settings(max_examples=20)
def test_sqlite_and_memory_give_back_what_was_put(cs: list[Customer]) -> None:
    for url in ("memory://", "sqlite://"):
        with custdata.open_store(url) as store:
            store.upsert_many(cs)
            for c in cs:
                assert store.get(c.id) == c.evolve(version=c.version + 1)
                for p in c.phones:
                    assert c.id in {x.id for x in store.find(phone=p.number)}
                for e in c.emails:
                    assert c.id in {x.id for x in store.find(email=e.address)}


@given(testing.customers())
@settings(max_examples=100)
def test_body_text_and_sorted_keys_match_the_dict_path(c: Customer) -> None:
    assert body_text(c) == _encode(compact_dict(c))
    lookup = Lookup()
    assert lookup.sorted_keys(c) == sorted(lookup.keys(c))
