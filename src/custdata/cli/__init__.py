"""The ``custdata`` command. Needs the ``cli`` extra (click, tqdm); without it, a one-line install hint."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``custdata`` console script."""
    try:
        import click  # noqa: F401
        import tqdm  # noqa: F401
    except ImportError:
        print(
            "custdata: the command line needs the 'cli' extra: pip install 'custdata[cli]'", file=sys.stderr
        )
        raise SystemExit(2) from None
    from custdata.cli._main import run

    run(argv)
