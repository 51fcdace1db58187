"""CLV model fitting speed: custdata beside lifetimes, on the same simulated data, in the same run.

Run: python benchmarks/bench_clv.py [N_BG] [N_PARETO]   (defaults 1_000_000 and 100_000)

The data are simulated from the models' own stories with the published CDNOW parameters: customers are
acquired over 12 weeks and observed until week 39, purchase times recorded to the day (as CDNOW's are),
so recency and T take whole days / 7, as in a real summary. Both libraries fit the same summary file.

lifetimes (last release 2020) does not run on pandas 2, so it runs in its own virtual environment in a
subprocess: benchmarks/_peers/lifetimes-venv (gitignored), made once with

    python -m venv benchmarks/_peers/lifetimes-venv
    benchmarks/_peers/lifetimes-venv/bin/pip install lifetimes "pandas<2" "numpy<2" "scipy<1.12"

pymc-marketing, when benchmarks/_peers/pymc-venv exists (python -m venv …; pip install pymc-marketing),
fits the same BG/NBD file by MAP, its fastest method (no standard errors); its first fit includes
compiling the model.

Times are wall-clock medians of repeated fits (fit only: the data are already in memory as arrays or a
DataFrame; custdata's time includes collapsing duplicate rows and the standard errors, lifetimes' its
Hessian). Results go to benchmarks/_data/bench_clv.json and are printed as a Markdown table.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from custdata import metrics

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
PEER_PY = HERE / "_peers" / "lifetimes-venv" / "bin" / "python"
PYMC_PY = HERE / "_peers" / "pymc-venv" / "bin" / "python"  # optional: pip install pymc-marketing

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


def median_time(fn, repeat: int) -> tuple[float, list[float], float, object]:
    """Median wall-clock time, all wall times, median CPU time of this process, last result."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), times, statistics.median(cpu), result


PEER_SCRIPT = r"""
import json, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import lifetimes
path, model, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
df = pd.read_csv(path)
times, cpu, params = [], [], None
for _ in range(repeat):
    m = lifetimes.BetaGeoFitter() if model == "bgnbd" else lifetimes.ParetoNBDFitter()
    t0, c0 = time.perf_counter(), time.process_time()
    m.fit(df["frequency"], df["recency"], df["T"])
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
    params = {k: float(v) for k, v in m.params_.items()}
print(json.dumps({"median": statistics.median(times), "times": times, "cpu_median": statistics.median(cpu), "params": params,
                  "version": lifetimes.__version__, "pandas": pd.__version__}))
"""


PYMC_SCRIPT = r"""
import json, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
import pymc_marketing
from pymc_marketing.clv import BetaGeoModel
path, repeat = sys.argv[1], int(sys.argv[2])
df = pd.read_csv(path)
df.insert(0, "customer_id", range(len(df)))
times, params = [], None
for _ in range(repeat):
    t0 = time.perf_counter()
    m = BetaGeoModel(data=df)
    m.fit(method="map", progressbar=False)
    times.append(time.perf_counter() - t0)
    params = {k: float(m.idata.posterior[k].values.mean()) for k in ("r", "alpha", "a", "b")}
print(json.dumps({"first": times[0], "median_after_first": statistics.median(times[1:]), "times": times,
                  "params": params, "version": pymc_marketing.__version__}))
"""


def pymc_peer(path: Path, repeat: int) -> dict[str, object] | None:
    """pymc-marketing's BG/NBD, fitted by MAP (its fastest method; no standard errors), when installed."""
    if not PYMC_PY.exists():
        return None
    out = subprocess.run(
        [str(PYMC_PY), "-c", PYMC_SCRIPT, str(path), str(repeat)], capture_output=True, text=True, check=False
    )
    if out.returncode:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def peer(path: Path, model: str, repeat: int) -> dict[str, object] | None:
    if not PEER_PY.exists():
        print(f"lifetimes venv missing ({PEER_PY}); see this script's docstring", file=sys.stderr)
        return None
    out = subprocess.run(
        [str(PEER_PY), "-c", PEER_SCRIPT, str(path), model, str(repeat)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(model: str, n: int, repeat_ours: int, repeat_peer: int, seed: int) -> dict[str, object]:
    x, t_x, T = simulate(n, model, seed)
    DATA.mkdir(exist_ok=True)
    path = DATA / f"clv_{model}_{n}.csv"
    write(path, x, t_x, T)
    cls = metrics.BetaGeoModel if model == "bgnbd" else metrics.ParetoNBDModel
    rows = len(np.unique(np.column_stack([x, t_x, T]), axis=0))
    cls().fit(frequency=x, recency=t_x, T=T)  # warm-up: first use imports scipy.optimize
    ours, ours_times, ours_cpu, fitted = median_time(
        lambda: cls().fit(frequency=x, recency=t_x, T=T), repeat_ours
    )
    theirs = peer(path, model, repeat_peer)
    pymc = pymc_peer(path, 3) if model == "bgnbd" else None
    result = {
        "model": model,
        "customers": n,
        "distinct_rows": rows,
        "custdata_median_s": ours,
        "custdata_times_s": ours_times,
        "custdata_cpu_median_s": ours_cpu,
        "custdata_params": fitted.params,  # type: ignore[attr-defined]
        "true_params": BG if model == "bgnbd" else PNBD,
        "lifetimes": theirs,
        "pymc_marketing_map": pymc,
        "ratio": (theirs["median"] / ours) if theirs else None,
        "cpu_ratio": (theirs["cpu_median"] / ours_cpu) if theirs else None,
    }
    print(json.dumps(result, indent=1), flush=True)
    return result


def main() -> None:
    n_bg = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_pnbd = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    load_before = os.getloadavg()[0]
    results = [bench("bgnbd", n_bg, 7, 3, seed=1), bench("pareto", n_pnbd, 7, 3, seed=2)]
    meta = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "load_average_before_after": [load_before, os.getloadavg()[0]],
    }
    DATA.mkdir(exist_ok=True)
    (DATA / "bench_clv.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(f"\nload average (1 min) before/after: {meta['load_average_before_after']}\n")
    print(
        "| model | customers | distinct rows | custdata (median) | lifetimes (median) | ratio | CPU-time ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        peer_t = r["lifetimes"]["median"] if r["lifetimes"] else float("nan")  # type: ignore[index]
        ratio = f"{r['ratio']:.1f}×" if r["ratio"] else "n/a"
        cpu_ratio = f"{r['cpu_ratio']:.1f}×" if r["cpu_ratio"] else "n/a"
        print(
            f"| {r['model']} | {r['customers']:,} | {r['distinct_rows']:,} | {r['custdata_median_s']:.3f} s "
            f"| {peer_t:.2f} s | {ratio} | {cpu_ratio} |"
        )
    for r in results:
        p = r["pymc_marketing_map"]
        if p:
            print(
                f"pymc-marketing {p['version']} MAP ({r['model']}): first fit {p['first']:.1f} s (compiles), "
                f"then {p['median_after_first']:.1f} s: {p['median_after_first'] / r['custdata_median_s']:.0f}x"
            )


if __name__ == "__main__":
    main()
