"""Dates: the forms people write, ambiguity only resolved when told."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custdata import MonthDay
from custdata.exceptions import InvalidDateError
from custdata.normalization import DATE_REASONS, normalize_date

D = dt.date(1990, 1, 2)

FORMS = [
    ("1990-01-02", None, D),
    ("1990/1/2", None, D),
    ("1990.01.02", None, D),
    ("19900102", None, D),
    ("1990年1月2日", None, D),
    ("1990年01月02号", None, D),
    ("１９９０－０１－０２", None, D),
    ("2 Jan 1990", None, D),
    ("Jan 2, 1990", None, D),
    ("January 2nd, 1990", None, D),
    ("2nd of January 1990", None, D),
    ("1990-01-02T10:00:00+08:00", None, D),
    ("02/01/1990", "DMY", D),
    ("01/02/1990", "MDY", D),
    ("13/01/1990", None, dt.date(1990, 1, 13)),
    ("01/13/1990", None, dt.date(1990, 1, 13)),
    ("05/05/1990", None, dt.date(1990, 5, 5)),
    ("--01-02", None, MonthDay(1, 2)),
    ("1月2日", None, MonthDay(1, 2)),
    ("Jan 2", None, MonthDay(1, 2)),
    ("29 Feb", None, MonthDay(2, 29)),
    ("02-01", "DMY", MonthDay(1, 2)),
]


@pytest.mark.parametrize(("text", "order", "want"), FORMS)
def test_forms(text: str, order: str | None, want: dt.date | MonthDay) -> None:
    got = normalize_date(text, order=order)  # type: ignore[arg-type]
    assert got == want
    assert normalize_date(got.isoformat()) == got  # normalising twice equals once


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("hello", "unrecognised"),
        ("02/01/1990", "ambiguous"),
        ("02-01", "ambiguous"),
        ("1990-02-30", "no_such_date"),
        ("1990年13月1日", "no_such_date"),
        ("02/01/90", "two_digit_year"),
        ("2 Foo 1990", "unrecognised"),
    ],
)
def test_bad_dates_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidDateError) as info:
        normalize_date(text)
    assert info.value.reason == reason
    assert reason in DATE_REASONS


def test_bad_order() -> None:
    with pytest.raises(InvalidDateError):
        normalize_date("1990-01-02", order="YDM")  # type: ignore[arg-type]


def test_values_pass_through() -> None:
    assert normalize_date(D) is D
    assert normalize_date(MonthDay(1, 2)) == MonthDay(1, 2)


@given(st.text())
def test_any_text_gives_a_date_or_an_invalid_date_error(text: str) -> None:
    try:
        d = normalize_date(text)
    except InvalidDateError as exc:
        reason = exc.reason
        assert reason in DATE_REASONS
        return
    assert normalize_date(d.isoformat()) == d


@given(
    st.dates(), st.sampled_from(["{:%Y-%m-%d}", "{:%Y/%m/%d}", "{:%Y%m%d}", "{:%d %B %Y}", "{:%b %d, %Y}"])
)
def test_generated_dates_round_trip(d: dt.date, form: str) -> None:
    if d.year < 1000:
        return
    assert normalize_date(form.format(d)) == d
    assert normalize_date(f"{d.year}年{d.month}月{d.day}日") == d
    assert normalize_date(f"{d.day:02d}/{d.month:02d}/{d.year}", order="DMY") == d
