"""Backends for the storage contract suite, including a real PostgreSQL server (helpers; fixtures in conftest).

The server: ``CUSTDATA_TEST_POSTGRES_URL`` if set; otherwise this file finds ``initdb``/``pg_ctl`` (on PATH
or under /usr/lib/postgresql/*/bin), installs PostgreSQL with apt-get when they are missing and we are root
(as on a fresh CI machine), and starts a private server in a temporary folder, listening only on a Unix
socket there. initdb refuses to run as root, so as root the server runs as the ``postgres`` user (created by
the package; a system user is added if it is missing). If the server cannot be started the PostgreSQL tests
fail with the reason: they never skip silently.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import attrs
import pytest

import custdata
from custdata.storage import Store

PG_DB = "custdata_test"


# ------------------------------------------------------------------------------------------ the server
def _pg_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name.split(".")[0]),
        reverse=True,
    )
    for c in candidates:
        if (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    return None


def _install_postgres() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(
            "PostgreSQL is not installed (no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin) and this "
            "run cannot install it (needs root and apt-get); install it or set CUSTDATA_TEST_POSTGRES_URL"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"]):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
        if r.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")


def _server_user() -> str | None:
    """The user to run the server as (None: the current user, when that is not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "custdata-pg"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(["useradd", "--system", "--no-create-home", "custdata-pg"], check=True)
    return "custdata-pg"


def _as(user: str | None, cmd: list[str]) -> list[str]:
    if user is None:
        return cmd
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--", *cmd]
    return ["su", user, "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in cmd)]


@attrs.define
class PostgresServer:
    url: str  # a URL of the test database (no schema)
    stop: Callable[[], None] = lambda: None


def start_server(*, durable: bool = False) -> PostgresServer:
    """Start a private server. ``durable=False`` (the tests) turns fsync off: that only matters if the
    machine itself crashes, never when a client process dies."""
    bindir = _pg_bindir()
    if bindir is None:
        _install_postgres()
        bindir = _pg_bindir()
        if bindir is None:
            pytest.fail("PostgreSQL was installed but initdb/pg_ctl are still not found")
    user = _server_user()
    # a short folder: the Unix socket path inside it must stay under ~100 bytes
    root = Path(tempfile.mkdtemp(prefix="cdpg-", dir="/tmp" if os.path.isdir("/tmp") else None))
    data = root / "data"
    data.mkdir(mode=0o700)
    if user is not None:
        entry = pwd.getpwnam(user)
        for p in (root, data):
            os.chown(p, entry.pw_uid, entry.pw_gid)
    log = root / "server.log"

    def run(cmd: list[str], timeout: float = 120) -> None:
        r = subprocess.run(_as(user, cmd), capture_output=True, text=True, timeout=timeout, check=False)
        if r.returncode != 0:
            server_log = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}\n{server_log}")

    run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
        ]
    )
    opts = f"-k {root} -c listen_addresses='' -p 5432 -c max_connections=50" + (
        "" if durable else " -c fsync=off -c full_page_writes=off"
    )
    run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start"])

    def stop() -> None:
        subprocess.run(
            _as(user, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)

    import psycopg

    base = f"postgresql:///postgres?host={root}&port=5432&user=postgres"
    try:
        with psycopg.connect(base, autocommit=True) as c:
            c.execute(f"CREATE DATABASE {PG_DB}")
    except Exception:
        stop()
        raise
    return PostgresServer(f"postgresql:///{PG_DB}?host={root}&port=5432&user=postgres", stop)


def with_query(url: str, **params: str) -> str:
    base, _, qs = url.partition("?")
    query = [(k, v) for k, v in parse_qsl(qs) if k not in params] + list(params.items())
    return f"{base}?{urlencode(query)}"


# ------------------------------------------------------------------------------------------ backends
@attrs.define
class Backend:
    """One backend under test: ``url`` reopens the same stored data (except ``memory``, which cannot)."""

    name: str
    url: str
    cleanup: Callable[[], None] = lambda: None
    server_url: str | None = None  # PostgreSQL: the database's URL without the test's schema

    @property
    def persistent(self) -> bool:
        return self.name != "memory"

    def open(self, **options: Any) -> Store:
        return custdata.open_store(self.url, **options)


def pg_backend(server: PostgresServer) -> Backend:
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]

    def cleanup() -> None:
        with psycopg.connect(server.url, autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    return Backend("postgres", with_query(server.url, schema=schema), cleanup, server.url)


def make_backend(name: str, request: pytest.FixtureRequest, folder: Path) -> Backend:
    if name == "memory":
        return Backend("memory", "memory://")
    if name == "sqlite":
        return Backend("sqlite", "sqlite:///" + str(folder / f"s-{uuid.uuid4().hex[:8]}.db"))
    return pg_backend(request.getfixturevalue("postgres_server"))


BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
PERSISTENT = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
