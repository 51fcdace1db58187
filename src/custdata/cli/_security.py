"""``custdata keys …``, ``custdata store encrypt``, ``custdata audit verify``, ``custdata subject …``:
keys, encryption at rest, the audit chain and subject requests from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from custdata.cli._common import UserError, audit_option, keyring_option, load_keyring, url_option
from custdata.exceptions import StoreError
from custdata.security import (
    AuditLog,
    Keyring,
    breach_report,
    encrypt_store,
    erase_subject,
    export_subject,
    key_usage,
    rotate,
)
from custdata.storage import Store, open_store

__all__ = ["register"]

KEYRING = keyring_option(required=True)
OPTIONAL_KEYRING = keyring_option(required=False)
URL = url_option()
AUDIT = audit_option("An audit log (JSON Lines) to include or to append to")


def _open(url: str, keyring_path: str | None) -> Store:
    """The store, opened with the keyring when one is given."""
    return open_store(url, keyring=load_keyring(keyring_path) if keyring_path else None)


def register(group: click.Group) -> None:
    """Add the ``keys``, ``audit`` and ``subject`` groups and ``store encrypt``."""

    @group.group()
    def keys() -> None:
        """Create, rotate and inspect the keyring that encrypts a store."""

    @keys.command("generate")
    @click.argument("path", type=click.Path(dir_okay=False))
    def generate(path: str) -> None:
        """Write a new keyring with one active key to PATH (mode 0600; never overwrites)."""
        if os.path.lexists(path):
            raise UserError(f"{path} exists already; a keyring is never overwritten")
        ring = Keyring.generate()
        ring.save(path)
        click.echo(f"wrote {path}: active key {ring.active_id}; keep it apart from the store and its backups")

    @keys.command("rotate")
    @KEYRING
    @click.option("--url", envvar="CUSTDATA_STORE_URL", default=None, help="Also re-encrypt this store.")
    def rotate_(keyring_path: str, url: str | None) -> None:
        """Add a new active key (saved first), and with --url re-encrypt the store under it (resumable:
        run it again after an interruption, it skips what is done)."""
        ring = load_keyring(keyring_path)
        if url is not None:
            with open_store(url, keyring=ring):  # the keyring must open the store before it changes
                pass
        new = ring.add()
        ring.promote(new)
        ring.save(keyring_path)
        click.echo(f"new active key {new}, saved to {keyring_path}")
        if url is not None:
            with open_store(url, keyring=ring) as s:
                n = rotate(s)
            click.echo(f"re-encrypted {n} stored values under {new}")

    @keys.command("status")
    @KEYRING
    @click.option("--url", envvar="CUSTDATA_STORE_URL", default=None, help="Also count each key's use in it.")
    def status(keyring_path: str, url: str | None) -> None:
        """List the keys and their states; with --url, how many stored values each key encrypts."""
        ring = load_keyring(keyring_path)
        usage: dict[str, int] = {}
        if url is not None:
            with open_store(url, keyring=ring) as s:
                usage = key_usage(s)
        held = list(ring.keys())
        for k in held:
            used = f"\t{usage.get(k.id, 0)} values" if url is not None else ""
            click.echo(f"{k.id}\t{k.state.value}\t{k.created_at.date().isoformat()}{used}")
        unknown = sorted(set(usage) - {k.id for k in held})
        for kid in unknown:
            click.echo(f"{kid}\tnot in the keyring\t-\t{usage[kid]} values")

    store = group.commands.get("store")
    if isinstance(store, click.Group):

        @store.command("encrypt")
        @URL
        @KEYRING
        @click.option(
            "--page", default=500, show_default=True, type=click.IntRange(1), help="Customers a step."
        )
        @click.option(
            "--sensitive-custom",
            "sensitive_custom",
            multiple=True,
            metavar="NAME",
            help="A custom attribute to encrypt with the personal fields (repeat for more). On an encrypted "
            "store, naming attributes it does not seal yet seals them in place (resumable).",
        )
        def encrypt(url: str, keyring_path: str, page: int, sensitive_custom: tuple[str, ...]) -> None:
            """Encrypt a plaintext store in place (resumable: run it again after an interruption)."""
            ring = load_keyring(keyring_path)
            names = list(sensitive_custom) or None
            try:
                s, resumed = open_store(url, keyring=ring), True  # half done (or done) already
            except StoreError:
                s, resumed = open_store(url), False  # plaintext: as it is
            with s:
                before = set(getattr(s, "sensitive_custom", ()))
                n = encrypt_store(s, ring, page=page, sensitive_custom=names)
                after = set(getattr(s, "sensitive_custom", ()))
            if resumed and after != before:
                click.echo(
                    f"{url} now encrypts the custom attributes {', '.join(sorted(after))} "
                    f"({n} customers rewritten); delete backups taken before (they hold them readable)"
                )
                return
            if resumed and n == 0:
                click.echo(f"{url} is encrypted already")
                return
            click.echo(
                f"encrypted {n} customers; open the store with the keyring from now on, and delete backups "
                "taken before (they hold the plaintext)"
            )

    @group.group()
    def audit() -> None:
        """Check an audit log."""

    @audit.command("verify")
    @click.argument("path", type=click.Path(dir_okay=False))
    @click.option("--checkpoint", default=None, help="A signed checkpoint to check the end against.")
    @click.option(
        "--key-env",
        default=None,
        help="Environment variable holding the log's signing key (hex), needed for signed logs.",
    )
    def verify(path: str, checkpoint: str | None, key_env: str | None) -> None:
        """Check the hash chain of the audit log PATH: exit 0 when intact, 1 naming the first bad line."""
        if not Path(path).is_file():
            raise UserError(f"{path}: no such audit log")
        key = None
        if key_env is not None:
            raw = os.environ.get(key_env, "")
            try:
                key = bytes.fromhex(raw)
            except ValueError:
                raise UserError(f"{key_env} does not hold a hex signing key") from None
        verdict = AuditLog(path, signing_key=key).verify(checkpoint=checkpoint)
        click.echo(f"{path}: {verdict}")
        if not verdict:
            raise SystemExit(1)

    @group.group()
    def subject() -> None:
        """Answer a data subject's request: export or erase everything about one customer."""

    @subject.command("export")
    @click.argument("customer_id")
    @URL
    @OPTIONAL_KEYRING
    @AUDIT
    @click.option(
        "-o",
        "--output",
        default="-",
        type=click.Path(dir_okay=False, allow_dash=True),
        help="File (default: stdout).",
    )
    def export_(
        customer_id: str, url: str, keyring_path: str | None, audit_path: str | None, output: str
    ) -> None:
        """Write everything held about CUSTOMER_ID as one JSON document."""
        log = AuditLog(audit_path) if audit_path else None
        with _open(url, keyring_path) as s:
            doc = export_subject(s, customer_id, audit=log)
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
        if output == "-":
            click.echo(text, nl=False)
            return
        from custdata.io._atomic import atomic_write

        with atomic_write(output) as fh:
            os.chmod(fh.name, 0o600)
            fh.write(text)
        click.echo(f"wrote {output}", err=True)

    @subject.command("erase")
    @click.argument("customer_id")
    @URL
    @OPTIONAL_KEYRING
    @AUDIT
    @click.option("--actor", required=True, help="Who erases (recorded in the audit log).")
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def erase(
        customer_id: str, url: str, keyring_path: str | None, audit_path: str | None, actor: str, yes: bool
    ) -> None:
        """Remove CUSTOMER_ID for good: record, history, transactions, interactions."""
        log = AuditLog(audit_path) if audit_path else None
        with _open(url, keyring_path) as s:
            s.get(customer_id, include_deleted=True)  # NotFoundError before asking
            if not yes:
                click.confirm(f"erase customer {customer_id!r} and everything about them?", abort=True)
            counts: dict[str, Any] = erase_subject(s, customer_id, actor=actor, audit=log)
        click.echo("erased " + ", ".join(f"{n} {k}" for k, n in counts.items()))

    @group.command("breach-report")
    @click.option("--key-id", default=None, help="A leaked data key: needs --url and --keyring.")
    @click.option(
        "--url", envvar="CUSTDATA_STORE_URL", default=None, help="The encrypted store (with --key-id)."
    )
    @OPTIONAL_KEYRING
    @AUDIT
    @click.option("--principal", default=None, help="Whose access (from the audit log).")
    @click.option("--since", default=None, help="Window start, ISO 8601 (from the audit log).")
    @click.option("--until", default=None, help="Window end (exclusive), ISO 8601.")
    def breach(
        key_id: str | None,
        url: str | None,
        keyring_path: str | None,
        audit_path: str | None,
        principal: str | None,
        since: str | None,
        until: str | None,
    ) -> None:
        """Which customers and kinds of personal data a breach exposed, with counts (JSON)."""
        if key_id is not None:
            if url is None or keyring_path is None:
                raise UserError("--key-id needs --url and --keyring")
            with _open(url, keyring_path) as s:
                report = breach_report(s, key_id=key_id)
        else:
            if audit_path is None or not Path(audit_path).is_file():
                raise UserError("give --key-id, or --audit FILE with --principal and/or --since/--until")
            report = breach_report(audit=AuditLog(audit_path), principal=principal, since=since, until=until)
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
