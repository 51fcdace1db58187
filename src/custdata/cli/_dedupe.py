"""``custdata dedupe`` and the dedupe step of ``custdata demo``."""

from __future__ import annotations

import csv
import logging
import os
from collections.abc import Iterator

import click

from custdata._records import Customer
from custdata.cli._common import DemoContext, UserError, heading, progress
from custdata.exceptions import CustdataError
from custdata.matching import DEFAULT_THRESHOLD, DedupeResult, dedupe

log = logging.getLogger(__name__)

_STEPS = ("preparing", "blocking", "comparing", "learning", "scoring", "clustering")


def register(group: click.Group) -> None:
    """Add ``dedupe`` to the ``custdata`` command group."""
    group.add_command(dedupe_command)


def _with_cluster(result: DedupeResult, records: list[Customer]) -> Iterator[Customer]:
    for r in records:
        yield r.evolve(custom={**r.custom, "cluster_id": result.cluster_ids[r.id]})


def _write_csv_with_cluster(result: DedupeResult, records: list[Customer], path: str) -> None:
    """The input rows in custdata's CSV layout with ``cluster_id`` as the first column, written atomically
    by custdata.io's one helper (a failed write leaves the target as it was and names it, not a
    temporary file; a replaced file keeps its permissions)."""
    from custdata.io import guard_cell
    from custdata.io._atomic import atomic_write
    from custdata.io._convert import customer_row
    from custdata.io._headers import CUSTOMER_COLUMNS

    with atomic_write(path, encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cluster_id", *CUSTOMER_COLUMNS])
        for r in records:
            w.writerow([guard_cell(x) for x in (result.cluster_ids[r.id], *customer_row(r))])


@click.command("dedupe")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "dst",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output: every input row with its cluster id (CSV or JSON Lines).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Match probability at or above which two records are the same customer.",
)
@click.option(
    "--golden",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write one merged (golden) record per cluster here.",
)
@click.option("--explain", "explain", is_flag=True, help="Print why each merged pair matched.")
@click.option("--region", default="CN", show_default=True, help="Default region for phone numbers.")
@click.option("--encoding", default="auto", show_default=True, help="Input encoding (CSV).")
@click.option(
    "--save-matcher",
    type=click.Path(dir_okay=False),
    default=None,
    help="Save the fitted matcher as JSON, to reuse it for new records.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Processes for comparing pairs (default: one per core for large inputs, on Linux).",
)
def dedupe_command(
    src: str,
    dst: str,
    threshold: float,
    golden: str | None,
    explain: bool,
    region: str,
    encoding: str,
    save_matcher: str | None,
    workers: int | None,
) -> None:
    """Find the duplicate customers in SRC and write each row with its cluster id to DST.

    No labels are needed: the matching model is learned from SRC itself.
    """
    from tqdm import tqdm

    from custdata.cli._main import open_records, write_records

    if os.path.abspath(src) == os.path.abspath(dst):
        raise UserError(f"{dst}: the output must not be the input")
    records = list(progress(open_records(src, encoding=encoding, check_contacts=False), "reading"))
    import sys

    bar = tqdm(total=len(_STEPS), desc="dedupe", unit="step", disable=not sys.stderr.isatty(), leave=False)

    def step(name: str) -> None:
        bar.set_postfix_str(name)
        if name != "preparing":
            bar.update(1)

    try:
        result = dedupe(records, threshold=threshold, region=region, workers=workers, progress=step)
    except CustdataError as exc:
        raise UserError(str(exc)) from None
    finally:
        bar.close()
    if dst.lower().endswith((".jsonl", ".ndjson")):
        write_records(_with_cluster(result, records), dst)
    else:
        _write_csv_with_cluster(result, records, dst)
    merged = [c for c in result.clusters if len(c) > 1]
    click.echo(
        f"{len(records)} records, {len(result.clusters)} customers: {len(merged)} clusters merge "
        f"{sum(len(c) for c in merged)} records; wrote {dst}"
    )
    if golden:
        n = write_records((g.record for g in result.golden_records()), golden)
        click.echo(f"wrote {n} golden records to {golden}")
    if save_matcher:
        result.matcher.save(save_matcher)
        click.echo(f"saved the matcher to {save_matcher}")
    if explain:
        for c in merged:
            ids = sorted(c)
            for other in ids[1:]:
                click.echo(str(result.explain(ids[0], other)))
                click.echo("")


def demo(ctx: DemoContext) -> None:
    """Dedupe the sample customers and show a few merged examples."""
    heading(ctx, "Dedupe: which customers are the same person?")
    result = dedupe(ctx.customers)
    merged = [c for c in result.clusters if len(c) > 1]
    ctx.echo(
        f"{len(ctx.customers)} customers -> {len(result.clusters)} people "
        f"({len(merged)} groups of duplicates), learned without labels"
    )
    by_id = {c.id: c for c in ctx.customers}
    for c in merged[:3]:
        ids = sorted(c)
        ctx.echo("")
        for rid in ids:
            r = by_id[rid]
            phones = ", ".join(p.number for p in r.phones) or "-"
            emails = ", ".join(e.address for e in r.emails) or "-"
            ctx.echo(f"  {rid:<10} {r.name.display or '-':<16} {phones:<20} {emails}")
        e = result.explain(ids[0], ids[1])
        why = ", ".join(f"{f.field} {f.level}" for f in e.fields if f.level not in ("missing", "different"))
        ctx.echo(f"  -> same person (probability {e.probability:.3f}): {why}")
    goldens = {g.id: g for g in result.golden_records(singletons=False)}
    if merged:
        g = goldens[min(merged[0])]
        ctx.echo(
            f"  golden record {g.id}: {g.record.name.display}, phones "
            f"{[p.number for p in g.record.phones]}, emails {[e.address for e in g.record.emails]}"
        )
    ctx.results["dedupe"] = result
    ctx.customers = [g.record for g in result.golden_records()]
