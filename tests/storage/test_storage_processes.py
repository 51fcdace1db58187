"""Real processes against SQLite and PostgreSQL: SIGKILL in the middle of a bulk write, and two writers
updating the same customers at once."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import custdata
from custdata import Customer
from custdata.exceptions import ConcurrencyError
from tests.storage.storage_backends import Backend

CTX = multiprocessing.get_context("fork")


def cust(i: int, batch: int = 0) -> Customer:
    return Customer.from_dict(
        {
            "id": f"c{i}",
            "phones": [{"number": f"+86139{i:08d}"}],
            "custom": {"batch": batch},
        }
    )


# ------------------------------------------------------------------------------------------ crash safety
def _die_in_the_middle(url: str, n: int, kill_at: int) -> None:
    def items() -> Iterator[Customer]:
        for i in range(n):
            if i == kill_at:  # several chunks are written inside the open transaction by now
                os.kill(os.getpid(), signal.SIGKILL)
            yield cust(i, batch=1)

    store = custdata.open_store(url)
    store.upsert_many(items())


def _batches_until_killed(url: str, size: int) -> None:
    store = custdata.open_store(url)
    b = 1
    while True:
        store.upsert_many(cust(i, batch=b) for i in range(size))
        b += 1


def _settle(backend: Backend) -> None:
    """Wait until the server has finished with the killed writer's session (it may still be committing or
    rolling back what the writer sent before it died), so the reads below see one state."""
    if backend.name != "postgres":
        return
    import psycopg

    assert backend.server_url is not None
    with psycopg.connect(backend.server_url, autocommit=True) as conn:
        for _ in range(300):
            others = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchone()
            if others is not None and others[0] == 0:
                return
            time.sleep(0.1)
    raise AssertionError("the killed writer's session did not end")


def _check_sqlite_integrity(backend: Backend) -> None:
    if backend.name == "sqlite":
        path = backend.url[len("sqlite:///") :]
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()


def test_sigkill_mid_upsert_leaves_none_of_the_batch(persistent_backend: Backend) -> None:
    with persistent_backend.open() as s:
        s.upsert_many([cust(i) for i in range(100)])  # batch 0 is there before
    p = CTX.Process(target=_die_in_the_middle, args=(persistent_backend.url, 20_000, 12_000))
    p.start()
    p.join(120)
    assert p.exitcode == -signal.SIGKILL
    _settle(persistent_backend)
    _check_sqlite_integrity(persistent_backend)
    with persistent_backend.open() as s:
        assert s.count() == 100
        assert {c.custom["batch"] for c in s.scan()} == {0}
        assert all(c.version == 1 for c in s.scan())
        s.upsert_many([cust(i, batch=2) for i in range(200)])  # the store still works
        assert s.count() == 200


def test_sigkill_at_random_moments_leaves_whole_batches(persistent_backend: Backend) -> None:
    size = 3000
    for delay in (0.3, 0.7, 1.1):
        p = CTX.Process(target=_batches_until_killed, args=(persistent_backend.url, size))
        p.start()
        time.sleep(delay)
        os.kill(p.pid, signal.SIGKILL)  # type: ignore[arg-type]
        p.join(30)
        _settle(persistent_backend)
        _check_sqlite_integrity(persistent_backend)
        with persistent_backend.open() as s:
            n = s.count()
            assert n in (0, size)
            batches = [c.custom["batch"] for c in s.scan()]
            assert len(set(batches)) <= 1, "customers from two different batches: a batch was cut in half"
            versions = {c.version for c in s.scan()}
            assert len(versions) <= 1


# ------------------------------------------------------------------------------------------ concurrency
def _increment(url: str, barrier: Any, rounds: int, ids: list[str], out: Any) -> None:
    conflicts = 0
    with custdata.open_store(url) as store:
        for _ in range(rounds):
            for cid in ids:
                c = store.get(cid)
                barrier.wait(30)  # both writers now hold the same version
                while True:
                    try:
                        store.put(c.evolve(custom={"n": c.custom["n"] + 1}), source=f"pid {os.getpid()}")
                        break
                    except ConcurrencyError:
                        conflicts += 1
                        c = store.get(cid)
    out.put(conflicts)


def test_two_processes_never_lose_an_update(persistent_backend: Backend) -> None:
    ids = ["a", "b", "c"]
    rounds = 15
    with persistent_backend.open() as s:
        s.upsert_many([Customer.from_dict({"id": i, "custom": {"n": 0}}) for i in ids])
    barrier = CTX.Barrier(2)
    out = CTX.Queue()
    procs = [
        CTX.Process(target=_increment, args=(persistent_backend.url, barrier, rounds, ids, out))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    conflicts = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    with persistent_backend.open() as s:
        for cid in ids:
            c = s.get(cid)
            assert c.custom["n"] == 2 * rounds, "an update was lost"
            assert c.version == 1 + 2 * rounds
            assert len(s.history(cid)) == 1 + 2 * rounds
    # every round both read the same version: exactly one of the two writes was refused and retried
    assert sum(conflicts) == rounds * len(ids)
