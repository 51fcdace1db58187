"""Matching on encrypted data: ``dedupe_store`` finds the clusters ``dedupe`` finds on the plaintext records,
reading (decrypting) only the customers in candidate pairs."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import tempfile
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata.testing as cst
from custdata import Customer, open_store
from custdata.datasets import load_fake_1000, load_historical_50k
from custdata.exceptions import ValidationError
from custdata.matching import INDEX_PASSES, Matcher, dedupe, dedupe_store, update_block_index
from custdata.security import Keyring
from custdata.security._records import RecordCipher
from custdata.storage import Store
from custdata.storage._blocks import kind_of

KEYRING = Keyring.generate()


@contextlib.contextmanager
def counting_decryptions() -> Iterator[list[int]]:
    """Counts the customer bodies the store decrypts (at the cipher, below every store method)."""
    count = [0]
    original = RecordCipher.open_body

    def counted(self: RecordCipher, body: Any, key: Any = None) -> Any:
        count[0] += 1
        return original(self, body, key)

    with mock.patch.object(RecordCipher, "open_body", counted):
        yield count


def sqlite_store(path: Path, records: list[Customer], *, keyring: Keyring | None = KEYRING) -> Store:
    store = open_store(f"sqlite:///{path}", keyring=keyring)
    store.upsert_many(records)
    return store


def clusters(result: Any) -> list[list[str]]:
    return sorted(sorted(c) for c in result.clusters)


def pair_ids(result: Any) -> set[tuple[str, str]]:
    return {tuple(sorted((p.id_a, p.id_b))) for p in result.pairs}  # type: ignore[misc]


def plaintext_reference(records: list[Customer], matcher: Matcher | None = None, **kw: Any) -> Any:
    """``dedupe`` on the plaintext with the keyed passes its own default run keeps (the optional ones it
    leaves out stay out), and the same matcher."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        default = dedupe(records, **kw)
        kept = [p for p in INDEX_PASSES if p not in default.blocking.skipped_passes]
        return default, dedupe(records, matcher=matcher or default.matcher, passes=kept, **kw)


def check_same_as_plaintext(store: Store, records: list[Customer], **kw: Any) -> Any:
    default, reference = plaintext_reference(records, **kw)
    update_block_index(store, region=kw.get("region", "CN"))
    with warnings.catch_warnings(), counting_decryptions() as opened:
        warnings.simplefilter("ignore")
        result = dedupe_store(store, matcher=default.matcher, **kw)
    assert clusters(result) == clusters(reference)
    assert pair_ids(result) == pair_ids(reference)
    assert result.blocking.skipped_passes == {
        k: v for k, v in default.blocking.skipped_passes.items() if k in INDEX_PASSES
    }
    in_pairs = {i for p in pair_ids(result) for i in p}
    assert result.opened == len(in_pairs)
    check_index_groups(store, records, kw.get("region", "CN"))
    if getattr(store, "encrypted", False):
        assert opened[0] == len(in_pairs)  # only the customers of candidate pairs were decrypted
    return result


def check_index_groups(store: Store, records: list[Customer], region: str | None) -> None:
    """Pass by pass, the customers the store's index groups are those sharing a key in the plaintext."""
    from custdata.matching._features import features_of
    from custdata.storage._blocks import block_index_of

    index = block_index_of(store)
    assert index is not None
    holders: dict[tuple[str, str], set[str]] = {}
    for r in records:  # dedupe's own key functions, not the index's path through block_keys
        f = features_of(r, region=region)
        for name, fn in INDEX_PASSES.items():
            for key in fn(f):
                holders.setdefault((name, key), set()).add(r.id)
    for name in INDEX_PASSES:
        plain = {i for (n, _), ids in holders.items() if n == name and len(ids) > 1 for i in ids}
        assert index.members([kind_of(name)]) == plain, name
        sizes = sorted(len(ids) for (n, _), ids in holders.items() if n == name and len(ids) > 1)
        assert sorted(k for _, k in index.groups(kind_of(name))) == sizes, name


# ---------------------------------------------------------------------------------------------- generated
@st.composite
def messy_people(draw: Any) -> list[Customer]:
    """Customers from custdata.testing, some written again under another id with a field dropped."""
    base = draw(st.lists(cst.customers(), min_size=1, max_size=8))
    out: list[Customer] = []
    for k, c in enumerate(base):
        for v in range(draw(st.integers(1, 3))):
            d = {**c.to_dict(), "id": f"c{k}v{v}"}
            if v and draw(st.booleans()):
                dropped = draw(st.sampled_from(["phones", "emails", "addresses", "external_ids"]))
                d[dropped] = {} if dropped == "external_ids" else []
            out.append(Customer.from_dict(d))
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messy_people())
def test_generated_customers_cluster_as_on_plaintext(records: list[Customer]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with sqlite_store(Path(tmp) / "s.db", records) as store:
            check_same_as_plaintext(store, records)
        with open_store("memory://") as mem:
            mem.upsert_many(records)
            check_same_as_plaintext(mem, records)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from(["households", "names_and_dates"]))
def test_generated_duplicates_cluster_as_on_plaintext(seed: int, kind: str) -> None:
    # custdata.testing's generators with real duplicates: typos, swapped day and month, shared landlines
    if kind == "households":
        records = cst.household_records(6, seed=seed).records
    else:
        records = cst.names_and_dates(60, duplicates=0.3, seed=seed).records
    with tempfile.TemporaryDirectory() as tmp, sqlite_store(Path(tmp) / "s.db", records) as store:
        result = check_same_as_plaintext(store, records)
    assert any(len(c) > 1 for c in result.clusters)


# ---------------------------------------------------------------------------------------------- fixed sets
def households() -> list[Customer]:
    return cst.household_records(40, seed=3).records


def fake_subsample() -> list[Customer]:
    ds = load_fake_1000()
    return [r for r in ds.records if zlib.crc32(ds.truth[r.id].encode()) % 3 == 0]


@pytest.fixture(scope="module")
def historical_subsample() -> list[Customer]:
    ds = load_historical_50k()
    return [r for r in ds.records if zlib.crc32(ds.truth[r.id].encode()) % 40 == 0]


@pytest.mark.parametrize("make", [households, fake_subsample], ids=["households", "fake_1000"])
def test_fixed_sets_cluster_as_on_plaintext(tmp_path: Path, make: Callable[[], list[Customer]]) -> None:
    records = make()
    with sqlite_store(tmp_path / "s.db", records) as store:
        result = check_same_as_plaintext(store, records)
    assert any(len(c) > 1 for c in result.clusters)
    with open_store("memory://") as mem:
        mem.upsert_many(records)
        check_same_as_plaintext(mem, records)


def test_historical_subsample_clusters_as_on_plaintext(
    tmp_path: Path, historical_subsample: list[Customer]
) -> None:
    with sqlite_store(tmp_path / "s.db", historical_subsample) as store:
        result = check_same_as_plaintext(store, historical_subsample)
    assert any(len(c) > 1 for c in result.clusters)
    assert result.opened < len(historical_subsample)  # some customers share no blocking key with anyone


# ---------------------------------------------------------------------------------------------- behaviour
def _people() -> list[Customer]:
    rows = [
        ("a1", "Zhang", "Wei", "13800138000", "1990-01-02"),
        ("a2", "Zhang", "Wei", "138 0013 8000", "1990-01-02"),
        ("b1", "Li", "Na", "13900139000", "1985-05-06"),
        ("c1", "Wang", "Fang", "13700137000", "1970-03-04"),
        ("c2", "Wang", "Fang", "13600136000", "1970-03-04"),
    ]
    return [
        Customer.from_dict(
            {"id": i, "name": {"family": f, "given": g}, "phones": [{"number": p}], "birthday": b}
        )
        for i, f, g, p, b in rows
    ]


def test_only_candidates_are_decrypted_and_the_rest_are_singletons(tmp_path: Path) -> None:
    with sqlite_store(tmp_path / "s.db", _people()) as store:
        assert update_block_index(store) == 5
        with counting_decryptions() as opened:
            result = dedupe_store(store)
        assert opened[0] == result.opened == 4  # b1 shares no blocking key with anyone: never decrypted
        assert result.indexed == 0 and result.store_size == 5
        assert result.cluster_of("b1") == frozenset({"b1"})
        assert result.cluster_of("a1") == frozenset({"a1", "a2"})
        with counting_decryptions() as opened:
            golden = result.golden_records(singletons=False)
        assert opened[0] == 0 and {g.id for g in golden} == {"a1", "c1"}
        with counting_decryptions() as opened:
            assert len(result.golden_records()) == len(result.clusters)
        assert opened[0] == 1  # b1, read on request
        with counting_decryptions() as opened:
            assert result.explain("a1", "b1").id_b == "b1"
        assert opened[0] == 1


def test_changed_customers_are_indexed_again_and_deleted_ones_left_out(tmp_path: Path) -> None:
    with sqlite_store(tmp_path / "s.db", _people()) as store:
        update_block_index(store)
        b1 = store.get("b1")
        store.put(b1.evolve(phones=[{"number": "13700137000"}]))  # now shares c1's phone
        store.delete("a2")
        with counting_decryptions() as opened:
            result = dedupe_store(store)
        assert result.indexed == 1  # only the changed customer was read for the index
        assert opened[0] == 1 + result.opened
        assert "a2" not in result.cluster_ids
        assert result.cluster_of("a1") == frozenset({"a1"})
        assert {"b1", "c1"} <= {i for p in pair_ids(result) for i in p}


def test_indexing_is_resumable(tmp_path: Path) -> None:
    records = households()
    with sqlite_store(tmp_path / "s.db", records) as store, mock.patch("custdata.matching._store._BATCH", 20):
        assert update_block_index(store, limit=30) == 30

        def boom(done: int) -> None:
            if done > 20:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            update_block_index(store, progress=boom)
        assert store.query_sql("SELECT COUNT(*) FROM cd_lookup WHERE kind = 'block'")[0][0] == 70  # type: ignore[attr-defined]
        rest = update_block_index(store)
        assert rest == len(records) - 70
        assert update_block_index(store) == 0
        check_same_as_plaintext(store, records)


def test_another_region_rebuilds_the_index(tmp_path: Path) -> None:
    with sqlite_store(tmp_path / "s.db", _people()) as store:
        update_block_index(store)
        assert update_block_index(store, region="US") == 5
        assert update_block_index(store, region="US") == 0


def test_the_database_holds_no_blocking_key_in_clear(tmp_path: Path) -> None:
    records = _people()
    with sqlite_store(tmp_path / "s.db", records) as store:
        update_block_index(store)
        raw = sqlite3.connect(tmp_path / "s.db")
        keys = raw.execute("SELECT kind, key FROM cd_lookup WHERE kind LIKE 'block:%'").fetchall()
        raw.close()
    from custdata.matching import block_keys

    clear = {k for r in records for _, k in block_keys(r)}
    assert keys and not clear & {k for _, k in keys}
    assert all(len(k) == 16 for _, k in keys)  # 64-bit HMAC


def test_a_plain_store_keeps_the_keys_in_clear(tmp_path: Path) -> None:
    records = _people()
    with sqlite_store(tmp_path / "s.db", records, keyring=None) as store:
        check_same_as_plaintext(store, records)
        stored = {k for (k,) in store.query_sql("SELECT key FROM cd_lookup WHERE kind LIKE 'block:%'")}  # type: ignore[attr-defined]
    from custdata.matching import block_keys

    assert stored == {k for r in records for _, k in block_keys(r)}


def smiths_of_leeds() -> list[Customer]:
    return [
        Customer.from_dict(
            {
                "id": f"r{k:03d}",
                "name": {"family": "Smith", "given": f"G{k}"},
                "addresses": [{"city": "Leeds"}],
                "birthday": f"19{50 + k % 40}-0{1 + k % 9}-1{k % 10}",
            }
        )
        for k in range(130)
    ]


def test_an_optional_pass_that_is_not_selective_is_left_out_as_dedupe_does(tmp_path: Path) -> None:
    records = smiths_of_leeds()
    with sqlite_store(tmp_path / "s.db", records) as store:
        result = check_same_as_plaintext(store, records)
    assert "phonetic_family_city" in result.blocking.skipped_passes


def test_bad_arguments_are_validation_errors(tmp_path: Path) -> None:
    with sqlite_store(tmp_path / "s.db", _people()) as store:
        with pytest.raises(ValidationError, match="sorted-neighbourhood"):
            dedupe_store(store, passes=["phone", "sorted_family_given"])
        with pytest.raises(ValidationError, match="unknown blocking pass"):
            dedupe_store(store, passes=["nope"])
        with pytest.raises(ValidationError, match="limit"):
            update_block_index(store, limit=0)
    with pytest.raises(ValidationError, match="store"):
        dedupe_store(object())


def test_passes_given_explicitly_match_dedupe_with_those_passes(tmp_path: Path) -> None:
    records = households()
    chosen = ["phone", "name_birth_year"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = dedupe(records, passes=chosen)
        with sqlite_store(tmp_path / "s.db", records) as store:
            result = dedupe_store(store, passes=chosen, matcher=reference.matcher)
    assert clusters(result) == clusters(reference)
    assert {i for p in itertools.chain(pair_ids(result)) for i in p} <= set(result.cluster_ids)


def test_matcher_match_finds_block_partners_in_an_encrypted_store(tmp_path: Path) -> None:
    records = households()
    matcher = dedupe(records).matcher
    base = records[0]
    newcomer = base.evolve(id="new-1", phones=[], emails=[])  # nothing find() could look up
    from custdata.matching import block_keys

    mine = set(block_keys(newcomer))
    partners = [r for r in records if mine & set(block_keys(r))]
    assert partners
    with sqlite_store(tmp_path / "s.db", records) as store:
        before = matcher.match(newcomer, store, limit=None)
        update_block_index(store)
        with counting_decryptions() as opened:
            hits = matcher.match(newcomer, store, limit=None)
        assert opened[0] == len(partners)  # only the customers sharing a blocking key were decrypted
    assert hits == matcher.match(newcomer, partners, limit=None)
    assert base.id in {h.record_id for h in hits}
    assert base.id not in {h.record_id for h in before}  # without the block index only find() was asked


def test_an_index_of_fewer_passes_reveals_less_and_blocks_on_those(tmp_path: Path) -> None:
    from custdata.matching import indexed_passes

    records = households()
    chosen = ["phone", "name_birth_year"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = dedupe(records, passes=chosen)
    with sqlite_store(tmp_path / "s.db", records) as store:
        assert update_block_index(store, passes=["name_birth_year", "phone"]) == len(records)
        assert indexed_passes(store) == chosen
        kinds = {
            k for (k,) in store.query_sql("SELECT DISTINCT kind FROM cd_lookup WHERE kind LIKE 'block:%'")
        }  # type: ignore[attr-defined]
        assert kinds <= {kind_of("phone"), kind_of("name_birth_year")} and kinds
        assert update_block_index(store) == 0  # keeps the passes it holds
        result = dedupe_store(store, matcher=reference.matcher)
        assert result.settings.passes == tuple(chosen)
        assert clusters(result) == clusters(reference)
        with pytest.raises(ValidationError, match="not in the store's block index"):
            dedupe_store(store, passes=["name"])
        assert update_block_index(store, passes=list(INDEX_PASSES)) == len(records)  # rebuilt with them all
        assert indexed_passes(store) == list(INDEX_PASSES)


def test_index_kinds_are_distinct_and_fit_every_backend() -> None:
    kinds = [kind_of(name) for name in INDEX_PASSES]
    assert len(set(kinds)) == len(kinds)
    assert all(k.startswith("block:") and len(k) <= 16 for k in kinds)  # MariaDB's kind column: 16


def test_a_plug_in_store_without_a_block_index_is_read_whole() -> None:
    from tests.storage.dict_store import DictStore

    records = _people()
    store = DictStore("dict://test")
    store.upsert_many(records)
    default, reference = plaintext_reference(records)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dedupe_store(store, matcher=default.matcher)
    assert clusters(result) == clusters(reference)
    assert pair_ids(result) == pair_ids(reference)
    assert result.opened == len(records) and result.indexed == 0
    with pytest.raises(ValidationError, match="keeps no block index"):
        update_block_index(store)
    assert reference.matcher.match(records[0], store)  # find() still works; no block index asked
    smiths = DictStore("dict://smiths")
    smiths.upsert_many(smiths_of_leeds())
    default, reference = plaintext_reference(smiths_of_leeds())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dedupe_store(smiths, matcher=default.matcher)
    assert "phonetic_family_city" in result.blocking.skipped_passes
    assert result.blocking.skipped_passes == default.blocking.skipped_passes
    assert clusters(result) == clusters(reference)


def test_an_index_built_by_code_computing_other_keys_is_rebuilt(tmp_path: Path) -> None:
    from custdata.matching import _store

    with sqlite_store(tmp_path / "s.db", _people()) as store:
        update_block_index(store)
        assert update_block_index(store) == 0
        with mock.patch.object(_store, "fingerprint", return_value="another custdata"):
            assert update_block_index(store) == 5  # never trusted stale: dropped and rebuilt
    assert _store.fingerprint("CN") == _store.fingerprint("CN") != _store.fingerprint("US")
