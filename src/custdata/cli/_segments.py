"""Segment commands: ``custdata segment``, ``rfm`` and ``remind``, and the segments step of the demo."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from custdata._records import Customer, Interaction, Transaction
from custdata.cli._common import DemoContext, UserError, heading, progress
from custdata.exceptions import RuleSyntaxError
from custdata.segments import (
    PROFILE_SCHEMA,
    RFM_SEGMENTS,
    Segmentation,
    birthday_reminders,
    care_reminders,
    profiles,
    rfm,
)


def _read(path: str | None, kind: str, encoding: str) -> list[Any]:
    if path is None:
        return []
    from custdata.cli._main import open_records

    reader = open_records(path, kind=kind, encoding=encoding, errors="collect")
    items = list(progress(reader, f"reading {kind}s"))
    if reader.skipped:
        click.echo(f"{path}: {reader.skipped} bad rows left out, e.g. {reader.problems[0]}", err=True)
    return items


def _as_of(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--as-of must be a date (YYYY-MM-DD), got {text!r}") from None


def _guard(value: object) -> object:
    from custdata.io import guard_cell

    return guard_cell(value) if isinstance(value, str) else value


def _write(rows: Iterable[dict[str, Any]], path: str, columns: Sequence[str]) -> int:
    """CSV (spreadsheet-safe cells) or JSON Lines by the file's extension, written whole or not at all."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    n = 0
    try:
        if path.lower().endswith((".jsonl", ".ndjson")):
            with open(tmp, "w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(
                        json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False, default=str) + "\n"
                    )
                    n += 1
        else:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(columns)
                for row in rows:
                    w.writerow([_guard("" if row.get(c) is None else str(row.get(c))) for c in columns])
                    n += 1
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return n


def _load_rules(path: str) -> Segmentation:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: the rules file is not UTF-8 text") from None
    try:
        return Segmentation.from_json(text, schema=PROFILE_SCHEMA)
    except RuleSyntaxError as exc:
        first = str(exc).splitlines()[0]
        where = "" if exc.position is None else f" (at character {exc.position + 1} of the rule)"
        raise UserError(f"{path}: {first}{where}") from None


def register(group: click.Group) -> None:
    """Add ``segment``, ``rfm`` and ``remind`` to the command group."""

    @group.command()
    @click.argument("customers", type=click.Path(dir_okay=False))
    @click.option(
        "--rules",
        "rules_path",
        required=True,
        type=click.Path(dir_okay=False),
        help='Segments as JSON: {"name": "rule text", ...} or a saved Segmentation.',
    )
    @click.option("--transactions", default=None, type=click.Path(dir_okay=False), help="Transactions file.")
    @click.option("--interactions", default=None, type=click.Path(dir_okay=False), help="Interactions file.")
    @click.option("--as-of", default=None, help="The day the profiles are computed for (default: today).")
    @click.option("--multi", is_flag=True, help="Every matching segment, not only the first.")
    @click.option("--default", "default", default=None, help="Segment name for customers in none.")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="CSV or JSON Lines.")
    @click.option("--encoding", default="auto", show_default=True, help="Input encoding.")
    def segment(
        customers: str,
        rules_path: str,
        transactions: str | None,
        interactions: str | None,
        as_of: str | None,
        multi: bool,
        default: str | None,
        output: str,
        encoding: str,
    ) -> None:
        """Put each customer of CUSTOMERS in a segment by the rules in --rules (first match wins).

        The rules read each customer's profile (fields: tags, city, total_spend, recency_days, rfm_segment
        …; see the segments docs), built from --transactions and --interactions as of --as-of.
        """
        seg = _load_rules(rules_path)
        seg = Segmentation(seg.segments, default=default if default is not None else seg.default, multi=multi)
        day = _as_of(as_of)
        people = _read(customers, "customer", encoding)
        txs = _read(transactions, "transaction", encoding)
        contacts = _read(interactions, "interaction", encoding)
        rows = []
        for p, s in seg.evaluate(profiles(people, txs, contacts, as_of=day)):
            rows.append({"id": p.id, "segment": ";".join(s) if isinstance(s, list) else s})
        n = _write(rows, output, ["id", "segment"])
        sizes = seg.sizes(profiles(people, txs, contacts, as_of=day))
        click.echo(f"wrote {n} customers to {output}")
        for name, size in sizes.items():
            click.echo(f"  {name or '(none)'}: {size}")

    @group.command("rfm")
    @click.argument("transactions", type=click.Path(dir_okay=False))
    @click.option("--as-of", default=None, help="The day recency counts to (default: the last purchase day).")
    @click.option("--bins", type=click.IntRange(3, 10), default=5, show_default=True, help="Quantile bins.")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="CSV or JSON Lines.")
    @click.option("--encoding", default="auto", show_default=True, help="Input encoding.")
    def rfm_command(transactions: str, as_of: str | None, bins: int, output: str, encoding: str) -> None:
        """Score each customer in TRANSACTIONS on recency, frequency and monetary value, with the named RFM
        segment (Champions … Lost) and the eight-group map (重要价值客户 …)."""
        txs: list[Transaction] = _read(transactions, "transaction", encoding)
        if not txs:
            raise UserError(f"{transactions}: no transactions")
        day = _as_of(as_of) if as_of else max(t.at.date() for t in txs)
        scores = rfm(txs, as_of=day, bins=bins)
        cols = ["customer_id", "recency_days", "orders", "total_spend", "r", "f", "m", "score", "segment",
                "label", "label_zh", "group", "group_zh"]  # fmt: skip
        n = _write((s.to_dict() for s in scores), output, cols)
        counts: dict[str, int] = {}
        for s in scores:
            counts[s.segment] = counts.get(s.segment, 0) + 1
        click.echo(f"wrote {n} customers to {output} (as of {day.isoformat()}, {bins} bins)")
        for key, (label, label_zh, _) in RFM_SEGMENTS.items():
            if counts.get(key):
                click.echo(f"  {label} ({label_zh}): {counts[key]}")

    @group.command()
    @click.argument("customers", type=click.Path(dir_okay=False))
    @click.option(
        "--days", type=click.IntRange(0, 366), default=7, show_default=True, help="Birthdays within."
    )
    @click.option("--anniversaries", is_flag=True, help="Also customer anniversaries (created_at).")
    @click.option(
        "--interactions",
        default=None,
        type=click.Path(dir_okay=False),
        help="Interactions file: also remind of customers not contacted for --no-contact-days.",
    )
    @click.option("--no-contact-days", type=click.IntRange(1), default=90, show_default=True)
    @click.option("--as-of", default=None, help="Today (default: today).")
    @click.option("-o", "--output", default=None, type=click.Path(dir_okay=False), help="CSV or JSON Lines.")
    @click.option("--encoding", default="auto", show_default=True, help="Input encoding.")
    def remind(
        customers: str,
        days: int,
        anniversaries: bool,
        interactions: str | None,
        no_contact_days: int,
        as_of: str | None,
        output: str | None,
        encoding: str,
    ) -> None:
        """Birthday (and anniversary) reminders in the next --days, and customers not contacted for a while,
        each on a channel the customer consented to (marketing_sms …, service_phone …)."""
        day = _as_of(as_of)
        people: list[Customer] = _read(customers, "customer", encoding)
        found = birthday_reminders(people, as_of=day, days=days, anniversaries=anniversaries)
        items = list(found.items)
        left = found.left_out
        why = Counter(found.left_out_by_reason)
        if interactions is not None:
            contacts: list[Interaction] = _read(interactions, "interaction", encoding)
            care = care_reminders(people, contacts, as_of=day, days=no_contact_days)
            items += care.items
            left += care.left_out
            why.update(care.left_out_by_reason)
        rows = [
            {"customer_id": r.customer_id, "kind": r.kind, "on": r.on.isoformat(), "channel": r.channel,
             "days_until": r.days_until, "note": r.note}
            for r in items
        ]  # fmt: skip
        if output:
            n = _write(rows, output, ["customer_id", "kind", "on", "channel", "days_until", "note"])
            click.echo(f"wrote {n} reminders to {output}")
        else:
            for r in rows:
                click.echo(f"{r['on']}  {r['kind']:<12} {r['customer_id']}  via {r['channel']}")
        reasons = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in why.items())
        click.echo(
            f"{len(rows)} reminders; {left} left out for lack of consent on a usable channel"
            + (f" ({reasons})" if reasons else "")
        )


def demo(ctx: DemoContext) -> None:
    """The segments step of ``custdata demo``: RFM segment sizes and a few explained members."""
    heading(ctx, "Segments: RFM and rules")
    if not ctx.transactions:
        ctx.echo("no transactions in the sample")
        return
    day = max(t.at.date() for t in ctx.transactions)
    ps = list(profiles(ctx.customers, ctx.transactions, ctx.interactions, as_of=day))
    seg = Segmentation.from_json(
        {
            "best": "rfm_segment in ['champions', 'loyal']",
            "at_risk": "rfm_segment in ['at_risk', 'cant_lose']",
            "never_bought": "orders == 0",
        },
        schema=PROFILE_SCHEMA,
    )
    seg = Segmentation(seg.segments, default="other")
    for name, size in seg.sizes(ps).items():
        ctx.echo(f"{name}: {size}")
    shown = 0
    for p in ps:
        why = seg.explain(p)
        if why.segment in ("best", "at_risk") and shown < 3:
            ctx.echo(f"  customer {p.id}: {why}")
            shown += 1
