"""The data-quality report: completeness, invalid values by reason, shared contact points, staleness."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given
from hypothesis import strategies as st

from custdata import Customer, quality_report
from custdata.quality import FIELDS, QualityReport

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
OLD = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
RECENT = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)


def sample() -> list[Customer]:
    return [
        Customer(
            id="a", name="张伟", phones=["138 0013 8000"], emails=["Zhang.Wei@gmail.com"], updated_at=RECENT
        ),
        Customer(
            id="b",
            name="李娜",
            phones=["+86 138-0013-8000"],
            emails=["zhangwei+x@googlemail.com"],
            updated_at=OLD,
        ),
        Customer.from_dict(
            {
                "id": "c",
                "name": {"full": "王芳"},
                "phones": [{"number": "12345", "verified_at": RECENT.isoformat()}],
                "emails": [{"address": "not an e-mail"}],
                "updated_at": OLD.isoformat(),
            }
        ),
        Customer(id="d", gender="女"),
        Customer(id="a", company="ACME"),
    ]


def test_report_contents() -> None:
    r = quality_report(sample(), now=NOW, stale_after_days=365)
    assert r.total == 5
    assert r.present["phone"] == 3
    assert r.completeness["phone"] == 0.6
    assert r.completeness["gender"] == 0.2
    assert set(r.completeness) == set(FIELDS)
    assert r.invalid == {"email": {"no_at_sign": 1}, "phone": {"too_short": 1}}
    assert r.examples["phone"]["too_short"] == ("12345",)
    assert r.records_with_issues == 1
    assert r.invalid_total == 2
    assert r.shared_phones == {"+8613800138000": ("a", "b")}
    assert r.shared_emails == {"zhangwei@gmail.com": ("a", "b")}  # Gmail ignores dots and +tags
    assert r.stale == ("b",)  # c was verified recently
    assert r.undated == ("d", "a")
    assert r.duplicate_ids == ("a",)


def test_to_dict_is_json() -> None:
    d = quality_report(sample(), now=NOW).to_dict()
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d
    assert d["shared_phones"] == {"+8613800138000": ["a", "b"]}
    assert d["now"] == NOW.isoformat()


def test_text_form() -> None:
    text = str(quality_report(sample(), now=NOW))
    assert text.startswith("Data quality of 5 customers")
    assert "phone    too_short" in text
    assert "+8613800138000" in text
    assert "Stale (not updated or verified for 365 days): 1" in text
    assert "Duplicate ids: 1 (a)" in text


def test_empty_collection() -> None:
    r = quality_report([], now=NOW)
    assert r.total == 0
    assert all(v == 0.0 for v in r.completeness.values())
    assert "Data quality of 0 customers" in str(r)


def test_streams_are_read_once() -> None:
    r = quality_report(iter(sample()), now=NOW)
    assert isinstance(r, QualityReport)
    assert r.total == 5


# any text a record can hold (records refuse NUL and lone surrogates)
@given(st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12), max_size=8))
def test_any_contact_text_gives_a_report(values: list[str]) -> None:
    customers = [
        Customer(id=str(i), phones=[v] if v.strip() else [], emails=[v] if v.strip() else [])
        for i, v in enumerate(values)
    ]
    r = quality_report(customers, now=NOW)
    assert r.total == len(values)
    assert sum(r.invalid.get("phone", {}).values()) <= sum(1 for v in values if v.strip())
