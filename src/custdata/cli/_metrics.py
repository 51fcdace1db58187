"""Metrics commands: ``custdata clv`` and ``custdata retention``, and the metrics step of the demo."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import logging
import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import click

from custdata._records import Transaction
from custdata.cli._common import DemoContext, UserError, heading, progress
from custdata.exceptions import (
    ConvergenceError,
    CustdataError,
    CustdataWarning,
    MissingExtraError,
    RowsLeftOutWarning,
)
from custdata.metrics import CustomerSummary, cohort_matrix, retention, retention_rate, summarize

log = logging.getLogger(__name__)

MODELS = {"bgnbd": "BetaGeoModel", "mbgnbd": "ModifiedBetaGeoModel", "pareto": "ParetoNBDModel"}
PERIODS = click.Choice(["D", "W", "M", "Q", "Y"], case_sensitive=False)


def _read_transactions(path: str, encoding: str) -> list[Transaction]:
    from custdata.cli._main import open_records

    reader = open_records(path, kind="transaction", encoding=encoding, errors="collect")
    txs = list(progress(reader, "reading transactions"))
    if reader.skipped:
        click.echo(f"{path}: {reader.skipped} bad rows left out, e.g. {reader.problems[0]}", err=True)
    if not txs:
        raise UserError(f"{path}: no transactions")
    return txs


def _past(txs: Sequence[Transaction], path: str) -> list[Transaction]:
    """The transactions not dated in the future; says how many were left out."""
    now = dt.datetime.now(dt.timezone.utc)
    kept = [t for t in txs if t.at <= now]
    if len(kept) < len(txs):
        click.echo(f"{path}: {len(txs) - len(kept)} transactions dated in the future left out", err=True)
    if not kept:
        raise UserError(f"{path}: every transaction is dated in the future")
    return kept


@contextlib.contextmanager
def _notes() -> Iterator[None]:
    """Print custdata's warnings (rows left out, a fit on a boundary) as one line each on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CustdataWarning)
        try:
            yield
        finally:
            for w in caught:
                if issubclass(w.category, CustdataWarning):
                    click.echo(f"note: {w.message}", err=True)
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _end(txs: Sequence[Transaction], given: str | None) -> dt.date:
    """The observation end: the given date, else the day of the last purchase (``txs`` holds no
    future-dated rows: :func:`_past` took them out)."""
    if given:
        try:
            return dt.date.fromisoformat(given)
        except ValueError:
            raise UserError(f"--observation-end must be a date (YYYY-MM-DD), got {given!r}") from None
    return max(t.at.date() for t in txs)


def _guard(value: object) -> object:
    from custdata.io import guard_cell

    return guard_cell(value) if isinstance(value, str) else value


def _write_rows(rows: Iterable[dict[str, Any]], path: str, columns: Sequence[str]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for row in rows:
            w.writerow([_guard(row.get(c)) for c in columns])
            n += 1
    return n


def _models() -> Any:
    try:
        from custdata import metrics

        metrics.BetaGeoModel  # noqa: B018 - imports numpy and scipy, or says which extra is missing
    except MissingExtraError as exc:
        raise UserError(str(exc)) from None
    return metrics


def predict_clv(
    summaries: list[CustomerSummary],
    *,
    model: str = "bgnbd",
    horizon: float = 52.0,
    discount_rate: float = 0.0,
    step: float = 1.0,
    penalizer: float = 0.0,
) -> tuple[Any, Any, list[dict[str, Any]]]:
    """Fit a purchase model (and Gamma-Gamma spend, when there are repeat buyers) and predict each
    customer's purchases and CLV over ``horizon``. Returns (purchase model, spend model or None, rows)."""
    metrics = _models()
    fitted = getattr(metrics, MODELS[model])(penalizer=penalizer).fit(summaries)
    spend = None
    repeat = [s for s in summaries if s.frequency > 0 and s.monetary_value > 0]
    if len(repeat) >= 10:
        try:
            spend = metrics.GammaGammaModel(penalizer=penalizer).fit(repeat)
            if spend.params["q"] <= 1:
                log.warning("Gamma-Gamma q <= 1 (infinite mean spend): CLV left out")
                spend = None
        except ConvergenceError as exc:
            log.warning("Gamma-Gamma spend model did not converge (%s): CLV left out", exc)
    else:
        log.warning("fewer than 10 repeat buyers with spend: no spend model, CLV left out")
    rows = fitted.predict(
        summaries, t=horizon, spend_model=spend, horizon=horizon, discount_rate=discount_rate, step=step
    )
    for row, s in zip(rows, summaries, strict=True):
        row["monetary_value"] = s.monetary_value
    return fitted, spend, rows


def register(group: click.Group) -> None:
    """Add ``clv`` and ``retention`` to the command group."""

    @group.command()
    @click.argument("transactions", type=click.Path(dir_okay=False))
    @click.option(
        "--model",
        type=click.Choice(sorted(MODELS)),
        default="bgnbd",
        show_default=True,
        help="Purchase model.",
    )
    @click.option("--horizon", type=float, default=52.0, show_default=True, help="Horizon, in --unit.")
    @click.option("--unit", type=PERIODS, default="W", show_default=True, help="Time unit of the model.")
    @click.option("--period", type=PERIODS, default="D", show_default=True, help="Grouping period.")
    @click.option("--observation-end", default=None, help="Last day observed (default: last purchase).")
    @click.option(
        "--discount-rate", type=float, default=0.0, show_default=True, help="Discount rate per --step."
    )
    @click.option("--step", type=float, default=1.0, show_default=True, help="Discounting step, in --unit.")
    @click.option("--penalizer", type=float, default=0.0, show_default=True, help="L2 penalty for hard fits.")
    @click.option("--top", type=int, default=10, show_default=True, help="How many top customers to print.")
    @click.option("--save-model", type=click.Path(dir_okay=False), default=None, help="Save the fit (JSON).")
    @click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Per-customer CSV.")
    @click.option("--encoding", default="auto", show_default=True, help="Input encoding.")
    def clv(
        transactions: str,
        model: str,
        horizon: float,
        unit: str,
        period: str,
        observation_end: str | None,
        discount_rate: float,
        step: float,
        penalizer: float,
        top: int,
        save_model: str | None,
        output: str | None,
        encoding: str,
    ) -> None:
        """Predict each customer's purchases and lifetime value from TRANSACTIONS (CSV or JSON Lines).

        Fits a purchase model (BG/NBD by default) and the Gamma-Gamma spend model on the customers'
        summaries, then prints the fit and the top customers by predicted CLV over --horizon.
        """
        txs = _past(_read_transactions(transactions, encoding), transactions)
        end = _end(txs, observation_end)
        with _notes():
            summaries = summarize(txs, observation_end=end, period=period.upper(), unit=unit.upper())
            try:
                fitted, spend, rows = predict_clv(
                    summaries,
                    model=model,
                    horizon=horizon,
                    discount_rate=discount_rate,
                    step=step,
                    penalizer=penalizer,
                )
            except ConvergenceError as exc:
                raise UserError(str(exc)) from None
            except CustdataError as exc:
                raise UserError(f"{transactions}: {exc}") from None
        click.echo(f"{len(summaries)} customers observed to {end.isoformat()}, time unit {unit.upper()}")
        click.echo(repr(fitted))
        if spend is not None:
            click.echo(repr(spend))
        key = "clv" if spend is not None else "expected_purchases"
        ranked = sorted(rows, key=lambda r: -r[key])
        click.echo(
            f"top {min(top, len(ranked))} customers by {key.replace('_', ' ')} over {horizon:g} {unit}:"
        )
        for r in ranked[:top]:
            value = f"  CLV {r['clv']:.2f}" if spend is not None else ""
            click.echo(
                f"  {r['customer_id']}: P(alive) {r['p_alive']:.2f}, "
                f"{r['expected_purchases']:.2f} purchases{value}"
            )
        if save_model:
            fitted.save(save_model)
            click.echo(f"model saved to {save_model}")
        if output:
            cols = [
                "customer_id",
                "frequency",
                "recency",
                "T",
                "monetary_value",
                "p_alive",
                "expected_purchases",
            ]
            if spend is not None:
                cols += ["expected_spend", "clv"]
            n = _write_rows(rows, output, cols)
            click.echo(f"wrote {n} customers to {output}")

    @group.command(name="retention")
    @click.argument("transactions", type=click.Path(dir_okay=False))
    @click.option("--period", type=PERIODS, default="M", show_default=True, help="Retention period.")
    @click.option("--observation-end", default=None, help="Last day observed (default: last purchase).")
    @click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Cohort matrix CSV.")
    @click.option("--encoding", default="auto", show_default=True, help="Input encoding.")
    def retention_cmd(
        transactions: str, period: str, observation_end: str | None, output: str | None, encoding: str
    ) -> None:
        """Period-over-period retention and the cohort retention matrix of TRANSACTIONS."""
        txs = _past(_read_transactions(transactions, encoding), transactions)
        end = _end(txs, observation_end)
        per = period.upper()
        with _notes():  # said once: the same rows are left out of the pooled rate and the cohorts below
            table = retention(txs, period=per, observation_end=end)
        click.echo(f"{'period':<10} {'active':>7} {'new':>6} {'retained':>9} {'retention':>10}")
        for r in table:
            rate = "" if r.retention_rate is None else f"{r.retention_rate:.1%}"
            click.echo(f"{r.period:<10} {r.active:>7} {r.new:>6} {r.retained:>9} {rate:>10}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RowsLeftOutWarning)
            overall = retention_rate(txs, period=per, observation_end=end)
            matrix = cohort_matrix(txs, period=per, observation_end=end)
        click.echo(f"pooled retention: {'n/a' if overall is None else f'{overall:.1%}'}")
        click.echo("")
        click.echo("cohort retention (blank: not observed yet):")
        click.echo(str(matrix))
        if output:
            width = max((len(r) for r in matrix.retention), default=0)
            rows = []
            for name, size, rates in zip(matrix.cohorts, matrix.sizes, matrix.retention, strict=True):
                row: dict[str, Any] = {"cohort": name, "size": size}
                row.update({str(k): ("" if v is None else round(v, 6)) for k, v in enumerate(rates)})
                rows.append(row)
            n = _write_rows(rows, output, ["cohort", "size", *(str(k) for k in range(width))])
            click.echo(f"wrote {n} cohorts to {output}")


def demo(ctx: DemoContext) -> None:
    """The metrics step of ``custdata demo``: retention, and the top customers by predicted CLV."""
    txs = ctx.transactions
    heading(ctx, "Metrics: retention and customer lifetime value")
    if not txs:
        ctx.echo("no transactions in the sample")
        return
    now = dt.datetime.now(dt.timezone.utc)
    txs = [t for t in txs if t.at <= now]  # the sample's future-dated rows (if any) are not observed
    if not txs:
        ctx.echo("no transactions dated before now in the sample")
        return
    end = max(t.at.date() for t in txs)
    table = retention(txs, period="M", observation_end=end)
    for r in table[-6:]:
        rate = "  n/a" if r.retention_rate is None else f"{r.retention_rate:6.1%}"
        ctx.echo(f"{r.period}: {r.active:>5} active, {r.new:>5} new, retention {rate}")
    overall = retention_rate(txs, period="M", observation_end=end)
    ctx.echo(f"monthly retention, pooled: {'n/a' if overall is None else f'{overall:.1%}'}")
    summaries = summarize(txs, observation_end=end, period="D", unit="W")
    try:
        try:
            fitted, spend, rows = predict_clv(summaries, horizon=52.0, discount_rate=0.01, step=52 / 12)
        except ConvergenceError:
            ctx.echo("(the plain fit did not converge on this sample; refitting with penalizer=0.01)")
            fitted, spend, rows = predict_clv(
                summaries, horizon=52.0, discount_rate=0.01, step=52 / 12, penalizer=0.01
            )
    except MissingExtraError as exc:
        ctx.echo(f"(CLV skipped: {exc})")
        return
    except (UserError, CustdataError) as exc:
        ctx.echo(f"(CLV skipped: {exc})")
        return
    ctx.echo(repr(fitted))
    key = "clv" if spend is not None else "expected_purchases"
    ctx.echo(f"top customers by predicted {'CLV' if spend is not None else 'purchases'}, next 52 weeks:")
    for p in sorted(rows, key=lambda row: -row[key])[:5]:
        clv_text = f", CLV {p['clv']:.2f}" if spend is not None and math.isfinite(p["clv"]) else ""
        ctx.echo(
            f"  {p['customer_id']}: P(alive) {p['p_alive']:.2f}, "
            f"{p['expected_purchases']:.1f} purchases{clv_text}"
        )
    ctx.results["clv"] = rows
