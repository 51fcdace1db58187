"""The ``custdata`` command group, its error handling, and the foundation commands."""

from __future__ import annotations

import codecs
import collections
import importlib
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import click

from custdata._version import __version__
from custdata.cli._common import DemoContext, UserError, heading, progress
from custdata.exceptions import CustdataError
from custdata.io import Errors, Kind, RecordReader, read_csv, read_jsonl, write_csv, write_jsonl

log = logging.getLogger(__name__)

#: The capability modules that add commands and a demo step, in demo order.
PARTS = ("_normalize", "_dedupe", "_store", "_security", "_privacy", "_metrics", "_segments", "_needs")

KINDS = click.Choice(["customer", "transaction", "interaction"])
ERRORS = click.Choice(["raise", "skip", "collect"])


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="custdata")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """custdata: clean, dedupe, store and understand customer data.

    Run `custdata demo` to see every capability on the bundled sample data.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _format(path: str) -> str:
    p = path.lower()
    if p.endswith((".jsonl", ".ndjson", ".jsonl.txt")):
        return "jsonl"
    if p.endswith((".csv", ".txt", ".tsv")):
        return "csv"
    raise UserError(f"{path}: cannot tell the format from the name; use .csv or .jsonl")


def _check_encoding(encoding: str, option: str = "--encoding") -> None:
    if encoding == "auto":
        return
    try:
        codecs.lookup(encoding)
    except (LookupError, UnicodeError, ValueError):
        raise UserError(f"{option} {encoding!r}: no such text encoding (e.g. utf-8, gb18030, auto)") from None


def open_records(
    path: str,
    *,
    kind: str = "customer",
    encoding: str = "auto",
    errors: str = "raise",
    check_contacts: bool | None = None,
) -> RecordReader[Any]:
    """Read CSV or JSON Lines by the file's extension (for the commands of every capability).
    ``check_contacts``: None for each reader's default (CSV checks phones and e-mails, JSON Lines takes
    custdata's own records as they are), False for commands that normalise them themselves."""
    k = cast(Kind, kind)
    e = cast(Errors, errors)
    _check_encoding(encoding)
    if _format(path) == "jsonl":
        return read_jsonl(path, kind=k, errors=e, check_contacts=bool(check_contacts))
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    return read_csv(
        path,
        kind=k,
        encoding=encoding,
        errors=e,
        delimiter=delimiter,
        check_contacts=check_contacts is not False,
    )


def write_records(records: Any, path: str, *, encoding: str = "utf-8-sig") -> int:
    """Write CSV or JSON Lines by the file's extension."""
    _check_encoding(encoding, "--out-encoding")
    if _format(path) == "jsonl":
        return write_jsonl(records, path)
    return write_csv(records, path, encoding=encoding)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--kind", type=KINDS, default="customer", show_default=True, help="What the rows are.")
@click.option(
    "--encoding", default="auto", show_default=True, help="Input encoding (auto: BOM, UTF-8, GB18030)."
)
@click.option("--max-problems", default=50, show_default=True, help="How many problems to list.")
def validate(file: str, kind: str, encoding: str, max_problems: int) -> None:
    """Check FILE (CSV or JSON Lines) row by row and report every problem.

    Exits 0 when every row is valid, 1 when some are not, 2 on a usage error.
    """
    reader = open_records(file, kind=kind, encoding=encoding, errors="collect", check_contacts=True)
    good = sum(1 for _ in progress(reader, "validating"))
    for p in reader.problems[:max_problems]:
        click.echo(str(p))
    if len(reader.problems) > max_problems:
        click.echo(f"... and {len(reader.problems) - max_problems} more problems")
    bad = reader.skipped
    click.echo(f"{file}: {reader.rows} rows, {good} valid, {bad} with problems (encoding {reader.encoding})")
    if bad:
        raise SystemExit(1)


@cli.command()
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dst", type=click.Path(dir_okay=False))
@click.option("--kind", type=KINDS, default="customer", show_default=True, help="What the rows are.")
@click.option("--encoding", default="auto", show_default=True, help="Input encoding.")
@click.option("--out-encoding", default="utf-8-sig", show_default=True, help="CSV output encoding.")
@click.option("--errors", type=ERRORS, default="raise", show_default=True, help="What to do with bad rows.")
def convert(src: str, dst: str, kind: str, encoding: str, out_encoding: str, errors: str) -> None:
    """Convert SRC to DST between CSV and JSON Lines (chosen by the extensions)."""
    if os.path.abspath(src) == os.path.abspath(dst):
        raise UserError(f"{dst}: the output must not be the input")
    reader = open_records(src, kind=kind, encoding=encoding, errors=errors)
    n = write_records(progress(reader, "converting"), dst, encoding=out_encoding)
    msg = f"wrote {n} records to {dst}"
    if reader.skipped:
        msg += f"; {reader.skipped} bad rows left out"
    click.echo(msg)
    for p in reader.problems[:20]:
        click.echo(f"  {p}")


def _part(name: str) -> Any | None:
    try:
        return importlib.import_module(f"custdata.cli.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"custdata.cli.{name}":
            return None  # that capability has no commands yet
        raise


def _sample(name: str) -> Path:
    from custdata._sample import sample_path

    path: Path = sample_path(name)
    return path


def _summary(ctx: DemoContext) -> None:
    cs = ctx.customers
    heading(
        ctx,
        f"Loaded {len(cs)} customers, {len(ctx.transactions)} transactions, "
        f"{len(ctx.interactions)} interactions",
    )
    with_phone = sum(1 for c in cs if c.phones)
    with_email = sum(1 for c in cs if c.emails)
    ctx.echo(
        f"with a phone: {with_phone} ({with_phone / max(len(cs), 1):.0%}), "
        f"with an e-mail: {with_email} ({with_email / max(len(cs), 1):.0%})"
    )
    channels = collections.Counter(c.channel.value if c.channel else "(none)" for c in cs)
    ctx.echo("channels: " + ", ".join(f"{k} {v}" for k, v in channels.most_common()))
    cities = collections.Counter(a.city for c in cs for a in c.addresses[:1] if a.city)
    ctx.echo("top cities: " + ", ".join(f"{k} {v}" for k, v in cities.most_common(5)))
    custom = collections.Counter(k for c in cs for k in c.custom)
    if custom:
        ctx.echo("kept as custom attributes: " + ", ".join(f"{k} ({v})" for k, v in custom.most_common(5)))


@cli.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False),
    default=None,
    help="Keep the demo's output files in this folder instead of a temporary one.",
)
def demo(keep: str | None) -> None:
    """Run every capability on the bundled sample data."""
    with tempfile.TemporaryDirectory(prefix="custdata-demo-") as tmp:
        workdir = Path(keep) if keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        readers = {
            k: open_records(str(_sample(f"sample_{k}s.csv")), kind=k, errors="collect", check_contacts=False)
            for k in ("customer", "transaction", "interaction")
        }
        data = {k: list(progress(r, f"reading {k}s")) for k, r in readers.items()}
        ctx = DemoContext(
            customers=data["customer"],
            transactions=data["transaction"],
            interactions=data["interaction"],
            workdir=workdir,
        )
        click.echo(f"custdata {__version__} demo on the bundled sample data")
        _summary(ctx)
        problems = [p for r in readers.values() for p in r.problems]
        if problems:
            ctx.echo(f"{len(problems)} problems in the sample files (as real exports have), e.g.:")
            for p in problems[:3]:
                ctx.echo(f"  {p}")
        for name in PARTS:
            part = _part(name)
            if part is not None and hasattr(part, "demo"):
                part.demo(ctx)
        ctx.echo("")
        ctx.echo("done.")


def _register_parts() -> None:
    for name in PARTS:
        part = _part(name)
        if part is not None and hasattr(part, "register"):
            part.register(cli)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def run(argv: Sequence[str] | None = None) -> None:
    """Run the command line; user errors print one line and exit 2, never a traceback."""
    _register_parts()
    for stream in (sys.stdout, sys.stderr):
        # a file name with undecodable bytes (a lone surrogate) is echoed escaped, never an internal error
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        rv = cli.main(args=args, prog_name="custdata", standalone_mode=False)
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        click.echo("custdata: aborted", err=True)
        raise SystemExit(1) from None
    except click.UsageError as exc:
        hint = f" (see: {exc.ctx.command_path} --help)" if exc.ctx else ""
        click.echo(f"custdata: {_one_line(exc.format_message())}{hint}", err=True)
        raise SystemExit(2) from None
    except click.ClickException as exc:
        click.echo(f"custdata: {_one_line(exc.format_message())}", err=True)
        raise SystemExit(exc.exit_code) from None
    except CustdataError as exc:
        click.echo(f"custdata: {_one_line(str(exc))}", err=True)
        raise SystemExit(2) from None
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"custdata: {where}{exc.strerror or exc}", err=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        click.echo("custdata: interrupted", err=True)
        raise SystemExit(130) from None
    except Exception as exc:
        if os.environ.get("CUSTDATA_DEBUG"):
            raise
        click.echo(
            f"custdata: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(set CUSTDATA_DEBUG=1 for the traceback, and please report it)",
            err=True,
        )
        raise SystemExit(1) from None
    raise SystemExit(rv if isinstance(rv, int) else 0)


__all__ = ["PARTS", "cli", "open_records", "run", "write_records"]
