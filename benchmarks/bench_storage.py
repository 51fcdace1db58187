"""Storage throughput and look-up latency: custdata's SQLite, PostgreSQL and MariaDB stores beside bare peers.

Run: python benchmarks/bench_storage.py [--n 1000000] [--runs 3] [--backends sqlite,postgres,mariadb]
                                        [--postgres-url URL] [--mariadb-url URL] [--rule-customers 50000]

For each backend, in the same run on the same records:

* ``upsert_many`` of N new customers into an empty store (one transaction: JSON body, lookup index for
  phone and e-mail, a history row per customer), records/s, median of ``--runs`` runs;
* the peer: the bare driver writing the same records to a table of (id, phone, body) with an index on the
  phone, i.e. no history, no e-mail index, no versions. SQLite: a naive loop of one ``INSERT`` per row
  (in one transaction, as a careful user would write it); PostgreSQL: psycopg's ``executemany`` (which
  pipelines the statements);
* ``find(phone=...)`` at N rows: p50 and p99 over 20,000 random look-ups (E.164 input, the record
  decoded into a ``Customer``), beside the peer's bare ``SELECT body ... WHERE phone = ?`` (no decoding).
  The N records the script itself holds are frozen out of the garbage collector first (``gc.freeze``).
  Before the look-ups both sides update their planner statistics as a user would after a bulk load:
  ``store.optimize()`` for custdata (timed and reported), ``ANALYZE`` (SQLite) or ``VACUUM ANALYZE``
  (PostgreSQL) for the peer's table;
* PostgreSQL only: the latency of ``SELECT 1`` on a connection of its own, the round trip no query can
  beat on this machine. The server gets a ``CHECKPOINT`` after the loads, so the look-ups do not share the
  machine with the write-out of the loads' WAL. The look-ups of custdata, the peer (and ``SELECT 1``)
  take turns on each phone number, so noise from the rest of the machine falls on them alike.

PostgreSQL: ``--postgres-url`` or ``CUSTDATA_BENCH_POSTGRES_URL``; otherwise a private server is started
with its default durability settings (fsync on) in a temporary folder, as the test suite does.

MariaDB (``mariadb``): ``--mariadb-url`` or ``CUSTDATA_BENCH_MARIADB_URL``; otherwise a private server is
started as the test suite does but durable (InnoDB's defaults: the log flushed at each commit, doublewrite
on) with a 1 GiB buffer pool and a 256 MiB redo log (the only server settings; the same for both sides).
custdata is timed twice: with its default bulk path (``LOAD DATA LOCAL INFILE`` from a buffer in memory)
and with ``local_infile=false`` (PyMySQL's multi-row ``INSERT``, what a server refusing local loads
gets); the peer is PyMySQL's
``executemany``, which folds the rows into multi-row ``INSERT`` statements (its documented bulk path).
The look-ups compare custdata (default store), the peer's ``SELECT`` and ``SELECT 1`` on a connection of its
own. Then one segment rule on spend over ``--rule-customers`` customers (default 50,000; 0 leaves it out)
with two purchases each: ``store.select`` pushed into MariaDB beside Python over ``custdata.profiles`` of
the same store (the path MySQL and MariaDB 10.5 get), the same answer checked.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import custdata
from custdata import Customer

LOOKUPS = 20_000


def customers(n: int) -> list[Customer]:
    return [
        Customer.from_dict(
            {
                "id": f"c{i:07d}",
                "name": {"full": f"客户{i}"},
                "phones": [{"number": f"+86138{i:08d}", "kind": "mobile", "primary": True}],
                "emails": [{"address": f"user{i}@example.com"}],
                "created_at": "2026-01-02T03:04:05+08:00",
            }
        )
        for i in range(n)
    ]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def timed(fn: Callable[[], object]) -> float:
    c = time.process_time()
    t = time.perf_counter()
    fn()
    wall = time.perf_counter() - t
    LAST_CPU.append(time.process_time() - c)
    return wall


#: CPU seconds (all threads of this process) of each timed call: on a busy machine the wall clock also
#: measures the other processes. (The database server's own CPU is not in it.)
LAST_CPU: list[float] = []


def latencies(fns: list[Callable[[str], object]], phones: list[str]) -> list[list[float]]:
    """Latency in µs of each of ``fns`` on every phone. The functions take turns on each phone (in an
    order that rotates), so whatever else the machine does meanwhile falls on all of them alike."""
    # The million records this script holds in memory are not part of an application's look-up path:
    # move them out of the garbage collector's way, as a long-running service's startup data would be.
    gc.collect()
    gc.freeze()
    out: list[list[float]] = [[] for _ in fns]
    order = list(range(len(fns)))
    for i, p in enumerate(phones):
        for j in order[i % len(fns) :] + order[: i % len(fns)]:
            t = time.perf_counter_ns()
            fns[j](p)
            out[j].append((time.perf_counter_ns() - t) / 1000)
    return out


# ------------------------------------------------------------------------------------------ SQLite
def bench_sqlite(cs: list[Customer], runs: int, phones: list[str]) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-sqlite-"))
    ours: list[float] = []
    peer: list[float] = []
    ours_cpu: list[float] = []
    peer_cpu: list[float] = []
    store = None
    for r in range(runs):
        url = f"sqlite:///{tmp / f'ours{r}.db'}"
        store = custdata.open_store(url)
        ours.append(timed(lambda s=store: s.upsert_many(cs)))
        ours_cpu.append(LAST_CPU[-1])
        if r < runs - 1:
            store.close()

        path = tmp / f"peer{r}.db"
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        con.execute("CREATE TABLE customers (id TEXT PRIMARY KEY, phone TEXT, body TEXT NOT NULL)")
        con.execute("CREATE INDEX customers_phone ON customers (phone)")

        def naive(con: sqlite3.Connection = con) -> None:
            con.execute("BEGIN")
            for c in cs:
                con.execute(
                    "INSERT INTO customers (id, phone, body) VALUES (?, ?, ?)",
                    (c.id, c.phones[0].number, c.to_json()),
                )
            con.execute("COMMIT")

        peer.append(timed(naive))
        peer_cpu.append(LAST_CPU[-1])
        if r < runs - 1:
            con.close()
    assert store is not None
    t = time.perf_counter()
    store.optimize()
    optimize_s = time.perf_counter() - t
    con.execute("ANALYZE")
    assert [c.id for c in store.find(phone=phones[0])] == [f"c{int(phones[0][6:]):07d}"]
    ours_lat, peer_lat = latencies(
        [
            lambda p: store.find(phone=p),
            lambda p: con.execute("SELECT body FROM customers WHERE phone = ?", (p,)).fetchall(),
        ],
        phones,
    )
    store.close()  # checkpoints the write-ahead log into the database file
    con.close()
    size = sum(f.stat().st_size for f in tmp.glob(f"ours{runs - 1}.db*"))
    shutil.rmtree(tmp, ignore_errors=True)  # about 1 GB a run at 1M customers
    return report(
        "sqlite",
        len(cs),
        ours,
        peer,
        ours_cpu,
        peer_cpu,
        ours_lat,
        peer_lat,
        "naive sqlite3 INSERT loop",
        size,
        optimize_s,
    )


# ------------------------------------------------------------------------------------------ PostgreSQL
def bench_postgres(cs: list[Customer], runs: int, phones: list[str], url: str) -> dict[str, Any]:
    import psycopg

    ours: list[float] = []
    peer: list[float] = []
    ours_cpu: list[float] = []
    peer_cpu: list[float] = []
    store = None
    schemas: list[str] = []
    for r in range(runs):
        schema = "bench_" + uuid.uuid4().hex[:8]
        schemas.append(schema)
        sep = "&" if "?" in url else "?"
        store = custdata.open_store(f"{url}{sep}schema={schema}")
        ours.append(timed(lambda s=store: s.upsert_many(cs)))
        ours_cpu.append(LAST_CPU[-1])
        if r < runs - 1:
            store.close()

        con = psycopg.connect(url, autocommit=True)
        con.execute("DROP TABLE IF EXISTS bench_peer")
        con.execute("CREATE TABLE bench_peer (id TEXT PRIMARY KEY, phone TEXT, body TEXT NOT NULL)")
        con.execute("CREATE INDEX bench_peer_phone ON bench_peer (phone)")

        def many(con: psycopg.Connection[Any] = con) -> None:
            with con.transaction(), con.cursor() as cur:
                cur.executemany(
                    "INSERT INTO bench_peer (id, phone, body) VALUES (%s, %s, %s)",
                    [(c.id, c.phones[0].number, c.to_json()) for c in cs],
                )

        peer.append(timed(many))
        peer_cpu.append(LAST_CPU[-1])
        if r < runs - 1:
            con.close()
    assert store is not None
    # the earlier runs' copies are garbage now: drop them, or the server's autovacuum works through
    # millions of their fresh rows while the look-ups are timed
    for s in schemas[:-1]:
        con.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
    t = time.perf_counter()
    store.optimize()
    optimize_s = time.perf_counter() - t
    con.execute("VACUUM ANALYZE bench_peer")
    # let the server finish writing the load out (a checkpoint is due after gigabytes of WAL) before
    # timing look-ups; needs a superuser, as on the private server this script starts
    try:
        con.execute("CHECKPOINT")
    except psycopg.Error as exc:
        print(f"no CHECKPOINT before the look-ups: {exc}", file=sys.stderr)
    # each side on its own connection (its own server process): a server process that has just answered
    # answers again far sooner than one that has gone to sleep, so none may share the peer's
    bare = psycopg.connect(url, autocommit=True)
    ours_lat, peer_lat, floor = latencies(
        [
            lambda p: store.find(phone=p),
            lambda p: con.execute("SELECT body FROM bench_peer WHERE phone = %s", (p,)).fetchall(),
            lambda p: bare.execute("SELECT 1").fetchall(),
        ],
        phones,
    )
    bare.close()
    store.close()
    for s in schemas:
        con.execute(f'DROP SCHEMA IF EXISTS "{s}" CASCADE')
    con.execute("DROP TABLE IF EXISTS bench_peer")
    con.close()
    out = report(
        "postgres",
        len(cs),
        ours,
        peer,
        ours_cpu,
        peer_cpu,
        ours_lat,
        peer_lat,
        "psycopg executemany",
        None,
        optimize_s,
    )
    out["select1_p50_us"] = round(pct(floor, 50), 1)
    out["select1_p99_us"] = round(pct(floor, 99), 1)
    return out


# ------------------------------------------------------------------------------------------ MariaDB
def bench_mariadb(cs: list[Customer], runs: int, phones: list[str], server: Any) -> list[dict[str, Any]]:
    import pymysql

    from custdata.storage._mariadb import connect_args

    results: list[dict[str, Any]] = []
    stores: list[Any] = []
    drops: list[Callable[[], None]] = []
    ours: dict[bool, list[float]] = {False: [], True: []}
    ours_cpu: dict[bool, list[float]] = {False: [], True: []}
    peer: list[float] = []
    peer_cpu: list[float] = []
    args = connect_args(server.url)
    con = pymysql.connect(
        **{k: v for k, v in args.items() if v is not None}, charset="utf8mb4", autocommit=True
    )
    cur = con.cursor()
    for r in range(runs):
        for infile in (True, False):  # the default bulk path first; its store serves the look-ups
            url, drop = server.database()
            drops.append(drop)
            store = custdata.open_store(url, local_infile=infile)
            ours[infile].append(timed(lambda s=store: s.upsert_many(cs)))
            ours_cpu[infile].append(LAST_CPU[-1])
            if r < runs - 1 or not infile:
                store.close()
                drop()
            else:
                stores.append(store)
        cur.execute("DROP TABLE IF EXISTS bench_peer")
        cur.execute(
            "CREATE TABLE bench_peer (id VARCHAR(255) PRIMARY KEY, phone VARCHAR(64), body LONGTEXT NOT NULL, "
            "KEY bench_peer_phone (phone)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        )

        def many() -> None:
            cur.execute("START TRANSACTION")
            cur.executemany(
                "INSERT INTO bench_peer (id, phone, body) VALUES (%s, %s, %s)",
                [(c.id, c.phones[0].number, c.to_json()) for c in cs],
            )
            cur.execute("COMMIT")

        peer.append(timed(many))
        peer_cpu.append(LAST_CPU[-1])
    (store,) = stores
    t = time.perf_counter()
    store.optimize()
    optimize_s = time.perf_counter() - t
    cur.execute("ANALYZE TABLE bench_peer")
    cur.fetchall()
    assert [c.id for c in store.find(phone=phones[0])] == [f"c{int(phones[0][6:]):07d}"]
    bare = pymysql.connect(**{k: v for k, v in args.items() if v is not None}, autocommit=True)
    bare_cur = bare.cursor()

    def peer_find(p: str) -> object:
        cur.execute("SELECT body FROM bench_peer WHERE phone = %s", (p,))
        return cur.fetchall()

    def select1(p: str) -> object:
        bare_cur.execute("SELECT 1")
        return bare_cur.fetchall()

    ours_lat, peer_lat, floor = latencies([lambda p: store.find(phone=p), peer_find, select1], phones)
    bare.close()
    store.close()
    cur.execute("DROP TABLE IF EXISTS bench_peer")
    con.close()
    for drop in drops:
        drop()
    for infile in (True, False):
        out = report(
            "mariadb" if infile else "mariadb (local_infile=false)",
            len(cs),
            ours[infile],
            peer,
            ours_cpu[infile],
            peer_cpu,
            ours_lat,
            peer_lat,
            "PyMySQL executemany",
            None,
            optimize_s,
        )
        out["select1_p50_us"] = round(pct(floor, 50), 1)
        out["select1_p99_us"] = round(pct(floor, 99), 1)
        results.append(out)
    return results


def bench_mariadb_rule(server: Any, k: int, runs: int) -> dict[str, Any]:
    """One segment rule on spend (``total_spend > 1000``) over ``k`` customers with two purchases each:
    ``store.select`` (pushed into MariaDB: one query, the per-customer sums joined by hashing) beside the
    path MySQL and MariaDB 10.5 get, Python over ``custdata.profiles`` of the store's data. Same store,
    same answer (checked), medians of ``runs``."""
    from custdata import Transaction
    from custdata.segments import F

    url, drop = server.database()
    try:
        with custdata.open_store(url) as store:
            store.upsert_many(customers(k))
            store.add_transactions(
                [
                    Transaction.from_dict(
                        {
                            "customer_id": f"c{i % k:07d}",
                            "at": f"2026-0{1 + i % 5}-1{i % 9}T10:00:00+08:00",
                            "amount": f"{(i * 37) % 900 + 1}.50",
                        }
                    )
                    for i in range(2 * k)
                ]
            )
            store.optimize()
            rule = F.total_spend > 1000
            as_of = "2026-06-30"
            sql: list[float] = []
            sql_cpu: list[float] = []
            py: list[float] = []
            py_cpu: list[float] = []
            got: list[Any] = []
            want: list[str] = []
            for _ in range(runs):
                sql.append(timed(lambda: got.__setitem__(slice(None), store.select(rule, as_of=as_of))))
                sql_cpu.append(LAST_CPU[-1])

                def python() -> None:
                    people = custdata.profiles(
                        store.scan(), store.transactions(), store.interactions(), as_of=as_of
                    )
                    want[:] = [p.id for p in people if rule.matches(p)]

                py.append(timed(python))
                py_cpu.append(LAST_CPU[-1])
            if not want or sorted(c.id for c in got) != sorted(want):
                raise SystemExit("the rule selected nobody, or store.select and Python disagree")
    finally:
        drop()
    return {
        "backend": "mariadb rule select",
        "customers": k,
        "transactions": 2 * k,
        "selected": len(want),
        "runs": runs,
        "select_s": round(statistics.median(sql), 2),
        "select_client_cpu_s": round(statistics.median(sql_cpu), 2),
        "python_profiles_s": round(statistics.median(py), 2),
        "python_profiles_client_cpu_s": round(statistics.median(py_cpu), 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def report(
    name: str,
    n: int,
    ours: list[float],
    peer: list[float],
    ours_cpu: list[float],
    peer_cpu: list[float],
    ours_lat: list[float],
    peer_lat: list[float],
    peer_name: str,
    size: int | None,
    optimize_s: float,
) -> dict[str, Any]:
    o, p = statistics.median(ours), statistics.median(peer)
    return {
        "backend": name,
        "n": n,
        "runs": len(ours),
        "upsert_s": round(o, 2),
        "upsert_per_s": round(n / o),
        "peer": peer_name,
        "peer_s": round(p, 2),
        "peer_per_s": round(n / p),
        "peer_over_ours_time": round(p / o, 2),
        "find_p50_us": round(pct(ours_lat, 50), 1),
        "find_p99_us": round(pct(ours_lat, 99), 1),
        "peer_find_p50_us": round(pct(peer_lat, 50), 1),
        "peer_find_p99_us": round(pct(peer_lat, 99), 1),
        "db_bytes": size,
        "optimize_s": round(optimize_s, 2),
        "client_cpu_s": round(statistics.median(ours_cpu), 2),
        "peer_client_cpu_s": round(statistics.median(peer_cpu), 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "all_runs_s": [round(x, 2) for x in ours],
        "all_peer_runs_s": [round(x, 2) for x in peer],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--postgres-url", default=os.environ.get("CUSTDATA_BENCH_POSTGRES_URL"))
    ap.add_argument("--mariadb-url", default=os.environ.get("CUSTDATA_BENCH_MARIADB_URL"))
    ap.add_argument(
        "--rule-customers",
        type=int,
        default=50_000,
        help="MariaDB: customers of the segment rule timing (0 leaves it out)",
    )
    args = ap.parse_args()
    t = time.perf_counter()
    cs = customers(args.n)
    print(f"built {args.n:,} customers in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    rng = random.Random(7)
    phones = [f"+86138{rng.randrange(args.n):08d}" for _ in range(LOOKUPS)]
    results = []
    rule_result: dict[str, Any] | None = None
    for backend in args.backends.split(","):
        if backend == "sqlite":
            results.append(bench_sqlite(cs, args.runs, phones))
        elif backend == "postgres":
            url, stop = args.postgres_url, None
            if not url:
                sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "storage"))
                from storage_backends import start_server

                server = start_server(durable=True)
                url, stop = server.url, server.stop
            try:
                results.append(bench_postgres(cs, args.runs, phones, url))
            finally:
                if stop is not None:
                    stop()
        elif backend == "mariadb":
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from tests.storage.mariadb_server import MariaDBServer
            from tests.storage.mariadb_server import start_server as start_mariadb

            maria = (
                MariaDBServer(args.mariadb_url)
                if args.mariadb_url
                else start_mariadb(durable=True, buffer_pool="1G")
            )
            try:
                results.extend(bench_mariadb(cs, args.runs, phones, maria))
                if args.rule_customers:
                    rule_result = bench_mariadb_rule(maria, args.rule_customers, args.runs)
                    print(json.dumps(rule_result), file=sys.stderr)
            finally:
                maria.stop()
        else:
            raise SystemExit(f"unknown backend {backend!r} (sqlite, postgres, mariadb)")
        print(json.dumps(results[-1]), file=sys.stderr)
    print(
        "\n| backend | N | upsert_many | custdata records/s | peer | peer records/s | peer time / custdata time "
        "| find p50 / p99 | peer SELECT p50 / p99 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['backend']} | {r['n']:,} | {r['upsert_s']} s | {r['upsert_per_s']:,} | {r['peer']} | "
            f"{r['peer_per_s']:,} | {r['peer_over_ours_time']}× | {r['find_p50_us']} µs / {r['find_p99_us']} µs | "
            f"{r['peer_find_p50_us']} µs / {r['peer_find_p99_us']} µs |"
        )

    for r in results:
        floor = (
            f", SELECT 1 p50 / p99 {r['select1_p50_us']} µs / {r['select1_p99_us']} µs"
            if "select1_p99_us" in r
            else ""
        )
        print(
            f"\n{r['backend']}: client CPU {r['client_cpu_s']} s (peer {r['peer_client_cpu_s']} s), "
            f"optimize() {r['optimize_s']} s{floor}, load average {r['load_average_1m']}"
        )
    if rule_result is not None:
        r = rule_result
        print(
            f"\nmariadb rule select (total_spend > 1000, {r['customers']:,} customers, {r['transactions']:,} "
            f"transactions, {r['selected']:,} selected): store.select {r['select_s']} s (client CPU "
            f"{r['select_client_cpu_s']} s) against Python over profiles {r['python_profiles_s']} s (client CPU "
            f"{r['python_profiles_client_cpu_s']} s), load average {r['load_average_1m']}"
        )


if __name__ == "__main__":
    main()
