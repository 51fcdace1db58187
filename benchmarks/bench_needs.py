"""Recommendation quality and EASE fit time on the UCI Online Retail transactions, beside implicit's ALS.

Run: python benchmarks/bench_needs.py PATH [--until 2011-07-31] [--test-end 2011-09-30]

PATH is the UCI "Online Retail" CSV (optionally gzipped) with the columns InvoiceNo, StockCode, Description,
Quantity, InvoiceDate, UnitPrice, CustomerID, Country. It is not shipped with custdata: pass its path.

Protocol. Rows become custdata Transactions, one per invoice and customer: invoices starting with ``C``
and lines with a negative quantity become refunds (negative amount, positive quantities), which custdata
nets out. Rows without a customer and non-product stock codes (``POST``, ``M``, ``BANK CHARGES`` …: any
code not starting with five digits) are left out and counted. Train on everything up to the end of
``--until`` (UK local time); test on the period after it up to ``--test-end``: for every customer known
in training, the relevant items are the products bought (net of returns) in the test period that the
customer had not bought in training and that exist in the training catalogue (a model cannot recommend an
item it never saw; how many pairs that drops is printed). Every model recommends 10 items per customer,
leaving out what the customer bought in training. Measures: NDCG@10 and recall@10 (hits / min(10,
relevant)), hit rate, catalogue coverage.

Models: custdata EASE (λ = 500), item-kNN (100 neighbours), popularity (all training time, and the last 30
days), and implicit's ALS (``implicit.als.AlternatingLeastSquares``: at its documented defaults, 100
factors, regularization 0.01, 15 iterations, on the binary matrix; and on the BM25-weighted matrix its own
examples use, also with 64 factors, regularization 0.05 and 30 iterations; BLAS limited to one thread as
implicit advises) when implicit is installed. EASE fit time
is the wall and CPU time of ``Recommender("ease").fit(train)``, which includes building the matrix from the
transactions (timed alone too); the machine load is printed beside it. A small sweep beside the default:
λ = 250 and 1000, and λ = 500 with purchases weighted by a 60-day half-life when scoring.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import gzip
import io
import json
import os
import platform
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from custdata import LineItem, Transaction
from custdata.needs import Recommender, coverage, hit_rate, item_catalogue, ndcg_at_k, recall_at_k, time_split

UK = ZoneInfo("Europe/London")
PRODUCT = re.compile(r"\d{5}")
HERE = Path(__file__).resolve().parent


def _open(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_transactions(path: Path) -> tuple[list[Transaction], dict[str, int]]:
    """One Transaction per (invoice, customer, purchase/refund); counts of rows left out."""
    groups: dict[tuple[str, str, bool], dict[str, Any]] = {}
    left = {"no customer": 0, "non-product code": 0, "zero quantity": 0}
    with _open(path) as fh:
        for row in csv.DictReader(fh):
            cid = row["CustomerID"].strip()
            if not cid:
                left["no customer"] += 1
                continue
            code = row["StockCode"].strip()
            if not PRODUCT.match(code):
                left["non-product code"] += 1
                continue
            qty = Decimal(row["Quantity"])
            if qty == 0:
                left["zero quantity"] += 1
                continue
            refund = row["InvoiceNo"].startswith("C") or qty < 0
            key = (row["InvoiceNo"], cid.removesuffix(".0"), refund)
            g = groups.setdefault(key, {"at": row["InvoiceDate"], "lines": []})
            g["lines"].append((code, abs(qty), Decimal(row["UnitPrice"])))
    out = []
    for (invoice, cid, refund), g in groups.items():
        at = dt.datetime.fromisoformat(g["at"]).replace(tzinfo=UK)
        items = tuple(LineItem(sku=s, quantity=q, unit_price=p) for s, q, p in g["lines"])
        amount = sum((q * p for _, q, p in g["lines"]), Decimal(0))
        out.append(
            Transaction(
                customer_id=cid, at=at, amount=-amount if refund else amount, order_id=invoice, items=items
            )
        )
    return out, left


def relevant_items(train: list[Transaction], test: list[Transaction]) -> tuple[dict[str, set[str]], int]:
    tr = item_catalogue(train)
    owned: dict[str, set[str]] = {c: set() for c in tr.customers}
    for u, i in zip(*tr.matrix.nonzero(), strict=True):
        owned[tr.customers[u]].add(tr.skus[i])
    known = set(tr.skus)
    te = item_catalogue(test)
    rel: dict[str, set[str]] = {}
    unseen = 0
    for u, i in zip(*te.matrix.nonzero(), strict=True):
        cid, sku = te.customers[u], te.skus[i]
        if cid in owned and sku not in owned[cid]:
            if sku in known:
                rel.setdefault(cid, set()).add(sku)
            else:
                unseen += 1
    return rel, unseen


def _measure(
    recs: dict[str, list[str]], rel: dict[str, set[str]], catalogue: tuple[str, ...]
) -> dict[str, float]:
    return {
        "ndcg@10": ndcg_at_k(recs, rel, 10),
        "recall@10": recall_at_k(recs, rel, 10),
        "hit_rate@10": hit_rate(recs, rel, 10),
        "coverage@10": coverage(recs, catalogue, 10),
    }


#: implicit's ALS at its defaults and at the settings its own examples use for purchase/play counts (BM25-weighted
#: matrix, as in implicit's lastfm example), so the peer gets a sweep as EASE does.
ALS_SETTINGS: dict[str, dict[str, Any]] = {
    "implicit ALS (defaults)": {},
    "implicit ALS, BM25-weighted (K1=100, B=0.8)": {"bm25": True},
    "implicit ALS, BM25-weighted, 64 factors, regularization 0.05, 30 iterations": {
        "bm25": True,
        "factors": 64,
        "regularization": 0.05,
        "iterations": 30,
    },
}


def _als(
    train: list[Transaction], users: list[str], settings: dict[str, Any] | None = None
) -> tuple[dict[str, list[str]] | None, str]:
    try:
        from implicit.als import AlternatingLeastSquares
    except ImportError as exc:
        return None, f"implicit not installed ({exc})"
    import implicit

    params = dict(settings or {})
    bm25 = params.pop("bm25", False)
    cat = item_catalogue(train)
    x = cat.matrix.tocsr().astype(np.float32)
    if bm25:
        from implicit.nearest_neighbours import bm25_weight

        x = bm25_weight(x, K1=100, B=0.8).tocsr().astype(np.float32)
    try:  # implicit's documented advice: no BLAS threadpool inside ALS
        from threadpoolctl import threadpool_limits
    except ImportError:
        limits: Any = contextlib.nullcontext()
    else:
        limits = threadpool_limits(1, "blas")
    with limits:
        model = AlternatingLeastSquares(random_state=0, **params)
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit(x, show_progress=False)
        fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    cidx = cat.customer_index()
    rows = np.array([cidx[u] for u in users])
    ids, _ = model.recommend(rows, x[rows], N=10, filter_already_liked_items=True)
    recs = {u: [cat.skus[i] for i in ids[k] if i >= 0] for k, u in enumerate(users)}
    return recs, f"{fit_s:.2f} s (CPU {fit_cpu:.2f} s; implicit {implicit.__version__})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", type=Path, help="the UCI Online Retail CSV (.csv or .csv.gz)")
    ap.add_argument("--until", default="2011-07-31", help="last day of training (UK local time)")
    ap.add_argument("--test-end", default="2011-09-30", help="last day of the test period")
    args = ap.parse_args()

    load = os.getloadavg()
    t0 = time.perf_counter()
    txs, left = read_transactions(args.path)
    read_s = time.perf_counter() - t0
    cut = dt.datetime.fromisoformat(args.until).replace(tzinfo=UK) + dt.timedelta(days=1)
    end = dt.datetime.fromisoformat(args.test_end).replace(tzinfo=UK) + dt.timedelta(days=1)
    train, rest = time_split(txs, cut)
    test, _ = time_split(rest, end)
    rel, unseen = relevant_items(train, test)
    users = sorted(rel)
    print(f"read {len(txs)} transactions in {read_s:.1f} s; left out rows: {left}")
    print(
        f"train {len(train)} transactions, test {len(test)}; {len(users)} test customers, "
        f"{sum(map(len, rel.values()))} relevant pairs ({unseen} pairs on items unseen in training dropped)"
    )

    results: dict[str, dict[str, Any]] = {}
    t0 = time.perf_counter()
    cat = item_catalogue(train)
    cat_s = time.perf_counter() - t0
    print(f"catalogue: {len(cat.customers)} customers × {len(cat.skus)} items, built in {cat_s:.2f} s")

    models: list[tuple[str, Recommender]] = [
        ("custdata EASE λ=500", Recommender("ease", lam=500)),
        ("custdata EASE λ=250", Recommender("ease", lam=250)),
        ("custdata EASE λ=1000", Recommender("ease", lam=1000)),
        ("custdata EASE λ=500, half-life 60 days", Recommender("ease", lam=500, half_life_days=60)),
        ("custdata item-kNN k=100", Recommender("itemknn", neighbours=100)),
        ("custdata popularity (all)", Recommender("popular")),
        ("custdata popularity (30 days)", Recommender("popular", recent_days=30)),
    ]
    for name, model in models:
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit(train)
        fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
        recs = {u: [r.sku for r in model.recommend(u, 10)] for u in users}
        results[name] = {**_measure(recs, rel, cat.skus), "fit_s": fit_s, "fit_cpu_s": fit_cpu}
    for name, settings in ALS_SETTINGS.items():
        als, note = _als(train, users, settings)
        if als is None:
            print(f"ALS not run: {note}")
            break
        results[name] = {**_measure(als, rel, cat.skus), "note": note}
    load_after = os.getloadavg()

    print(
        f"\nload average before {load[0]:.1f}, after {load_after[0]:.1f} ({os.cpu_count()} CPUs, {platform.processor() or platform.machine()})\n"
    )
    print("| model | NDCG@10 | recall@10 | hit rate@10 | coverage@10 | fit |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        fit = f"{r['fit_s']:.2f} s (CPU {r['fit_cpu_s']:.2f} s)" if "fit_s" in r else r.get("note", "")
        print(
            f"| {name} | {r['ndcg@10']:.4f} | {r['recall@10']:.4f} | {r['hit_rate@10']:.4f} | {r['coverage@10']:.4f} | {fit} |"
        )
    out = HERE / "_data"
    out.mkdir(exist_ok=True)
    (out / "bench_needs.json").write_text(
        json.dumps({"results": results, "load": [load, load_after], "items": len(cat.skus)}, indent=2),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
