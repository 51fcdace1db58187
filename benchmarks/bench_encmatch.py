"""Dedupe on an encrypted SQLite store (``dedupe_store``) beside ``dedupe`` on the same records in memory.

    python benchmarks/bench_encmatch.py --sizes 100000 --repeat 3
    python benchmarks/bench_encmatch.py --quick                  # 5,000 records, once: checks the script
    python benchmarks/bench_encmatch.py --leakage --sizes 100000  # what the block index reveals (docs/security.md)

The records are bench_dedupe.py's generated customers (messy Chinese and Latin names, phones written three
ways, households sharing a phone, 20 % duplicates; the generator knows the truth). Each side runs in a fresh
process, so its peak memory is that process's maximum resident set (worker processes reported apart):

- ``store``: the records are written to an encrypted SQLite store first (not timed: ``load_s``), the block
  index is built (``index_s``, each customer decrypted once), then ``dedupe_store`` runs (``dedupe_s``:
  grouping inside SQLite, decrypting the candidates, matching them); ``opened`` counts decryptions;
- ``memory``: ``dedupe`` on the same records with the keyed passes ``dedupe_store`` ran (handed over from
  the store side's run: the same candidate pairs, equal work);
- ``memory-default``: ``dedupe`` at its defaults (the sorted-neighbourhood passes too), for reference.

CPU time (the process and its workers) and wall time are medians over ``--repeat`` runs; pairwise
precision/recall at cluster level against the generator's truth.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_dedupe import _f1, _truth_pairs, generate


def _usage() -> tuple[float, float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        me.ru_maxrss / 1024,
        kids.ru_maxrss / 1024,
    )


def _scores(result: Any, truth: list[int], ids: list[str]) -> dict[str, float]:
    pred = {tuple(sorted(p)) for c in result.clusters for p in itertools.combinations(c, 2)}
    f, p, r = _f1(pred, _truth_pairs(truth, ids))
    return {"f1": round(f, 4), "precision": round(p, 4), "recall": round(r, 4)}


def run_side(side: str, n: int, passes: list[str] | None = None) -> dict[str, Any]:
    import warnings

    from custdata import Customer, open_store
    from custdata.matching import INDEX_PASSES, dedupe, dedupe_store, update_block_index
    from custdata.security import Keyring
    from custdata.security._records import RecordCipher

    warnings.simplefilter("ignore")  # capped blocks
    rows, truth = generate(n)
    ids = [r["id"] for r in rows]
    records = [Customer.from_dict(r) for r in rows]
    del rows
    out: dict[str, Any] = {"side": side, "n": n}
    if side == "store":
        opened = [0]
        original = RecordCipher.open_body

        def counted(self: RecordCipher, body: Any, *args: Any, **kwargs: Any) -> Any:
            opened[0] += 1
            return original(self, body, *args, **kwargs)

        RecordCipher.open_body = counted  # type: ignore[method-assign]
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(f"sqlite:///{tmp}/bench.db", keyring=Keyring.generate())
            t0 = time.perf_counter()
            store.upsert_many(records)
            store.optimize()  # type: ignore[attr-defined]
            out["load_s"] = round(time.perf_counter() - t0, 2)
            del records
            t0 = time.perf_counter()
            update_block_index(store)
            store.optimize()  # type: ignore[attr-defined]
            out["index_s"] = round(time.perf_counter() - t0, 2)
            opened[0] = 0
            cpu0 = _usage()[0]
            t0 = time.perf_counter()
            result = dedupe_store(store)
            out["dedupe_s"] = round(time.perf_counter() - t0, 2)
            out["cpu_s"] = round(_usage()[0] - cpu0, 2)
            out["opened"] = opened[0]
            out["passes"] = list(result.settings.passes or ())
            store.close()
    else:
        kw: dict[str, Any] = {}
        if side == "memory":
            kw["passes"] = passes if passes is not None else list(INDEX_PASSES)
        cpu0 = _usage()[0]
        t0 = time.perf_counter()
        result = dedupe(records, **kw)
        out["dedupe_s"] = round(time.perf_counter() - t0, 2)
        out["cpu_s"] = round(_usage()[0] - cpu0, 2)
    out["clusters"] = len(result.clusters)
    out["candidate_pairs"] = len(result.pairs)
    out.update(_scores(result, truth, ids))
    _, peak, workers = _usage()
    out["peak_mb"], out["peak_worker_mb"] = round(peak), round(workers)
    return out


def leakage(n: int) -> None:
    """Per blocking pass: keys, keys shared by two or more customers, customers sharing one, the largest
    group; and how many customers dedupe_store decrypts (those sharing a key in a pass that runs)."""
    from custdata import Customer
    from custdata.matching import INDEX_PASSES
    from custdata.matching._blocking import _EXTRA_BUDGET, EXTRA_PASSES
    from custdata.matching._features import features_of

    rows, _ = generate(n)
    feats = [features_of(Customer.from_dict(r)) for r in rows]
    print(f"{n} generated customers (20 % duplicates)\n")
    print("| pass | keys | keys shared by 2+ customers | customers sharing a key | largest group | runs |")
    print("|---|---:|---:|---:|---:|---|")
    opened: set[int] = set()
    for name, fn in INDEX_PASSES.items():
        groups: dict[str, set[int]] = collections.defaultdict(set)
        for i, f in enumerate(feats):
            for key in fn(f):
                groups[key].add(i)
        shared = [m for m in groups.values() if len(m) > 1]
        members = set().union(*shared) if shared else set()
        full = sum(len(m) * (len(m) - 1) // 2 for m in shared if len(m) <= 100)
        capped = [len(m) for m in shared if len(m) > 100]
        runs = name not in EXTRA_PASSES or not (capped or full + 2 * sum(capped) > _EXTRA_BUDGET * n)
        if runs:
            opened |= members
        biggest = max((len(m) for m in shared), default=0)
        print(
            f"| {name} | {len(groups):,} | {len(shared):,} | {len(members):,} ({100 * len(members) / n:.1f} %) "
            f"| {biggest} | {'yes' if runs else 'no (not selective)'} |"
        )
    print(
        f"\ncustomers in a candidate group (decrypted by dedupe_store): {len(opened):,} ({100 * len(opened) / n:.1f} %)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="5,000 records, once")
    ap.add_argument("--leakage", action="store_true", help="print the block index leakage table")
    ap.add_argument("--side", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--passes", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.repeat = [5_000], 1
    if args.side is not None:
        passes = None if args.passes is None else [p for p in args.passes.split(",") if p]
        print(json.dumps(run_side(args.side, args.sizes[0], passes)))
        return
    if args.leakage:
        for n in args.sizes:
            leakage(n)
        return
    for n in args.sizes:
        ran: list[str] | None = None  # the passes dedupe_store ran: the memory side runs the same
        for side in ("store", "memory", "memory-default"):
            runs = []
            for _ in range(args.repeat):
                extra = ["--passes", ",".join(ran)] if side == "memory" and ran is not None else []
                proc = subprocess.run(
                    [sys.executable, __file__, "--side", side, "--sizes", str(n), *extra],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if proc.returncode:
                    print(side, n, "failed:", proc.stderr.strip()[-2000:], flush=True)
                    break
                runs.append(json.loads(proc.stdout))
            if not runs:
                continue
            if side == "store":
                ran = list(runs[-1]["passes"])
            summary = dict(runs[-1])
            for key in ("dedupe_s", "cpu_s", "load_s", "index_s", "peak_mb", "peak_worker_mb"):
                if key in summary:
                    summary[key] = statistics.median(r[key] for r in runs)
            summary["repeats"] = len(runs)
            print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
