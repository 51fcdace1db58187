"""Segments at scale: rules over profiles beside pandas masks, and store.select inside SQLite and PostgreSQL.

Full run (the issue's scale, 1M customers and 10M transactions; not timed here: expect 35-45 minutes on a
quiet machine with the default ``--repeat 3`` (about 25 with ``--repeat 1``) and several GB of memory,
scaled from the CPU time of a small run: ``--customers 20000 --transactions 200000 --start-postgres
--repeat 1`` took 5 minutes at a load average of 13 on 2 CPUs, about 20 s of this process's CPU time):

    python benchmarks/bench_segments.py --customers 1000000 --transactions 10000000 --start-postgres

Quick check of the script itself (seconds): ``python benchmarks/bench_segments.py --quick --start-postgres``.
``--postgres URL`` uses a running server instead of starting one (``--start-postgres`` starts a private
one with the test suite's helper, fsync off); without either, PostgreSQL is skipped. ``--repeat N`` (default
3) repeats every timed step; figures are medians. ``--no-store`` skips part 2.

The data come from a fixed seed: customers with tags, channel, an address (90 %) or only a phone,
birthdays (some year-less); transactions spread over two years with a heavy-tailed number per customer,
5 % refunds, amounts with two decimals, time stamps in +08:00; an interaction for every third customer.

1. **Rules over profiles.** ``custdata.profiles(...)`` streams the generated records into one profile per
   customer (timed once, beside pandas computing the same figures with groupby from a DataFrame of the
   same columns). Then the ten RULES: ``rule.matches`` over every profile, beside the same rules as pandas
   boolean masks over a DataFrame of the same profiles (the peer's best form: vectorised columns). Both
   sides must find the same number of members for every rule.
2. **store.select inside the database.** The store is bulk-loaded (customers through ``upsert_many``;
   transactions and interactions as rows straight into the store's bulk path, multi-row INSERT on SQLite
   and COPY on PostgreSQL, with bodies checked byte for byte against ``add_transactions`` on a sample),
   ``optimize()``d, then each rule runs through ``store.select`` and must return the members part 1
   found. Beside it, the same selection as a hand-written SQL query an analyst would write over the same
   columns and indexes (for the rules a short query can express), followed by ``get_many`` of its ids (the
   same records out), and the query plans (EXPLAIN).

Reported per step: wall time and CPU time of this process (medians) and peak memory above the step's
start (``VmHWM`` after resetting it through ``/proc/self/clear_refs``; Linux). For PostgreSQL the server's
work is in its own processes: its share shows in wall time only. Results are printed as Markdown and saved
to benchmarks/_data/bench_segments.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

import custdata
from custdata import Customer, Interaction, Transaction
from custdata.segments import Rule, profiles
from custdata.storage._core import ts
from custdata.storage._sql import TRANSACTION_COLUMNS, amount_u

HERE = Path(__file__).resolve().parent
AS_OF = dt.date(2026, 6, 30)
TZ = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2024, 7, 1, tzinfo=TZ)
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


# --------------------------------------------------------------------------------------------- data
def customers(n: int) -> Iterator[Customer]:
    rnd = np.random.default_rng(1)
    geo = rnd.integers(0, len(CITIES), n)
    has_addr = rnd.random(n) < 0.9
    phone_head = rnd.choice(list("3589"), n)
    phone_tail = rnd.integers(0, 10**9, n)
    yearless = rnd.random(n) < 0.2
    year = rnd.integers(1950, 2006, n)
    month = rnd.integers(1, 13, n)
    day = rnd.integers(1, 29, n)
    n_tags = rnd.integers(0, 3, n)
    tag_pick = rnd.integers(0, len(TAGS), (n, 2))
    channel = rnd.integers(0, 4, n)
    channels = ["store", "website", "social", None]
    for i in range(n):
        g = CITIES[geo[i]]
        yield Customer(
            id=f"c{i:07d}",
            phones=[f"1{phone_head[i]}{phone_tail[i]:09d}"],
            addresses=[{"province": g[0], "city": g[1]}] if has_addr[i] else [],
            birthday=(f"--{month[i]:02d}-{day[i]:02d}" if yearless[i] else f"{year[i]}-{month[i]:02d}-{day[i]:02d}"),
            tags=[TAGS[t] for t in tag_pick[i, : n_tags[i]]],
            channel=channels[channel[i]],
        )  # fmt: skip


def transaction_columns(n_customers: int, n: int) -> dict[str, np.ndarray]:
    """The transactions as columns: customer index, minutes after START, amount in cents (negative: refund)."""
    rnd = np.random.default_rng(2)
    who = (rnd.pareto(1.2, n) * 1000).astype(np.int64) % n_customers
    minutes = rnd.integers(0, 730 * 24 * 60, n)
    cents = rnd.integers(100, 200_000, n)
    cents = np.where(rnd.random(n) < 0.05, -cents, cents)
    return {"who": who, "minutes": minutes, "cents": cents}


def _at(minutes: int) -> dt.datetime:
    return START + dt.timedelta(minutes=int(minutes))


def transactions(cols: dict[str, np.ndarray]) -> Iterator[Transaction]:
    for w, m, c in zip(cols["who"].tolist(), cols["minutes"].tolist(), cols["cents"].tolist(), strict=True):
        yield Transaction(customer_id=f"c{w:07d}", at=_at(m), amount=Decimal(c).scaleb(-2))


def transaction_rows(cols: dict[str, np.ndarray]) -> Iterator[tuple[Any, ...]]:
    """The rows ``add_transactions`` writes (TRANSACTION_COLUMNS), built without records: the body is the
    record's canonical JSON, which main() checks against the record path on a sample."""
    for w, m, c in zip(cols["who"].tolist(), cols["minutes"].tolist(), cols["cents"].tolist(), strict=True):
        at = _at(m)
        amount = Decimal(c).scaleb(-2)
        cid = f"c{w:07d}"
        iso = at.isoformat()
        body = (
            f'{{"schema":1,"id":null,"customer_id":"{cid}","at":"{iso}","amount":"{amount}",'
            '"currency":null,"order_id":null,"channel":null,"items":[]}'
        )
        yield (cid, ts(at), iso[:10], amount_u(amount), None, body)


def interactions(n_customers: int) -> Iterator[Interaction]:
    rnd = np.random.default_rng(3)
    minutes = rnd.integers(0, 540 * 24 * 60, n_customers // 3 + 1)
    start = dt.datetime(2025, 1, 1, tzinfo=TZ)
    for k, i in enumerate(range(0, n_customers, 3)):
        yield Interaction(customer_id=f"c{i:07d}", at=start + dt.timedelta(minutes=int(minutes[k])))


# --------------------------------------------------------------------------------------------- measuring
def _status(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure(fn: Callable[[], Any], repeat: int) -> tuple[dict[str, Any], Any]:
    """Median wall and CPU seconds over ``repeat`` runs, and the peak memory above the start (MiB)."""
    walls, cpus, peaks = [], [], []
    out = None
    for _ in range(repeat):
        ok = _reset_peak()
        base = _status("VmRSS")
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        hwm = _status("VmHWM")
        if ok and base is not None and hwm is not None:
            peaks.append(max(0.0, (hwm - base) / 2**20))
    return {
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "peak_mib": max(peaks) if peaks else None,
        "runs": repeat,
    }, out


def _fmt(m: dict[str, Any]) -> str:
    peak = "n/a" if m["peak_mib"] is None else f"{m['peak_mib']:,.0f} MiB"
    return f"{m['wall_s']:.2f} s (CPU {m['cpu_s']:.2f} s, peak +{peak})"


# --------------------------------------------------------------------------------------------- pandas
def pandas_profiles(pd: Any, cols: dict[str, np.ndarray], n_c: int, cust_df: Any, contacts: Any) -> Any:
    """The per-customer figures of custdata.profiles, in pandas (money as float)."""
    day = (np.datetime64("2024-07-01") + (cols["minutes"] // (24 * 60)).astype("timedelta64[D]")).astype(
        "datetime64[ns]"
    )  # minutes after 00:00 +08:00: the local day
    tx = pd.DataFrame({"customer_id": cols["who"], "day": day, "amount": cols["cents"] / 100})
    tx = tx[tx["day"] <= pd.Timestamp(AS_OF)]
    purchases = tx[tx["amount"] >= 0]
    g = purchases.groupby("customer_id")
    agg = pd.DataFrame(
        {"orders": g.size(), "first_purchase": g["day"].min(), "last_purchase": g["day"].max()}
    )
    agg["total_spend"] = tx.groupby("customer_id")["amount"].sum()
    agg["recency_days"] = (pd.Timestamp(AS_OF) - agg["last_purchase"]).dt.days
    buyers = agg[agg["orders"] > 0]
    agg["rfm_r"] = 5 - pd.qcut(buyers["recency_days"], 5, labels=False, duplicates="drop")
    agg["rfm_f"] = 1 + pd.qcut(buyers["orders"], 5, labels=False, duplicates="drop")
    agg["rfm_m"] = 1 + pd.qcut(buyers["total_spend"], 5, labels=False, duplicates="drop")
    last = contacts.groupby("customer_id")["day"].max().rename("last_contact")
    out = cust_df.join(agg).join(last)
    out["days_since_contact"] = (pd.Timestamp(AS_OF) - out["last_contact"]).dt.days
    out["orders"] = out["orders"].fillna(0)
    out["total_spend"] = out["total_spend"].fillna(0.0)
    return out


def pandas_masks(df: Any) -> list[Any]:
    """The ten RULES as boolean masks over the profiles' DataFrame (missing values compare false)."""
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


#: Hand-written SQL for rules a short query expresses (the peer of the compiled query): ``?`` placeholders.
HAND_SQL = {
    0: (
        "SELECT customer_id FROM cd_transactions WHERE day <= ? GROUP BY customer_id "
        "HAVING SUM(amount_u) >= 5000000000 AND MAX(CASE WHEN amount_u >= 0 THEN day END) >= ? "
        "ORDER BY customer_id",
        lambda: [AS_OF.isoformat(), (AS_OF - dt.timedelta(days=90)).isoformat()],
    ),
    4: (
        "SELECT customer_id FROM cd_transactions WHERE day <= ? GROUP BY customer_id "
        "HAVING MAX(CASE WHEN amount_u >= 0 THEN day END) < ? ORDER BY customer_id",
        lambda: [AS_OF.isoformat(), (AS_OF - dt.timedelta(days=365)).isoformat()],
    ),
}


# --------------------------------------------------------------------------------------------- main
def main() -> None:
    import pandas as pd

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--transactions", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="2,000 customers, 20,000 transactions, 1 run")
    ap.add_argument("--postgres", help="a PostgreSQL URL to use (a fresh schema is created and dropped)")
    ap.add_argument("--start-postgres", action="store_true", help="start a private PostgreSQL server")
    ap.add_argument("--no-store", action="store_true")
    a = ap.parse_args()
    if a.quick:
        a.customers, a.transactions, a.repeat = 2_000, 20_000, 1
    n_c, n_t, rep = a.customers, a.transactions, a.repeat
    res: dict[str, Any] = {
        "customers": n_c,
        "transactions": n_t,
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "sqlite_version": __import__("sqlite3").sqlite_version,
        "load_average_at_start": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    rules = [Rule.parse(r) for r in RULES]
    cols = transaction_columns(n_c, n_t)

    # ---------------------------------------------------------------- 1. profiles, then rules beside masks
    contact_list = list(interactions(n_c))
    _, members = _rules_part(pd, res, cols, n_c, contact_list, rules, rep)
    m_prof, m_pdprof, m_rules, m_masks = (
        res[k] for k in ("profiles", "pandas_profiles", "rules_python", "rules_pandas")
    )

    # ---------------------------------------------------------------- 2. store.select inside the database
    server = None
    urls: list[tuple[str, str]] = []
    tmp = tempfile.mkdtemp()
    if not a.no_store:
        urls.append(("sqlite", f"sqlite:///{tmp}/bench.db?synchronous=normal"))
        pg = a.postgres
        if a.start_postgres and not pg:
            import sys

            sys.path.insert(0, str(HERE.parent))
            from tests.storage.storage_backends import start_server

            server = start_server()
            pg = server.url
        if pg:
            urls.append(("postgresql", f"{pg}{'&' if '?' in pg else '?'}schema=bench_{uuid.uuid4().hex[:8]}"))
    # the bulk rows equal what add_transactions writes
    sample = {k: v[:500] for k, v in cols.items()}
    with custdata.open_store("sqlite://") as check:
        check.add_transactions(transactions(sample))
        want = check.query_sql(f"SELECT {', '.join(TRANSACTION_COLUMNS)} FROM cd_transactions ORDER BY seq")
    assert want == list(transaction_rows(sample)), "the bulk rows differ from add_transactions'"
    try:
        for name, url in urls:
            with custdata.open_store(url) as store:
                res[name] = _store_part(store, name, cols, n_c, contact_list, rules, members, rep)
                if name == "postgresql":
                    store._raw(f'DROP SCHEMA "{store.schema}" CASCADE')  # type: ignore[attr-defined]
    finally:
        if server is not None:
            server.stop()
        for f in Path(tmp).glob("*"):
            f.unlink()

    # ---------------------------------------------------------------- report
    print(f"\n{n_c:,} customers, {n_t:,} transactions; medians of {rep} runs; load average at start "
          f"{res['load_average_at_start']:.1f} on {res['cpus']} CPUs\n")  # fmt: skip
    print("| step | custdata | peer |\n|---|---|---|")
    print(
        f"| profiles (once), records built on the way | {_fmt(m_prof)} | pandas groupby/qcut: {_fmt(m_pdprof)} |"
    )
    print(f"| of which building the records (alone) | {_fmt(res['records'])} | |")
    print(f"| profiles' own work (CPU, the difference) | CPU {res['profiles_own_cpu_s']:.2f} s | |")
    print(f"| 10 rules over {n_c:,} profiles | {_fmt(m_rules)} | pandas masks: {_fmt(m_masks)} |")
    for name in ("sqlite", "postgresql"):
        if name not in res:
            continue
        r = res[name]
        print(f"| {name}: bulk load | {_fmt(r['load'])} | |")
        for i, sel in enumerate(r["select"]):
            hand = r["hand_sql"].get(str(i))
            print(f"| {name}: select rule {i + 1} ({sel['members']:,}) | {_fmt(sel)} | "
                  f"{'hand-written SQL: ' + _fmt(hand) if hand else ''} |")  # fmt: skip
    for name in ("sqlite", "postgresql"):
        if name in res:
            print(f"\n{name} plan of rule 1:\n" + "\n".join(res[name]["plan"]))
    out = HERE / "_data"
    out.mkdir(exist_ok=True)
    (out / "bench_segments.json").write_text(json.dumps(res, indent=2), encoding="utf-8")


def _rules_part(
    pd: Any,
    res: dict[str, Any],
    cols: dict[str, np.ndarray],
    n_c: int,
    contact_list: list[Interaction],
    rules: list[Rule],
    rep: int,
) -> tuple[list[int], dict[int, list[str]]]:
    # the records alone (built from the columns and dropped): the part of the profiles step that is not
    # profiles' own work (a user's records come from a file or a store; pandas starts from columns)
    res["records"], _ = measure(
        lambda: (sum(1 for _ in customers(n_c)), sum(1 for _ in transactions(cols))), 1
    )
    m_prof, ps = measure(
        lambda: list(profiles(customers(n_c), transactions(cols), contact_list, as_of=AS_OF)), 1
    )
    res["profiles"] = m_prof
    res["profiles_own_cpu_s"] = m_prof["cpu_s"] - res["records"]["cpu_s"]
    cust_df = pd.DataFrame(index=pd.Index([f"c{i:07d}" for i in range(n_c)], name="id"))
    contacts = pd.DataFrame(
        {"customer_id": [i.customer_id for i in contact_list],
         "day": pd.to_datetime([i.at.date() for i in contact_list])}
    )  # fmt: skip
    idx_cols = dict(cols)
    idx_cols["who"] = np.array([f"c{w:07d}" for w in cols["who"].tolist()], dtype=object)
    res["pandas_profiles"], _ = measure(lambda: pandas_profiles(pd, idx_cols, n_c, cust_df, contacts), 1)
    res["rules_python"], counts = measure(lambda: [sum(1 for p in ps if r.matches(p)) for r in rules], rep)
    df = pd.DataFrame([p.to_dict() for p in ps])
    df["total_spend"] = df["total_spend"].astype(float)
    res["rules_pandas"], masks = measure(lambda: [int(m.sum()) for m in pandas_masks(df)], rep)
    assert counts == masks, (counts, masks)  # the same members on both sides
    res["rule_counts"] = counts
    members = {i: sorted(p.id for p in ps if r.matches(p)) for i, r in enumerate(rules)}
    return counts, members


def _store_part(
    store: Any,
    name: str,
    cols: dict[str, np.ndarray],
    n_c: int,
    contact_list: list[Interaction],
    rules: list[Rule],
    members: dict[int, list[str]],
    rep: int,
) -> dict[str, Any]:
    def load() -> None:
        store.upsert_many(customers(n_c))
        batch: list[tuple[Any, ...]] = []
        with store.transaction():
            for row in transaction_rows(cols):
                batch.append(row)
                if len(batch) >= 50_000:
                    store._bulk("cd_transactions", TRANSACTION_COLUMNS, batch)
                    batch = []
            store._bulk("cd_transactions", TRANSACTION_COLUMNS, batch)
        store.add_interactions(contact_list)
        store.optimize()

    m_load, _ = measure(load, 1)
    out: dict[str, Any] = {"load": m_load, "select": [], "hand_sql": {}}
    for i, r in enumerate(rules):
        m, got = measure(lambda r=r: store.select(r, as_of=AS_OF), rep)
        assert [c.id for c in got] == members[i], (name, str(r))
        m["members"] = len(got)
        out["select"].append(m)
    for i, (sql, params) in HAND_SQL.items():
        # the same work as select: the ids from the query, then their records
        def hand(sql: str = sql, params: Callable[[], list[str]] = params) -> list[Any]:
            ids = [x[0] for x in store.query_sql(sql, params())]
            found = store.get_many(ids)
            return [found[k] for k in ids]

        m, got = measure(hand, rep)
        assert [c.id for c in got] == members[i], (name, "hand-written SQL", i)
        out["hand_sql"][str(i)] = m
    from custdata.segments._sql import compile_rule

    c = compile_rule(rules[0], name, AS_OF, None)
    explain = "EXPLAIN QUERY PLAN " if name == "sqlite" else "EXPLAIN "
    out["plan"] = [
        " ".join(str(x) for x in row[-1:]) for row in store.query_sql(explain + c.sql, list(c.params))
    ]
    return out


if __name__ == "__main__":
    main()
