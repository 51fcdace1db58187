"""``custdata store …``: load files into a store, back it up and restore it, and look customers up."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import click

from custdata.cli._common import (
    DemoContext,
    UserError,
    heading,
    keyring_option,
    load_keyring,
    progress,
    url_option,
)
from custdata.cli._main import ERRORS, KINDS, open_records, write_records
from custdata.exceptions import DecryptionError
from custdata.storage import Store, export, open_store, restore

__all__ = ["demo", "register"]

log = logging.getLogger(__name__)

URL = url_option(note="Only import and restore create a store that does not exist.")


def _describe(c: Any) -> str:
    phone = c.primary_phone.number if c.primary_phone else "-"
    email = c.primary_email.address if c.primary_email else "-"
    return f"{c.id}\t{c.name.display or '-'}\t{phone}\t{email}\tv{c.version}"


_NAMES = {"customer": "customers", "history": "history entries"}


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {_NAMES.get(k, k + 's')}" for k, n in counts.items())


def register(group: click.Group) -> None:
    """Add the ``store`` command group."""

    @group.group()
    def store() -> None:
        """Keep customers in a store (SQLite file, PostgreSQL server, ...) and look them up."""

    @store.command("import")
    @click.argument("file", type=click.Path(dir_okay=False, exists=True))
    @URL
    @click.option("--kind", type=KINDS, default="customer", show_default=True, help="What the rows are.")
    @click.option("--encoding", default="auto", show_default=True, help="Input encoding (CSV).")
    @click.option(
        "--errors", type=ERRORS, default="raise", show_default=True, help="What to do with bad rows."
    )
    @click.option("--source", default=None, help="Recorded in each customer's history (default: the file).")
    def import_(file: str, url: str, kind: str, encoding: str, errors: str, source: str | None) -> None:
        """Insert or update the records of FILE (CSV or JSON Lines) in one transaction: all or none."""
        reader = open_records(file, kind=kind, encoding=encoding, errors=errors)
        with open_store(url) as s:
            items = progress(reader, f"importing {kind}s")
            if kind == "customer":
                result = s.upsert_many(items, source=source or file)
                msg = f"{file}: {result.inserted} customers added, {result.updated} updated in {s.url}"
            elif kind == "transaction":
                msg = f"{file}: {s.add_transactions(items)} transactions stored in {s.url}"
            else:
                msg = f"{file}: {s.add_interactions(items)} interactions stored in {s.url}"
            s.optimize()  # fresh planner statistics after the bulk load
        if reader.skipped:
            msg += f"; {reader.skipped} bad rows left out"
        click.echo(msg)
        for p in reader.problems[:20]:
            click.echo(f"  {p}")

    @store.command("export")
    @URL
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The file to write.")
    @click.option(
        "--records",
        is_flag=True,
        help="Write the live customers as plain records (CSV or JSON Lines by the extension) instead of a "
        "full backup (JSON Lines with versions, history, transactions and interactions).",
    )
    @keyring_option(required=False, purpose="for an encrypted store (a backup of it stays encrypted)")
    def export_(url: str, output: str, records: bool, keyring_path: str | None) -> None:
        """Back the store up to OUTPUT (restore it with `custdata store restore`)."""
        ring = load_keyring(keyring_path) if keyring_path else None
        with open_store(url, keyring=ring, create=False) as s:
            if records:
                n = write_records(progress(s.scan(), "exporting", total=s.count()), output)
                click.echo(f"wrote {n} customers to {output}")
                return
            if not output.lower().endswith((".jsonl", ".ndjson")):
                raise UserError(f"{output}: a backup is JSON Lines; name it .jsonl (or use --records)")
            counts = export(s, output)
        click.echo(f"backed up {s.url} to {output}: {_counts(counts)}")

    @store.command("restore")
    @click.argument("file", type=click.Path(dir_okay=False, exists=True))
    @URL
    @keyring_option(
        required=False,
        purpose="for an encrypted backup (the restored store is then encrypted under it too)",
    )
    @click.option(
        "--subject-keys",
        "subject_keys_url",
        default=None,
        help="The live encrypted store the backup was written from: its per-customer keys open the backup, "
        "and a customer erased there since is left out (needs --keyring).",
    )
    def restore_(file: str, url: str, keyring_path: str | None, subject_keys_url: str | None) -> None:
        """Load the backup FILE into the empty store at --url (all or nothing)."""
        if subject_keys_url is not None and keyring_path is None:
            raise UserError("--subject-keys opens an encrypted store: give --keyring too")
        ring = load_keyring(keyring_path) if keyring_path else None
        with contextlib.ExitStack() as stack:
            keys = None
            if subject_keys_url is not None:
                keys = stack.enter_context(open_store(subject_keys_url, keyring=ring, create=False))
            s = stack.enter_context(open_store(url, keyring=ring))
            try:
                counts = restore(s, file, keyring=ring, subject_keys=keys)
            except DecryptionError as exc:
                if keys is None and "subject_keys" in str(exc):
                    raise UserError(
                        f"{file}: an encrypted backup under per-customer keys: give --subject-keys with the "
                        "URL of the live store it was written from (and --keyring)"
                    ) from None
                raise
            s.optimize()  # fresh planner statistics after the bulk load
        shredded = counts.pop("shredded", 0)
        msg = f"restored {file} into {url}: {_counts(counts)}"
        if shredded:
            msg += f"; {shredded} erased customers left out (crypto-shredded)"
        click.echo(msg)

    @store.command("find")
    @URL
    @click.option("--phone", default=None, help="A phone number in any common format.")
    @click.option("--email", default=None, help="An e-mail address (matched by its provider-folded key).")
    @click.option("--external-id", default=None, help="An external id (SYSTEM:ID for one system only).")
    def find(url: str, phone: str | None, email: str | None, external_id: str | None) -> None:
        """Look customers up by phone, e-mail or external id (all given must match)."""
        if phone is None and email is None and external_id is None:
            raise UserError("give --phone, --email or --external-id")
        ext: str | tuple[str, str] | None = external_id
        if external_id and ":" in external_id:
            system, _, value = external_id.partition(":")
            ext = (system, value)
        with open_store(url, create=False) as s:
            found = s.find(phone=phone, email=email, external_id=ext)
        for c in found:
            click.echo(_describe(c))
        if not found:
            click.echo("no customer found")
            raise SystemExit(1)

    @store.command("history")
    @click.argument("customer_id")
    @URL
    def history(customer_id: str, url: str) -> None:
        """Every change to one customer: when, from where, which field, old -> new."""
        with open_store(url, create=False) as s:
            entries = s.history(customer_id)
        if not entries:
            raise UserError(f"no history for {customer_id!r} in {url}")
        for e in entries:
            click.echo(f"{e.at.isoformat(timespec='seconds')}  v{e.version}  {e.action}  {e.source or ''}")
            for ch in e.changes:
                click.echo(f"    {ch.field}: {ch.old!r} -> {ch.new!r}")

    @store.command("count")
    @URL
    def count(url: str) -> None:
        """How many customers the store holds."""
        with open_store(url, create=False) as s:
            click.echo(str(s.count()))


def demo(ctx: DemoContext) -> None:
    """Write the customers into a SQLite store in the demo folder, reopen it and read them back."""
    heading(ctx, "Storage: a SQLite store")
    path = ctx.workdir / "customers.db"
    url = f"sqlite:///{path}"
    with open_store(url) as s:
        result = s.upsert_many(ctx.customers, source="demo import")
        s.add_transactions(ctx.transactions)
        s.add_interactions(ctx.interactions)
    ctx.echo(f"wrote {result.inserted} customers ({result.updated} repeated ids updated) to {path.name}")
    store: Store
    with open_store(url) as store:
        ctx.echo(
            f"reopened: {store.count()} customers, {len(store.transactions())} transactions, "
            f"{len(store.interactions())} interactions"
        )
        sample = next((c for c in store.scan() if c.phones), None)
        if sample is not None:
            number = sample.phones[0].number
            found = store.find(phone=number)
            ctx.echo(f"find(phone={number!r}) -> {', '.join(c.id for c in found)}")
            changed = store.put(sample.evolve(company=(sample.company or "") + " (edited)"), source="demo")
            last = store.history(sample.id)[-1]
            fields = ", ".join(f"{ch.field}: {ch.old!r} -> {ch.new!r}" for ch in last.changes)
            ctx.echo(
                f"put() stored version {changed.version}; history: {last.action} by {last.source}: {fields}"
            )
        backup = ctx.workdir / "customers-backup.jsonl"
        counts = export(store, backup)
    ctx.echo(f"backup {backup.name}: {_counts(counts)}")
    ctx.results["store_url"] = url
