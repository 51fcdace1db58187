"""Run the benchmarks one after another, each in its own process, and keep their output as evidence.

    python benchmarks/run_all.py                       # every job at its full size, in priority order
    python benchmarks/run_all.py --quick               # every job at a tiny size: checks the scripts run
    python benchmarks/run_all.py --only dedupe clv     # some jobs (in the order given)
    python benchmarks/run_all.py --deadline 17:10      # skip a job whose expected time no longer fits
    python benchmarks/run_all.py --list                # the jobs, their commands, budgets and expected times

``--online-retail PATH`` (or ``CUSTDATA_BENCH_ONLINE_RETAIL``) is the UCI Online Retail CSV that
``bench_needs.py`` reads; custdata does not ship it, and without it that job is skipped. The path is
written as ``$ONLINE_RETAIL`` in the saved output.

Each job runs with this checkout's ``src/`` first on ``PYTHONPATH`` and the same interpreter as this
script, in a session of its own, killed (its whole process group) when it overruns its time budget. For
each job ``benchmarks/results/<commit>/<job>.txt`` gets the command, the commit (``git rev-parse HEAD``,
with ``+dirty`` when ``src/``, ``benchmarks/`` or ``pyproject.toml`` has uncommitted changes), start and
end time (UTC), the 1-minute load average at the start, at the end and the highest seen during the job
(sampled every 5 s), the exit status, the wall time and CPU time of the job's processes (servers it
started apart), and the job's whole output (stdout, then stderr). ``summary.txt`` in the same folder
lists every job of the run; ``--quick`` runs go to ``<commit>-quick`` instead (not committed).

Figures measured while the load average is above the number of cores are not worth keeping: run this on
a quiet machine, or pin it to CPUs nothing else uses (``taskset -c 0 python benchmarks/run_all.py ...`` with
every other process moved to the other CPUs): the pinned CPUs go into the folder's name
(``<commit>-cpu0``) and each job's output records the busy time of every CPU during the job, which shows
whether the pinned CPU was the job's alone. Jobs that run workers or a database server need the cores
they would have on a user's machine: run those unpinned on a quiet machine. Sizes and budgets below are those of the quiet-window run whose figures are in
docs/performance.md; the comment on each job says where that is smaller than the issue's full scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DATA_TOKEN = "$ONLINE_RETAIL"
PYTHON_TOKEN = (
    "$PYTHON"  # this interpreter (the peers splink and recordlinkage are installed beside custdata)
)


@dataclass(frozen=True)
class Job:
    name: str
    script: str
    args: list[str]
    quick: list[str]
    budget: int  # seconds before the job is killed
    expect: int  # seconds it took on a quiet machine (used by --deadline)
    needs_data: bool = False
    note: str = field(default="")


# In priority order (the order of the quiet-window plan).
JOBS = [
    Job("dedupe", "bench_dedupe.py", ["--sizes", "100000", "300000", "--repeat", "3"], ["--quick"], 720, 400),
    Job(
        "dedupe_1m", "bench_dedupe.py", ["--sizes", "1000000", "--repeat", "1"], ["--sizes", "3000"], 720, 400
    ),
    Job(
        "dedupe_1m_splink",
        "bench_dedupe.py",
        ["--sizes", "1000000", "--repeat", "1", "--only-splink"],
        ["--sizes", "3000", "--only-splink"],
        600,
        240,
        note="splink's side alone (for a run where dedupe_1m ran out of time before it)",
    ),
    Job("clv", "bench_clv.py", [], ["20000", "5000", "1"], 420, 150),
    Job(
        "normalize",
        "bench_normalize.py",
        ["--n", "1000000", "--sample", "200000", "--repeats", "3"],
        ["--n", "4000", "--sample", "2000", "--repeats", "1"],
        480,
        240,
    ),
    Job(
        "storage",
        "bench_storage.py",
        ["--n", "1000000", "--runs", "1", "--backends", "sqlite,postgres,mariadb"],
        ["--n", "3000", "--runs", "1", "--backends", "sqlite,postgres,mariadb"],
        1200,  # three MariaDB runs at 1M with the rule timing take about 10 minutes
        330,
        note="one run per side (the script's default is the median of 3)",
    ),
    Job(
        "security",
        "bench_security.py",
        ["--n", "200000", "--repeats", "5", "--store-n", "0"],
        ["--n", "2000", "--repeats", "1", "--store-n", "0"],
        180,
        60,
    ),
    Job("records", "bench_records.py", ["20000", "5"], ["2000", "1"], 120, 20),
    Job(
        "needs",
        "bench_needs.py",
        [DATA_TOKEN],
        [DATA_TOKEN, "--until", "2011-02-28", "--test-end", "2011-03-31"],
        720,
        330,
        needs_data=True,
        note="EASE and implicit's ALS use every core they are given: run it unpinned",
    ),
    Job(
        "security_store",
        "bench_security.py",
        ["--n", "1000", "--repeats", "1", "--store-n", "1000000"],
        ["--n", "1000", "--repeats", "1", "--store-n", "2000"],
        600,
        240,
        note="the store figures at 1M customers, one upsert run per side",
    ),
    Job(
        "segments",
        "bench_segments.py",
        ["--customers", "1000000", "--transactions", "5000000", "--repeat", "1", "--no-store"],
        ["--quick", "--start-postgres"],
        600,
        300,
        note="rules over 1M profiles built from 5M transactions; store.select at 1M/10M left out (15-25 min)",
    ),
    Job(
        "segments_store",
        "bench_segments.py",
        ["--customers", "1000000", "--transactions", "10000000", "--repeat", "1", "--start-postgres"],
        ["--quick", "--start-postgres"],
        3600,
        1500,
        note="store.select on SQLite and PostgreSQL at issue 21's full size (a private PostgreSQL server)",
    ),
    Job("io", "bench_io.py", ["1000000", "--repeat", "1"], ["2000", "--repeat", "1"], 720, 420),
    Job("excel", "bench_excel.py", ["--rows", "100000", "--repeat", "3"], ["--quick"], 1200, 600),
    Job("encmatch", "bench_encmatch.py", ["--sizes", "100000", "--repeat", "3"], ["--quick"], 600, 240),
    Job(
        "accuracy_dedupe",
        "accuracy_dedupe.py",
        ["--hard", "--peers-python", PYTHON_TOKEN],
        ["--peers-python", PYTHON_TOKEN],
        300,
        80,
    ),
    Job("accuracy_encoding", "accuracy_encoding.py", [], [], 180, 40),
    Job("dask", "bench_dask.py", [], ["--quick"], 420, 200),
]


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def commit_id() -> str:
    head = _git("rev-parse", "HEAD")
    # what the figures depend on: docs edits and this runner's own edits do not count
    code = ["src", "benchmarks", "pyproject.toml", ":(exclude)benchmarks/run_all.py"]
    dirty = (
        subprocess.run(["git", "diff", "--quiet", "HEAD", "--", *code], cwd=ROOT, check=False).returncode != 0
    )
    return head + ("+dirty" if dirty else "")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class LoadWatch:
    """The highest 1-minute load average seen, sampled every ``every`` seconds in a thread."""

    def __init__(self, every: float = 5.0) -> None:
        self.peak = os.getloadavg()[0]
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self.peak = max(self.peak, os.getloadavg()[0])

    def __enter__(self) -> LoadWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_times() -> dict[int, tuple[int, int]]:
    """Per CPU: (busy, total) jiffies since boot, from /proc/stat (empty where there is none)."""
    out: dict[int, tuple[int, int]] = {}
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        name, *vals = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            nums = [int(v) for v in vals[:8]]
            idle = nums[3] + nums[4]
            out[int(name[3:])] = (sum(nums) - idle, sum(nums))
    return out


def _busy(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]]) -> str:
    parts = []
    for cpu in sorted(after):
        if cpu in before:
            busy = after[cpu][0] - before[cpu][0]
            total = after[cpu][1] - before[cpu][1]
            parts.append(f"cpu{cpu} {100 * busy / total:.0f} %" if total else f"cpu{cpu} -")
    return ", ".join(parts) or "not known"


def affinity() -> list[int]:
    """The CPUs this process (and the jobs it starts) may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _redact(text: str, data: str | None) -> str:
    """The data file's path (and its folder) never reach a committed file."""
    if data:
        text = text.replace(data, DATA_TOKEN)
        folder = str(Path(data).parent)
        if len(folder) > 1:
            text = text.replace(folder, "$ONLINE_RETAIL_DIR")
    return text


def run_job(job: Job, quick: bool, data: str | None, out_dir: Path) -> dict[str, str]:
    given = job.quick if quick else job.args
    args = [data if a == DATA_TOKEN and data else sys.executable if a == PYTHON_TOKEN else a for a in given]
    cmd = [sys.executable, str(HERE / job.script), *args]
    shown = "python " + shlex.join([f"benchmarks/{job.script}", *(job.quick if quick else job.args)])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    load0, start, t0 = os.getloadavg(), _now(), time.perf_counter()
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    stat0 = _cpu_times()
    print(f"[{start}] {job.name}: {shown} (load {load0[0]:.2f}, budget {job.budget} s)", flush=True)
    with LoadWatch() as watch:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=job.budget)
            status = f"exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                out, err = proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
            status = f"KILLED after its budget of {job.budget} s"
    wall = time.perf_counter() - t0
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    load1 = os.getloadavg()
    stat1 = _cpu_times()
    head = [
        f"command: {shown}",
        f"commit: {commit_id()}",
        f"python: {sys.version.split()[0]}, cores: {os.cpu_count()}, this job pinned to CPUs: "
        f"{','.join(map(str, affinity()))}",
        f"busy time of each CPU during the job (all processes): {_busy(stat0, stat1)}",
        f"start: {start}, end: {_now()}, wall: {wall:.1f} s, CPU of its processes (servers apart): {cpu:.1f} s",
        f"load average (1/5/15 min) at start: {load0[0]:.2f} / {load0[1]:.2f} / {load0[2]:.2f}; "
        f"at end: {load1[0]:.2f} / {load1[1]:.2f} / {load1[2]:.2f}; highest 1-min during the job: {watch.peak:.2f}",
        f"status: {status}",
    ]
    if job.note and not quick:
        head.append(f"note: {job.note}")
    text = "\n".join(head) + "\n\n--- stdout\n" + (out or "") + "\n--- stderr\n" + (err or "")
    (out_dir / f"{job.name}.txt").write_text(_redact(text, data), encoding="utf-8")
    print(
        f"    {status}, {wall:.1f} s (CPU {cpu:.1f} s), load at end {load1[0]:.2f}, highest {watch.peak:.2f}",
        flush=True,
    )
    return {
        "job": job.name,
        "status": status,
        "wall": f"{wall:.1f}",
        "cpu": f"{cpu:.1f}",
        "load": f"{load0[0]:.2f} → {load1[0]:.2f} (max {watch.peak:.2f})",
    }


def _deadline(text: str) -> float:
    """HH:MM (UTC, today) as a time.time() value."""
    if not re.fullmatch(r"\d{1,2}:\d{2}", text):
        raise SystemExit("--deadline takes HH:MM (UTC)")
    h, m = (int(x) for x in text.split(":"))
    now = dt.datetime.now(dt.timezone.utc)
    return now.replace(hour=h, minute=m, second=0, microsecond=0).timestamp()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to check that every script runs")
    ap.add_argument("--only", nargs="+", metavar="JOB", help="these jobs, in this order")
    ap.add_argument("--skip", nargs="+", metavar="JOB", default=[], help="leave these jobs out")
    ap.add_argument("--deadline", help="HH:MM UTC: skip a job whose expected time would overrun it")
    ap.add_argument("--online-retail", default=os.environ.get("CUSTDATA_BENCH_ONLINE_RETAIL"))
    ap.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="JOB=ARGS",
        help="run JOB with these arguments instead (one string, split as a shell would), e.g. "
        "'normalize=--n 1000000 --sample 100000 --repeats 1'",
    )
    ap.add_argument("--list", action="store_true", help="print the jobs and exit")
    a = ap.parse_args()
    by_name = {j.name: j for j in JOBS}
    for item in a.override:
        name, _, rest = item.partition("=")
        if name not in by_name:
            raise SystemExit(f"--override: unknown job {name!r}")
        job = by_name[name]
        by_name[name] = Job(
            job.name, job.script, shlex.split(rest), job.quick, job.budget, job.expect, job.needs_data
        )
    unknown = [n for n in [*(a.only or []), *a.skip] if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown job(s) {unknown}; jobs: {', '.join(by_name)}")
    jobs = [by_name[n] for n in a.only] if a.only else list(JOBS)
    jobs = [j for j in jobs if j.name not in a.skip]
    if a.list:
        for j in jobs:
            cmd = shlex.join([f"benchmarks/{j.script}", *(j.quick if a.quick else j.args)])
            print(f"{j.name:18s} budget {j.budget:4d} s, expected {j.expect:4d} s: python {cmd}")
        return
    commit = commit_id()
    cpus = affinity()
    pinned = len(cpus) < (os.cpu_count() or len(cpus))
    suffix = ("-cpu" + "-".join(map(str, cpus)) if pinned else "") + ("-quick" if a.quick else "")
    out_dir = RESULTS / (commit.split("+")[0][:12] + suffix)
    out_dir.mkdir(parents=True, exist_ok=True)
    stop_at = _deadline(a.deadline) if a.deadline else None
    rows = []
    for job in jobs:
        if not (HERE / job.script).exists():
            rows.append(
                {
                    "job": job.name,
                    "status": f"skipped: {job.script} not in this checkout",
                    "wall": "",
                    "load": "",
                }
            )
            print(f"{job.name}: skipped ({job.script} missing)", flush=True)
            continue
        if job.needs_data and not a.online_retail:
            rows.append(
                {"job": job.name, "status": "skipped: no --online-retail file", "wall": "", "load": ""}
            )
            print(f"{job.name}: skipped (no --online-retail file)", flush=True)
            continue
        if stop_at is not None and not a.quick and time.time() + job.expect > stop_at:
            rows.append(
                {
                    "job": job.name,
                    "status": f"skipped: {job.expect} s would overrun the deadline",
                    "wall": "",
                    "load": "",
                }
            )
            print(f"{job.name}: skipped (expected {job.expect} s, deadline {a.deadline})", flush=True)
            continue
        rows.append(run_job(job, a.quick, a.online_retail, out_dir))
    summary = [f"commit {commit}, {'quick sizes' if a.quick else 'full sizes'}, written {_now()}", ""]
    summary += [
        f"{r['job']:18s} {r['status']:44s} {r['wall']:>7s} s  CPU {r.get('cpu', ''):>7s} s  load {r['load']}"
        for r in rows
    ]
    path = out_dir / "summary.txt"
    old = path.read_text(encoding="utf-8") + "\n" if path.exists() else ""
    path.write_text(old + "\n".join(summary) + "\n", encoding="utf-8")
    print("\n".join(summary))


if __name__ == "__main__":
    main()
