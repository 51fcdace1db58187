"""Records and I/O throughput: custdata's CSV reader/writer beside the bare stdlib csv module and pandas.

Run: python benchmarks/bench_io.py [N]   (default N = 200_000 customers; medians of 3 runs)

The peers do less work than custdata (no validation, no typed records, no header mapping, no formula
guard), so the ratios show what that work costs, not a like-for-like race.
"""

from __future__ import annotations

import csv
import os
import statistics
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


def _median(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    cs = _customers(n)
    tmp = tempfile.mkdtemp()
    ours = os.path.join(tmp, "ours.csv")
    ours_json = os.path.join(tmp, "ours-json.csv")
    raw = os.path.join(tmp, "raw.csv")
    rows = [customer_row(c) for c in cs]

    def write_ours() -> None:
        custdata.write_csv(cs, ours)

    def write_ours_json() -> None:
        custdata.write_csv(cs, ours_json, layout="json")

    def write_raw() -> None:
        with open(raw, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(CUSTOMER_COLUMNS)
            w.writerows(rows)

    def read_ours() -> None:
        for _ in custdata.read_csv(ours):
            pass

    def read_ours_json() -> None:
        for _ in custdata.read_csv(ours_json):
            pass

    def read_raw() -> None:
        with open(raw, encoding="utf-8-sig", newline="") as fh:
            for _ in csv.reader(fh):
                pass

    def from_dict() -> None:
        for d in dicts:
            custdata.Customer.from_dict(d)

    dicts = [c.to_dict() for c in cs]
    results = {
        "write_csv (flat layout, the default)": _median(write_ours),
        "write_csv(layout='json')": _median(write_ours_json),
        "stdlib csv.writer (pre-built rows)": _median(write_raw),
        "read_csv (typed, validated records)": _median(read_ours),
        "read_csv (the json-layout file)": _median(read_ours_json),
        "stdlib csv.reader (lists of str)": _median(read_raw),
        "Customer.from_dict": _median(from_dict),
    }
    try:
        import pandas as pd

        results["pandas.read_csv (all columns as str)"] = _median(lambda: pd.read_csv(raw, dtype=str))
        frame = pd.read_csv(raw, dtype=str)
        results["pandas DataFrame.to_csv (same cells)"] = _median(
            lambda: frame.to_csv(os.path.join(tmp, "pd.csv"), index=False, encoding="utf-8-sig")
        )
    except ImportError:
        pass
    print(f"N = {n} customers, medians of 3 runs")
    for name, secs in results.items():
        print(f"{name:40s} {secs:7.2f} s  {n / secs:10,.0f} records/s")
    print(
        f"read_csv / csv.reader time ratio: {results['read_csv (typed, validated records)'] / results['stdlib csv.reader (lists of str)']:.1f}x"
    )


if __name__ == "__main__":
    main()
