"""Dedupe speed, CPU time and memory on synthetic customers, beside splink (DuckDB) on the same records.

    python benchmarks/bench_dedupe.py --sizes 100000 300000 1000000 --repeat 3
    python benchmarks/bench_dedupe.py --quick          # 5,000 records: checks the script works

Each size and side runs in a fresh process, one after the other. Both sides start from the same generated
dicts; what is timed starts there: custdata builds its records (``Customer.from_dict``) and dedupes, splink
builds its cleaned columns and runs (see :func:`run_splink` for its settings, those its docs recommend for
such data). Reported per side: wall time, CPU time of the process and of every worker it forked (DuckDB's
threads count in its process), and the peak memory of the whole process tree, sampled five times a second
as the sum of each process's PSS (forked workers share copy-on-write pages; PSS counts a shared page once).
On a shared machine compare CPU time, not wall time. The records are messy on purpose: Chinese and Latin
names with typos, given and family names swapped, phones written several ways with typos, households
sharing one phone, e-mails with provider folding, birthdays with swapped day and month. The truth comes
from the generator, so pairwise precision/recall/F1 over the clusters is reported for both sides.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

FAMILY_CN = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_CN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉力斌宇浩凯鹏飞鑫波宁琳晶欣怡子涵梓轩雨婷佳慧思雅博文嘉俊天翔志刚海燕春梅晓东"
)
GIVEN_LATIN = (  # noqa: SIM905
    "james john robert michael william david richard joseph thomas charles mary patricia jennifer linda "
    "elizabeth barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley emily donna michelle "
    "olivia emma ava sophia isabella mia charlotte amelia harper evelyn liam noah oliver elijah lucas mason "
    "logan ethan jacob aiden jackson sebastian henry alexander owen daniel matthew samuel anna grace chloe "
    "zoe lily hannah natalie leah aubrey ella scarlett victoria madison luna penelope layla riley nora"
).split()
FAMILY_LATIN = (  # noqa: SIM905
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez "
    "wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark "
    "ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams "
    "nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker "
    "cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper "
    "peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood james "
    "bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez"
).split()
CITIES = [
    "北京市",
    "上海市",
    "广州市",
    "深圳市",
    "杭州市",
    "成都市",
    "武汉市",
    "南京市",
    "西安市",
    "重庆市",
    "天津市",
    "苏州市",
    "长沙市",
    "郑州市",
    "青岛市",
    "沈阳市",
    "宁波市",
    "昆明市",
    "大连市",
    "厦门市",
]
ROADS = list("中山人民解放建设和平新华长江黄河东风胜利文化光明")
DOMAINS = ["qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "sina.com"]


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 2:
        return s
    k = rng.randrange(len(s))
    op = rng.random()
    if op < 0.4:
        return s[:k] + rng.choice("abcdefghijklmnopqrstuvwxyz") + s[k + 1 :]
    if op < 0.7 and k < len(s) - 1:
        return s[:k] + s[k + 1] + s[k] + s[k + 2 :]
    return s[:k] + s[k + 1 :]


def _phone_variant(rng: random.Random, p: str) -> str:
    r = rng.random()
    if r < 0.3:
        return f"{p[:3]} {p[3:7]} {p[7:]}"
    if r < 0.5:
        return f"+86 {p}"
    if r < 0.6:
        return f"{p[:3]}-{p[3:7]}-{p[7:]}"
    if r < 0.68:  # a digit typo or two digits transposed
        k = rng.randrange(3, 10)
        return p[:k] + p[k + 1] + p[k] + p[k + 2 :]
    return p


def generate(n: int, *, dup_rate: float = 0.2, seed: int = 42) -> tuple[list[dict[str, Any]], list[int]]:
    """``n`` customer dicts and each one's entity number; about ``dup_rate`` of them are duplicates."""
    rng = random.Random(seed)
    n_entities = int(n / (1 + dup_rate))
    entities = []
    household_phone: list[str] = []
    for _ in range(n_entities):
        chinese = rng.random() < 0.6
        if chinese:
            family = rng.choice(FAMILY_CN)
            given = "".join(rng.choice(GIVEN_CN) for _ in range(rng.choice((1, 2, 2, 2))))
        else:
            family, given = rng.choice(FAMILY_LATIN), rng.choice(GIVEN_LATIN)
        if household_phone and rng.random() < 0.08:
            phone = rng.choice(household_phone)  # shares the phone of another household member
        else:
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            if rng.random() < 0.01:
                household_phone.append(phone)
        bday = f"{rng.randrange(1950, 2006)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
        local = (given + family if not chinese else f"user{rng.randrange(10**7)}") + str(rng.randrange(100))
        email = f"{local}@{rng.choice(DOMAINS)}" if rng.random() < 0.6 else None
        city = rng.choice(CITIES)
        street = f"{rng.choice(ROADS)}{rng.choice(ROADS)}路{rng.randrange(1, 500)}号"
        entities.append((chinese, family, given, phone, bday, email, city, street))
    rows: list[dict[str, Any]] = []
    truth: list[int] = []
    for e, ent in enumerate(entities):
        rows.append(_row(rng, ent, len(rows), clean=True))
        truth.append(e)
    while len(rows) < n:
        e = rng.randrange(n_entities)
        rows.append(_row(rng, entities[e], len(rows), clean=False))
        truth.append(e)
    order = list(range(n))
    rng.shuffle(order)
    return [rows[k] for k in order], [truth[k] for k in order]


def _row(rng: random.Random, ent: tuple[Any, ...], k: int, *, clean: bool) -> dict[str, Any]:
    chinese, family, given, phone, bday, email, city, street = ent
    if not clean:
        if rng.random() < 0.3:
            if chinese and len(given) == 2:
                given = given[0] + rng.choice(GIVEN_CN)
            elif not chinese:
                given = _typo(rng, given) if rng.random() < 0.5 else given
                family = _typo(rng, family) if rng.random() < 0.5 else family
        if not chinese and rng.random() < 0.05:
            given, family = family, given
        phone = _phone_variant(rng, phone) if rng.random() < 0.9 else None
        if bday and rng.random() < 0.15:
            y, m, d = bday.split("-")
            r = rng.random()
            if r < 0.3 and int(d) <= 12:
                bday = f"{y}-{d}-{m}"
            elif r < 0.6:
                bday = f"{int(y) + rng.choice((-1, 1))}-{m}-{d}"
            else:
                bday = None
        if email and rng.random() < 0.3:
            email = email.upper() if rng.random() < 0.5 else None
        if rng.random() < 0.2:
            street = None
    name = (
        {"family": family, "given": given}
        if (chinese or rng.random() < 0.7)
        else {"full": f"{given.title()} {family.title()}"}
    )
    d: dict[str, Any] = {"id": f"c{k}", "name": name}
    if phone:
        d["phones"] = [{"number": phone}]
    if email:
        d["emails"] = [{"address": email}]
    if bday:
        d["birthday"] = bday
    d["addresses"] = [{"country": "CN", "city": city, "street": street}]
    return d


def _truth_pairs(truth: list[int], ids: list[str]) -> set[tuple[str, str]]:
    groups: dict[int, list[str]] = {}
    for e, rid in zip(truth, ids, strict=True):
        groups.setdefault(e, []).append(rid)
    return {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}  # type: ignore[misc]


def _f1(pred: set[Any], truth: set[Any]) -> tuple[float, float, float]:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(truth) if truth else 0.0
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def _cpu() -> float:
    """CPU seconds of this process and of its reaped children (the forked workers) so far."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class _StepMemory:
    """Samples the PSS of this process and its workers five times a second, keeping the peak of each
    dedupe step (named by ``step``, set from the progress callback)."""

    def __init__(self) -> None:
        self.step = "starting"
        self.peaks: dict[str, int] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._done.is_set():
            total = 0
            try:
                pids = [me.pid, *(c.pid for c in me.children(recursive=True))]
            except psutil.Error:
                pids = [me.pid]
            for pid in pids:
                try:
                    total += _pss(pid)
                except psutil.Error:
                    continue
            step = self.step
            if step:
                self.peaks[step] = max(self.peaks.get(step, 0), total)
            self._done.wait(0.2)


def run_custdata(n: int, *, step_memory: bool = False) -> dict[str, Any]:
    from custdata import Customer
    from custdata.matching import dedupe

    rows, truth = generate(n)
    ids = [r["id"] for r in rows]
    cpu0 = _cpu()
    t0 = time.perf_counter()
    recs = [Customer.from_dict(r) for r in rows]  # the input preparation, as splink's below
    t_build = time.perf_counter() - t0
    del rows  # the generator's dicts are not part of what dedupe needs
    steps: dict[str, float] = {}
    last = [time.perf_counter(), ""]
    step_peak = _StepMemory()

    def progress(step: str) -> None:
        now = time.perf_counter()
        if last[1]:
            steps[str(last[1])] = round(now - float(last[0]), 2)
        last[0], last[1] = now, step
        step_peak.step = step

    t1 = time.perf_counter()
    if step_memory:  # off by default: reading /proc costs CPU that would count in cpu_s
        step_peak.start()
    result = dedupe(recs, progress=progress)
    took = time.perf_counter() - t1
    total = time.perf_counter() - t0
    cpu = _cpu() - cpu0  # wall time suffers on a busy machine: compare CPU time there
    progress("")
    if step_memory:
        step_peak.stop()
    pred = {tuple(sorted(p)) for c in result.clusters for p in itertools.combinations(c, 2)}
    true_pairs = _truth_pairs(truth, ids)
    f, p, r = _f1(pred, true_pairs)
    missed = _missed(result, true_pairs - pred)
    return {
        "n": n,
        "prepare_s": round(t_build, 1),
        "dedupe_s": round(took, 1),
        "total_s": round(total, 1),
        "cpu_s": round(cpu, 1),
        "steps": steps,
        # with --step-memory: the peak PSS of this process and its workers while each step ran
        "step_peak_mb": {k: round(v / 2**20) for k, v in step_peak.peaks.items()},
        "candidates": len(result.pairs),
        "peak_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_largest_worker_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "f1": round(f, 4),
        "precision": round(p, 4),
        "recall": round(r, 4),
        # where the true pairs that did not come out together were lost (counted after the timing)
        "missed": missed,
        "capped_blocks": dict(result.blocking.capped_blocks),
        "skipped_passes": sorted(result.blocking.skipped_passes),
    }


def _missed(result: Any, lost: set[tuple[str, str]]) -> dict[str, int]:
    """The true pairs missing from the clusters, by where they were lost: never proposed by blocking, scored
    below the threshold, or scored over it and still kept apart by clustering (``min_support`` or a veto of
    a third record). Reads the result's compact pair arrays in one pass (no per-pair objects)."""
    pos = {rid: k for k, rid in enumerate(r.id for r in result._records)}
    want = {(min(pos[a], pos[b]), max(pos[a], pos[b])) for a, b in lost}
    s = result.pairs._s
    cut = result.threshold
    below = over = 0
    for i, j, prob in zip(s.left, s.right, s.probability, strict=True):
        if (i, j) in want:
            if prob >= cut:
                over += 1
            else:
                below += 1
    return {
        "not_proposed": len(want) - below - over,
        "below_threshold": below,
        "split_by_clustering": over,
    }


def run_match(n: int, queries: int = 2000) -> dict[str, Any]:
    """Incremental matching: a Matcher fitted on a sample asks a store of ``n`` customers about new records."""
    import custdata
    from custdata import Customer
    from custdata.matching import Matcher

    rows, truth = generate(n + queries, seed=7)
    recs = [Customer.from_dict(r) for r in rows]
    del rows
    entity = {r.id: e for r, e in zip(recs, truth, strict=True)}
    known, new = recs[:n], recs[n:]
    del recs
    t0 = time.perf_counter()
    store = custdata.open_store("memory://")
    for k in range(0, n, 50_000):
        store.upsert_many(known[k : k + 50_000])
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    matcher = Matcher.fit(known[:100_000])
    t_fit = time.perf_counter() - t0
    del known
    times = []
    found = expected = 0
    known_entities = {entity[c.id] for c in store.scan()} if n <= 200_000 else None
    for q in new:
        t = time.perf_counter()
        hits = matcher.match(q, store)
        times.append(time.perf_counter() - t)
        if known_entities is not None and entity[q.id] in known_entities:
            expected += 1
            found += any(entity[h.record_id] == entity[q.id] for h in hits)
    times.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {
        "n": n,
        "load_store_s": round(t_load, 1),
        "fit_s": round(t_fit, 1),
        "match_ms_median": round(1000 * times[len(times) // 2], 3),
        "match_ms_p95": round(1000 * times[int(len(times) * 0.95)], 3),
        "match_ms_mean": round(1000 * sum(times) / len(times), 3),
        "queries": len(times),
        "peak_mb": round(peak),
    }
    if expected:
        out["recall_of_known"] = round(found / expected, 4)
    return out


def _splink_frame(rows: list[dict[str, Any]]) -> Any:
    """The records as the flat, cleaned columns splink's docs ask for (timed: splink's input preparation).

    Names lower-cased, a one-field name split at its first space; phones cleaned to their national
    digits (the last 11, dropping a +86 prefix and separators); e-mails lower-cased; the year of birth and
    the concatenated full name derived for blocking and term frequencies."""
    import pandas as pd

    cols: dict[str, list[Any]] = {
        k: []
        for k in (
            "unique_id",
            "given",
            "family",
            "name_concat",
            "birthday",
            "byear",
            "phone",
            "email",
            "city",
            "street",
        )
    }
    for r in rows:
        name = r["name"]
        if "full" in name:
            given, _, family = name["full"].partition(" ")
        else:
            given, family = name["given"], name["family"]
        given, family = given.lower(), family.lower()
        phone = (
            "".join(ch for ch in r["phones"][0]["number"] if ch.isdigit())[-11:] if "phones" in r else None
        )
        b = r.get("birthday")
        a = r["addresses"][0]
        cols["unique_id"].append(r["id"])
        cols["given"].append(given or None)
        cols["family"].append(family or None)
        cols["name_concat"].append(f"{given} {family}")
        cols["birthday"].append(b)
        cols["byear"].append(b[:4] if b else None)
        cols["phone"].append(phone or None)
        cols["email"].append(r["emails"][0]["address"].lower() if "emails" in r else None)
        cols["city"].append(a["city"])
        cols["street"].append(a.get("street"))
    return pd.DataFrame(cols)


# splink's cluster thresholds reported; the first is the one timed (its deduplication examples cluster at 0.95)
SPLINK_THRESHOLDS = (0.95, 0.9, 0.5)


def run_splink(n: int) -> dict[str, Any]:
    """splink 4/5 with DuckDB at the settings its docs recommend for person data like this.

    Comparisons: ``ForenameSurnameComparison`` (exact, given/family swapped, Jaro-Winkler 0.92/0.88 on both,
    one of the two exact; term frequencies on the full name: on 1-2 character Chinese given names these
    Jaro-Winkler levels fire only on equal strings, so no fuzzy level misfires there),
    ``DateOfBirthComparison``, ``EmailComparison``, the phone exact or within one edit (Damerau-Levenshtein,
    transpositions) with term frequencies (a shared household line weighs less), city exact with term
    frequencies, street by Levenshtein. Blocking as its docs advise: several passes, each selective
    (phone, e-mail, full name, family name + birthday, given name + birthday, birthday + city). Training as
    its tutorials: prior from deterministic rules at recall 0.7, u by random sampling (5 million pairs),
    m by EM over two sessions blocked on different fields. Preparing the columns is inside the timing."""
    import pandas  # noqa: F401 - imported before the clock starts, as custdata is
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    rows, truth = generate(n)
    ids = [r["id"] for r in rows]
    cpu0 = _cpu()
    t0 = time.perf_counter()
    df = _splink_frame(rows)
    del rows
    t_prep = time.perf_counter() - t0
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("phone"),
            block_on("email"),
            block_on("given", "family"),
            block_on("family", "birthday"),
            block_on("given", "birthday"),
            block_on("birthday", "city"),
        ],
        comparisons=[
            cl.ForenameSurnameComparison("given", "family", forename_surname_concat_col_name="name_concat"),
            cl.DateOfBirthComparison("birthday", input_is_string=True),
            cl.DamerauLevenshteinAtThresholds("phone", [1]).configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("city").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("street", [1, 2]),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(DuckDBAPI().register(df), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("phone", "family"), block_on("email"), block_on("given", "family", "birthday")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given", "family"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("birthday"))
    pred = linker.inference.predict(threshold_match_probability=min(SPLINK_THRESHOLDS))
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, SPLINK_THRESHOLDS[0])
    frame = clusters.as_pandas_dataframe()
    total = time.perf_counter() - t0
    cpu = _cpu() - cpu0
    truth_pairs = _truth_pairs(truth, ids)

    def scored(fr: Any) -> tuple[float, float, float]:
        groups: dict[Any, list[str]] = {}
        for uid, cid in zip(fr["unique_id"], fr["cluster_id"], strict=True):
            groups.setdefault(cid, []).append(uid)
        pairs = {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}
        return _f1(pairs, truth_pairs)

    f, p, r = scored(frame)
    out: dict[str, Any] = {
        "n": n,
        "prepare_s": round(t_prep, 1),
        "total_s": round(total, 1),
        "cpu_s": round(cpu, 1),
        "peak_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "threshold": SPLINK_THRESHOLDS[0],
        "f1": round(f, 4),
        "precision": round(p, 4),
        "recall": round(r, 4),
    }
    for t in SPLINK_THRESHOLDS[1:]:  # untimed: the F1 at splink's other usual thresholds
        other = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, t).as_pandas_dataframe()
        out[f"f1_at_{t}"] = round(scored(other)[0], 4)
    return out


def _pss(pid: int) -> int:
    """Proportional set size of a process in bytes (shared copy-on-write pages split between the forked
    processes that share them, so the sum over a tree is its real footprint); its RSS where that is not
    available."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import psutil

    return int(psutil.Process(pid).memory_info().rss)


def _measured(args: list[str]) -> tuple[str, str, int]:
    """Run ``args``, sampling the memory of its whole process tree (itself and every worker) five times a
    second; its output and the peak of the tree's summed PSS in bytes."""
    import psutil

    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                pids = [root.pid, *(c.pid for c in root.children(recursive=True))]
            except psutil.Error:
                break
            total = 0
            for pid in pids:
                try:
                    total += _pss(pid)
                except psutil.Error:
                    continue
            peak[0] = max(peak[0], total)
            done.wait(0.2)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    out, err = proc.communicate()
    done.set()
    t.join()
    return out, err, peak[0]


def _one(flag: str, n: int, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    out, err, peak = _measured([sys.executable, __file__, flag, str(n), *extra])
    lines = out.strip().splitlines()
    if not lines:
        return {"n": n, "error": err.strip()[-2000:]}
    return {**json.loads(lines[-1]), "peak_tree_mb": round(peak / 2**20)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    ap.add_argument("--quick", action="store_true", help="one small size, to check the script works")
    ap.add_argument("--repeat", type=int, default=1, help="runs per size and side (medians reported)")
    ap.add_argument("--no-splink", action="store_true", help="run only the custdata side")
    ap.add_argument("--only-splink", action="store_true", help="run only the splink side")
    ap.add_argument(
        "--step-memory",
        action="store_true",
        help="custdata: also the peak memory of each dedupe step (sampling costs some CPU; not for timing)",
    )
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--one-splink", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--match", type=int, default=None, help="time Matcher.match against a store of this size")
    args = ap.parse_args()
    if args.match is not None:
        print(json.dumps(run_match(args.match)))
        return
    if args.one is not None:
        print(json.dumps(run_custdata(args.one, step_memory=args.step_memory)))
        return
    if args.one_splink is not None:
        print(json.dumps(run_splink(args.one_splink)))
        return
    sizes = [5_000] if args.quick else args.sizes
    sides = [("custdata", "--one")] if not args.only_splink else []
    if not args.no_splink:
        sides.append(("splink", "--one-splink"))
    for n in sizes:
        for name, flag in sides:  # each size and side in a fresh process, one after the other
            extra = ("--step-memory",) if args.step_memory and flag == "--one" else ()
            runs = [_one(flag, n, extra) for _ in range(args.repeat)]
            ok = [r for r in runs if "error" not in r]
            if not ok:
                print(f"{name:<9}", json.dumps(runs[-1]), flush=True)
                continue
            best = dict(ok[len(ok) // 2])
            for key in ("total_s", "cpu_s", "peak_tree_mb"):
                best[key] = statistics.median(r[key] for r in ok)
            best["runs"] = len(ok)
            print(f"{name:<9}", json.dumps(best, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
