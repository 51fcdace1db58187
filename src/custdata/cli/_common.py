"""Shared pieces of the command line: the demo context, progress bars and user errors."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import attrs
import click
from tqdm import tqdm

from custdata._records import Customer, Interaction, Transaction

T = TypeVar("T")


class UserError(click.ClickException):
    """A mistake by the user: printed as one line, exit code 2, never a traceback."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"custdata: {self.format_message()}", err=True)


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
