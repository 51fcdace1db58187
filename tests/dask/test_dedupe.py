"""Dedupe on Dask equals custdata.dedupe with the same fitted model on the same records."""

from __future__ import annotations

import random
import warnings
from typing import Any

import pytest

import custdata.dask as cdd
from custdata import Customer
from custdata.exceptions import ValidationError
from custdata.matching import dedupe
from custdata.testing import household_records, names_and_dates


def _data(seed: int) -> list[Customer]:
    recs = [
        *household_records(40, seed=seed).records,
        *names_and_dates(300, duplicates=0.3, seed=seed).records,
    ]
    # ids of both generators may collide: prefix them by source
    out = [r.evolve(id=f"h{k:04d}-{r.id}") for k, r in enumerate(recs)]
    random.Random(seed).shuffle(out)  # input order must not matter
    return out


def _multi(clusters: Any) -> set[frozenset[str]]:
    return {c for c in clusters if len(c) > 1}


@pytest.mark.parametrize(
    ("seed", "options"),
    [
        (1, {}),
        (2, {"max_block_size": 4, "window": 4}),  # capped blocks and wider sort windows
        (
            3,
            {
                "passes": ["phone", "email", "sorted_family_given", "name", "name_corroborated"],
                "threshold": 0.8,
            },
        ),
    ],
)
def test_dedupe_equals_single_machine(client: Any, seed: int, options: dict[str, Any]) -> None:
    recs = _data(seed)
    fitted = dedupe(recs, seed=seed).matcher
    with warnings.catch_warnings(record=True) as want_warn:
        warnings.simplefilter("always")
        want = dedupe(recs, matcher=fitted, **options)
    with warnings.catch_warnings(record=True) as got_warn:
        warnings.simplefilter("always")
        got = cdd.dedupe(recs, matcher=fitted, npartitions=5, **options)
    assert _multi(want.clusters), "the data must hold duplicates"
    assert set(got.clusters) == _multi(want.clusters)
    assert got.clusters == tuple(c for c in want.clusters if len(c) > 1)
    assert {r.id: got.cluster_id(r.id) for r in recs} == want.cluster_ids
    assigned = got.assignments().compute()
    assert [rid for rid, _ in assigned] == [r.id for r in recs]  # every record, in input order
    assert dict(assigned) == want.cluster_ids
    accepted = {tuple(sorted((p.id_a, p.id_b))) for p in want.pairs if p.probability >= want.threshold}
    assert got.accepted == len(accepted)
    assert got.capped_blocks == want.blocking.capped_blocks
    assert got.skipped_passes == want.blocking.skipped_passes
    assert [str(w.message) for w in got_warn] == [str(w.message) for w in want_warn]


@pytest.mark.parametrize(
    ("name", "window"), [("sorted_family_given", 2), ("sorted_given_family", 3), ("sorted_street", 7)]
)
def test_sorted_pass_neighbours_across_ranges(client: Any, name: str, window: int) -> None:
    # many small partitions, so many sort neighbours fall in two different key ranges
    recs = _data(6)
    fitted = dedupe(recs, seed=6).matcher
    options: dict[str, Any] = {"passes": [name], "window": window}
    want = dedupe(recs, matcher=fitted, **options)
    got = cdd.dedupe(recs, matcher=fitted, npartitions=60, **options)
    assert got.compared == len(want.pairs)  # every sort neighbour compared once, no more
    assert got.clusters == tuple(c for c in want.clusters if len(c) > 1)


def test_dedupe_without_a_model_fits_on_a_sample(client: Any) -> None:
    recs = _data(4)
    got = cdd.dedupe(recs, npartitions=3, fit_sample=200)
    want = dedupe(recs, matcher=got.matcher)
    assert got.clusters == tuple(c for c in want.clusters if len(c) > 1)


def test_dedupe_rejects_repeated_ids_and_bad_input(client: Any) -> None:
    recs = _data(5)[:50]
    fitted = dedupe(recs).matcher
    with pytest.raises(ValidationError):
        cdd.dedupe([*recs, recs[0]], matcher=fitted)
    with pytest.raises(ValidationError):
        cdd.dedupe([1, 2], matcher=fitted)
    with pytest.raises(ValidationError):
        cdd.dedupe(recs, matcher="model")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        cdd.dedupe(recs, matcher=fitted, passes=["no-such-pass"])
