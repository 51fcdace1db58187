"""``custdata store retention`` (a retention policy, a dry run first) and ``custdata store export-as`` (an
export as one principal under an access policy, optionally for a marketing purpose): docs/privacy.md."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from custdata.cli._common import UserError, audit_option, keyring_option, load_keyring, url_option
from custdata.security import (
    AuditLog,
    Policy,
    RetentionPolicy,
    StoreSink,
    StoreView,
    apply_retention,
    export_customers,
)
from custdata.storage import open_store

__all__ = ["register"]

AUDIT = audit_option("Append the audit entries to this JSON Lines log (default: the store's own audit table)")

_DAYS = {
    "inactive_customers": ("--inactive-days", "Remove customers without activity for N days."),
    "deleted_customers": ("--deleted-days", "Remove soft-deleted customers N days after the deletion."),
    "transactions": ("--transactions-days", "Remove transactions older than N days."),
    "interactions": ("--interactions-days", "Remove interactions older than N days."),
    "history": ("--history-days", "Remove history entries older than N days."),
}


def _as_of(text: str | None) -> dt.datetime | dt.date | None:
    if text is None:
        return None
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"--as-of {text!r}: not an ISO 8601 date or date-time") from None
    if when.tzinfo is None:
        raise UserError(f"--as-of {text!r}: give the offset (2026-06-30T00:00:00+08:00) or a date")
    return when


def _policy(path: str | None, days: dict[str, int | None]) -> RetentionPolicy:
    given = {k: v for k, v in days.items() if v is not None}
    if path is not None:
        if given:
            raise UserError("give --policy or the --*-days options, not both")
        if not Path(path).is_file():
            raise UserError(f"{path}: no such policy file")
        return RetentionPolicy.load(path)
    if not given:
        raise UserError("no retention rule: give --policy FILE or at least one --*-days option")
    return RetentionPolicy.from_dict(given)


def register(group: click.Group) -> None:
    """Add ``store retention`` to the ``store`` group."""
    store = group.commands.get("store")
    if not isinstance(store, click.Group):  # pragma: no cover - the store part is always there
        return

    def days_option(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        flag, text = _DAYS[kind]
        return click.option(flag, kind, type=click.IntRange(0, 3_000_000), default=None, help=text)

    @store.command("retention")
    @url_option()
    @keyring_option(required=False)
    @click.option(
        "--policy",
        "policy_path",
        default=None,
        type=click.Path(dir_okay=False),
        help='A JSON policy file: {"inactive_customers": 1095, "transactions": 1825, ...} (days).',
    )
    @days_option("inactive_customers")
    @days_option("deleted_customers")
    @days_option("transactions")
    @days_option("interactions")
    @days_option("history")
    @click.option("--as-of", default=None, help="Apply the policy as of this date or time (default: now).")
    @click.option("--dry-run", is_flag=True, help="Only report what would be removed; change nothing.")
    @click.option("--json", "as_json", is_flag=True, help="Print the whole report (every id) as JSON.")
    @AUDIT
    @click.option("--actor", default="retention", show_default=True, help="Who runs it, for the audit log.")
    @click.option("--yes", is_flag=True, help="Do not ask before removing.")
    def retention(
        url: str,
        keyring_path: str | None,
        policy_path: str | None,
        inactive_customers: int | None,
        deleted_customers: int | None,
        transactions: int | None,
        interactions: int | None,
        history: int | None,
        as_of: str | None,
        dry_run: bool,
        as_json: bool,
        audit_path: str | None,
        actor: str,
        yes: bool,
    ) -> None:
        """Remove what a retention policy says is kept too long: customers inactive for N days, soft-deleted
        customers after N days, transactions, interactions and history older than N days. Run it with
        --dry-run first: it lists exactly what a run would remove. A run removes it all in one
        transaction (or nothing) and leaves audit entries."""
        policy = _policy(
            policy_path,
            {
                "inactive_customers": inactive_customers,
                "deleted_customers": deleted_customers,
                "transactions": transactions,
                "interactions": interactions,
                "history": history,
            },
        )
        when = _as_of(as_of)
        ring = load_keyring(keyring_path) if keyring_path else None
        with open_store(url, keyring=ring, create=False) as s:
            plan = apply_retention(s, policy, dry_run=True, as_of=when)
            if not dry_run and any(plan.counts.values()) and not yes:
                click.echo(str(plan))
                click.confirm("remove it for good?", abort=True)
            report = plan
            if not dry_run:
                log = AuditLog(audit_path) if audit_path else AuditLog(StoreSink(s))
                report = apply_retention(s, policy, dry_run=False, as_of=plan.as_of, actor=actor, audit=log)
        if as_json:
            click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
        else:
            click.echo(str(report))
            if dry_run:
                click.echo("dry run: nothing was removed (--json lists every id)")

    @store.command("export-as")
    @url_option()
    @keyring_option(required=False)
    @click.option(
        "--policy",
        "policy_path",
        required=True,
        type=click.Path(dir_okay=False),
        help='The access policy (JSON): {"marketing": {"actions": ["export"], "fields": {...}}, ...}.',
    )
    @click.option("--role", required=True, help="The role to export as.")
    @click.option("--actor", required=True, help="Who exports, for the audit log.")
    @click.option("--purpose", default=None, help="A marketing purpose: only customers who consented to it.")
    @click.option("--channel", default=None, help="With --purpose: the channel (sms, email, wechat, phone).")
    @click.option("--as-of", default=None, help="With --purpose: consent must hold then (default: now).")
    @click.option("--tag", default=None, help="Only customers with this tag.")
    @click.option(
        "-o", "--output", required=True, type=click.Path(dir_okay=False), help="A .csv or .jsonl file."
    )
    @AUDIT
    def export_as(
        url: str,
        keyring_path: str | None,
        policy_path: str,
        role: str,
        actor: str,
        purpose: str | None,
        channel: str | None,
        as_of: str | None,
        tag: str | None,
        output: str,
        audit_path: str | None,
    ) -> None:
        """Export customers as ROLE may under the access policy: hidden fields left out, masked ones
        masked; refused (exit 2) when the role may not export. With --purpose (and --channel), customers
        without valid consent are left out and counted by reason. Every exported customer is audited."""
        if not Path(policy_path).is_file():
            raise UserError(f"{policy_path}: no such policy file")
        policy = Policy.load(policy_path)
        when = _as_of(as_of)
        ring = load_keyring(keyring_path) if keyring_path else None
        with open_store(url, keyring=ring, create=False) as s:
            log = AuditLog(audit_path) if audit_path else AuditLog(StoreSink(s))
            view = StoreView(s, policy, actor=actor, role=role, audit=log, purpose=purpose)
            report = export_customers(
                view, output, purpose=purpose, channel=channel, at=when, scan={"tag": tag} if tag else None
            )
        click.echo(str(report))
