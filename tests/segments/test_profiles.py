"""Profiles: the figures per customer, region from the address or the phone, RFM against pandas' qcut."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
from custdata import Customer, Interaction, Transaction
from custdata.exceptions import ValidationError
from custdata.segments import F, Profile, profiles
from custdata.segments._rfm import Edges, edges_of, score, segment_of


def _tx(cid: str, at: str, amount: str) -> Transaction:
    return Transaction(customer_id=cid, at=at, amount=amount)


def test_figures_of_one_customer() -> None:
    c = Customer(
        id="c1",
        tags=["vip"],
        channel="store",
        birthday="1990-03-01",
        addresses=[{"province": "广东省", "city": "深圳市", "district": "南山区"}],
        phones=["+8613800138000"],
    )
    txs = [
        _tx("c1", "2026-01-05T23:30:00+08:00", "100.10"),
        _tx("c1", "2026-03-01T00:30:00+08:00", "200"),  # 2026-02-28 in UTC: the local day counts
        _tx("c1", "2026-03-02T10:00:00+08:00", "-50.05"),  # a refund
        _tx("c1", "2026-04-01T10:00:00+08:00", "999"),  # after as_of
        _tx("c2", "2026-01-01T10:00:00+08:00", "5"),
    ]
    ints = [Interaction(customer_id="c1", at="2026-03-10T09:00:00+08:00", kind="call")]
    (p,) = profiles([c], txs, ints, as_of="2026-03-31")
    assert isinstance(p, Profile)
    assert (p.orders, p.total_spend, p.average_order_value) == (2, Decimal("250.05"), Decimal("125.025"))
    assert (p.first_purchase, p.last_purchase, p.recency_days) == (
        dt.date(2026, 1, 5),
        dt.date(2026, 3, 1),
        30,
    )
    assert (p.last_contact, p.days_since_contact) == (dt.date(2026, 3, 10), 21)
    assert (p.province, p.city, p.district, p.region_source) == ("广东省", "深圳市", "南山区", "address")
    assert p.age == 36 and p.channel == "store" and p.tags == frozenset({"vip"})
    assert p["city"] == p.city and dict(p)["orders"] == 2 and "rfm_r" in p and "nope" not in p
    assert (F.city == "深圳市").matches(p) and p.rfm_segment is not None


def test_region_from_the_phone_when_the_address_has_none() -> None:
    cs = [
        Customer(id="a", phones=["13912345678"]),  # Changzhou, Jiangsu
        Customer(id="b", phones=["+8613800138000"], addresses=[{"street": "somewhere"}]),  # Beijing
        Customer(id="c", phones=["+14155550123"]),  # not a Chinese number: no region
        Customer(id="d", phones=["+8613800138000"], addresses=[{"city": "上海市"}]),  # the address wins
    ]
    got = {p.id: (p.province, p.city, p.region_source) for p in profiles(cs, as_of="2026-01-01")}
    assert got == {
        "a": ("江苏省", "常州市", "phone"),
        "b": ("北京市", "北京市", "phone"),
        "c": (None, None, None),
        "d": (None, "上海市", "address"),
    }


def test_age_on_29_february_and_year_less_birthdays() -> None:
    cs = [Customer(id="leap", birthday="2000-02-29"), Customer(id="md", birthday="--02-29")]
    ages = {p.id: p.age for p in profiles(cs, as_of="2027-02-28")}
    assert ages == {"leap": 26, "md": None}
    assert next(iter(profiles(cs[:1], as_of="2027-03-01"))).age == 27


def test_customers_without_activity_and_bad_input() -> None:
    (p,) = profiles([{"id": "x"}], [], as_of=dt.date(2026, 1, 1))
    assert (p.orders, p.total_spend, p.recency_days, p.rfm_segment, p.average_order_value) == (
        0,
        Decimal(0),
        None,
        None,
        None,
    )
    with pytest.raises(ValidationError, match="as_of"):
        list(profiles([], as_of="yesterday"))
    with pytest.raises(ValidationError, match="currencies"):
        list(
            profiles(
                [],
                [
                    Transaction(customer_id="a", at="2026-01-01T00:00:00Z", amount="1", currency="CNY"),
                    Transaction(customer_id="a", at="2026-01-01T00:00:00Z", amount="1", currency="USD"),
                ],
                as_of="2026-02-01",
            )
        )


def test_profiles_stream_the_customers() -> None:
    seen: list[int] = []

    def gen():
        for i in range(3):
            seen.append(i)
            yield Customer(id=f"c{i}")

    it = profiles(gen(), as_of="2026-01-01")
    assert seen == []
    next(it)
    assert seen == [0]


# --------------------------------------------------------------------------------------------- RFM


@settings(max_examples=150)
@given(
    st.lists(st.one_of(st.integers(0, 30), st.integers(0, 10**6)), min_size=1, max_size=60),
    st.integers(3, 10),
)
def test_scores_agree_with_pandas(values: list[int], bins: int) -> None:
    """Whole numbers keep pandas' float quantiles on the same side of every value as our exact ones."""
    pd = pytest.importorskip("pandas")
    series = pd.Series(values, dtype=float)
    edges = edges_of(values, bins)
    ours = [score(v, edges) for v in values]
    raw = series.quantile([i / bins for i in range(1, bins)]).tolist()
    # pandas < 3 (the one on Python 3.10) puts a whole-number quantile a few ulps below it (0.9999999999999991
    # for 1), so its qcut bins differ from the exact ones there: compare with the whole number it means
    theirs_edges = [float(round(e)) if abs(e - round(e)) < 1e-9 else e for e in raw]
    ulps_off = theirs_edges != raw
    assert [float(e) for e in edges] == pytest.approx(theirs_edges)
    # the documented rule: 1 + the number of (interior) edges below the value
    assert ours == [1 + sum(e < v for e in theirs_edges) for v in values]
    inner = sorted(set(theirs_edges))
    if ulps_off or int(pd.__version__.split(".")[0]) < 3:
        # qcut would use pandas' own edges, a few ulps off the whole numbers (pandas < 3's qcut computes
        # them from np.linspace even when .quantile is exact)
        return
    if len(inner) == bins - 1 and min(values) < inner[0] and inner[-1] < max(values):
        # no coinciding edges: exactly pandas.qcut's bins
        labels = pd.qcut(series, bins, labels=False).tolist()
        assert ours == [int(x) + 1 for x in labels]
    else:
        # qcut(duplicates="drop") merges the bins of coinciding edges; our scores split them no further
        labels = pd.qcut(series, bins, labels=False, duplicates="drop").tolist()
        pairs = sorted(set(zip(labels, ours, strict=True)))
        assert [o for _, o in pairs] == sorted(o for _, o in pairs)  # the same order


def test_equal_values_get_equal_scores_and_recency_is_reversed() -> None:
    e = Edges.of([(d, 1, Decimal(1)) for d in range(1, 11)], 5)
    assert e.scores(1, 1, Decimal(1))[0] == 5 and e.scores(10, 1, Decimal(1))[0] == 1
    assert e.frequency == edges_of([1] * 10, 5) and e.scores(5, 1, Decimal(1))[1] == 1


def test_segment_grid() -> None:
    assert segment_of(5, 5, 5) == "champions"
    assert segment_of(1, 1, 1) == "lost"
    assert segment_of(5, 1, 1) == "new"
    assert segment_of(1, 5, 5) == "cant_lose"
    assert segment_of(10, 10, 10, bins=10) == "champions"
    assert segment_of(2, 4, 3) == "at_risk"


def test_profiles_rfm_matches_the_rfm_of_its_own_figures() -> None:
    txs = [
        _tx(f"c{i}", f"2026-0{1 + i % 6}-1{k}T10:00:00+08:00", str(10 * (i + k)))
        for i in range(40)
        for k in range(i % 5 + 1)
    ]
    ps = list(profiles([Customer(id=f"c{i}") for i in range(40)], txs, as_of="2026-07-01"))
    e = Edges.of([(p.recency_days, p.orders, p.total_spend) for p in ps], 5)
    for p in ps:
        assert (p.rfm_r, p.rfm_f, p.rfm_m) == e.scores(p.recency_days, p.orders, p.total_spend)
    assert len({p.rfm_segment for p in ps}) > 2
    assert custdata.profiles is profiles


def test_to_dataframe_and_its_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from custdata.exceptions import MissingExtraError
    from custdata.segments import PROFILE_SCHEMA, to_dataframe

    pytest.importorskip("pandas")
    ps = list(profiles([Customer(id="a"), Customer(id="b", tags=["vip"])], as_of="2026-01-01"))
    df = to_dataframe(ps)
    assert list(df.columns) == list(PROFILE_SCHEMA) and list(df.id) == ["a", "b"]
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtraError, match="custdata\\[pandas\\]"):
        to_dataframe(ps)
