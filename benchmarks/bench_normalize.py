"""Normalisation throughput, with the bare phonenumbers + email-validator calls measured in the same run.

    python benchmarks/bench_normalize.py [--n 1000000] [--sample 200000] [--repeats 3]

Synthetic customers (seeded): one phone, one e-mail and one name each, written the ways people write
them (plain digits, spaces, +86, 0086, 手机： labels, full-width digits; mixed-case domains; Chinese and
Latin names). Every figure is the median of ``--repeats`` runs, each on cold caches.

Measured:
  bare      phonenumbers.parse + is_valid_number + format_number(E164) and
            email_validator.validate_email(check_deliverability=False), per record (phone + e-mail)
  values    custdata.normalize_phone + normalize_email on the same texts
  records   custdata.normalize on whole records (phone + e-mail + name, record rebuilt)
  repeated  the same three on a sample where each value occurs 10 times (the caches' case)
  workers   normalize_many(workers=2) over all N records, and normalize_many() in one process over the
            same N records for comparison

What the workers figure includes and leaves out: the N records are generated in memory before the clock
starts (reading them from a file is not measured); the clock runs from the call to normalize_many until
its last result, so starting and stopping the worker processes is included; every result is taken and
then dropped (not kept in a list). CPU time per record is given for the calling process and for the
workers together (getrusage), which other load on the machine hardly changes; the wall-clock rate does.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

import email_validator
import phonenumbers

from custdata import Customer
from custdata.normalization import (
    _email,
    _name,
    _phone,
    normalize,
    normalize_email,
    normalize_many,
    normalize_phone,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞斌宇浩凯健俊帆帅旭宁"
LATIN_GIVEN = ["Wei", "Ada", "John", "Mary", "Li", "Anna", "David", "Grace", "Ming", "Tom", "Lucy", "Chen"]
LATIN_FAMILY = ["Zhang", "Wang", "Smith", "Lovelace", "Garcia", "Chen", "Brown", "Li", "Liu", "Taylor"]
DOMAINS = [
    "qq.com",
    "163.com",
    "126.com",
    "gmail.com",
    "outlook.com",
    "example.com",
    "sina.com",
    "foxmail.com",
]
PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
            "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "185", "186", "187", "188",
            "189", "191", "198", "199"]  # fmt: skip
FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def messy_phone(rng: random.Random, i: int) -> str:
    n = f"{rng.choice(PREFIXES)}{(i * 7919 + rng.randrange(10_000)) % 100_000_000:08d}"
    form = rng.random()
    if form < 0.40:
        return n
    if form < 0.60:
        return f"{n[:3]} {n[3:7]} {n[7:]}"
    if form < 0.75:
        return f"+86 {n[:3]}-{n[3:7]}-{n[7:]}"
    if form < 0.85:
        return f"0086 {n}"
    if form < 0.95:
        return f"手机：{n[:3]} {n[3:7]} {n[7:]}"
    return n.translate(FULL)


def messy_email(rng: random.Random, i: int) -> str:
    local = rng.choice(["zhang", "wang", "li.na", "chen.wei", "user", "ada", "mary.smith", "hello"]) + str(i)
    domain = rng.choice(DOMAINS)
    form = rng.random()
    if form < 0.7:
        return f"{local}@{domain}"
    if form < 0.9:
        return f"{local.title()}@{domain.upper()}"
    return f" {local}+shop@{domain} "


def messy_name(rng: random.Random) -> str:
    if rng.random() < 0.8:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        return name + rng.choice(["", "", "", " 先生", "女士"])
    return f"{rng.choice(LATIN_GIVEN)} {rng.choice(LATIN_FAMILY).upper() if rng.random() < 0.3 else rng.choice(LATIN_FAMILY)}"


def make(n: int, seed: int, distinct: int | None = None) -> list[Customer]:
    rng = random.Random(seed)
    pool = distinct or n
    phones = [messy_phone(rng, i) for i in range(pool)]
    emails = [messy_email(rng, i) for i in range(pool)]
    names = [messy_name(rng) for _ in range(pool)]
    out = []
    for i in range(n):
        j = i if distinct is None else rng.randrange(pool)
        out.append(Customer(id=f"c{i}", name=names[j], phones=[phones[j]], emails=[emails[j]]))
    return out


def clear_caches() -> None:
    for mod in (_phone, _email, _name):
        mod._normalize_cached.cache_clear()


def bare(customers: Sequence[Customer]) -> None:
    parse, valid, fmt, e164 = (
        phonenumbers.parse,
        phonenumbers.is_valid_number,
        phonenumbers.format_number,
        phonenumbers.PhoneNumberFormat.E164,
    )
    validate = email_validator.validate_email
    for c in customers:
        try:
            num = parse(c.phones[0].number, "CN")
            if valid(num):
                fmt(num, e164)
        except phonenumbers.NumberParseException:
            pass
        with contextlib.suppress(email_validator.EmailNotValidError):
            validate(c.emails[0].address.strip(), check_deliverability=False)


def values(customers: Sequence[Customer]) -> None:
    for c in customers:
        normalize_phone(c.phones[0].number)
        normalize_email(c.emails[0].address)


def records(customers: Sequence[Customer]) -> None:
    for c in customers:
        normalize(c)


def timed(fn: Callable[[Sequence[Customer]], None], data: Sequence[Customer], repeats: int) -> float:
    """Median seconds per record over cold-cache runs."""
    runs = []
    for _ in range(repeats):
        clear_caches()
        gc.collect()
        t = time.perf_counter()
        fn(data)
        runs.append((time.perf_counter() - t) / len(data))
    return statistics.median(runs)


def workers_rate(
    customers: Sequence[Customer], workers: int | None, repeats: int, chunk_size: int
) -> tuple[float, float, float]:
    """(median records/s, CPU µs per record in the calling process, CPU µs per record in the workers
    together). CPU time (getrusage) hardly depends on what else runs on the machine; wall time does.
    The worker processes end inside normalize_many, so RUSAGE_CHILDREN has their whole CPU time."""
    import resource

    runs, main_cpu, worker_cpu = [], [], []
    for _ in range(repeats):
        clear_caches()
        gc.collect()
        r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        n = sum(
            1 for _ in normalize_many(customers, errors="collect", workers=workers, chunk_size=chunk_size)
        )
        runs.append(n / (time.perf_counter() - t))
        r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        main_cpu.append((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / n * 1e6)
        worker_cpu.append((c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime) / n * 1e6)
    return statistics.median(runs), statistics.median(main_cpu), statistics.median(worker_cpu)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="records for the workers=2 run")
    ap.add_argument("--sample", type=int, default=200_000, help="records for the single-process runs")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=4000, help="normalize_many chunk_size")
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args(argv)

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, phonenumbers {phonenumbers.__version__}, "
        f"email-validator {email_validator.__version__}"
    )
    t = time.perf_counter()
    data = make(args.n, args.seed)
    print(f"generated {len(data):,} synthetic customers in {time.perf_counter() - t:.1f} s")
    sample = data[: args.sample]
    repeated = make(args.sample, args.seed + 1, distinct=args.sample // 10)

    rows = []
    for label, d in (("unique values", sample), ("each value 10x", repeated)):
        b = timed(bare, d, args.repeats)
        v = timed(values, d, args.repeats)
        r = timed(records, d, args.repeats)
        rows.append((label, b, v, r))
    print()
    print(
        f"single process, {args.sample:,} records, median of {args.repeats} cold-cache runs (µs per record)"
    )
    print(f"{'data':<16}{'bare libs':>11}{'values':>9}{'ratio':>7}{'records':>10}{'ratio':>7}")
    for label, b, v, r in rows:
        print(f"{label:<16}{b * 1e6:>11.1f}{v * 1e6:>9.1f}{v / b:>7.2f}{r * 1e6:>10.1f}{r / b:>7.2f}")
    print("ratio = custdata time / bare library time (below 1: custdata is faster)")

    print()
    print(
        f"normalize_many over all {len(data):,} records held in memory, chunk_size={args.chunk_size}, "
        f"median of {args.repeats} cold-cache runs; worker start-up included, results taken and dropped"
    )
    print(f"load average now: {os.getloadavg()[0]:.2f}")
    rate, main_us, worker_us = workers_rate(data, args.workers, args.repeats, args.chunk_size)
    cores = os.cpu_count() or 1
    print(f"  workers={args.workers}: {rate:,.0f} records/s (target 40,000)")
    print(
        f"    CPU per record: calling process {main_us:.1f} µs, the {args.workers} workers together "
        f"{worker_us:.1f} µs, all processes {main_us + worker_us:.1f} µs "
        f"-> about {min(args.workers + 1, cores) / (main_us + worker_us) * 1e6:,.0f} records/s "
        f"if {min(args.workers + 1, cores)} cores were free for it"
    )
    print(f"load average now: {os.getloadavg()[0]:.2f}")
    one, one_us, _ = workers_rate(data, None, args.repeats, args.chunk_size)
    print(f"  one process (workers=None): {one:,.0f} records/s, CPU {one_us:.1f} µs per record")
    print(f"load average after: {os.getloadavg()[0]:.2f} (other processes on the machine share its cores)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
