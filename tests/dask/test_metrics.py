"""Transaction summaries on Dask equal custdata.summarize on the same transactions."""

from __future__ import annotations

import datetime as dt
import random
import warnings
from decimal import Decimal
from typing import Any

import pytest

import custdata.dask as cdd
from custdata import Transaction, summarize
from custdata.exceptions import ValidationError


def _transactions(n: int, seed: int, currencies: tuple[str, ...] = ("CNY",)) -> list[Transaction]:
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    out = []
    for k in range(n):
        at = start + dt.timedelta(hours=rng.randrange(24 * 800))
        amount = Decimal(rng.randrange(-500, 20_000)) / 100  # some refunds
        out.append(
            Transaction(
                id=f"t{k}",
                customer_id=f"c{rng.randrange(n // 4)}",
                at=at,
                amount=amount,
                currency=rng.choice(currencies),
            )
        )
    return out


@pytest.mark.parametrize(
    "kwargs",
    [
        {"observation_end": "2025-06-30"},  # later transactions are left out with a warning
        {"observation_end": "2026-01-31", "calibration_end": "2025-06-30", "period": "W", "unit": "W"},
    ],
)
def test_summarize_equals_single_machine(client: Any, kwargs: dict[str, Any]) -> None:
    txs = _transactions(600, seed=1)
    with warnings.catch_warnings(record=True) as want_warn:
        warnings.simplefilter("always")
        want = summarize(txs, **kwargs)
    with warnings.catch_warnings(record=True) as got_warn:
        warnings.simplefilter("always")
        got = cdd.summarize(txs, npartitions=4, **kwargs)
    assert want and got == want
    assert want_warn or "calibration_end" in kwargs  # the first case leaves rows out
    assert [(type(w.message), str(w.message)) for w in got_warn] == [
        (type(w.message), str(w.message)) for w in want_warn
    ]


def test_summarize_mappings_bag(client: Any) -> None:
    import dask.bag as db

    txs = [t.to_dict() for t in _transactions(200, seed=2)]
    got = cdd.summarize(db.from_sequence(txs, npartitions=3), observation_end="2026-06-30")
    assert got == summarize(txs, observation_end="2026-06-30")


def test_summarize_several_currencies(client: Any) -> None:
    txs = _transactions(200, seed=3, currencies=("CNY", "USD"))
    with pytest.raises(ValidationError) as want:
        summarize(txs, observation_end="2026-06-30")
    with pytest.raises(ValidationError) as got:
        cdd.summarize(txs, observation_end="2026-06-30", npartitions=4)
    assert str(got.value) == str(want.value)
    with pytest.raises(ValidationError):
        cdd.summarize(txs, observation_end="never")
