"""Excel workbooks: custdata's read_excel (python-calamine) and write_excel (openpyxl) beside pandas.

Run:  python benchmarks/bench_excel.py --rows 100000 --repeat 5
      python benchmarks/bench_excel.py --quick          (a small check that every side runs)

All sides work on the same workbook (written once by write_excel: N customers in the flat layout, 13
columns). Read sides: custdata.read_excel (typed, validated records); pandas.read_excel with
engine="calamine" and engine="openpyxl" (dtype=str, pandas' advice for phone and id columns); the bare
engines (python-calamine's to_python, openpyxl's read-only iter_rows) for what the engine alone costs.
Write sides: custdata.write_excel; DataFrame.to_excel with engine="xlsxwriter" (pandas' fastest
documented .xlsx writer) and engine="openpyxl", from a DataFrame of the same text cells (building the
DataFrame is not timed). Each measurement runs in a fresh process: wall time, CPU time (user+system)
the rise of the peak resident memory over the process after its imports (and for a write, after the
records or the DataFrame were built: 0 means the write never went above that) and the process's whole peak
resident memory; medians over --repeat.
pandas and custdata do different amounts of work (custdata validates and builds records), so the
ratios show what that work costs.
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
from typing import Any

SIDES_READ = [
    "custdata.read_excel",
    "pandas.read_excel[calamine]",
    "pandas.read_excel[openpyxl]",
    "python-calamine (bare)",
    "openpyxl read-only (bare)",
]
SIDES_WRITE = ["custdata.write_excel", "pandas.to_excel[xlsxwriter]", "pandas.to_excel[openpyxl]"]


def _customers(n: int) -> list[Any]:
    import custdata

    return [
        custdata.Customer.from_dict(
            {
                "id": f"c{i:07d}",
                "name": {"full": f"客户{i}"},
                "phones": [{"number": f"138{i:08d}", "kind": "mobile"}],
                "emails": [{"address": f"user{i}@example.com"}],
                "addresses": [{"country": "CN", "city": "上海市", "postal_code": f"{200000 + i % 1000}"}],
                "birthday": f"19{50 + i % 50}-0{1 + i % 9}-1{i % 9}",
                "tags": ["vip"] if i % 7 == 0 else [],
                "created_at": "2026-01-02T03:04:05+08:00",
            }
        )
        for i in range(n)
    ]


def _work(side: str, workbook: str, out: str) -> None:
    """One measured operation (run in a fresh process by main)."""
    import custdata

    if side.startswith("pandas"):
        import pandas as pd
    if side.startswith(("pandas.to_excel", "custdata.write")):
        records = list(custdata.read_excel(workbook))
        frame = pd.DataFrame(list(custdata.io.to_rows(records))) if side.startswith("pandas") else None
    import openpyxl
    import python_calamine

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    if side == "custdata.read_excel":
        n = sum(1 for _ in custdata.read_excel(workbook))
    elif side == "pandas.read_excel[calamine]":
        n = len(pd.read_excel(workbook, engine="calamine", dtype=str))
    elif side == "pandas.read_excel[openpyxl]":
        n = len(pd.read_excel(workbook, engine="openpyxl", dtype=str))
    elif side == "python-calamine (bare)":
        n = len(python_calamine.CalamineWorkbook.from_path(workbook).get_sheet_by_index(0).to_python()) - 1
    elif side == "openpyxl read-only (bare)":
        wb = openpyxl.load_workbook(workbook, read_only=True, data_only=True)
        n = sum(1 for _ in wb.active.iter_rows(values_only=True)) - 1
        wb.close()
    elif side == "custdata.write_excel":
        n = custdata.write_excel(records, out)
    elif side == "pandas.to_excel[xlsxwriter]":
        assert frame is not None
        frame.to_excel(out, index=False, engine="xlsxwriter")
        n = len(frame)
    elif side == "pandas.to_excel[openpyxl]":
        assert frame is not None
        frame.to_excel(out, index=False, engine="openpyxl")
        n = len(frame)
    else:
        raise SystemExit(f"unknown side {side!r}")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    total = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {"n": n, "wall": wall, "cpu": cpu, "peak_mib": (total - before) / 1024, "total_mib": total / 1024}
        )
    )


def _measure(side: str, workbook: str, out: str, repeat: int) -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        r = subprocess.run(
            [sys.executable, __file__, "--worker", side, workbook, out],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(r.stdout.strip().splitlines()[-1]))
    return {
        k: statistics.median(run[k] for run in runs) for k in ("n", "wall", "cpu", "peak_mib", "total_mib")
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2,000 rows, one run per side")
    parser.add_argument("--worker", nargs=3, metavar=("SIDE", "WORKBOOK", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _work(*args.worker)
        return
    rows, repeat = (2_000, 1) if args.quick else (args.rows, args.repeat)
    import custdata

    tmp = tempfile.mkdtemp()
    workbook = os.path.join(tmp, "customers.xlsx")
    custdata.write_excel(_customers(rows), workbook)
    print(
        f"{rows:,} customers, {os.path.getsize(workbook) / 2**20:.1f} MiB workbook; medians of {repeat}; "
        f"{os.cpu_count()} CPUs; python {sys.version.split()[0]}"
    )
    print(f"{'side':32} {'rows/s':>10} {'wall s':>8} {'CPU s':>8} {'rise MiB':>9} {'peak MiB':>9}")
    for title, sides in (("read", SIDES_READ), ("write", SIDES_WRITE)):
        print(f"-- {title}")
        for side in sides:
            m = _measure(side, workbook, os.path.join(tmp, f"out-{len(side)}.xlsx"), repeat)
            assert m["n"] == rows, (side, m["n"])
            print(
                f"{side:32} {rows / m['wall']:>10,.0f} {m['wall']:>8.2f} {m['cpu']:>8.2f} {m['peak_mib']:>9.1f} "
                f"{m['total_mib']:>9.1f}"
            )


if __name__ == "__main__":
    main()
