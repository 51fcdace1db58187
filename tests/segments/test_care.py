"""RFM per customer, tiers, lifecycle stages, reminders with consent, Segmentation explain."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from custdata import Customer, Interaction, Transaction
from custdata.exceptions import ValidationError
from custdata.segments import (
    F,
    Rule,
    Segmentation,
    birthday_reminders,
    care_reminders,
    lifecycle,
    profiles,
    quantile_tiers,
    rfm,
    tiers,
)


def _tx(cid: str, day: str, amount: str = "10") -> Transaction:
    return Transaction(customer_id=cid, at=f"{day}T10:00:00+08:00", amount=amount)


def test_rfm_agrees_with_profiles() -> None:
    txs = [
        _tx(f"c{i}", f"2026-0{1 + i % 6}-1{k}", str(5 * i + k)) for i in range(30) for k in range(i % 4 + 1)
    ]
    txs.append(_tx("c3", "2026-06-01", "-7"))
    scores = {s.customer_id: s for s in rfm(txs, as_of="2026-06-30")}
    for p in profiles([Customer(id=f"c{i}") for i in range(30)], txs, as_of="2026-06-30"):
        s = scores[p.id]
        assert (s.r, s.f, s.m, s.segment, s.total_spend) == (
            p.rfm_r,
            p.rfm_f,
            p.rfm_m,
            p.rfm_segment,
            p.total_spend,
        )
    assert scores["c3"].total_spend == Decimal(15 + 16 + 17 + 18 - 7)
    assert scores["c0"].label and scores["c0"].label_zh and scores["c0"].group_zh.endswith("客户")
    with pytest.raises(ValidationError, match="bins"):
        rfm(txs, as_of="2026-06-30", bins=2)


def test_tiers_and_quantile_tiers() -> None:
    t = tiers({"silver": 1000, "gold": 5000}, default="bronze")
    assert t.names == ["gold", "silver"]
    assert [t.assign({"total_spend": v}) for v in (5000, 4999, None)] == ["gold", "silver", "bronze"]
    ps = [{"total_spend": Decimal(v)} for v in range(1, 10)]
    q = quantile_tiers(ps, ["top", "middle"], default="bottom")
    got = [q.assign(p) for p in ps]
    assert got == ["bottom"] * 3 + ["middle"] * 3 + ["top"] * 3


def test_lifecycle_stages() -> None:
    txs = [
        _tx("new", "2026-06-20"),
        _tx("active", "2025-10-01"),
        _tx("active", "2026-06-01"),
        _tx("back", "2024-01-01"),
        _tx("back", "2026-06-10"),
        _tx("risk", "2026-01-01"),
        _tx("gone", "2024-06-01"),
        _tx("refund_only", "2026-06-01", "-5"),
    ]
    assert lifecycle(txs, as_of="2026-06-30") == {
        "active": "active",
        "back": "reactivated",
        "gone": "churned",
        "new": "new",
        "risk": "at_risk",
    }


def _consent(granted: bool = True) -> dict:
    return {"granted": granted, "at": "2026-01-01T00:00:00+00:00"}


def test_birthday_reminders_honour_consent_and_year_less_birthdays() -> None:
    people = [
        Customer(id="a", birthday="--07-02", phones=["13800138000"], consents={"marketing_sms": _consent()}),
        Customer(
            id="b",
            birthday="1990-07-01",
            emails=["b@example.com"],
            consents={"marketing_sms": _consent(), "marketing_email": _consent()},
        ),  # no phone: e-mail
        Customer(
            id="c", birthday="1990-07-01", phones=["13800138000"], consents={"marketing_sms": _consent(False)}
        ),
        Customer(
            id="d", birthday="1990-09-01", phones=["13800138000"], consents={"marketing_sms": _consent()}
        ),
        Customer(id="e", birthday="--02-29", phones=["13800138000"], consents={"marketing_sms": _consent()}),
    ]
    got = birthday_reminders(people, as_of="2026-06-28", days=7)
    assert [(r.customer_id, r.channel, r.on) for r in got] == [
        ("b", "email", dt.date(2026, 7, 1)),
        ("a", "sms", dt.date(2026, 7, 2)),
    ]
    assert got.left_out == 1 and got.left_out_by_kind == {"birthday": 1}
    leap = birthday_reminders(people, as_of="2027-02-27", days=1)
    assert [(r.customer_id, r.on) for r in leap] == [("e", dt.date(2027, 2, 28))]


def test_care_reminders_for_no_contact() -> None:
    people = [Customer(id=i, phones=["13800138000"], consents={"service_phone": _consent()}) for i in "abc"]
    contacts = [
        Interaction(customer_id="a", at="2026-06-01T10:00:00+08:00"),
        Interaction(customer_id="b", at="2026-01-01T10:00:00+08:00"),
    ]
    got = care_reminders(people, contacts, as_of="2026-06-30", days=90)
    assert [(r.customer_id, r.note) for r in got] == [
        ("b", "last contact 2026-01-01"),
        ("c", "never contacted"),
    ]
    only_b = care_reminders(people, contacts, as_of="2026-06-30", days=90, rule=F.id == "b")
    assert [r.customer_id for r in only_b] == ["b"]


def test_segmentation_first_match_multi_label_sizes_overlaps_explain_and_json() -> None:
    seg = Segmentation(
        [("vip", Rule.parse("total_spend >= 5000")), ("active", F.recency_days <= 90)], default="other"
    )
    ps = [
        {"id": "a", "total_spend": 8000, "recency_days": 10},
        {"id": "b", "total_spend": 10, "recency_days": 5},
        {"id": "c", "total_spend": 1, "recency_days": None},
    ]
    assert [seg.assign(p) for p in ps] == ["vip", "active", "other"]
    assert seg.sizes(ps) == {"vip": 1, "active": 1, "other": 1}
    assert seg.overlaps(ps) == {("vip", "active"): 1}
    multi = Segmentation(seg.segments, multi=True)
    assert multi.labels(ps[0]) == ["vip", "active"]
    why = seg.explain(ps[1])
    assert why.segment == "active" and why.decided_by[0][0] == "recency_days <= 90"
    assert "total_spend >= 5000 is false (value 10)" in why.skipped[0]
    back = Segmentation.from_json(seg.to_json())
    assert back.to_json() == seg.to_json()
    assert Segmentation.from_json('{"vip": "total_spend >= 5000"}').names == ["vip"]
    with pytest.raises(ValidationError, match="unique"):
        Segmentation([("a", F.x == 1), ("a", F.x == 2)])


def test_member_tiers_move_up_at_once_and_down_one_level_a_review() -> None:
    from custdata.segments import member_tiers

    levels = {"diamond": 20000, "gold": 5000, "silver": 1000}
    txs = [
        _tx("up", "2026-05-01", "25000"),
        _tx("down", "2026-05-01", "10"),
        _tx("old", "2025-01-01", "9000"),
        _tx("new", "2026-06-01", "1500"),
        _tx("refund", "2026-06-01", "6000"),
        _tx("refund", "2026-06-02", "-2000"),
    ]
    got = member_tiers(
        txs,
        levels,
        as_of="2026-06-30",
        current={"up": "silver", "down": "diamond", "old": "gold", "gone": None, "refund": "gold"},
    )
    assert {k: (v.tier, v.change) for k, v in got.items()} == {
        "up": ("diamond", "up"),
        "down": ("gold", "down"),
        "old": ("silver", "down"),
        "gone": (None, "same"),
        "new": ("silver", "new"),
        "refund": ("silver", "down"),
    }
    assert got["refund"].window_spend == Decimal(4000)
    with pytest.raises(ValidationError, match="not among the levels"):
        member_tiers([], levels, as_of="2026-06-30", current={"x": "platinum"})


def test_plots_draw_the_rfm_grid_and_sizes_over_time() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from custdata.segments import plot_rfm_grid, plot_segment_sizes

    txs = [_tx(f"c{i}", f"2026-0{1 + i % 6}-10", str(10 * i)) for i in range(40)]
    ax = plot_rfm_grid(rfm(txs, as_of="2026-06-30"))
    labels = sorted(int(t.get_text()) for t in ax.texts)
    assert sum(labels) == 40
    seg = tiers({"gold": 200}, default="other")
    by_month = {
        m: seg.sizes(profiles([Customer(id=f"c{i}") for i in range(40)], txs, as_of=f"2026-0{m}-28"))
        for m in (2, 4, 6)
    }
    ax = plot_segment_sizes(by_month)
    assert len(ax.collections) == 2
