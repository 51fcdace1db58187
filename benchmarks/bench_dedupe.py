"""Dedupe speed and memory on synthetic customers, beside splink (DuckDB) on the same records.

    python benchmarks/bench_dedupe.py --sizes 100000 300000 1000000 [--splink-python /path/to/python]

Each size runs in a fresh process (peak memory is that process's maximum resident set). The records are
messy on purpose: Chinese and Latin names with typos, given and family names swapped, phones written three
ways with typos, households sharing one phone, e-mails with provider folding, birthdays with swapped day and
month. The truth (which records are the same person) comes from the generator, so the run also reports
pairwise precision/recall at cluster level. splink runs in its own interpreter (``--splink-python``, a
virtualenv with ``pip install splink``) on the same records written to CSV.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
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


def run_custdata(n: int) -> dict[str, Any]:
    from custdata import Customer
    from custdata.matching import dedupe

    rows, truth = generate(n)
    t0 = time.perf_counter()
    recs = [Customer.from_dict(r) for r in rows]
    t_build = time.perf_counter() - t0
    ids = [r["id"] for r in rows]
    del rows  # the generator's dicts are not part of what dedupe needs
    steps: dict[str, float] = {}
    last = [time.perf_counter(), ""]

    def progress(step: str) -> None:
        now = time.perf_counter()
        if last[1]:
            steps[str(last[1])] = round(now - float(last[0]), 2)
        last[0], last[1] = now, step

    t0 = time.perf_counter()
    result = dedupe(recs, progress=progress)
    took = time.perf_counter() - t0
    progress("")
    pred = {tuple(sorted(p)) for c in result.clusters for p in itertools.combinations(c, 2)}
    f, p, r = _f1(pred, _truth_pairs(truth, ids))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime  # wall time suffers on a busy machine
    return {
        "n": n,
        "build_records_s": round(t_build, 1),
        "dedupe_s": round(took, 1),
        "cpu_s_total": round(cpu, 1),
        "steps": steps,
        "candidates": len(result.pairs),
        "peak_mb": round(peak),
        "peak_worker_mb": round(peak_workers),
        "f1": round(f, 4),
        "precision": round(p, 4),
        "recall": round(r, 4),
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


SPLINK_SCRIPT = r"""
import sys, time, json, csv, itertools, resource
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
path = sys.argv[1]
df = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
truth = df.pop("entity")
t0 = time.perf_counter()
settings = SettingsCreator(
    link_type="dedupe_only",
    blocking_rules_to_generate_predictions=[block_on("phone"), block_on("email"),
        block_on("family", "given", "byear"), block_on("family", "birthday")],
    comparisons=[cl.JaroWinklerAtThresholds("given"), cl.JaroWinklerAtThresholds("family"),
                 cl.DateOfBirthComparison("birthday", input_is_string=True), cl.ExactMatch("phone"),
                 cl.EmailComparison("email"), cl.ExactMatch("city"), cl.LevenshteinAtThresholds("street")],
    retain_intermediate_calculation_columns=False,
)
db = DuckDBAPI()
linker = Linker(db.register(df), settings)
linker.training.estimate_probability_two_random_records_match([block_on("phone")], recall=0.8)
linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
linker.training.estimate_parameters_using_expectation_maximisation(block_on("phone"))
linker.training.estimate_parameters_using_expectation_maximisation(block_on("birthday"))
pred = linker.inference.predict(threshold_match_probability=0.5)
clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.9).as_pandas_dataframe()
took = time.perf_counter() - t0
groups = {}
for uid, cid in zip(clusters["unique_id"], clusters["cluster_id"]):
    groups.setdefault(cid, []).append(uid)
pred_pairs = {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}
tg = {}
for uid, e in zip(df["unique_id"], truth):
    tg.setdefault(e, []).append(uid)
tp_ = {tuple(sorted(p)) for g in tg.values() for p in itertools.combinations(g, 2)}
tp = len(pred_pairs & tp_)
p = tp / len(pred_pairs) if pred_pairs else 0.0
r = tp / len(tp_) if tp_ else 0.0
print(json.dumps({"splink_s": round(took, 1), "f1": round(2*p*r/(p+r) if p + r else 0, 4),
    "precision": round(p, 4), "recall": round(r, 4),
    "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def run_splink(n: int, python: str) -> dict[str, Any]:
    rows, truth = generate(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "people.csv")
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "unique_id",
                    "given",
                    "family",
                    "birthday",
                    "byear",
                    "phone",
                    "email",
                    "city",
                    "street",
                    "entity",
                ]
            )
            for r, e in zip(rows, truth, strict=True):
                name = r["name"]
                if "full" in name:
                    given, _, family = name["full"].partition(" ")
                else:
                    given, family = name["given"], name["family"]
                phone = (
                    "".join(ch for ch in r["phones"][0]["number"] if ch.isdigit())[-11:]
                    if "phones" in r
                    else ""
                )
                email = r["emails"][0]["address"].lower() if "emails" in r else ""
                b = r.get("birthday", "")
                a = r["addresses"][0]
                w.writerow(
                    [
                        r["id"],
                        given.lower(),
                        family.lower(),
                        b,
                        b[:4],
                        phone,
                        email,
                        a["city"],
                        a.get("street") or "",
                        e,
                    ]
                )
        script = os.path.join(tmp, "run_splink.py")
        with open(script, "w") as fh:
            fh.write(SPLINK_SCRIPT)
        out = subprocess.run([python, script, path], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            return {"n": n, "error": out.stderr.strip().splitlines()[-1:]}
        return {"n": n, **json.loads(out.stdout.strip().splitlines()[-1])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    ap.add_argument("--splink-python", default=None, help="a Python with splink installed")
    ap.add_argument("--splink-sizes", type=int, nargs="+", default=None)
    ap.add_argument("--only-splink", action="store_true", help="run only the splink side")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--match", type=int, default=None, help="time Matcher.match against a store of this size")
    args = ap.parse_args()
    if args.match is not None:
        print(json.dumps(run_match(args.match)))
        return
    if args.one is not None:
        print(json.dumps(run_custdata(args.one)))
        return
    for n in [] if args.only_splink else args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=False
        )
        print("custdata", out.stdout.strip() or out.stderr.strip()[-2000:], flush=True)
    if args.splink_python:
        for n in args.splink_sizes or args.sizes:
            print("splink  ", json.dumps(run_splink(n, args.splink_python)), flush=True)


if __name__ == "__main__":
    main()
