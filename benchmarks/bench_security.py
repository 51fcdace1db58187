"""Field encryption and policy checks, each beside its peer in the same run.

    python benchmarks/bench_security.py [--n 20000] [--repeats 5] [--store-n 20000]

Full run (the issue's targets are at 1M customers; about 1 GB of disk and tens of minutes):

    python benchmarks/bench_security.py --n 200000 --repeats 5 --store-n 1000000

Quick check that the script works: ``--n 2000 --repeats 1 --store-n 2000``.

Measured, per value (phone-like texts of 14 characters, seeded), median of ``--repeats`` runs:
  custdata   FieldEncryptor.encrypt + decrypt (AES-256-GCM, key commitment, binding to record id/field,
             URL-safe text token)
  aesgcm     cryptography's AESGCM.encrypt + decrypt with a fresh 12-byte nonce and the same associated data
             length, object reused (the floor: the same cipher without a token format)
  fernet     cryptography's Fernet.encrypt + decrypt, object reused (the usual "encrypt a field" choice:
             AES-128-CBC + HMAC-SHA256, no binding)
  blind      BlindIndex(bits=32) of the value, beside a bare hmac.digest(key, value, sha256)
  policy     Policy.check(role, action) + Policy.access(role, field), beside pycasbin's Enforcer.enforce
             (RBAC model, the same roles) when pycasbin is installed
  store      SQLite ``upsert_many`` of ``--store-n`` new customers (name, phone, e-mail, address) into an
             empty store opened with a keyring, beside the same into a plain store (records/s and CPU
             seconds of this process, median of ``--repeats``); then ``find(phone=...)`` p50/p99 over
             2,000 look-ups on each, taking turns per phone number; then ``rotate`` of the encrypted
             store after ``promote(add())``: customers per second (each customer's data key wrapped again
             under the new key), beside re-encrypting every body under the new key with
             ``FieldEncryptor`` (what a store without per-customer keys would have to do) over the same
             bodies. ``--contacts`` chooses the phones and e-mails: ``sequential`` (numbered in insertion
             order, so the plain store's lookup keys arrive in key order), ``random`` (distinct random
             numbers and addresses, as a real customer list arrives) or ``both`` (the default: the two
             runs one after the other; the blind index is random in both). Both stores hold a call's
             index entries back and write them sorted at its end (the same code path), so neither is
             handicapped by the order its keys arrive in

The figures depend on the machine's load; the script prints the load average at the start and the end.
"""

from __future__ import annotations

import argparse
import hmac
import os
import platform
import random
import secrets
import shutil
import statistics
import time
from collections.abc import Callable

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from custdata.security import BlindIndex, FieldEncryptor, Keyring, Policy


def timed(fn: Callable[[], None], n: int, repeats: int) -> float:
    """Median nanoseconds per item over ``repeats`` runs of ``fn`` (which handles ``n`` items)."""
    runs = []
    for _ in range(repeats):
        t = time.perf_counter_ns()
        fn()
        runs.append((time.perf_counter_ns() - t) / n)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--store-n", type=int, default=20_000, help="customers for the store figures (0: skip)")
    ap.add_argument(
        "--contacts",
        choices=("sequential", "random", "both"),
        default="both",
        help="phones and e-mails numbered in insertion order (every index filled in key order), random ones "
        "(as a real customer list arrives: index pages written all over), or both",
    )
    args = ap.parse_args()
    n, repeats = args.n, args.repeats
    rng = random.Random(7)
    values = [f"+86138{rng.randrange(10**8):08d}" for _ in range(n)]
    ids = [f"c{i}" for i in range(n)]
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load {os.getloadavg()}, n={n}")

    ring = Keyring.generate()
    enc = FieldEncryptor(ring)

    def custdata_round() -> None:
        e, d = enc.encrypt, enc.decrypt
        for v, i in zip(values, ids, strict=True):
            assert d(e(v, record_id=i, field="phone"), record_id=i, field="phone") == v

    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    aad = b"\0" * 40

    def aesgcm_round() -> None:
        for v in values:
            nonce = secrets.token_bytes(12)
            ct = aead.encrypt(nonce, v.encode(), aad)
            assert aead.decrypt(nonce, ct, aad).decode() == v

    fernet = Fernet(Fernet.generate_key())

    def fernet_round() -> None:
        for v in values:
            assert fernet.decrypt(fernet.encrypt(v.encode())).decode() == v

    index = BlindIndex(ring, bits=32)
    key = secrets.token_bytes(32)

    def blind() -> None:
        for v in values:
            index("phone", v)

    def bare_hmac() -> None:
        for v in values:
            hmac.digest(key, v.encode(), "sha256")

    rows = [
        ("custdata FieldEncryptor encrypt+decrypt", timed(custdata_round, n, repeats)),
        ("cryptography AESGCM encrypt+decrypt", timed(aesgcm_round, n, repeats)),
        ("cryptography Fernet encrypt+decrypt", timed(fernet_round, n, repeats)),
        ("custdata BlindIndex (32 bits)", timed(blind, n, repeats)),
        ("bare hmac.digest sha256", timed(bare_hmac, n, repeats)),
    ]

    roles = {
        "support": {"actions": ["read"], "fields": {"*": "full", "phones": "masked"}},
        "marketing": {"actions": ["read", "export"], "fields": {"tags": "full"}},
        "dpo": {"actions": ["read", "write", "export", "erase"], "fields": {"*": "full"}},
    }
    policy = Policy(roles)
    asks = [(rng.choice(list(roles)), rng.choice(["read", "write", "export", "erase"])) for _ in range(n)]

    def policy_checks() -> None:
        allows, access = policy.allows, policy.access
        for role, action in asks:
            if allows(role, action):
                access(role, "phones")

    rows.append(("custdata Policy.allows + access", timed(policy_checks, n, repeats)))
    try:
        import casbin
        from casbin import model as casbin_model
    except ImportError:
        rows.append(("pycasbin Enforcer.enforce", float("nan")))
        print("pycasbin is not installed: no peer figure for the policy check")
    else:
        m = casbin_model.Model()
        m.load_model_from_text(
            "[request_definition]\nr = sub, act\n[policy_definition]\np = sub, act\n"
            "[policy_effect]\ne = some(where (p.eft == allow))\n[matchers]\nm = r.sub == p.sub && r.act == p.act\n"
        )
        enforcer = casbin.Enforcer(m)
        for role, rule in roles.items():
            for action in rule["actions"]:
                enforcer.add_policy(role, action)
        for role, action in asks[:100]:
            assert enforcer.enforce(role, action) == policy.allows(role, action)
        small = asks[: max(1, n // 10)]

        def casbin_checks() -> None:
            for role, action in small:
                enforcer.enforce(role, action)

        rows.append(("pycasbin Enforcer.enforce", timed(casbin_checks, len(small), repeats)))
    width = max(len(r[0]) for r in rows)
    for name, ns in rows:
        print(f"{name:<{width}}  {ns / 1000:8.2f} µs")
    if args.store_n:
        for order in ("sequential", "random") if args.contacts == "both" else (args.contacts,):
            store_figures(args.store_n, repeats, ring, order)
    print(f"load at the end {os.getloadavg()}")


def store_figures(n: int, repeats: int, ring: Keyring, order: str) -> None:
    import tempfile

    import custdata

    if order == "sequential":
        phones = [f"+86138{i:08d}" for i in range(n)]
        emails = [f"user{i}@example.com" for i in range(n)]
    else:  # distinct random numbers and addresses, in no particular order
        pick = random.Random(11)
        phones = [f"+86138{d:08d}" for d in pick.sample(range(10**8), n)]
        emails = [f"u{d:09d}@example.com" for d in pick.sample(range(10**9), n)]
    print(f"--- store figures, contacts {order}")
    people = [
        custdata.Customer.from_dict(
            {
                "id": f"c{i:07d}",
                "name": {"full": f"客户{i}"},
                "phones": [{"number": phones[i]}],
                "emails": [{"address": emails[i]}],
                "addresses": [{"city": "北京市", "street": f"建国路 {i} 号"}],
            }
        )
        for i in range(n)
    ]
    rates: dict[str, list[float]] = {"plain": [], "encrypted": []}
    cpus: dict[str, list[float]] = {"plain": [], "encrypted": []}
    folder = tempfile.mkdtemp(prefix="bench-security-")
    for r in range(repeats):
        for kind in ("plain", "encrypted"):
            url = f"sqlite:///{folder}/{order}-{kind}-{r}.db"
            with custdata.open_store(url, keyring=ring if kind == "encrypted" else None) as store:
                t, c = time.perf_counter(), time.process_time()
                store.upsert_many(people)
                rates[kind].append(n / (time.perf_counter() - t))
                cpus[kind].append(time.process_time() - c)
    plain, enc = statistics.median(rates["plain"]), statistics.median(rates["encrypted"])
    plain_cpu, enc_cpu = statistics.median(cpus["plain"]), statistics.median(cpus["encrypted"])
    print(
        f"SQLite upsert_many of {n:,} customers: plain {plain:,.0f}/s, encrypted {enc:,.0f}/s ({enc / plain:.0%})"
    )
    print(
        f"  CPU time: plain {plain_cpu:.2f} s ({plain_cpu / n * 1e6:.1f} µs per customer), encrypted "
        f"{enc_cpu:.2f} s ({enc_cpu / n * 1e6:.1f} µs); by CPU the encrypted store runs at {plain_cpu / enc_cpu:.0%}"
    )
    rng = random.Random(3)
    lat: dict[str, list[float]] = {"plain": [], "encrypted": []}
    stores = {
        "plain": custdata.open_store(f"sqlite:///{folder}/{order}-plain-0.db"),
        "encrypted": custdata.open_store(f"sqlite:///{folder}/{order}-encrypted-0.db", keyring=ring),
    }
    for s in stores.values():
        s.optimize()
    for _ in range(2000):
        phone = phones[rng.randrange(n)]
        for kind, s in stores.items():
            t = time.perf_counter()
            found = s.find(phone=phone)
            lat[kind].append(time.perf_counter() - t)
            assert len(found) == 1
    for kind in stores:
        xs = sorted(lat[kind])
        print(
            f"find(phone=) {kind:>9}: p50 {xs[len(xs) // 2] * 1e6:6.0f} µs, p99 {xs[int(len(xs) * 0.99)] * 1e6:6.0f} µs"
        )
    from custdata.security import FieldEncryptor, rotate

    enc_store = stores["encrypted"]
    ring.promote(ring.add())
    t, c = time.perf_counter(), time.process_time()
    rewrapped = rotate(enc_store)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    assert rewrapped == n, (rewrapped, n)
    bodies = [r[0] for r in enc_store.query_sql("SELECT body FROM cd_customers")]
    redo = FieldEncryptor(ring)
    t = time.perf_counter()
    for i, body in enumerate(bodies):
        redo.encrypt(body, record_id=str(i), field="customer")
    peer = time.perf_counter() - t
    print(
        f"rotate() of {n:,} customers: {n / wall:,.0f}/s (CPU {cpu:.2f} s); re-encrypting the same bodies "
        f"alone (no database): {n / peer:,.0f}/s"
    )
    for s in stores.values():
        s.close()
    shutil.rmtree(folder, ignore_errors=True)  # several GB at 1M customers


if __name__ == "__main__":
    main()
