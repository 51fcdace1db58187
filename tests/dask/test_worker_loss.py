"""A worker process that dies in the middle of a job: Dask reruns its tasks on a (restarted) worker and the
results are still those of the single-machine functions."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import dask.bag as db

import custdata.dask as cdd
from custdata import normalize_many
from custdata.matching import dedupe
from custdata.testing import household_records


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


def test_normalize_survives_a_killed_worker(client: Any, tmp_path: Path) -> None:
    marker = str(tmp_path / "killed")
    recs = _records()
    bag = db.from_sequence(recs, npartitions=4).map_partitions(_die_once, marker)
    got = cdd.normalize(bag, errors="collect").compute()
    assert os.path.exists(marker), "a worker was killed"
    assert got == list(normalize_many(recs, errors="collect"))


def test_dedupe_survives_a_killed_worker(client: Any, tmp_path: Path) -> None:
    marker = str(tmp_path / "killed")
    recs = _records()
    fitted = dedupe(recs).matcher
    want = dedupe(recs, matcher=fitted)
    bag = db.from_sequence(recs, npartitions=4).map_partitions(_die_once, marker)
    got = cdd.dedupe(bag, matcher=fitted)
    assert os.path.exists(marker), "a worker was killed"
    assert got.clusters == tuple(c for c in want.clusters if len(c) > 1)
    assert len(client.scheduler_info()["workers"]) >= 1
