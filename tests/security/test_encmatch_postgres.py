"""Matching on an encrypted PostgreSQL store: the clusters of ``dedupe`` on the plaintext, candidates only
decrypted (the same checks as on SQLite, against a server the tests start)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from custdata import Customer
from custdata.matching import dedupe, dedupe_store, update_block_index
from tests.security.test_encmatch import (
    KEYRING,
    check_same_as_plaintext,
    counting_decryptions,
    fake_subsample,
    households,
    messy_people,
)
from tests.storage.storage_backends import PostgresServer, pg_backend

pytestmark = pytest.mark.postgres


def _check(server: PostgresServer, records: list[Customer]) -> None:
    backend = pg_backend(server)
    try:
        with backend.open(keyring=KEYRING) as store:
            assert store.encrypted  # type: ignore[attr-defined]
            store.upsert_many(records)
            check_same_as_plaintext(store, records)
    finally:
        backend.cleanup()


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(records=messy_people())
def test_generated_customers_cluster_as_on_plaintext(
    postgres_server: PostgresServer, records: list[Customer]
) -> None:
    _check(postgres_server, records)


@pytest.mark.parametrize("make", [households, fake_subsample], ids=["households", "fake_1000"])
def test_fixed_sets_cluster_as_on_plaintext(postgres_server: PostgresServer, make: object) -> None:
    _check(postgres_server, make())  # type: ignore[operator]


def test_only_candidates_are_decrypted(postgres_server: PostgresServer) -> None:
    records = households()
    backend = pg_backend(postgres_server)
    try:
        with backend.open(keyring=KEYRING) as store:
            store.upsert_many([*records, Customer(id="zz-lonely", name={"full": "Nobody Else"})])
            assert update_block_index(store) == len(records) + 1
            with counting_decryptions() as opened:
                result = dedupe_store(store, matcher=dedupe(records).matcher)
            assert "zz-lonely" in result.cluster_ids
            assert opened[0] == result.opened == len({i for p in result.pairs for i in (p.id_a, p.id_b)})
            assert result.opened <= len(records)
            assert update_block_index(store, region="US") == len(records) + 1  # dropped and rebuilt
            stale = store.query_sql(  # type: ignore[attr-defined]
                "SELECT COUNT(*) FROM cd_lookup WHERE kind LIKE ? AND customer_id NOT IN "
                "(SELECT id FROM cd_customers)",
                ["block%"],
            )
            assert stale[0][0] == 0
            marks = store.query_sql("SELECT COUNT(*) FROM cd_lookup WHERE kind = 'block'")  # type: ignore[attr-defined]
            assert marks[0][0] == len(records) + 1
    finally:
        backend.cleanup()
