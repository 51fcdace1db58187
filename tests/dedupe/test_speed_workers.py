"""Forked workers give what one process gives, and leave the garbage collector as they found it."""

from __future__ import annotations

import gc
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custdata.datasets import load_fake_1000
from custdata.exceptions import CustdataError
from custdata.matching import dedupe
from custdata.matching._parallel import run_chunks

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")


@linux
def test_two_workers_find_the_clusters_of_one() -> None:
    recs = load_fake_1000().records
    one = dedupe(recs, workers=1)
    two = dedupe(recs, workers=2)
    assert sorted(map(sorted, two.clusters)) == sorted(map(sorted, one.clusters))
    assert len(two.pairs) == len(one.pairs)


@linux
def test_chunks_come_back_in_order_and_the_collector_is_unfrozen() -> None:
    assert gc.get_freeze_count() == 0
    parts = run_chunks(lambda a, b: list(range(a, b)), 10, 3)
    assert [x for p in parts for x in p] == list(range(10))
    assert gc.get_freeze_count() == 0


@linux
def test_objects_a_caller_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        assert before > 0
        run_chunks(lambda a, b: b - a, 4, 2)
        # frozen objects may die meanwhile (the count then falls a little, as seen on Python 3.13), but
        # the caller's freeze is not undone: gc.unfreeze() would leave the count at 0
        assert gc.get_freeze_count() > before // 2
    finally:
        gc.unfreeze()


@linux
def test_a_failing_worker_is_reported() -> None:
    def boom(a: int, b: int) -> int:
        if a > 0:
            raise ValueError("no")
        return 0

    with pytest.raises(CustdataError, match="worker process failed"):
        run_chunks(boom, 4, 2)
    assert gc.get_freeze_count() == 0


@linux
@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 40), workers=st.integers(1, 3), piece=st.integers(1, 12))
def test_pieces_come_back_in_order_none_larger_than_asked(n: int, workers: int, piece: int) -> None:
    parts = run_chunks(lambda a, b: list(range(a, b)), n, workers, piece=piece)
    assert [x for p in parts for x in p] == list(range(n))
    assert all(len(p) <= piece for p in parts)
    assert gc.get_freeze_count() == 0


@linux
def test_a_worker_failing_after_its_first_pieces_is_reported() -> None:
    def boom(a: int, b: int) -> int:
        if a >= 30:
            raise ValueError("no")
        return b - a

    with pytest.raises(CustdataError, match="worker process failed"):
        run_chunks(boom, 40, 2, piece=4)
    assert gc.get_freeze_count() == 0


@linux
def test_features_sent_in_pieces_are_those_of_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from custdata.matching import _api

    recs = sorted(load_fake_1000().records, key=lambda r: r.id)
    one = _api._features(recs, "CN", 1)
    monkeypatch.setattr(_api, "_FEATURES_PIECE", 70)
    pieces = _api._features(recs, "CN", 2)
    assert [repr(f) for f in pieces] == [repr(f) for f in one]
