"""custdata on Dask: normalise file to file and dedupe, on a LocalCluster of 1 and 2 workers, beside the
single-machine functions on the same files.

    python benchmarks/bench_dask.py --size 100000 --part 25000 --repeat 3   # first full run
    python benchmarks/bench_dask.py --size 1000000 --part 100000            # the largest to try
    python benchmarks/bench_dask.py --quick                                 # 3,000 records: checks it

10M records do not fit in 24 GB. Measured on 2026-12-07 (a loaded machine; memory does not depend on the
load): single-machine dedupe (records read from JSON Lines, ``workers=1``) holds 1.9 KB per record for the
records and peaks at 4.3 KB per record at 100,000 (463 MB) and 3.9 KB at 200,000 (803 MB); the
performance page has about 5 KB per record at 1M (4,963 MB, process tree). 10M would need 40-50 GB; the
single side fits up to about 4M. The Dask side holds more: at 50,000 records (measured 2026-12-08, load
4.6-6.7 on 2 cores) the worker peaked at 475 MB (1 worker) and 627/597 MB (2 workers), the client (the
LocalCluster's scheduler runs in it) at 272 MB, against 150-300 MB for idle processes: roughly 10-20 KB
per record in all, so about 1M is the largest Dask dedupe to try in 24 GB. Each configuration runs one
after the other, never two at once.

The records are bench_dedupe.py's generator (messy Chinese and Latin names, phones, e-mails, households),
written once (untimed) as JSON Lines files of ``--part`` records each. What is timed:

* normalise: read the files, normalise every record (``errors="collect"``), write the results as JSON
  Lines. On Dask each worker reads and writes its own partitions (``custdata.dask.read_jsonl``,
  ``custdata.dask.normalize``, one output file per partition); single-machine, the file path one file
  at a time: ``read_jsonl``, ``normalize_many(workers=W)``, ``write_jsonl`` of that file.
* dedupe: read the files and dedupe with one fitted matcher (fitted once, untimed, on a 20,000-record
  birthday-free sample and saved; both sides load it). Dask: ``custdata.dask.dedupe``; single-machine:
  ``custdata.dedupe(records, matcher=m, workers=W)``.

Every configuration runs in a fresh process, one after the other. Reported: wall time, records/s, CPU
seconds (single: the process and its forked workers; Dask: the client process plus every worker
process, their start-up included), peak memory of the client and of each worker (max RSS; single side:
the largest forked worker). The clusters of both
sides are compared (they must be equal). On a shared machine compare CPU time, not wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dedupe import generate


def _rusage(children: bool = True) -> tuple[float, int]:
    """CPU seconds of this process (and of its reaped children) and its peak RSS in MB."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    cpu = me.ru_utime + me.ru_stime
    if children:
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += kids.ru_utime + kids.ru_stime
    return cpu, me.ru_maxrss // 1024


def _children_peak() -> int:
    """The peak RSS (MB) of the largest reaped child process (the single side's forked workers)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024


def _worker_stats() -> tuple[float, int]:
    """CPU seconds and peak RSS (MB) of the worker process this runs in."""
    return _rusage(children=False)


def prepare(n: int, part: int, folder: Path) -> Path:
    """The generated records as JSON Lines files of ``part`` records, and the fitted matcher."""
    from custdata import Customer
    from custdata.io import write_jsonl
    from custdata.matching import dedupe

    rows: list[Any] = generate(n)[0]
    data = folder / "in"
    data.mkdir()
    step = max(1, n // 20_000)
    sample: list[Customer] = []  # every step-th record
    for k in range(0, n, part):
        chunk = [Customer.from_dict(r) for r in rows[k : k + part]]
        rows[k : k + part] = [None] * len(chunk)  # the generated rows are freed as they are written
        sample.extend(chunk[(-k) % step :: step])
        write_jsonl(chunk, data / f"part-{k // part:05d}.jsonl")
    dedupe(sample).matcher.save(folder / "matcher.json")
    return data


def _write_part(results: Any, out: str) -> list[int]:
    import uuid

    from custdata.io import write_jsonl

    recs = [r.record for r in results]
    write_jsonl(recs, Path(out) / f"part-{uuid.uuid4().hex}.jsonl")
    return [len(recs)]


def run_one(task: str, side: str, workers: int, folder: Path) -> dict[str, Any]:
    from custdata.matching import Matcher

    files = sorted((folder / "in").glob("*.jsonl"))
    out = folder / f"out-{side}-{workers}"
    out.mkdir(exist_ok=True)
    matcher = Matcher.load(folder / "matcher.json")
    cpu0, _ = _rusage(children=side == "single")
    worker_stats: list[tuple[float, int]] = []
    if side == "single":
        from custdata import normalize_many
        from custdata.io import read_jsonl, write_jsonl
        from custdata.matching import dedupe

        t0 = time.perf_counter()
        if task == "normalize":  # file to file, one input file at a time (memory stays one file's)
            n = 0
            for f in files:
                results = normalize_many(
                    list(read_jsonl(f)), errors="collect", workers=workers if workers > 1 else None
                )
                n += write_jsonl((r.record for r in results), out / f.name)
            clusters = None
        else:
            recs = [r for f in files for r in read_jsonl(f)]
            n = len(recs)
            result = dedupe(recs, matcher=matcher, workers=workers)
            clusters = sorted(sorted(c) for c in result.clusters if len(c) > 1)
        wall = time.perf_counter() - t0
    else:
        from distributed import Client, LocalCluster

        import custdata.dask as cdd

        with (
            LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            ) as lc,
            Client(lc) as client,
        ):
            client.run(lambda: None)  # the workers are up before the clock starts
            t0 = time.perf_counter()
            read = cdd.read_jsonl([str(f) for f in files])
            if task == "normalize":
                counts = cdd.normalize(read.records, errors="collect").map_partitions(_write_part, str(out))
                n = sum(counts.compute())
                clusters = None
            else:
                result = cdd.dedupe(read.records, matcher=matcher)
                n = result.records
                clusters = sorted(sorted(c) for c in result.clusters)
            wall = time.perf_counter() - t0
            worker_stats = list(client.run(_worker_stats).values())
    # the Dask side: the client's own CPU time plus each worker's (the workers are reaped children later)
    cpu, peak = _rusage(children=side == "single")
    return {
        "task": task,
        "side": side,
        "workers": workers,
        "records": n,
        "wall_s": round(wall, 2),
        "records_per_s": round(n / wall),
        "cpu_s": round(cpu - cpu0 + sum(c for c, _ in worker_stats), 1),
        "workers_cpu_s": round(sum(c for c, _ in worker_stats), 1),
        "peak_client_mb": peak,
        # the single side's forked workers (none with one worker: the client figure is the whole run)
        "peak_worker_mb": [m for _, m in worker_stats]
        if side == "dask"
        else [_children_peak()] * (workers > 1),
        "clusters": clusters,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000, help="records generated")
    ap.add_argument("--part", type=int, default=50_000, help="records per input file (partition)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--tasks", nargs="+", default=["normalize", "dedupe"], choices=["normalize", "dedupe"])
    ap.add_argument("--repeat", type=int, default=1, help="runs per configuration (medians reported)")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="3,000 records in files of 500, 2 workers only: checks the script",
    )
    ap.add_argument("--one", nargs=4, default=None, help=argparse.SUPPRESS)  # task side workers folder
    args = ap.parse_args()
    if args.one is not None:
        task, side, workers, folder = args.one
        print(json.dumps(run_one(task, side, int(workers), Path(folder))))
        return
    size, part = (3_000, 500) if args.quick else (args.size, args.part)
    if args.quick:
        args.workers = [2]
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        prepare(size, part, folder)
        print(
            f"prepared {size} records in {-(-size // part)} files in {time.perf_counter() - t0:.1f}s",
            flush=True,
        )
        for task in args.tasks:
            reference = None
            for workers in args.workers:
                for side in ("single", "dask"):
                    runs = []
                    for _ in range(args.repeat):
                        cmd = [sys.executable, __file__, "--one", task, side, str(workers), str(folder)]
                        done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
                        if done.returncode != 0:
                            print(f"{task} {side} {workers}: failed\n{done.stderr[-2000:]}", flush=True)
                            break
                        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
                    if not runs:
                        continue
                    runs.sort(key=lambda r: r["wall_s"])
                    best = dict(runs[len(runs) // 2])  # the median run (CPU and memory from it)
                    best["wall_s"] = round(statistics.median(r["wall_s"] for r in runs), 2)
                    best["records_per_s"] = round(best["records"] / best["wall_s"])
                    best["runs"] = len(runs)
                    clusters = best.pop("clusters")
                    if clusters is not None:
                        reference = reference if reference is not None else clusters
                        best["same_clusters"] = clusters == reference
                    print(json.dumps(best), flush=True)


if __name__ == "__main__":
    main()
