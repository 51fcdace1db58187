"""Issue 17 §6: no silently wrong number from the summaries and KPIs (future-dated rows, periods that
have not happened, unusual customer ids) and the CLI's default observation end."""

from __future__ import annotations

import csv
import datetime as dt
import warnings
from pathlib import Path

import pytest

import custdata
from custdata.exceptions import CustdataWarning, RowsLeftOutWarning
from custdata.metrics import average_order_value, cohort_matrix, historical_clv, retention

TODAY = dt.date.today()
UTC = dt.timezone.utc


def _at(day: dt.date) -> str:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=UTC).isoformat()


def _tx(cid: str, day: dt.date, amount: str = "10") -> dict[str, str]:
    return {"customer_id": cid, "at": _at(day), "amount": amount}


def _months_ago(n: int) -> dt.date:
    y, m = divmod(TODAY.year * 12 + TODAY.month - 1 - n, 12)
    return dt.date(y, m + 1, 5)


FUTURE = TODAY + dt.timedelta(days=400)


def test_summarize_sorts_ids_numerically_only_when_they_are_ascii_digits() -> None:
    txs = [_tx(c, dt.date(2026, 1, d)) for d, c in enumerate(["10", "①", "2", "²", "b", "٣"], start=1)]
    got = [s.customer_id for s in custdata.summarize(txs, observation_end="2026-02-01")]
    assert got == ["2", "10", *sorted(["①", "²", "b", "٣"])]


def test_summarize_leaves_out_future_and_late_rows_and_counts_them() -> None:
    past = TODAY - dt.timedelta(days=30)
    txs = [_tx("a", past - dt.timedelta(days=7)), _tx("a", past), _tx("a", FUTURE), _tx("b", FUTURE)]
    with pytest.warns(RowsLeftOutWarning, match="2 transactions left out: 2 dated in the future") as got:
        (s,) = custdata.summarize(txs, observation_end=past)
    assert got[0].message.count == 2  # type: ignore[union-attr]
    assert (s.customer_id, s.frequency) == ("a", 1)
    early = past - dt.timedelta(days=1)
    with pytest.warns(RowsLeftOutWarning, match=f"1 dated after observation_end {early}") as got:
        (s,) = custdata.summarize(txs, observation_end=early)
    assert got[0].message.count == 3 and s.frequency == 0  # type: ignore[union-attr]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        custdata.summarize(txs[:2], observation_end=past)  # nothing left out: no warning


def test_summarize_warns_when_the_observation_end_is_in_the_future() -> None:
    with pytest.warns(CustdataWarning, match="in the future: T counts time not observed yet"):
        custdata.summarize([_tx("a", TODAY - dt.timedelta(days=3))], observation_end=FUTURE)


def test_retention_has_no_rows_for_periods_that_have_not_begun() -> None:
    txs = [_tx("a", _months_ago(2)), _tx("b", _months_ago(2)), _tx("a", _months_ago(1)), _tx("a", FUTURE)]
    with pytest.warns(RowsLeftOutWarning, match="1 dated in the future"):
        table = retention(txs, period="M", observation_end=FUTURE)
    this_month = f"{TODAY.year:04d}-{TODAY.month:02d}"
    assert table[-1].period == this_month  # not up to the observation end, 13 months away
    assert all(r.period <= this_month for r in table)


def test_cohort_cells_of_future_periods_are_left_out_not_zero() -> None:
    txs = [_tx(c, _months_ago(3)) for c in "abcd"] + [_tx("a", _months_ago(2)), _tx("e", _months_ago(1))]
    m = cohort_matrix(txs, period="M", observation_end=FUTURE)
    # the last complete month is last month: the oldest cohort has 4 observed cells (0..3), not 16
    assert [len(row) for row in m.retention] == [3, 1]
    assert m.retention[0] == [1.0, 0.25, 0.0]
    assert m.cohorts[0] == f"{_months_ago(3):%Y-%m}"


def test_order_value_and_historical_clv_leave_out_future_rows() -> None:
    txs = [_tx("a", TODAY - dt.timedelta(days=3), "10"), _tx("a", FUTURE, "1000")]
    with pytest.warns(RowsLeftOutWarning):
        assert average_order_value(txs) == 10.0
    with pytest.warns(RowsLeftOutWarning):
        assert historical_clv(txs) == {"a": 10.0}


def test_cli_default_observation_end_ignores_future_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from custdata.cli._main import run

    path = tmp_path / "tx.csv"
    last = TODAY - dt.timedelta(days=10)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "at", "amount", "currency"])
        for k in range(60):
            w.writerow([f"c{k % 12}", _at(last - dt.timedelta(days=5 * k)), "10", "CNY"])
        w.writerow(["c1", _at(FUTURE), "10", "CNY"])
    with pytest.raises(SystemExit):
        run(["retention", str(path), "--period", "M"])
    out, err = capsys.readouterr()
    assert "1 transactions dated in the future left out" in err
    assert f"{FUTURE:%Y-%m}" not in out


def test_public_signatures_say_what_comes_back() -> None:
    """Issue 18: summarize and predict are overloaded (a DataFrame gives a DataFrame, anything else a
    list), fit returns the model's own type, to_json gives text and to_dict a dict."""
    import sys
    import typing

    if sys.version_info < (3, 11):
        pytest.skip("typing.get_overloads is Python 3.11+")
    pytest.importorskip("scipy")
    from custdata.metrics import BetaGeoModel, summarize

    returns = {o.__annotations__["return"] for o in typing.get_overloads(summarize)}
    assert returns == {"pd.DataFrame", "list[CustomerSummary]"}
    returns = {o.__annotations__["return"] for o in typing.get_overloads(BetaGeoModel.predict)}
    assert returns == {"pd.DataFrame", "list[dict[str, Any]]"}
    assert BetaGeoModel.fit.__annotations__["return"] == "Self"
    m = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    assert isinstance(m.to_json(), str) and isinstance(m.to_dict(), dict)


def test_cli_says_which_rows_it_left_out_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from custdata.cli._main import run

    path = tmp_path / "tx.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "at", "amount", "currency"])
        for k in range(40):
            w.writerow([f"c{k % 8}", _at(dt.date(2026, 1, 1) + dt.timedelta(days=3 * k)), "10", "CNY"])
    with pytest.raises(SystemExit):
        run(["retention", str(path), "--period", "M", "--observation-end", "2026-02-28"])
    _, err = capsys.readouterr()
    assert (
        err.count("note: ") == 1 and "transactions left out" in err and "dated after observation_end" in err
    )
