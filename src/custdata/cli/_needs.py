"""``custdata recommend``: top items per customer from a transactions file with line items."""

from __future__ import annotations

import csv
import sys
from typing import Any

import click

from custdata.cli._common import UserError, progress
from custdata.exceptions import CustdataError, MissingExtraError


def register(group: click.Group) -> None:
    """Add ``recommend`` to the command group."""

    @group.command()
    @click.argument("transactions", type=click.Path(dir_okay=False))
    @click.option(
        "--customer", "customer_ids", multiple=True, help="Recommend for this customer (repeatable)."
    )
    @click.option(
        "--model", type=click.Choice(["ease", "itemknn", "popular"]), default="ease", show_default=True
    )
    @click.option("--lam", type=float, default=500.0, show_default=True, help="EASE λ (L2 penalty).")
    @click.option("-n", "--top", type=int, default=10, show_default=True, help="Items per customer.")
    @click.option(
        "--customers",
        "customers_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Customers file: those whose 'profiling' consent is refused get no personal list.",
    )
    @click.option(
        "-o", "--output", type=click.Path(dir_okay=False), default=None, help="CSV (default stdout)."
    )
    @click.option("--encoding", default="auto", show_default=True, help="Input encoding.")
    def recommend(
        transactions: str,
        customer_ids: tuple[str, ...],
        model: str,
        lam: float,
        top: int,
        customers_path: str | None,
        output: str | None,
        encoding: str,
    ) -> None:
        """Recommend items to customers from TRANSACTIONS (with line items; refunds netted out).

        Writes customer_id, rank, sku, score, personalised as CSV."""
        from custdata.cli._main import open_records

        try:
            from custdata.needs import Recommender
        except MissingExtraError as exc:
            raise UserError(str(exc)) from None
        if top < 1:
            raise UserError("--top must be 1 or more")
        reader = open_records(transactions, kind="transaction", encoding=encoding, errors="collect")
        txs = list(progress(reader, "reading transactions"))
        if reader.skipped:
            click.echo(
                f"{transactions}: {reader.skipped} bad rows left out, e.g. {reader.problems[0]}", err=True
            )
        people: list[Any] = []
        if customers_path:
            creader = open_records(customers_path, kind="customer", encoding=encoding, errors="collect")
            people = list(creader)
            if creader.skipped:
                click.echo(f"{customers_path}: {creader.skipped} bad rows left out", err=True)
        params: dict[str, Any] = {"lam": lam} if model == "ease" else {}
        try:
            rec = Recommender(model, **params).fit(txs, customers=people)
        except CustdataError as exc:
            raise UserError(str(exc)) from None
        if not rec.skus:
            raise UserError(f"{transactions}: no purchases with line items")
        ids = list(customer_ids) or sorted({t.customer_id for t in txs})
        from custdata.io import guard_cell

        def emit(fh: Any) -> int:
            w = csv.writer(fh)
            w.writerow(["customer_id", "rank", "sku", "score", "personalised"])
            n = 0
            for cid in ids:
                personal = rec.personalised(cid)
                for rank, r in enumerate(rec.recommend(cid, top), start=1):
                    w.writerow([guard_cell(cid), rank, guard_cell(r.sku), f"{r.score:.6g}", personal])
                    n += 1
            return n

        if output:
            from custdata.io._atomic import atomic_write

            with atomic_write(output, encoding="utf-8-sig", newline="") as fh:
                n = emit(fh)
            click.echo(f"wrote {n} recommendations for {len(ids)} customers to {output}", err=True)
        else:
            emit(sys.stdout)
