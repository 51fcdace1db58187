"""Segments: profiles, rules and store.select, beside pandas doing the same work in the same run.

Run: python benchmarks/bench_segments.py [CUSTOMERS] [TRANSACTIONS] [--no-store] [--postgres URL]
(defaults 100_000 and 1_000_000; the issue's scale is 1_000_000 and 10_000_000).

The data are generated from a fixed seed: customers with tags, channel, an address (most) or only a phone,
birthdays (some year-less); transactions over two years with 5 % refunds, amounts with two decimals and
time stamps in +08:00; interactions for a third of the customers.

1. profiles: ``custdata.profiles(customers, transactions, interactions, as_of=...)`` over the records in
   memory, beside pandas computing the same per-customer
   figures from a DataFrame of the transactions: a groupby for orders, net spend, first and last purchase,
   recency, the last contact, and ``qcut`` scores (pandas' time excludes building its DataFrames; it sums
   amounts as floats, custdata as Decimals).
2. rules: ten rules over the profiles, ``rule.matches`` per profile, beside the same rules as pandas boolean
   masks over a DataFrame of the profiles (the peer's best form: vectorised).
3. store.select (SQLite, and PostgreSQL with --postgres): the same rules evaluated inside the database,
   beside the Python path over the store's data (scan + transactions + profiles), the naive alternative.

Results are printed as Markdown and saved to benchmarks/_data/bench_segments.json.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import custdata
from custdata import Customer, Interaction, Transaction
from custdata.segments import Rule, profiles, select
from custdata.segments._select import _select_python

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2026, 6, 30)
TZ = dt.timezone(dt.timedelta(hours=8))
CITIES = [
    ("上海市", "上海市"),
    ("北京市", "北京市"),
    ("广东省", "深圳市"),
    ("浙江省", "杭州市"),
    ("四川省", "成都市"),
]
TAGS = ["vip", "会员", "new", "book-lover"]

RULES = [
    "total_spend >= 5000 and recency_days <= 90",
    "rfm_segment in ['champions', 'loyal']",
    "city == '上海市' and orders >= 3",
    "tags contains 'vip' or total_spend >= 8000",
    "recency_days > 365",
    "not (channel == 'store') and orders >= 1",
    "days_since_contact >= 90 or last_contact is missing",
    "province in ['广东省', '浙江省'] and total_spend < 1000",
    "rfm_r >= 4 and rfm_f <= 2",
    "phone startswith '138' and orders == 0",
]


def customers(n: int) -> Iterator[Customer]:
    rnd = random.Random(1)
    for i in range(n):
        geo = CITIES[rnd.randrange(len(CITIES))]
        yield Customer(
            id=f"c{i:07d}",
            phones=[f"1{rnd.choice('3589')}{rnd.randrange(10**9):09d}"],
            addresses=[{"province": geo[0], "city": geo[1]}] if rnd.random() < 0.9 else [],
            birthday=(f"--{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}" if rnd.random() < 0.2
                      else f"{rnd.randint(1950, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"),
            tags=rnd.sample(TAGS, rnd.randint(0, 2)),
            channel=rnd.choice(["store", "website", "social", None]),
        )  # fmt: skip


def transactions(n_customers: int, n: int) -> Iterator[Transaction]:
    rnd = random.Random(2)
    start = dt.datetime(2024, 7, 1, tzinfo=TZ)
    for _ in range(n):
        cid = f"c{int(rnd.paretovariate(1.2) * 1000) % n_customers:07d}"
        at = start + dt.timedelta(minutes=rnd.randrange(730 * 24 * 60))
        cents = rnd.randrange(100, 200_000)
        amount = Decimal(-cents if rnd.random() < 0.05 else cents).scaleb(-2)
        yield Transaction(customer_id=cid, at=at, amount=amount)


def interactions(n_customers: int) -> Iterator[Interaction]:
    rnd = random.Random(3)
    start = dt.datetime(2025, 1, 1, tzinfo=TZ)
    for i in range(0, n_customers, 3):
        yield Interaction(
            customer_id=f"c{i:07d}", at=start + dt.timedelta(minutes=rnd.randrange(540 * 24 * 60))
        )


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def pandas_profiles(pd: Any, txdf: Any, ixdf: Any, custdf: Any) -> Any:
    """The same per-customer figures as custdata.profiles, in pandas (floats for money)."""
    tx = txdf[txdf["day"] <= AS_OF]
    purchases = tx[tx["amount"] >= 0]
    g = purchases.groupby("customer_id")
    agg = pd.DataFrame(
        {"orders": g.size(), "first_purchase": g["day"].min(), "last_purchase": g["day"].max()}
    )
    agg["total_spend"] = tx.groupby("customer_id")["amount"].sum()
    agg["recency_days"] = (pd.Timestamp(AS_OF) - pd.to_datetime(agg["last_purchase"])).dt.days
    buyers = agg[agg["orders"] > 0]
    agg["rfm_r"] = 5 - pd.qcut(buyers["recency_days"], 5, labels=False, duplicates="drop")
    agg["rfm_f"] = 1 + pd.qcut(buyers["orders"], 5, labels=False, duplicates="drop")
    agg["rfm_m"] = 1 + pd.qcut(buyers["total_spend"], 5, labels=False, duplicates="drop")
    contact = ixdf[ixdf["day"] <= AS_OF].groupby("customer_id")["day"].max().rename("last_contact")
    out = custdf.join(agg, on="id").join(contact, on="id")
    out["days_since_contact"] = (pd.Timestamp(AS_OF) - pd.to_datetime(out["last_contact"])).dt.days
    out["orders"] = out["orders"].fillna(0)
    out["total_spend"] = out["total_spend"].fillna(0.0)
    return out


def pandas_masks(df: Any) -> list[Any]:
    """The ten RULES as boolean masks (missing values compare false, as in custdata)."""
    return [
        (df.total_spend >= 5000) & (df.recency_days <= 90),
        df.rfm_segment.isin(["champions", "loyal"]),
        (df.city == "上海市") & (df.orders >= 3),
        df.tags.map(lambda t: "vip" in t) | (df.total_spend >= 8000),
        df.recency_days > 365,
        ~(df.channel == "store") & (df.orders >= 1),
        (df.days_since_contact >= 90) | df.last_contact.isna(),
        df.province.isin(["广东省", "浙江省"]) & (df.total_spend < 1000),
        (df.rfm_r >= 4) & (df.rfm_f <= 2),
        df.phone.str.startswith("138", na=False) & (df.orders == 0),
    ]


def main() -> None:
    import pandas as pd

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n_c = int(args[0]) if args else 100_000
    n_t = int(args[1]) if len(args) > 1 else 1_000_000
    pg = sys.argv[sys.argv.index("--postgres") + 1] if "--postgres" in sys.argv else None
    rules = [Rule.parse(r) for r in RULES]
    res: dict[str, Any] = {"customers": n_c, "transactions": n_t, "python": platform.python_version(),
                           "load": os.getloadavg()[0]}  # fmt: skip

    # 1. profiles (both sides start from the same records in memory; pandas first builds its DataFrames)
    cust = list(customers(n_c))
    inter = list(interactions(n_c))
    txs = list(transactions(n_c, n_t))
    t_prof, ps = timed(lambda: list(profiles(cust, txs, inter, as_of=AS_OF)))
    res["profiles_s"] = t_prof
    t_frame, frames = timed(
        lambda: (
            pd.DataFrame(
                [(t.customer_id, t.at.date(), float(t.amount)) for t in txs],
                columns=["customer_id", "day", "amount"],
            ),
            pd.DataFrame([(i.customer_id, i.at.date()) for i in inter], columns=["customer_id", "day"]),
            pd.DataFrame({"id": [c.id for c in cust]}),
        )
    )
    res["pandas_frame_build_s"] = t_frame
    t_pd, _ = timed(lambda: pandas_profiles(pd, *frames))
    res["pandas_profiles_s"] = t_pd

    # 2. ten rules in Python over the profiles, beside pandas masks over a DataFrame of them
    t_rules, counts = timed(lambda: [sum(1 for p in ps if r.matches(p)) for r in rules])
    res["rules_python_s"] = t_rules
    df = pd.DataFrame([p.to_dict() for p in ps])
    for col in ("total_spend",):
        df[col] = df[col].astype(float)
    t_masks, masks = timed(lambda: [int(m.sum()) for m in pandas_masks(df)])
    res["rules_pandas_s"] = t_masks
    assert counts == masks, (counts, masks)  # the same members
    res["rule_counts"] = counts

    # 3. store.select inside SQLite (and PostgreSQL) beside Python over the store's data
    if "--no-store" not in sys.argv:
        urls = []
        tmp = tempfile.mkdtemp()
        urls.append(("sqlite", f"sqlite:///{tmp}/bench.db"))
        if pg:
            urls.append(("postgresql", f"{pg}{'&' if '?' in pg else '?'}schema=bench_{uuid.uuid4().hex[:8]}"))
        for name, url in urls:
            with custdata.open_store(url) as store:
                t_load, _ = timed(lambda store=store: (store.upsert_many(cust), store.add_transactions(txs),
                                                       store.add_interactions(inter), store.optimize()))  # fmt: skip
                res[f"{name}_load_s"] = t_load
                sel = []
                for r, want in zip(rules, counts, strict=True):
                    t, got = timed(lambda r=r, store=store: select(store, r, as_of=AS_OF))
                    assert len(got) == want, (str(r), len(got), want)
                    sel.append(t)
                res[f"{name}_select_s"] = sel
                t_py, got = timed(lambda store=store: _select_python(store, rules[0], AS_OF, 5, "CN"))
                assert len(got) == counts[0]
                res[f"{name}_python_path_s"] = t_py

    print(f"\n{n_c:,} customers, {n_t:,} transactions, load average {res['load']:.1f}\n")
    print("| step | custdata | pandas |\n|---|---|---|")
    print(f"| profiles | {t_prof:.1f} s | {t_pd:.1f} s (+ {t_frame:.1f} s building its DataFrames) |")
    print(f"| 10 rules over the profiles | {t_rules:.2f} s | {t_masks:.2f} s (masks) |")
    for name in ("sqlite", "postgresql"):
        if f"{name}_select_s" in res:
            s = res[f"{name}_select_s"]
            print(
                f"| {name} select, 10 rules | {sum(s):.1f} s (max {max(s):.1f} s) | python path for rule 1: "
                f"{res[f'{name}_python_path_s']:.1f} s |"
            )
    out = HERE / "_data"
    out.mkdir(exist_ok=True)
    (out / "bench_segments.json").write_text(json.dumps(res, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
