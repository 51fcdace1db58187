"""Shared pieces of the command line: the demo context, progress bars and user errors."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import attrs
import click
from tqdm import tqdm

from custdata._records import Customer, Interaction, Transaction
from custdata.security import Keyring

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class UserError(click.ClickException):
    """A mistake by the user: printed as one line, exit code 2, never a traceback."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"custdata: {self.format_message()}", err=True)


def keyring_option(*, required: bool, purpose: str = "for an encrypted store") -> Callable[[F], F]:
    """The one ``--keyring`` option: the keyring file, also from the environment (CUSTDATA_KEYRING_FILE)."""
    extra: dict[str, Any] = (
        {"required": True} if required else {"default": None}
    )  # click: no default if required
    return click.option(
        "--keyring",
        "keyring_path",
        envvar="CUSTDATA_KEYRING_FILE",
        type=click.Path(dir_okay=False),
        help="The keyring file (written by `custdata keys generate`; env CUSTDATA_KEYRING_FILE)"
        + ("." if required else f"; {purpose}."),
        **extra,
    )


def url_option(*, note: str = "") -> Callable[[F], F]:
    """The one required ``--url`` option naming a store, also from the environment (CUSTDATA_STORE_URL)."""
    return click.option(
        "--url",
        envvar="CUSTDATA_STORE_URL",
        required=True,
        help="The store: sqlite:///customers.db, postgresql://user@host/db, memory:// "
        "(env CUSTDATA_STORE_URL)." + (f" {note}" if note else ""),
    )


def audit_option(what: str) -> Callable[[F], F]:
    """The one ``--audit`` option: a JSON Lines audit log, also from the environment (CUSTDATA_AUDIT_FILE)."""
    return click.option(
        "--audit",
        "audit_path",
        envvar="CUSTDATA_AUDIT_FILE",
        default=None,
        type=click.Path(dir_okay=False),
        help=f"{what} (env CUSTDATA_AUDIT_FILE).",
    )


def load_keyring(path: str) -> Keyring:
    """The keyring at ``path``; a missing file is a one-line user error."""
    if not Path(path).is_file():
        raise UserError(f"{path}: no such keyring file (create one with `custdata keys generate`)")
    return Keyring.load(path)


@attrs.define
class DemoContext:
    """What ``custdata demo`` hands each capability's demo step.

    ``customers``/``transactions``/``interactions`` are the bundled sample data as read from the package;
    a step may replace ``customers`` with its output (normalised, deduped …) for the steps after it.
    ``workdir`` is a temporary folder that is removed after the demo. ``echo`` prints a line.
    """

    customers: list[Customer]
    transactions: list[Transaction]
    interactions: list[Interaction]
    workdir: Path
    echo: Callable[[str], None] = click.echo
    results: dict[str, object] = attrs.field(factory=dict)


def progress(items: Iterable[T], desc: str, *, total: int | None = None, unit: str = "rec") -> Iterator[T]:
    """A tqdm progress bar on stderr, shown only when stderr is a terminal."""
    return iter(
        tqdm(
            items,
            desc=desc,
            total=total,
            unit=unit,
            disable=not sys.stderr.isatty(),
            leave=False,
            dynamic_ncols=True,
        )
    )


def heading(ctx: DemoContext, text: str) -> None:
    """A section heading in the demo's output."""
    ctx.echo("")
    ctx.echo(f"== {text}")
