"""Local object-storage emulators for the URL tests (helpers; the session fixtures are in conftest.py).

* Azure Blob Storage: Azurite's blob service (the npm package ``azurite``, Microsoft's emulator), run as a
  child process on a free loopback port with in-memory storage and its telemetry off.
  ``CUSTDATA_TEST_AZURITE`` may name an ``azurite-blob`` executable; otherwise one on ``PATH`` is used;
  otherwise the package is installed with npm into a cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``,
  ``custdata-tests/azurite-<version>``: once per machine, about two minutes), and npm itself with apt-get
  when missing and we are root, as on a fresh CI machine. If it cannot be had the tests fail with the
  reason: with adlfs installed they never skip.
* Google Cloud Storage: the PyPI package ``gcp-storage-emulator``, served from a thread of the test
  process (no install step beyond the test dependency group).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import pytest

AZURITE_VERSION = "3.37.0"
#: Azurite's well-known development account (published in Azurite's documentation; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(port: int, alive: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive():
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        time.sleep(0.1)
    return False


def _run(cmd: list[str], what: str, **kwargs: object) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, **kwargs)  # type: ignore[call-overload]
    if r.returncode != 0:
        pytest.fail(
            f"{what}: {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
        )


def _npm() -> str:
    found = shutil.which("npm")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(
            "Azurite (the Azure Storage emulator) is needed for the abfs:// tests and npm is not installed "
            "(installing it needs root and apt-get); install Node.js and npm, or set CUSTDATA_TEST_AZURITE "
            "to an azurite-blob executable"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update"], "installing npm", env=env)
    _run(["apt-get", "install", "-y", "--no-install-recommends", "nodejs", "npm"], "installing npm", env=env)
    found = shutil.which("npm")
    if not found:
        pytest.fail("apt-get installed npm but it is not on PATH")
    return found


def azurite_executable() -> str:
    """The ``azurite-blob`` program, installed into the cache folder when there is none."""
    given = os.environ.get("CUSTDATA_TEST_AZURITE") or shutil.which("azurite-blob")
    if given:
        return given
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "custdata-tests"
    prefix = cache / f"azurite-{AZURITE_VERSION}"
    exe = prefix / "node_modules" / ".bin" / "azurite-blob"
    if exe.exists():
        return str(exe)
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"azurite-{AZURITE_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test run installing at the same time: wait for it
        if not exe.exists():
            npm = _npm()
            t0 = time.monotonic()
            partial = Path(tempfile.mkdtemp(prefix=f"azurite-{AZURITE_VERSION}.", dir=cache))
            _run(
                [
                    npm,
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(partial),
                    f"azurite@{AZURITE_VERSION}",
                ],
                "installing Azurite",
            )
            partial.rename(prefix)  # whole or not at all: an interrupted install is not taken for one
            print(
                f"\ninstalled Azurite {AZURITE_VERSION} with npm in {time.monotonic() - t0:.0f}s into {prefix}"
            )
    return str(exe)


@attrs.define
class AzuriteServer:
    port: int
    stop: Callable[[], None]

    @property
    def blob_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{AZURITE_ACCOUNT}"

    def connection_string(self, key: str = AZURITE_KEY) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={key};"
            f"BlobEndpoint={self.blob_endpoint};"
        )


@contextlib.contextmanager
def azurite() -> Iterator[AzuriteServer]:
    """Azurite's blob service on a free loopback port for the duration of the block."""
    exe = azurite_executable()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="custdata-azurite.") as workspace:
        log = open(Path(workspace) / "azurite.log", "w+b")  # noqa: SIM115 (closed below)
        cmd = [
            exe,
            *("--blobHost", "127.0.0.1", "--blobPort", str(port)),
            "--inMemoryPersistence",
            *("--extentMemoryLimit", "512"),
            "--disableTelemetry",  # Azurite reports usage to Microsoft unless told not to
            "--silent",
            "--skipApiVersionCheck",  # the Python SDK may be newer than this Azurite
            "--loose",
        ]
        proc = subprocess.Popen(
            cmd, cwd=workspace, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

        def stop() -> None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

        try:
            if not _wait_for_port(port, lambda: proc.poll() is None, 60):
                stop()
                log.seek(0)
                pytest.fail(
                    f"Azurite did not start ({' '.join(cmd)}):\n{log.read()[-2000:].decode(errors='replace')}"
                )
            yield AzuriteServer(port=port, stop=stop)
        finally:
            stop()
            log.close()


@attrs.define
class GcsServer:
    endpoint: str


@contextlib.contextmanager
def gcs_emulator() -> Iterator[GcsServer]:
    """``gcp-storage-emulator`` (in memory) on a free loopback port, served from a thread."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        yield GcsServer(endpoint=f"http://127.0.0.1:{port}")
    finally:
        server.stop()
