"""Split CPU-bound work over forked worker processes (Linux), or run it in-process.

Forked children see the parent's records without copying them (copy-on-write), so only each chunk's
result travels back, pickled through a pipe. Where ``fork`` is not available, or the work is small, the
chunks run one after the other in this process.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import multiprocessing.connection as mp_connection
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


def _ranges(start: int, stop: int, piece: int | None) -> list[tuple[int, int]]:
    """``[start, stop)`` cut into ranges of at most ``piece`` items (one range without ``piece``)."""
    if piece is None or stop - start <= piece:
        return [(start, stop)]
    return [(lo, min(lo + piece, stop)) for lo in range(start, stop, piece)]


def _child(func: Callable[[int, int], Any], start: int, stop: int, piece: int | None, conn: Any) -> None:
    try:
        for lo, hi in _ranges(start, stop, piece):
            conn.send((True, func(lo, hi)))  # each piece goes, and is dropped, as soon as it is made
        conn.send((None, None))
    except BaseException as exc:  # report to the parent, never hang it
        conn.send((False, repr(exc)))
    finally:
        conn.close()


def run_chunks(func: Callable[[int, int], T], n: int, workers: int, *, piece: int | None = None) -> list[T]:
    """``[func(start, stop) for each chunk of range(n)]``, in order, over ``workers`` processes.

    Without ``piece`` each process takes one chunk. With it, each process cuts its chunk into ranges of at
    most ``piece`` items and sends each result as soon as it is made: neither a worker nor the pipe ever
    holds a whole chunk's result, and the list returned has one result per piece."""
    jobs = workers
    if jobs <= 1 or n == 0 or "fork" not in mp.get_all_start_methods():
        return [func(lo, hi) for lo, hi in _ranges(0, n, piece)]
    bounds = [n * k // jobs for k in range(jobs + 1)]
    ctx = mp.get_context("fork")
    procs = []
    # what exists now is left out of the garbage collector's passes while the workers run: a full pass
    # in a child would otherwise write to every page of the parent's objects (records, features) and so
    # copy them all, and each pass over millions of objects costs CPU in every process
    frozen = gc.get_freeze_count() == 0  # (a caller that froze its own objects keeps them frozen)
    if frozen:
        gc.freeze()
    received: dict[Any, list[T]] = {}
    by_conn: dict[Any, Any] = {}
    open_: set[Any] = set()

    def take(recv: Any, p: Any) -> None:
        """One message of a worker: a piece, the end of its pieces or its failure."""
        try:
            ok, value = recv.recv()
        except EOFError:
            ok, value = False, f"worker {p.pid} died (exit code {p.exitcode})"
        if ok is None:
            open_.discard(recv)
        elif not ok:
            from custdata.exceptions import CustdataError

            raise CustdataError(f"a dedupe worker process failed: {value}")
        else:
            received[recv].append(value)

    results: list[T] = []
    try:
        try:
            for k in range(1, jobs):
                recv, send = ctx.Pipe(duplex=False)
                p = ctx.Process(
                    target=_child, args=(func, bounds[k], bounds[k + 1], piece, send), daemon=True
                )
                p.start()
                send.close()
                procs.append((p, recv))
                by_conn[recv] = p
                received[recv] = []
                open_.add(recv)
            for lo, hi in _ranges(bounds[0], bounds[1], piece):
                results.append(func(lo, hi))
                if piece is not None:  # take the pieces waiting, so that the workers go on making theirs
                    for ready in mp_connection.wait(list(open_), timeout=0):
                        take(ready, by_conn[ready])
        finally:
            if frozen:
                gc.unfreeze()
        for p, recv in procs:
            while recv in open_:
                take(recv, p)
            results.extend(received.pop(recv))
    except BaseException:
        for p, _ in procs:  # a failure: the other workers may wait to send what nobody will read
            if p.is_alive():
                p.terminate()
        raise
    finally:
        for p, _ in procs:
            p.join()
    logger.debug("ran %d chunks over %d processes", len(results), jobs)
    return results
