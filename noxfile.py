"""Developer tasks. `nox` runs the default sessions (the whole test suite, typing, lint, docs);
`nox -s bench` runs the benchmarks (not part of the default run)."""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests_all", "typing", "lint", "docs"]
nox.options.reuse_existing_virtualenvs = True

PYPROJECT = nox.project.load_toml("pyproject.toml")


def _group(name: str) -> list[str]:
    return nox.project.dependency_groups(PYPROJECT, name)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite with the core dependencies only: tests that need an extra skip themselves
    (pytest.importorskip), and the PostgreSQL contract tests are left out."""
    session.install("-e", ".", *_group("test"))
    session.run("pytest", "tests", "-m", "not postgres", *session.posargs)


@nox.session
def tests_all(session: nox.Session) -> None:
    """The whole test suite with every extra, a real PostgreSQL server, and the docs' examples."""
    session.install("-e", ".[all]", *_group("test"))
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
    """Build the docs strictly and run every example in them."""
    session.install("-e", ".[all]", *_group("test"), *_group("docs"))
    session.run("mkdocs", "build", "--strict", "--site-dir", session.create_tmp() + "/site")
    session.run("pytest", "docs", "-p", "no:randomly", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks with the peers side by side; figures go to docs/performance.md by hand."""
    session.install("-e", ".[all]", *_group("bench"))
    scripts = session.posargs or sorted(str(p) for p in Path("benchmarks").glob("bench_*.py"))
    for script in scripts:
        session.run("python", script)
