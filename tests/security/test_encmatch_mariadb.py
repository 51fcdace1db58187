"""Matching on an encrypted MariaDB store: the clusters of ``dedupe`` on the plaintext, candidates only
decrypted (the SQLite checks, against a server the tests start)."""

from __future__ import annotations

import pytest

from custdata import Customer, open_store
from custdata.matching import dedupe, dedupe_store, update_block_index
from tests.security.test_encmatch import (
    KEYRING,
    check_same_as_plaintext,
    counting_decryptions,
    fake_subsample,
    households,
)
from tests.storage.mariadb_server import MariaDBServer

pytestmark = pytest.mark.mariadb


@pytest.mark.parametrize("make", [households, fake_subsample], ids=["households", "fake_1000"])
def test_sets_cluster_as_on_plaintext_and_only_candidates_are_decrypted(
    mariadb_server: MariaDBServer, make: object
) -> None:
    records: list[Customer] = make()  # type: ignore[operator]
    url, drop = mariadb_server.database()
    try:
        with open_store(url, keyring=KEYRING) as store:
            assert store.encrypted  # type: ignore[attr-defined]
            store.upsert_many([*records, Customer(id="zz-lonely", name={"full": "Nobody Else"})])
            assert update_block_index(store) == len(records) + 1
            with counting_decryptions() as opened:
                result = dedupe_store(store, matcher=dedupe(records).matcher)
            assert opened[0] == result.opened == len({i for p in result.pairs for i in (p.id_a, p.id_b)})
            store.purge("zz-lonely")
            check_same_as_plaintext(store, records)
    finally:
        drop()
