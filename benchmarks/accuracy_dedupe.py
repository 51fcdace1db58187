"""Unsupervised accuracy: custdata beside splink (DuckDB) and recordlinkage (ECM).

    python benchmarks/accuracy_dedupe.py [--peers-python /path/to/venv/bin/python] [--hard] [--traps]
                                         [--generated N]

Febrl (always); with ``--hard`` splink's hard sets fake_1000 and historical_50k (from custdata.datasets),
splink with the comparisons and blocking of its own examples for these sets; with ``--traps`` the generated
precision traps of custdata.testing (households, names and birthdays only); with ``--generated N`` (custdata
only) bench_dedupe.py's generated customers, the true pairs missed by where they were lost and, for those
scored below the threshold, by how the two names relate (written the other way round, mistyped, the same,
Chinese) and the veto that applied. Both sides are timed from the
raw rows to the clusters (reading and cleaning included); splink is scored at match probability 0.5 and
0.9 and at its best threshold chosen with the truth, custdata at its default.

Truth comes from ``rec_id`` (``rec-12-org`` and ``rec-12-dup-0`` are one person); no labels are used for
training by any of the three. febrl4a x febrl4b is scored on links, febrl3 at cluster level (pairwise F1
over within-cluster pairs). The peers run in their own interpreter (a virtualenv with
``pip install splink recordlinkage``), in the same run, on the same files.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _febrl_folder() -> Path:
    """The Febrl files shipped in custdata.datasets (the peers read the same CSV files)."""
    from custdata.datasets import data_path

    return data_path("febrl/dataset3.csv").parent


def _entity(rec_id: str) -> str:
    m = re.match(r"rec-(\d+)-", rec_id)
    assert m
    return m.group(1)


def _f1(pred: set[Any], truth: set[Any]) -> dict[str, float]:
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(truth) if truth else 0.0
    return {
        "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4),
        "precision": round(p, 4),
        "recall": round(r, 4),
    }


def run_custdata() -> dict[str, Any]:
    from custdata.datasets import load_febrl, load_febrl4
    from custdata.matching import dedupe, link

    left, right, _links = load_febrl4()
    by_entity = {_entity(b.id): b.id for b in right}
    truth = {(a.id, by_entity[_entity(a.id)]) for a in left if _entity(a.id) in by_entity}
    t = time.perf_counter()
    res = link(left, right)
    out: dict[str, Any] = {
        "febrl4_link": {**_f1(res.links, truth), "seconds": round(time.perf_counter() - t, 2)}
    }
    recs = load_febrl(3).records
    groups: dict[str, list[str]] = {}
    for rec in recs:
        groups.setdefault(_entity(rec.id), []).append(rec.id)
    truth3 = {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}
    t = time.perf_counter()
    result = dedupe(recs)
    took = time.perf_counter() - t
    pred = {tuple(sorted(p)) for c in result.clusters for p in itertools.combinations(c, 2)}
    out["febrl3_dedupe"] = {
        **_f1(pred, truth3),
        "seconds": round(took, 2),
        "pair_completeness": round(result.pair_completeness(truth3), 4),
    }  # type: ignore[arg-type]
    return out


PEERS = r"""
import itertools, json, re, sys, time
import pandas as pd

data = sys.argv[1]
def load(name):
    df = pd.read_csv(f"{data}/{name}", dtype=str, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    df = df.apply(lambda s: s.str.strip())
    return df.replace("", None)

def entity(rec_id):
    return re.match(r"rec-(\d+)-", rec_id).group(1)

def f1(pred, truth):
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(truth) if truth else 0.0
    return {"f1": round(2 * p * r / (p + r) if p + r else 0.0, 4), "precision": round(p, 4), "recall": round(r, 4)}

a, b, d3 = load("dataset4a.csv"), load("dataset4b.csv"), load("dataset3.csv")
by_entity = {entity(x): x for x in b["rec_id"]}
truth4 = {(x, by_entity[entity(x)]) for x in a["rec_id"] if entity(x) in by_entity}
groups = {}
for x in d3["rec_id"]:
    groups.setdefault(entity(x), []).append(x)
truth3 = {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}
out = {}

def components(pairs, ids):
    parent = {i: i for i in ids}
    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for x, y in pairs:
        parent[find(x)] = find(y)
    g = {}
    for i in ids:
        g.setdefault(find(i), []).append(i)
    return {tuple(sorted(p)) for m in g.values() for p in itertools.combinations(m, 2)}

# recordlinkage: the ECM classifier on binary comparison vectors, as in its own Febrl examples
try:
    import recordlinkage as rl
    def rl_features(idx, x, y=None):
        c = rl.Compare()
        c.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
        c.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
        c.exact("date_of_birth", "date_of_birth", label="date_of_birth")
        c.exact("suburb", "suburb", label="suburb")
        c.exact("state", "state", label="state")
        c.string("address_1", "address_1", threshold=0.85, label="address_1")
        c.exact("soc_sec_id", "soc_sec_id", label="soc_sec_id")
        c.exact("postcode", "postcode", label="postcode")
        return c.compute(idx, x, y) if y is not None else c.compute(idx, x)
    t = time.perf_counter()
    A, B = a.set_index("rec_id"), b.set_index("rec_id")
    ix = rl.Index()
    ix.block("given_name"); ix.block("surname"); ix.block("date_of_birth"); ix.block("soc_sec_id")
    pairs = ix.index(A, B)
    feats = rl_features(pairs, A, B)
    ecm = rl.ECMClassifier(binarize=None)
    links = ecm.fit_predict(feats)
    out["recordlinkage_febrl4_link"] = {**f1(set(map(tuple, links.to_list())), truth4),
                                        "seconds": round(time.perf_counter() - t, 2)}
    t = time.perf_counter()
    D = d3.set_index("rec_id")
    ix = rl.Index()
    ix.block("given_name"); ix.block("surname"); ix.block("date_of_birth"); ix.block("soc_sec_id")
    pairs = ix.index(D)
    feats = rl_features(pairs, D)
    links = rl.ECMClassifier(binarize=None).fit_predict(feats)
    pred = components(links.to_list(), list(D.index))
    out["recordlinkage_febrl3_dedupe"] = {**f1(pred, truth3), "seconds": round(time.perf_counter() - t, 2)}
except Exception as exc:
    out["recordlinkage_error"] = f"{type(exc).__name__}: {exc}"

# splink: DuckDB, trained without labels (u by random sampling, m by EM), threshold 0.9
try:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    def settings(kind):
        return SettingsCreator(
            link_type=kind,
            unique_id_column_name="rec_id",
            blocking_rules_to_generate_predictions=[block_on("given_name"), block_on("surname"),
                                                    block_on("date_of_birth"), block_on("soc_sec_id")],
            comparisons=[cl.JaroWinklerAtThresholds("given_name"), cl.JaroWinklerAtThresholds("surname"),
                         cl.LevenshteinAtThresholds("date_of_birth", [1, 2]), cl.ExactMatch("suburb"),
                         cl.ExactMatch("state"), cl.JaroWinklerAtThresholds("address_1"),
                         cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]), cl.ExactMatch("postcode")],
        )
    def train(linker):
        linker.training.estimate_probability_two_random_records_match(
            [block_on("soc_sec_id"), block_on("given_name", "surname")], recall=0.9)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    t = time.perf_counter()
    db = DuckDBAPI()
    linker = Linker([db.register(a), db.register(b)], settings("link_only"))
    train(linker)
    pred = linker.inference.predict(threshold_match_probability=0.9).as_pandas_dataframe()
    set_a = set(a["rec_id"])
    pairs = {(l, r) if l in set_a else (r, l) for l, r in zip(pred["rec_id_l"], pred["rec_id_r"])}
    out["splink_febrl4_link"] = {**f1(pairs, truth4), "seconds": round(time.perf_counter() - t, 2)}
    t = time.perf_counter()
    db = DuckDBAPI()
    linker = Linker(db.register(d3), settings("dedupe_only"))
    train(linker)
    pred = linker.inference.predict(threshold_match_probability=0.5)
    cl_df = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.9).as_pandas_dataframe()
    g = {}
    for uid, cid in zip(cl_df["rec_id"], cl_df["cluster_id"]):
        g.setdefault(cid, []).append(uid)
    pred3 = {tuple(sorted(p)) for m in g.values() for p in itertools.combinations(m, 2)}
    out["splink_febrl3_dedupe"] = {**f1(pred3, truth3), "seconds": round(time.perf_counter() - t, 2)}
except Exception as exc:
    out["splink_error"] = f"{type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


def run_peers(python: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "peers.py")
        with open(script, "w") as fh:
            fh.write(PEERS)
        out = subprocess.run(
            [python, script, str(_febrl_folder())], capture_output=True, text=True, check=False
        )
    if out.returncode != 0 or not out.stdout.strip():
        return {"error": out.stderr.strip().splitlines()[-3:]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _cluster_f1(clusters: Any, truth: dict[str, str]) -> dict[str, float]:
    groups: dict[str, list[str]] = {}
    for rid, ent in truth.items():
        groups.setdefault(ent, []).append(rid)
    true = {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}
    pred = {tuple(sorted(p)) for c in clusters for p in itertools.combinations(c, 2)}
    return _f1(pred, true)


def _components(res: Any) -> list[set[str]]:
    """Plain connected components over the pairs ``res`` accepted (at or above its threshold): the
    clustering custdata's support-guarded merging is measured against."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for p in res.pairs:
        if p.probability >= res.threshold:
            a, b = find(p.id_a), find(p.id_b)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, set[str]] = {}
    for c in res.clusters:
        for rid in c:
            groups.setdefault(find(rid), set()).add(rid)
    return list(groups.values())


def _versus_components(res: Any, score: Any) -> dict[str, float]:
    """F1/precision/recall of connected components over the same accepted pairs, and clusters counts."""
    cc = _components(res)
    return {
        **{f"cc_{k}": v for k, v in score(cc).items() if k in ("f1", "precision", "recall")},
        "clusters": len(res.clusters),
        "cc_clusters": len(cc),
    }


def run_custdata_hard() -> dict[str, Any]:
    import warnings

    from custdata.datasets import load_fake_1000, load_historical_50k
    from custdata.matching import dedupe

    out: dict[str, Any] = {}
    for name, load in (("fake_1000", load_fake_1000), ("historical_50k", load_historical_50k)):
        t = time.perf_counter()
        ds = load()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = dedupe(ds.records)
        took = time.perf_counter() - t
        out[name] = {**_cluster_f1(res.clusters, ds.truth), "seconds": round(took, 2)}
        truth = ds.truth
        out[name].update(
            {
                k: round(v, 4) if isinstance(v, float) else v
                for k, v in _versus_components(res, lambda cl, t=truth: _cluster_f1(cl, t)).items()
            }
        )
    return out


def _trap_sets() -> dict[str, Any]:
    from custdata.testing._households import household_records, names_and_dates

    return {
        "households_300": household_records(300),
        "households_300_no_kinds": household_records(300, with_kinds=False, seed=1),
        "names_and_dates_10k": names_and_dates(10_000),
    }


def run_custdata_traps(sets: dict[str, Any]) -> dict[str, Any]:
    from custdata.matching import dedupe

    out: dict[str, Any] = {}
    for name, trap in sets.items():
        t = time.perf_counter()
        res = dedupe(trap.records)
        took = time.perf_counter() - t
        s = trap.score(res.clusters)
        out[name] = {
            "precision": round(s["precision"], 4),
            "recall": round(s["recall"], 4),
            "f1": round(s["f1"], 4),
            "false_pairs": s["false_pairs"],
            "cc_false_pairs": trap.score(_components(res))["false_pairs"],
            "seconds": round(took, 2),
            **{
                k: round(v, 4) if isinstance(v, float) else v
                for k, v in _versus_components(res, trap.score).items()
            },
        }
    return out


def _trap_rows(trap: Any) -> list[dict[str, Any]]:
    """A trap set as flat rows for splink: one column per value, as its examples have them."""
    rows = []
    for r in trap.records:
        numbers = [p.number for p in r.phones]
        a = r.addresses[0] if r.addresses else None
        rows.append(
            {
                "unique_id": r.id,
                "cluster": trap.person[r.id],
                "first_name": r.name.given,
                "surname": r.name.family,
                "dob": str(r.birthday) if r.birthday else None,
                "phone": numbers[0] if numbers else None,  # as the record lists them: the mobile first
                "landline": numbers[1] if len(numbers) > 1 else None,
                "email": r.emails[0].address if r.emails else None,
                "street": a.street if a else None,
                "postcode": a.postal_code if a else None,
                "city": a.city if a else None,
            }
        )
    return rows


HARD_PEERS = r"""
import itertools, json, sys, time
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

def truth_pairs(df):
    g = {}
    for uid, c in zip(df["unique_id"], df["cluster"]):
        g.setdefault(c, []).append(uid)
    return {tuple(sorted(p)) for m in g.values() for p in itertools.combinations(m, 2)}

def f1(pred, truth):
    tp = len(pred & truth)
    p = tp / len(pred) if pred else 0.0
    r = tp / len(truth) if truth else 0.0
    return {"f1": round(2 * p * r / (p + r) if p + r else 0.0, 4), "precision": round(p, 4), "recall": round(r, 4)}

def clustered(linker, pred, thr):
    c = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, thr).as_pandas_dataframe()
    g = {}
    for uid, cid in zip(c["unique_id"], c["cluster_id"]):
        g.setdefault(cid, []).append(uid)
    return {tuple(sorted(p)) for m in g.values() for p in itertools.combinations(m, 2)}

def run(name, df, settings, train):
    t = time.perf_counter()
    linker = Linker(DuckDBAPI().register(df), settings)
    train(linker)
    pred = linker.inference.predict(threshold_match_probability=0.01)
    truth = truth_pairs(df)
    out = {}
    for thr in (0.5, 0.9):
        out[f"at_{thr}"] = f1(clustered(linker, pred, thr), truth)
        if thr == 0.5:
            out["seconds_to_clusters_at_0.5"] = round(time.perf_counter() - t0, 2)
    best = max(((thr, f1(clustered(linker, pred, thr), truth)) for thr in (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)),
               key=lambda x: x[1]["f1"])
    out["best_threshold_with_truth"] = {"threshold": best[0], **best[1]}
    return out

job = json.loads(sys.argv[1])
out = {}
if "fake_1000" in job:
    t0 = time.perf_counter()
    df = pd.read_csv(job["fake_1000"], dtype=str, keep_default_na=False).replace("", None)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[cl.NameComparison("first_name"), cl.NameComparison("surname"),
                     cl.DateOfBirthComparison("dob", input_is_string=True),
                     cl.ExactMatch("city").configure(term_frequency_adjustments=True),
                     cl.EmailComparison("email")],
        blocking_rules_to_generate_predictions=["1=1"],  # 1,000 records: every pair
    )
    def train(linker):
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "surname", "dob"), block_on("email")], recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    out["fake_1000"] = run("fake_1000", df, settings, train)
if "historical_50k" in job:
    t0 = time.perf_counter()
    df = pd.read_csv(job["historical_50k"], dtype=str, keep_default_na=False).replace("", None)
    for col in ("first_name", "surname"):
        df[col] = df[col].str.lower()
    df["first_name_surname_concat"] = df["first_name"].fillna("") + " " + df["surname"].fillna("")
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("substr(first_name,1,3)", "substr(surname,1,4)"), block_on("surname", "dob"),
            block_on("first_name", "dob"), block_on("postcode_fake", "first_name"),
            block_on("postcode_fake", "surname"), block_on("dob", "birth_place"),
            block_on("substr(postcode_fake,1,3)", "dob"), block_on("substr(postcode_fake,1,3)", "first_name"),
            block_on("substr(postcode_fake,1,3)", "surname"),
            block_on("substr(first_name,1,2)", "substr(surname,1,2)", "substr(dob,1,4)"),
        ],
        comparisons=[
            cl.ForenameSurnameComparison("first_name", "surname",
                                         forename_surname_concat_col_name="first_name_surname_concat"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode_fake"),
            cl.ExactMatch("birth_place").configure(term_frequency_adjustments=True),
            cl.ExactMatch("occupation").configure(term_frequency_adjustments=True),
        ],
    )
    def train(linker):
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "surname", "dob"),
             block_on("substr(first_name,1,2)", "surname", "substr(postcode_fake,1,2)"),
             block_on("dob", "postcode_fake")], recall=0.6)
        linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    out["historical_50k"] = run("historical_50k", df, settings, train)
for name, path in job.get("traps", {}).items():
    t0 = time.perf_counter()
    df = pd.read_json(path, dtype=str)
    df = df.where(df.notna(), None)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[cl.NameComparison("first_name"), cl.NameComparison("surname"),
                     cl.DateOfBirthComparison("dob", input_is_string=True)]
        + ([cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
            cl.ExactMatch("landline").configure(term_frequency_adjustments=True),
            cl.EmailComparison("email"),
            cl.ExactMatch("street").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True)]
           if df["phone"].notna().any() else []),
        blocking_rules_to_generate_predictions=[block_on("first_name", "dob"), block_on("surname", "dob"),
                                                block_on("first_name", "surname")]
        + ([block_on("phone"), block_on("landline"), block_on("email")] if df["phone"].notna().any() else []),
    )
    def train(linker):
        linker.training.estimate_probability_two_random_records_match([block_on("first_name", "surname", "dob")],
                                                                      recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    out[name] = run(name, df, settings, train)
print(json.dumps(out))
"""


def run_peers_hard(python: str, traps: dict[str, Any] | None, hard: bool) -> dict[str, Any]:
    from custdata.datasets import data_path

    with tempfile.TemporaryDirectory() as tmp:
        job: dict[str, Any] = {}
        if hard:
            job["fake_1000"] = str(data_path("splink/fake_1000.csv"))
            job["historical_50k"] = str(data_path("splink/historical_50k.csv.gz"))
        if traps:
            job["traps"] = {}
            for name, trap in traps.items():
                path = os.path.join(tmp, f"{name}.json")
                with open(path, "w") as fh:
                    json.dump(_trap_rows(trap), fh)
                job["traps"][name] = path
        script = os.path.join(tmp, "peers_hard.py")
        with open(script, "w") as fh:
            fh.write(HARD_PEERS)
        out = subprocess.run([python, script, json.dumps(job)], capture_output=True, text=True, check=False)
    if out.returncode != 0 or not out.stdout.strip():
        return {"error": out.stderr.strip().splitlines()[-5:]}
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _name_relation(a: dict[str, Any], b: dict[str, Any]) -> str:
    """How two generated rows' names relate (from the generator's values, not custdata's reading)."""
    from rapidfuzz.distance import OSA

    def parts(row: dict[str, Any]) -> tuple[str, str]:
        n = row["name"]
        if "full" in n:
            g, f = n["full"].lower().split(" ", 1)
            return g, f
        return n["given"].lower(), n["family"].lower()

    (ga, fa), (gb, fb) = parts(a), parts(b)
    if not ga.isascii():
        return "chinese"
    if (ga, fa) == (gb, fb):
        return "same_name"
    if (ga, fa) == (fb, gb):
        return "swapped"
    straight = OSA.distance(ga, gb) + OSA.distance(fa, fb)
    crossed = OSA.distance(ga, fb) + OSA.distance(fa, gb)
    return "swapped_and_mistyped" if crossed < straight else "mistyped"


def run_generated(n: int) -> dict[str, Any]:
    """dedupe on ``n`` of bench_dedupe.py's generated customers (one worker): F1 and the missed true pairs
    by where they were lost; those scored below the threshold by name relation and veto."""
    from collections import Counter

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_dedupe import _truth_pairs, generate

    from custdata import Customer
    from custdata.matching import dedupe

    rows, truth = generate(n)
    ids = [r["id"] for r in rows]
    t = time.perf_counter()
    res = dedupe([Customer.from_dict(r) for r in rows], workers=1)
    took = time.perf_counter() - t
    true = _truth_pairs(truth, ids)
    pred = {tuple(sorted(p)) for c in res.clusters for p in itertools.combinations(c, 2)}
    lost = true - pred
    pos = {r.id: k for k, r in enumerate(res._records)}
    want = {(min(pos[a], pos[b]), max(pos[a], pos[b])) for a, b in lost}
    s = res.pairs._s
    scored = {(i, j): p for i, j, p in zip(s.left, s.right, s.probability, strict=True) if (i, j) in want}
    below = [(i, j) for (i, j), p in scored.items() if p < res.threshold]
    by_row = {r["id"]: r for r in rows}
    reasons: Counter[str] = Counter()
    for i, j in below:
        a, b = res._records[i].id, res._records[j].id
        e = res.explain(a, b)
        veto = e.fields[-1].level if e.fields[-1].field == "veto" else "no_veto"
        reasons[f"{_name_relation(by_row[a], by_row[b])}/{veto}"] += 1
    return {
        "n": n,
        **_f1(pred, true),
        "seconds": round(took, 1),
        "true_pairs": len(true),
        "missed": {
            "not_proposed": len(want) - len(scored),
            "below_threshold": len(below),
            "split_by_clustering": len(scored) - len(below),
        },
        "below_threshold_by_names": dict(reasons.most_common()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers-python", default=None, help="a Python with splink and recordlinkage installed")
    ap.add_argument("--hard", action="store_true", help="also splink's fake_1000 and historical_50k")
    ap.add_argument("--traps", action="store_true", help="also the generated precision traps")
    ap.add_argument("--no-febrl", action="store_true", help="leave out the Febrl sets")
    ap.add_argument(
        "--generated", type=int, default=None, metavar="N", help="custdata on N of bench_dedupe's customers"
    )
    args = ap.parse_args()
    if args.generated:
        print("custdata generated", json.dumps(run_generated(args.generated)), flush=True)
    if not args.no_febrl:
        print("custdata", json.dumps(run_custdata()), flush=True)
        if args.peers_python:
            print("peers   ", json.dumps(run_peers(args.peers_python)), flush=True)
        else:
            print("peers    (skipped: give --peers-python)", file=sys.stderr)
    sets = _trap_sets() if args.traps else None
    if args.hard:
        print("custdata hard", json.dumps(run_custdata_hard()), flush=True)
    if sets:
        print("custdata traps", json.dumps(run_custdata_traps(sets)), flush=True)
    if args.peers_python and (args.hard or sets):
        print("splink hard/traps", json.dumps(run_peers_hard(args.peers_python, sets, args.hard)), flush=True)


if __name__ == "__main__":
    main()
