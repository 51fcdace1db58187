"""CLV model fitting speed: custdata beside lifetimes, on the same simulated data, in the same run.

Run: python benchmarks/bench_clv.py [N_BG] [N_PARETO] [REPEAT]   (defaults 1_000_000, 100_000 and 5)

The data are simulated from the models' own stories with the published CDNOW parameters: customers are
acquired over 12 weeks and observed until week 39, purchase times recorded to the day (as CDNOW's are),
so recency and T take whole days / 7, as in a real summary. Both libraries fit the same summary file.

The same work on both sides. Each side runs in its own fresh process, reads the same CSV file before the
clock starts, and then times, per fit: collapsing identical (frequency, recency, T) rows into weights
and the weighted maximum-likelihood fit. custdata collapses inside ``fit``; lifetimes is given the
collapsed rows and ``fit(..., weights=)``, its documented way to fit large data (the collapsing, a
pandas ``groupby``, is inside its timing too). Both compute their Hessian-based standard errors as part
of the fit (custdata) or on demand (lifetimes: not requested). Reported per side: the median wall time
of REPEAT fits, the median CPU time of the process over the same fits (all threads), and the process's
peak resident memory (total, and above what it held after reading the data). Ratios are always
lifetimes ÷ custdata (above 1: custdata takes less).

lifetimes (last release 2020) does not run on pandas 2, so it runs in its own virtual environment,
benchmarks/_peers/lifetimes-venv (gitignored), made once with

    uv venv --python 3.11 benchmarks/_peers/lifetimes-venv
    uv pip install --python benchmarks/_peers/lifetimes-venv/bin/python lifetimes "pandas<2" "numpy<2" "scipy<1.12"

Results go to benchmarks/_data/bench_clv.json and are printed as a Markdown table.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
PEER_PY = HERE / "_peers" / "lifetimes-venv" / "bin" / "python"

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}


def simulate(n: int, model: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """frequency, recency, T (weeks; times to the day) for n customers of the BG/NBD or Pareto/NBD story."""
    rng = np.random.default_rng(seed)
    first_day = rng.integers(0, 84, n)  # acquired in the first 12 weeks
    age = (273 - first_day) / 7.0  # observed until day 273 (week 39)
    if model == "bgnbd":
        lam = rng.gamma(BG["r"], 1.0 / BG["alpha"], n)
        p = rng.beta(BG["a"], BG["b"], n)
        death = np.full(n, np.inf)
    else:
        lam = rng.gamma(PNBD["r"], 1.0 / PNBD["alpha"], n)
        mu = rng.gamma(PNBD["s"], 1.0 / PNBD["beta"], n)
        death = rng.exponential(1.0 / mu)
        p = np.zeros(n)
    x = np.zeros(n, dtype=np.int64)
    last = np.zeros(n)
    t = np.zeros(n)
    active = np.arange(n)
    while active.size:
        t[active] += rng.exponential(1.0 / lam[active])
        ok = (t[active] <= age[active]) & (t[active] <= death[active])
        buyers = active[ok]
        x[buyers] += 1
        last[buyers] = t[buyers]
        stays = rng.random(buyers.size) >= p[buyers]  # BG/NBD: may drop out after each purchase
        active = buyers[stays]
    recency = np.floor(last * 7.0) / 7.0  # to the day
    return x.astype(float), np.minimum(recency, age), age


def write(path: Path, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
    np.savetxt(
        path,
        np.column_stack([x, t_x, T]),
        delimiter=",",
        header="frequency,recency,T",
        comments="",
        fmt=["%d", "%.6f", "%.6f"],
    )


OURS_SCRIPT = r"""
import json, resource, statistics, sys, time
import numpy as np
from custdata import metrics
path, model, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = np.loadtxt(path, delimiter=",", skiprows=1)
x, t_x, T = data[:, 0].copy(), data[:, 1].copy(), data[:, 2].copy()
cls = metrics.BetaGeoModel if model == "bgnbd" else metrics.ParetoNBDModel
rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cls().fit(frequency=x, recency=t_x, T=T)  # warm-up: the first fit imports scipy.optimize
times, cpu = [], []
for _ in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    m = cls().fit(frequency=x, recency=t_x, T=T)
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
print(json.dumps({"median": statistics.median(times), "times": times, "cpu_median": statistics.median(cpu),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "data_rss_mb": rss_data / 1024, "params": m.params, "numpy": np.__version__}))
"""


PEER_SCRIPT = r"""
import json, resource, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import lifetimes
path, model, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = pd.read_csv(path)
rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times, cpu, params, rows = [], [], None, 0
for _ in range(repeat):
    m = lifetimes.BetaGeoFitter() if model == "bgnbd" else lifetimes.ParetoNBDFitter()
    t0, c0 = time.perf_counter(), time.process_time()
    grouped = df.groupby(["frequency", "recency", "T"]).size().reset_index(name="weights")
    m.fit(grouped["frequency"], grouped["recency"], grouped["T"], weights=grouped["weights"])
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
    params, rows = {k: float(v) for k, v in m.params_.items()}, len(grouped)
print(json.dumps({"median": statistics.median(times), "times": times, "cpu_median": statistics.median(cpu),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "data_rss_mb": rss_data / 1024, "params": params, "rows_fitted": rows,
                  "version": lifetimes.__version__, "pandas": pd.__version__}))
"""


def run_side(python: Path | str, script: str, *args: str) -> dict[str, object] | None:
    out = subprocess.run([str(python), "-c", script, *args], capture_output=True, text=True, check=False)
    if out.returncode:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(model: str, n: int, repeat: int, seed: int) -> dict[str, object]:
    x, t_x, T = simulate(n, model, seed)
    DATA.mkdir(exist_ok=True)
    path = DATA / f"clv_{model}_{n}.csv"
    write(path, x, t_x, T)
    rows = len(np.unique(np.column_stack([x, t_x, T]), axis=0))
    ours = run_side(sys.executable, OURS_SCRIPT, str(path), model, str(repeat))
    theirs = None
    if PEER_PY.exists():
        theirs = run_side(PEER_PY, PEER_SCRIPT, str(path), model, str(max(3, repeat // 2)))
    else:
        print(f"lifetimes venv missing ({PEER_PY}); see this script's docstring", file=sys.stderr)

    def ratio(key: str) -> float | None:
        return theirs[key] / ours[key] if ours and theirs else None  # type: ignore[operator,index]

    result = {
        "model": model,
        "customers": n,
        "distinct_rows": rows,
        "true_params": BG if model == "bgnbd" else PNBD,
        "custdata": ours,
        "lifetimes_weighted": theirs,
        "ratio_wall": ratio("median"),
        "ratio_cpu": ratio("cpu_median"),
        "ratio_peak_memory": ratio("peak_rss_mb"),
    }
    print(json.dumps(result, indent=1), flush=True)
    return result


def main() -> None:
    n_bg = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_pnbd = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    load_before = os.getloadavg()
    results = [bench("bgnbd", n_bg, repeat, seed=1), bench("pareto", n_pnbd, repeat, seed=2)]
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "load_average_1_5_15_before": load_before,
        "load_average_1_5_15_after": os.getloadavg(),
    }
    DATA.mkdir(exist_ok=True)
    (DATA / "bench_clv.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(f"\nload average (1, 5, 15 min) before {load_before}, after {meta['load_average_1_5_15_after']}\n")
    print(
        "| model | customers | distinct rows | custdata wall / CPU / peak RSS | "
        "lifetimes (weights=) wall / CPU / peak RSS | lifetimes ÷ custdata: wall, CPU, memory |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        o, t = r["custdata"], r["lifetimes_weighted"]

        def cell(side: object) -> str:
            if not side:
                return "n/a"
            return f"{side['median']:.3f} s / {side['cpu_median']:.3f} s / {side['peak_rss_mb']:.0f} MB"  # type: ignore[index]

        ratios = (
            f"{r['ratio_wall']:.1f}×, {r['ratio_cpu']:.1f}×, {r['ratio_peak_memory']:.1f}×"
            if r["ratio_wall"]
            else "n/a"
        )
        print(
            f"| {r['model']} | {r['customers']:,} | {r['distinct_rows']:,} | {cell(o)} | {cell(t)} | {ratios} |"
        )


if __name__ == "__main__":
    main()
