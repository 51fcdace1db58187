"""Split CPU-bound work over forked worker processes (Linux), or run it in-process.

Forked children see the parent's records without copying them (copy-on-write), so only each chunk's
result travels back, pickled through a pipe. Where ``fork`` is not available, or the work is small, the
chunks run one after the other in this process.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["resolve_jobs", "run_chunks"]

logger = logging.getLogger(__name__)
T = TypeVar("T")

MIN_PER_JOB = 20_000


def resolve_jobs(workers: int | None, work: int) -> int:
    """How many processes to use: ``workers`` (None: one per core, when ``work`` is worth splitting)."""
    if workers is not None:
        return max(1, int(workers))
    if not sys.platform.startswith("linux") or work < 2 * MIN_PER_JOB:
        return 1
    return max(1, min(os.cpu_count() or 1, work // MIN_PER_JOB))


def _child(func: Callable[[int, int], Any], start: int, stop: int, conn: Any) -> None:
    try:
        conn.send((True, func(start, stop)))
    except BaseException as exc:  # report to the parent, never hang it
        conn.send((False, repr(exc)))
    finally:
        conn.close()


def run_chunks(func: Callable[[int, int], T], n: int, workers: int) -> list[T]:
    """``[func(start, stop) for each chunk of range(n)]``, in order, over ``workers`` processes."""
    jobs = workers
    if jobs <= 1 or n == 0 or "fork" not in mp.get_all_start_methods():
        return [func(0, n)]
    bounds = [n * k // jobs for k in range(jobs + 1)]
    ctx = mp.get_context("fork")
    procs = []
    # what exists now is left out of the garbage collector's passes while the workers run: a full pass
    # in a child would otherwise write to every page of the parent's objects (records, features) and so
    # copy them all, and each pass over millions of objects costs CPU in every process
    frozen = gc.get_freeze_count() == 0  # (a caller that froze its own objects keeps them frozen)
    if frozen:
        gc.freeze()
    try:
        for k in range(1, jobs):
            recv, send = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_child, args=(func, bounds[k], bounds[k + 1], send), daemon=True)
            p.start()
            send.close()
            procs.append((p, recv))
        results = [func(bounds[0], bounds[1])]
    finally:
        if frozen:
            gc.unfreeze()
    for p, recv in procs:
        try:
            ok, value = recv.recv()
        except EOFError:
            ok, value = False, f"worker {p.pid} died (exit code {p.exitcode})"
        p.join()
        if not ok:
            from custdata.exceptions import CustdataError

            raise CustdataError(f"a dedupe worker process failed: {value}")
        results.append(value)
    logger.debug("ran %d chunks over %d processes", len(results), jobs)
    return results
