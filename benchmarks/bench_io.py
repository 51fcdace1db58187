"""Records and I/O throughput: custdata's CSV and Parquet readers and writers beside the stdlib csv module,
pandas and pyarrow, on the same files in the same run.

Run:  python benchmarks/bench_io.py [N] [--repeat R] [--quick] [--only NAME ...]
      (default N = 1,000,000 customers, R = 3; --quick: N = 20,000, R = 1, to check the script;
      --only: the operations whose names contain one of the words, e.g. --only csv)

Each operation runs R times, each time in a fresh process (so peak memory is that operation's own); the
table shows the median wall time, records/s, the median CPU time of the process and its peak resident
memory (ru_maxrss). The files are written once, by custdata, before the timed runs.

The peers do less work than custdata (no validation, no typed records, no header mapping, no formula
guard): ``pandas.read_csv(dtype=str)`` gives a DataFrame of strings, ``pyarrow.parquet.read_table`` an
Arrow table. ``read_csv`` is timed with ``engine="rows"`` (the row reader) and ``engine="columnar"``
(pyarrow's CSV reader, then the records), which give the same records.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import custdata
from custdata.io._convert import customer_row
from custdata.io._headers import CUSTOMER_COLUMNS


def _customers(n: int) -> list[custdata.Customer]:
    out = []
    for i in range(n):
        out.append(
            custdata.Customer.from_dict(
                {
                    "id": f"c{i}",
                    "name": {"full": f"客户{i}"},
                    "phones": [{"number": f"+86138{i:08d}", "kind": "mobile", "primary": True}],
                    "emails": [{"address": f"user{i}@example.com"}],
                    "addresses": [{"country": "CN", "city": "上海市"}],
                    "birthday": "1990-01-02",
                    "tags": ["vip"] if i % 7 == 0 else [],
                    "created_at": "2026-01-02T03:04:05+08:00",
                }
            )
        )
    return out


# ------------------------------------------------------------------------------------------ operations
def _ops(folder: str) -> dict[str, Callable[[], int]]:
    """name -> a function doing the work once and returning the number of records it handled."""
    flat = os.path.join(folder, "flat.csv")
    layout_json = os.path.join(folder, "json.csv")
    raw = os.path.join(folder, "raw.csv")
    parquet = os.path.join(folder, "c.parquet")
    dicts = os.path.join(folder, "dicts.jsonl")

    def count(it: object) -> int:
        n = 0
        for _ in it:  # type: ignore[attr-defined]
            n += 1
        return n

    def records() -> list[custdata.Customer]:
        return list(custdata.read_jsonl(dicts))

    def from_dict() -> int:
        with open(dicts, encoding="utf-8") as fh:
            data = [json.loads(line) for line in fh]
        t = time.perf_counter()
        for d in data:
            custdata.Customer.from_dict(d)
        return -int((time.perf_counter() - t) * 1e9) or -1  # timed inside: the load is not counted

    def pandas_csv() -> int:
        import pandas as pd

        return len(pd.read_csv(flat, dtype=str, keep_default_na=False))

    def pandas_parquet() -> int:
        import pandas as pd

        return len(pd.read_parquet(parquet))

    def arrow_parquet() -> int:
        import pyarrow.parquet as pq

        return int(pq.read_table(parquet).num_rows)

    def stdlib_csv() -> int:
        with open(raw, encoding="utf-8-sig", newline="") as fh:
            return count(csv.reader(fh)) - 1

    return {
        "read_csv(engine='rows')": lambda: count(custdata.read_csv(flat, engine="rows")),
        "read_csv(engine='columnar')": lambda: count(custdata.read_csv(flat, engine="columnar")),
        "pandas.read_csv(dtype=str)": pandas_csv,
        "stdlib csv.reader (lists of str)": stdlib_csv,
        "read_csv (json-layout file)": lambda: count(custdata.read_csv(layout_json, engine="rows")),
        "read_parquet": lambda: count(custdata.io.read_parquet(parquet)),
        "pandas.read_parquet": pandas_parquet,
        "pyarrow.parquet.read_table": arrow_parquet,
        "write_csv (flat, from records)": lambda: custdata.write_csv(
            records(), os.path.join(folder, "w.csv")
        ),
        "write_parquet (from records)": lambda: custdata.io.write_parquet(
            records(), os.path.join(folder, "w.parquet")
        ),
        "Customer.from_dict": from_dict,
    }


def _child(folder: str, name: str) -> None:
    op = _ops(folder)[name]
    for module in ("pandas", "pyarrow.csv", "pyarrow.parquet", "custdata.normalization"):
        with contextlib.suppress(ImportError):  # imported before the clock starts, for every operation
            __import__(module)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    n = op()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if n < 0:  # an operation that timed its own inner loop
        wall = cpu = -n / 1e9
        n = -1
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_mib": _peak_kib() / 1024, "n": n}))


def _peak_kib() -> int:
    """This process's peak resident memory: VmHWM (reset by exec, unlike ru_maxrss, which a process
    started by a large parent inherits), else ru_maxrss."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _prepare(folder: str, n: int) -> None:
    cs = _customers(n)
    custdata.write_csv(cs, os.path.join(folder, "flat.csv"))
    custdata.write_csv(cs, os.path.join(folder, "json.csv"), layout="json")
    custdata.write_jsonl(cs, os.path.join(folder, "dicts.jsonl"))
    custdata.io.write_parquet(cs, os.path.join(folder, "c.parquet"))
    with open(os.path.join(folder, "raw.csv"), "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CUSTOMER_COLUMNS)
        w.writerows(customer_row(c) for c in cs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20,000 customers, one run each")
    parser.add_argument(
        "--only", nargs="+", metavar="WORD", help="only the operations whose names contain one of the words"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    n, repeat = (20_000, 1) if args.quick else (args.n, args.repeat)
    folder = tempfile.mkdtemp(prefix="custdata-bench-io-")
    try:
        _run(folder, n, repeat, args.only)
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the files are large at 1M customers


def _run(folder: str, n: int, repeat: int, only: list[str] | None) -> None:
    _prepare(folder, n)
    first = list(custdata.read_csv(os.path.join(folder, "flat.csv"), engine="rows"))
    second = list(custdata.read_csv(os.path.join(folder, "flat.csv"), engine="columnar"))
    assert first == second, "the two engines disagree"
    del first, second
    print(f"N = {n:,} customers; medians of {repeat} runs, each in a fresh process")
    print(f"{'operation':36s} {'wall s':>8s} {'records/s':>12s} {'CPU s':>8s} {'peak MiB':>9s}")
    for name in _ops(folder):
        if only and not any(w in name for w in only):
            continue
        runs = []
        for _ in range(repeat):
            done = subprocess.run(
                [sys.executable, __file__, "--child", folder, name],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                print(f"{name:36s} failed: {done.stderr.strip().splitlines()[-1:]}")
                break
            runs.append(json.loads(done.stdout))
        if len(runs) != repeat:
            continue
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        peak = statistics.median(r["peak_mib"] for r in runs)
        print(f"{name:36s} {wall:8.2f} {n / wall:12,.0f} {cpu:8.2f} {peak:9.0f}")


if __name__ == "__main__":
    main()
