"""A private MariaDB server for the tests (helpers; the session fixture is ``mariadb_server`` in conftest).

``CUSTDATA_TEST_MARIADB_URL`` (a ``mariadb://`` URL of a database the tests may fill) if set; otherwise this
file finds ``mariadbd`` (or ``mysqld``) and ``mariadb-install-db``, installs ``mariadb-server`` with apt-get
when they are missing and we are root (as on a fresh CI machine), and starts a server with its data folder
and Unix socket in a temporary folder and no TCP port. As root the server runs as the ``mysql`` user the
package creates. If the server cannot be started the MariaDB tests fail with the reason: they never skip.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import attrs
import pytest

MARIADB_DB = "custdata_test"


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or next(
            (
                p
                for d in ("/usr/sbin", "/usr/libexec", "/usr/local/sbin")
                if os.path.exists(p := f"{d}/{name}")
            ),
            None,
        )
        if found:
            return found
    return None


def _binaries() -> tuple[str, str] | None:
    server = _find("mariadbd", "mysqld")
    install = _find("mariadb-install-db", "mysql_install_db")
    return (server, install) if server and install else None


def _install() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(
            "MariaDB is not installed (no mariadbd and mariadb-install-db) and this run cannot install it "
            "(needs root and apt-get); install mariadb-server or set CUSTDATA_TEST_MARIADB_URL"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "mariadb-server", "mariadb-client"],
    ):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
        if r.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")


@attrs.define
class MariaDBServer:
    url: str  # mariadb:// URL of the test database (root over the Unix socket)
    socket: str | None = None
    stop: Callable[[], None] = lambda: None

    def connect(self, database: str | None = MARIADB_DB) -> object:
        """A PyMySQL connection to the server (for the tests' own set-up and checks)."""
        import pymysql

        from custdata.storage._mariadb import connect_args

        args = connect_args(self.url)
        if database is None:
            args.pop("database", None)
        else:
            args["database"] = database
        return pymysql.connect(**args, autocommit=True)

    _reused: list[str] = attrs.field(factory=list)

    def emptied(self) -> str:
        """The URL of a store database shared by the tests one after another, emptied (creating and
        dropping a database per test costs a second each): its tables are left, their rows deleted."""
        if not self._reused:
            url, _ = self.database()
            self._reused.append(url)
            import custdata

            custdata.open_store(url).close()  # create the tables
            return url
        url = self._reused[0]
        conn = self.connect(url.split("?")[0].rsplit("/", 1)[1])
        with conn.cursor() as cur:  # type: ignore[attr-defined]
            for table in (
                "cd_customers",
                "cd_lookup",
                "cd_history",
                "cd_transactions",
                "cd_interactions",
                "cd_subject_keys",
                "cd_audit",
            ):
                cur.execute(f"DELETE FROM {table}")
            cur.execute("DELETE FROM cd_meta WHERE `key` <> 'schema_version'")
        conn.close()  # type: ignore[attr-defined]
        return url

    def database(self) -> tuple[str, Callable[[], None]]:
        """A fresh database on the server: its store URL and a function that drops it."""
        name = "t_" + uuid.uuid4().hex[:12]
        conn = self.connect(None)
        with conn.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute(f"CREATE DATABASE {name}")
        conn.close()  # type: ignore[attr-defined]

        def drop() -> None:
            c = self.connect(None)
            with c.cursor() as cur:  # type: ignore[attr-defined]
                cur.execute(f"DROP DATABASE IF EXISTS {name}")
            c.close()  # type: ignore[attr-defined]

        base, _, query = self.url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else ""), drop


def start_server(*, durable: bool = False, buffer_pool: str = "256M") -> MariaDBServer:
    """Start a private server. ``durable=False`` (the tests) lets InnoDB skip the flush at each commit: that
    only matters if the machine itself crashes, never when a client process dies."""
    found = _binaries()
    if found is None:
        _install()
        found = _binaries()
        if found is None:
            pytest.fail("mariadb-server was installed but mariadbd/mariadb-install-db are still not found")
    server, install = found
    user = None
    if os.geteuid() == 0:
        with contextlib.suppress(KeyError):
            pwd.getpwnam("mysql")
            user = "mysql"
        if user is None:
            subprocess.run(["useradd", "--system", "--no-create-home", "mysql"], check=True)
            user = "mysql"
    # a short folder: the Unix socket path inside it must stay under ~100 bytes
    root = Path(tempfile.mkdtemp(prefix="cdmy-", dir="/tmp" if os.path.isdir("/tmp") else None))
    data = root / "data"
    data.mkdir(mode=0o700)
    tmp = (
        root / "tmp"
    )  # its own temporary folder: the caller's TMPDIR (nox's) may not be writable for the server user
    tmp.mkdir(mode=0o700)
    if user is not None:
        entry = pwd.getpwnam(user)
        for p in (root, data, tmp):
            os.chown(p, entry.pw_uid, entry.pw_gid)
    log = root / "server.log"
    sock = root / "s.sock"
    common = ["--no-defaults", f"--datadir={data}", f"--tmpdir={tmp}"] + ([f"--user={user}"] if user else [])
    server_env = {**os.environ, "TMPDIR": str(tmp)}
    r = subprocess.run(
        [install, *common, "--auth-root-authentication-method=normal", "--skip-test-db"],
        env=server_env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if r.returncode != 0:
        pytest.fail(f"mariadb-install-db failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    opts = [
        *common,
        f"--socket={sock}",
        "--skip-networking",
        f"--log-error={log}",
        f"--pid-file={root / 'server.pid'}",
        "--skip-log-bin",
        "--character-set-server=utf8mb4",
        "--collation-server=utf8mb4_unicode_ci",  # not the store's: the store must set its own collations
        f"--innodb-buffer-pool-size={buffer_pool}",
        "--innodb-log-file-size=256M",
        "--max-connections=100",
        "--local-infile=1",
    ]
    if not durable:
        opts += ["--innodb-flush-log-at-trx-commit=2", "--innodb-doublewrite=0", "--sync-binlog=0"]
    proc = subprocess.Popen(
        [server, *opts], env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        shutil.rmtree(root, ignore_errors=True)

    url = f"mariadb://root@localhost/{MARIADB_DB}?unix_socket={quote(str(sock), safe='')}"
    deadline = time.monotonic() + 120
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            text = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            stop()
            pytest.fail(f"mariadbd did not start ({proc.returncode}):\n{text}")
        time.sleep(0.1)
    made = MariaDBServer(url, str(sock), stop)
    try:
        conn = made.connect(None)
        with conn.cursor() as cur:  # type: ignore[attr-defined]
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {MARIADB_DB}")
        conn.close()  # type: ignore[attr-defined]
    except Exception:
        stop()
        raise
    return made
