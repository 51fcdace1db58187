"""Developer tasks.

`nox` runs the default sessions, which are what CI runs:

- `tests_all`: the whole suite (every extra, a real PostgreSQL server, the docs' and README's examples) on
  the newest Python, against the editable install, under coverage (branches on; the report ends the run);
- `tests_wheel`: the same suite on the oldest Python against the built wheel (what users install), so a
  file missing from the wheel or an import that only works from the source tree fails here;
- `typing`, `lint`, `docs` (mypy --strict; ruff and the import-layer contracts; the strict docs build).

`nox -s tests` runs the suite with the core dependencies only on every supported Python that the machine
has (`nox -s tests-3.12` for one); `nox -s bench` runs the benchmarks (never part of the default run).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests_all", "tests_wheel", "typing", "lint", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
#: Every Python custdata supports (requires-python and the classifiers say the same); CI runs the ends.
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
OLDEST, NEWEST = PYTHONS[0], PYTHONS[-1]


def _pyenv_pythons() -> None:
    """Make every pyenv-installed Python findable as ``python3.X``.

    pyenv's shims run only the versions that ``PYENV_VERSION`` (or the global version file) names, so on
    a machine whose Pythons come from pyenv ``python3.10`` is "not found" although 3.10 is installed, and
    uv's own interpreter discovery trips over the shims. Each installed version's ``python3.X`` gets a
    symlink in a folder put first on ``PATH``; ``python3`` and ``python`` are left alone (no such links),
    so the Python that runs nox stays the default. Nothing happens without pyenv.
    """
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    if not (root / "versions").is_dir():
        return
    newest: dict[str, tuple[tuple[int, ...], Path]] = {}
    for p in (root / "versions").iterdir():
        m = re.fullmatch(r"3\.(\d+)\.(\d+)", p.name)
        exe = p / "bin" / f"python3.{m.group(1)}" if m else None
        if m and exe is not None and exe.is_file():
            key = (int(m.group(1)), int(m.group(2)))
            minor = f"3.{m.group(1)}"
            if minor not in newest or newest[minor][0] < key:
                newest[minor] = (key, exe)
    if not newest:
        return
    links = Path(__file__).resolve().parent / ".nox" / "_pythons"
    links.mkdir(parents=True, exist_ok=True)
    for minor, (_, exe) in newest.items():
        link = links / f"python{minor}"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(exe)
    os.environ["PATH"] = f"{links}{os.pathsep}{os.environ.get('PATH', '')}"


_pyenv_pythons()
# A session whose Python is missing fails instead of being skipped: a skipped test session is no pass.
nox.options.error_on_missing_interpreters = True


def _group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite with the core dependencies only: tests that need an extra skip themselves
    (pytest.importorskip), and the PostgreSQL contract tests are left out."""
    session.install("-e", ".", *_group("test"))
    session.run("pytest", "tests", "-m", "not postgres", *session.posargs)


@nox.session(python=NEWEST)
def tests_all(session: nox.Session) -> None:
    """The whole test suite with every extra, a real PostgreSQL server, and the docs' examples, measured
    by coverage (settings in pyproject.toml: branches, worker processes, the minimum)."""
    # the docs group too: the API page's griffe extension has tests
    session.install("-e", ".[all]", *_group("test"), *_group("coverage"), *_group("docs"))
    session.run("coverage", "erase")
    try:
        session.run("coverage", "run", "-m", "pytest", *session.posargs)
    finally:
        session.run("coverage", "combine", "--quiet", success_codes=[0, 1])
    # A run of a few tests (posargs) reports without the minimum; the whole run must reach it.
    fail_under = ["--fail-under=0"] if session.posargs else []
    session.run("coverage", "report", *fail_under)


@nox.session(python=OLDEST)
def tests_wheel(session: nox.Session) -> None:
    """The whole test suite against the built wheel (not the source tree), on the oldest Python."""
    out = Path(session.create_tmp()) / "dist"
    shutil.rmtree(out, ignore_errors=True)
    if shutil.which("uv"):
        session.run("uv", "build", "--wheel", "--out-dir", str(out), external=True)
    else:
        session.install("build")
        session.run("python", "-m", "build", "--wheel", "--outdir", str(out))
    (wheel,) = out.glob("custdata-*.whl")
    session.install(f"custdata[all] @ {wheel.resolve().as_uri()}", *_group("test"))
    # A reused environment holds the last build under the same version: put this build in its place.
    again = ["--reinstall-package", "custdata"] if session.venv_backend == "uv" else ["--force-reinstall"]
    session.install(*again, "--no-deps", str(wheel))
    # The tests must import the installed wheel, never src/ (which is not on sys.path: src layout).
    session.run(
        "python",
        "-c",
        "import custdata, sys; f = custdata.__file__; "
        "sys.exit(0 if 'site-packages' in f else f'custdata imported from {f}, not the wheel')",
    )
    session.run("pytest", *session.posargs)


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on src/."""
    session.install("-e", ".[all]", *_group("typing"))
    session.run("mypy", "--strict", "src/custdata")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (lint and format) and the import-layer contracts."""
    session.install("-e", ".", *_group("lint"))
    session.run("ruff", "check", "src", "tests", "benchmarks", "docs", "noxfile.py", "scripts")
    # Markdown examples keep their hand-aligned comments: ruff checks them but does not reformat them.
    python_files = ["src", "tests", "benchmarks", "docs/conftest.py", "noxfile.py", "scripts"]
    session.run("ruff", "format", "--check", *python_files)
    session.run("lint-imports")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the docs strictly (the API reference page comes from the docstrings). Their examples run as
    tests in tests_all and tests_wheel (`nox -s tests_all -- docs README.md` runs only them)."""
    session.install("-e", ".[all]", *_group("docs"))
    session.run("mkdocs", "build", "--strict", "--site-dir", session.create_tmp() + "/site")


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark with its peers side by side, through benchmarks/run_all.py (outputs kept in
    benchmarks/results/<commit>/; figures go to docs/performance.md by hand). Arguments go to run_all.py:
    ``nox -s bench -- --quick`` checks every script runs, ``nox -s bench -- --only dedupe clv``."""
    session.install("-e", ".[all]", *_group("bench"))
    session.run("python", "benchmarks/run_all.py", *session.posargs)
