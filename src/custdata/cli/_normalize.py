"""Normalisation commands: ``custdata normalize`` and ``custdata quality``, and their demo step."""

from __future__ import annotations

import collections
import csv
import json
import logging
import os
from collections.abc import Iterator

import click

from custdata._records import Customer
from custdata.cli._common import DemoContext, UserError, heading, progress
from custdata.normalization import Issue, NormalizeResult, normalize_many
from custdata.quality import quality_report

log = logging.getLogger(__name__)

ERRORS = click.Choice(["collect", "skip", "raise"])


class _Tally:
    """Counts what went through normalize_many, for the summary line."""

    def __init__(self) -> None:
        self.records = 0
        self.changed = 0
        self.with_issues = 0
        self.reasons: collections.Counter[tuple[str, str]] = collections.Counter()
        self.issues: list[tuple[str, Issue]] = []

    def feed(self, results: Iterator[NormalizeResult], keep_issues: bool) -> Iterator[Customer]:
        for r in results:
            self.records += 1
            self.changed += r.changed
            if r.issues:
                self.with_issues += 1
                for i in r.issues:
                    self.reasons[(i.field.split(".", 1)[0], i.reason)] += 1
                    if keep_issues:
                        self.issues.append((r.record.id, i))
            yield r.record

    def summary(self) -> list[str]:
        lines = [
            f"{self.records} customers: {self.changed} changed, {self.with_issues} with values that could "
            f"not be normalised"
        ]
        for (field, reason), n in self.reasons.most_common(10):
            lines.append(f"  {field:<10} {reason:<22} {n}")
        return lines


def _write_issues(path: str, issues: list[tuple[str, Issue]]) -> None:
    from custdata.io import guard_cell

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "field", "value", "reason", "message"])
        for cid, i in issues:
            w.writerow([guard_cell(str(x)) for x in (cid, i.field, i.value, i.reason, i.message)])


def register(group: click.Group) -> None:
    """Add ``normalize`` and ``quality`` to the ``custdata`` command group."""
    group.add_command(normalize_command)
    group.add_command(quality_command)


@click.command("normalize")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("-o", "--output", "dst", required=True, type=click.Path(dir_okay=False), help="Output file.")
@click.option("--region", default="CN", show_default=True, help="Default region for phones and addresses.")
@click.option("--encoding", default="auto", show_default=True, help="Input encoding (CSV).")
@click.option(
    "--errors",
    type=ERRORS,
    default="collect",
    show_default=True,
    help="Records with bad values: keep them (collect), leave them out (skip), or stop (raise).",
)
@click.option("--drop-invalid", is_flag=True, help="Drop the values that cannot be normalised.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Processes.")
@click.option(
    "--issues", "issues_path", type=click.Path(dir_okay=False), help="Write every issue to this CSV."
)
def normalize_command(
    src: str,
    dst: str,
    region: str,
    encoding: str,
    errors: str,
    drop_invalid: bool,
    workers: int,
    issues_path: str | None,
) -> None:
    """Normalise the customers in SRC (CSV or JSON Lines) and write them to OUTPUT.

    Phones become E.164, e-mails are validated, names split into family and given name, addresses get
    their country, province, city and district. Values that cannot be normalised are kept (or dropped
    with --drop-invalid) and counted in the summary.
    """
    from custdata.cli._main import open_records, write_records

    if os.path.abspath(src) == os.path.abspath(dst):
        raise UserError(f"{dst}: the output must not be the input")
    reader = open_records(src, kind="customer", encoding=encoding, errors="collect", check_contacts=False)
    tally = _Tally()
    results = normalize_many(
        progress(reader, "normalising"),
        region=region or None,
        errors=errors,  # type: ignore[arg-type]
        workers=workers,
        drop_invalid=drop_invalid,
    )
    n = write_records(tally.feed(results, keep_issues=issues_path is not None), dst)
    for line in tally.summary():
        click.echo(line)
    msg = f"wrote {n} customers to {dst}"
    if reader.skipped:
        msg += f"; {reader.skipped} unreadable rows left out (see: custdata validate {src})"
    click.echo(msg)
    if issues_path:
        _write_issues(issues_path, tally.issues)
        click.echo(f"wrote {len(tally.issues)} issues to {issues_path}")


@click.command("quality")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("--region", default="CN", show_default=True, help="Default region for phones and addresses.")
@click.option("--encoding", default="auto", show_default=True, help="Input encoding (CSV).")
@click.option("--stale-after-days", default=365, show_default=True, type=click.IntRange(0), help="Staleness.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def quality_command(src: str, region: str, encoding: str, stale_after_days: int, as_json: bool) -> None:
    """Report the data quality of the customers in SRC: completeness, invalid values, shared contact
    points and stale records."""
    from custdata.cli._main import open_records

    reader = open_records(src, kind="customer", encoding=encoding, errors="collect", check_contacts=False)
    report = quality_report(
        progress(reader, "checking"), region=region or None, stale_after_days=stale_after_days
    )
    if as_json:
        d = report.to_dict()
        d["unreadable_rows"] = reader.skipped
        click.echo(json.dumps(d, ensure_ascii=False, indent=2))
        return
    click.echo(str(report))
    if reader.skipped:
        click.echo(f"\n{reader.skipped} unreadable rows were left out (see: custdata validate {src})")


def demo(ctx: DemoContext) -> None:
    """Normalise the sample customers (they replace ``ctx.customers``) and show the quality report."""
    heading(ctx, "Normalisation")
    tally = _Tally()
    results = normalize_many(progress(ctx.customers, "normalising"), errors="collect")
    clean = list(tally.feed(results, keep_issues=True))
    for line in tally.summary():
        ctx.echo(line)
    for cid, issue in tally.issues[:3]:
        ctx.echo(f"  e.g. {cid}: {issue}")
    ctx.customers = clean
    ctx.results["normalize"] = {
        "records": tally.records,
        "changed": tally.changed,
        "with_issues": tally.with_issues,
    }
    # The sample is a snapshot: judge staleness as of its last activity, not as of today.
    stamps = [t.at for t in ctx.transactions] + [c.updated_at or c.created_at for c in ctx.customers]
    as_of = max((s for s in stamps if s is not None), default=None)
    heading(ctx, "Data quality" + (f" (as of {as_of:%Y-%m-%d}, the sample's last activity)" if as_of else ""))
    report = quality_report(ctx.customers, now=as_of)
    ctx.results["quality"] = report
    for line in str(report).splitlines():
        ctx.echo(line)
