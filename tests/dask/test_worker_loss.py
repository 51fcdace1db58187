"""A worker process that dies in the middle of a job: Dask reruns its tasks on a (restarted) worker and the
results are still those of the single-machine functions."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import dask.bag as db
import pytest

import custdata.dask as cdd
from custdata import normalize_many
from custdata.matching import Matcher, dedupe
from custdata.testing import household_records

T = TypeVar("T")

#: How long a job that loses a worker may take before the test fails (instead of hanging the suite).
_PATIENCE = 300.0


def _within(client: Any, job: Callable[[], T]) -> T:
    """Run ``job``; fail the test with the cluster's state and logs if it has not ended in ``_PATIENCE``
    seconds (a lost worker that is never replaced makes Dask wait forever)."""
    out: list[T] = []
    err: list[BaseException] = []

    def run() -> None:
        try:
            out.append(job())
        except BaseException as exc:  # handed to the test's thread below
            err.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(_PATIENCE)
    if worker.is_alive():
        workers = len(client.scheduler_info()["workers"])
        logs = client.cluster.get_logs() if client.cluster is not None else {}
        pytest.fail(f"the job did not end in {_PATIENCE:.0f} s; live workers: {workers}; logs: {logs}")
    if err:
        raise err[0]
    return out[0]


def _die_once(part: Iterable[Any], marker: str) -> list[Any]:
    """Pass the partition through; the first task to get here kills its worker process (no clean exit)."""
    items = list(part)
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return items
    os.close(fd)
    os._exit(1)


def _records() -> list[Any]:
    return list(household_records(30, seed=11).records)


def test_normalize_survives_a_killed_worker(dying_client: Any, tmp_path: Path) -> None:
    marker = str(tmp_path / "killed")
    recs = _records()
    bag = db.from_sequence(recs, npartitions=4).map_partitions(_die_once, marker)
    got = _within(dying_client, lambda: cdd.normalize(bag, errors="collect").compute())
    assert os.path.exists(marker), "a worker was killed"
    assert got == list(normalize_many(recs, errors="collect"))


def test_dedupe_survives_a_killed_worker(dying_client: Any, tmp_path: Path) -> None:
    marker = str(tmp_path / "killed")
    recs = _records()
    fitted = dedupe(recs).matcher
    want = dedupe(recs, matcher=fitted)
    bag = db.from_sequence(recs, npartitions=4).map_partitions(_die_once, marker)
    got = _within(dying_client, lambda: cdd.dedupe(bag, matcher=fitted))
    assert os.path.exists(marker), "a worker was killed"
    assert got.clusters == tuple(c for c in want.clusters if len(c) > 1)
    assert len(dying_client.scheduler_info()["workers"]) >= 1


class _DyingMatcher(Matcher):
    """A matcher whose first pair scored on a worker kills that worker. Pairs are scored only after the
    shuffle by block key (or by sort-key range), so the worker dies holding shuffle outputs: Dask must
    recompute the lost pieces of the shuffle (and the persisted features) from their lineage."""

    marker = ""

    def __getstate__(self) -> dict[str, Any]:
        return {"matcher": super().__getstate__(), "marker": self.marker}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state["matcher"])
        self.marker = state["marker"]

    def _pattern_weight(self, vec: Any) -> float:
        from distributed import get_worker

        try:
            get_worker()
        except ValueError:  # on the client (pairs across sort ranges): never die here
            return super()._pattern_weight(vec)
        _die_once([], self.marker)
        return super()._pattern_weight(vec)


def test_dedupe_survives_a_worker_killed_after_the_shuffle(dying_client: Any, tmp_path: Path) -> None:
    recs = _records()
    fitted = dedupe(recs).matcher
    want = dedupe(recs, matcher=fitted)
    dying = _DyingMatcher.from_dict(fitted.to_dict())
    assert isinstance(dying, _DyingMatcher)
    dying.marker = str(tmp_path / "killed")
    got = _within(dying_client, lambda: cdd.dedupe(recs, matcher=dying, npartitions=4))
    assert os.path.exists(dying.marker), "a worker was killed while scoring"
    assert got.clusters == tuple(c for c in want.clusters if len(c) > 1)
    assert dict(_within(dying_client, lambda: got.assignments().compute())) == want.cluster_ids
