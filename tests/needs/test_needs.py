"""custdata.needs: the catalogue nets refunds out, EASE matches an independent dense computation, the
recommender honours exclusions, filters and consent, and the evaluation measures match hand-computed values."""

from __future__ import annotations

import datetime as dt
import math
import warnings
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custdata import Consent, Customer, LineItem, Transaction
from custdata.exceptions import AccessDenied, NotFoundError, RowsLeftOutWarning, ValidationError
from custdata.needs import (
    Recommender,
    coverage,
    hit_rate,
    interests,
    item_catalogue,
    ndcg_at_k,
    recall_at_k,
    time_split,
)
from custdata.testing import needs_sample

T0 = dt.datetime(2011, 3, 1, tzinfo=dt.timezone.utc)


def tx(cid: str, *skus: str, day: int = 0, refund: bool = False, cat: str | None = None) -> Transaction:
    lines = tuple(LineItem(sku=s, quantity=2, unit_price="1.50", category=cat) for s in skus)
    amount = Decimal("3.00") * len(skus)
    return Transaction(
        customer_id=cid, at=T0 + dt.timedelta(days=day), amount=-amount if refund else amount, items=lines
    )


# a tiny history: a and b co-bought; c with d; customer z returned everything it bought
TINY = [
    tx("u1", "a", "b", "c"),
    tx("u2", "a", "b"),
    tx("u3", "b", "c", "d"),
    tx("u4", "a", "d"),
    tx("u5", "c", "d", "e"),
    tx("u6", "a", "b", "e"),
]


def test_refunds_are_netted_out_and_never_count_as_purchases() -> None:
    cat = item_catalogue(
        [*TINY, tx("z", "x", "a"), tx("z", "x", day=3, refund=True), tx("u1", "b", day=4, refund=True)]
    )
    assert "x" not in cat.skus  # bought then returned: no purchase at all
    m = cat.matrix.toarray()
    ci, si = cat.customer_index(), cat.sku_index()
    assert m[ci["z"], si["a"]] == 1.0
    assert m[ci["u1"], si["b"]] == 0.0  # returned
    assert m[ci["u1"], si["a"]] == 1.0
    q = item_catalogue([*TINY, tx("u1", "a", day=2)], weight="quantity").matrix.toarray()
    assert q[ci["u1"], si["a"]] == 4.0


def test_a_refund_alone_is_no_purchase() -> None:
    cat = item_catalogue([tx("z", "a", refund=True)])
    assert cat.customers == () and cat.matrix.shape == (0, 0)


def test_bad_input_raises_custdata_errors() -> None:
    with pytest.raises(ValidationError):
        item_catalogue([{"customer_id": "u1"}])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        Recommender("als")
    with pytest.raises(ValidationError):
        Recommender("ease", neighbours=3)
    with pytest.raises(ValidationError):
        Recommender().recommend("u1")
    r = Recommender().fit(TINY)
    with pytest.raises(NotFoundError):
        r.similar_items("nope")
    for bad in (
        lambda: r.recommend("u1", n=-1),
        lambda: r.recommend("u1", n=2.5),
        lambda: r.recommend(["u1"]),
    ):
        with pytest.raises(ValidationError):
            bad()  # type: ignore[no-untyped-call]
    with pytest.raises(ValidationError):
        r.similar_items(None)  # type: ignore[arg-type]


def _dense_ease(x: np.ndarray, lam: float) -> np.ndarray:
    """EASE from its definition, not its closed form: column j is the ridge regression of item j on the
    other items, ``min ||x_j - X_{-j} b||² + λ||b||²``, with b_jj = 0."""
    n = x.shape[1]
    b = np.zeros((n, n))
    for j in range(n):
        others = [i for i in range(n) if i != j]
        xo = x[:, others]
        b[others, j] = np.linalg.solve(xo.T @ xo + lam * np.eye(n - 1), xo.T @ x[:, j])
    return b


@pytest.mark.parametrize("lam", [0.5, 5.0, 500.0])
def test_ease_matches_an_independent_dense_computation(lam: float) -> None:
    r = Recommender("ease", lam=lam).fit(TINY)
    x = item_catalogue(TINY).matrix.toarray()
    b = _dense_ease(x, lam)
    np.testing.assert_allclose(np.diag(b), 0.0, atol=1e-12)
    assert r._w is not None
    # the closed form runs in single precision (fast on thousands of items): agreement to float32's ~1e-7
    # per operation, a few units in the sixth digit after the solve
    np.testing.assert_allclose(r._w, b, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(r.scores("u2"), x[1] @ b, rtol=2e-5, atol=1e-6)


def test_recommend_orders_by_score_and_excludes_bought() -> None:
    r = Recommender("ease", lam=0.5).fit(TINY)
    x = item_catalogue(TINY).matrix.toarray()
    s = x[1] @ _dense_ease(x, 0.5)  # u2 bought a, b
    want = [sku for _, sku in sorted(((-s[i], sku) for i, sku in enumerate("abcde") if sku not in "ab"))]
    got = r.recommend("u2", n=3)
    assert [g.sku for g in got] == want
    assert all(g.sku not in {"a", "b"} for g in got)
    assert {g.sku for g in r.recommend("u2", n=5, exclude_bought=False)} == set("abcde")
    assert [g.sku for g in r.recommend("u2", n=5, filter={"d", "e"})] == [w for w in want if w in "de"]
    assert [g.sku for g in r.recommend("u2", n=5, filter=lambda sku: sku == "c")] == ["c"]


def test_a_segments_rule_filters_items_by_their_fields() -> None:
    from custdata.segments import F, Rule

    txs = [tx("u1", "a", cat="candles"), tx("u2", "a", "b", cat="garden"), tx("u3", "c", "d", cat="candles")]
    txs += [tx("u4", "a", "c", "e", cat="toys")]  # the last category seen wins: a, c, e are toys
    r = Recommender("ease", lam=0.5).fit(txs)
    got = {x.sku for x in r.recommend("u1", n=5, filter=F.category == "toys")}
    assert got == {"c", "e"}  # a is bought
    assert {x.sku for x in r.recommend("u1", n=5, filter=Rule.parse("buyers >= 2"))} == {"c"}


def test_explain_sums_to_the_score() -> None:
    for model in ("ease", "itemknn"):
        r = Recommender(model).fit(TINY)
        top = r.recommend("u1", n=1)[0]
        parts = r.explain("u1", top.sku)
        assert {p.sku for p in parts} == {"a", "b", "c"}
        assert math.isclose(sum(p.weight for p in parts), top.score, rel_tol=1e-9, abs_tol=1e-12)


def test_itemknn_is_cosine_similarity() -> None:
    r = Recommender("itemknn").fit(TINY)
    x = item_catalogue(TINY).matrix.toarray()
    sim = [
        (float(x[:, 0] @ x[:, j] / np.linalg.norm(x[:, 0]) / np.linalg.norm(x[:, j])), "abcde"[j])
        for j in range(1, 5)
    ]
    want = [sku for _, sku in sorted(sim, key=lambda t: (-t[0], t[1]))]
    assert [s.sku for s in r.similar_items("a", n=4)] == want


def test_unknown_customers_and_the_popular_model_get_the_popularity_list() -> None:
    r = Recommender("ease").fit(TINY)
    pop = Recommender("popular").fit(TINY)
    # counts: a 4, b 4, c 3, d 3, e 2 -> ties by sku
    assert [x.sku for x in r.recommend("stranger", n=5)] == ["a", "b", "c", "d", "e"]
    assert [x.sku for x in pop.recommend("u2", n=5)] == ["c", "d", "e"]
    assert r.explain("stranger", "a") == []
    recent = Recommender("popular", recent_days=1).fit(
        [*TINY, tx("u9", "e", day=10), tx("u8", "e", "d", day=10)]
    )
    assert [x.sku for x in recent.recommend("stranger", n=2)] == ["e", "d"]


def test_customers_who_opted_out_of_profiling_get_no_personal_list() -> None:
    people = [
        Customer(id="u1", consents={"profiling": Consent(granted=False)}),
        Customer(id="u2", consents={"profiling": Consent(granted=True)}),
        Customer(id="u3"),
    ]
    r = Recommender("ease").fit(TINY, customers=people)
    assert not r.personalised("u1")
    assert r.personalised("u2") and r.personalised("u3")
    assert [x.sku for x in r.recommend("u1", n=5)] == [x.sku for x in r.recommend("stranger", n=5)]
    with pytest.raises(AccessDenied):
        r.explain("u1", "a")
    # and their purchases are not used to train the model
    without = Recommender("ease").fit([t for t in TINY if t.customer_id != "u1"])
    assert without._w is not None and r._w is not None
    np.testing.assert_allclose(r._w, without._w)


histories = st.lists(
    st.tuples(
        st.sampled_from([f"u{i}" for i in range(6)]),
        st.sets(st.sampled_from("abcdefg"), min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=40, deadline=None)
@given(histories, st.randoms(use_true_random=False), st.sampled_from(["ease", "itemknn", "popular"]))
def test_scores_do_not_depend_on_customer_order_and_bought_items_stay_out(hist, rnd, model) -> None:  # type: ignore[no-untyped-def]
    txs = [tx(c, *sorted(items), day=i) for i, (c, items) in enumerate(hist)]
    shuffled = list(txs)
    rnd.shuffle(shuffled)
    a = Recommender(model, **({"neighbours": 3} if model == "itemknn" else {})).fit(txs)
    b = Recommender(model, **({"neighbours": 3} if model == "itemknn" else {})).fit(shuffled)
    bought: dict[str, set[str]] = {}
    for c, items in hist:
        bought.setdefault(c, set()).update(items)
    for c, items in bought.items():
        np.testing.assert_allclose(a.scores(c), b.scores(c), rtol=1e-9, atol=1e-12)
        recs = a.recommend(c, n=10)
        assert [x.sku for x in recs] == [x.sku for x in b.recommend(c, n=10)]
        assert not {x.sku for x in recs} & items
        assert [x.score for x in recs] == sorted((x.score for x in recs), reverse=True)


def test_interests_share_of_spend_net_of_refunds() -> None:
    txs = [
        tx("u1", "a", cat="candles"),  # 3.00
        tx("u1", "b", "c", cat="garden"),  # 6.00
        tx("u1", "c", cat="garden", day=2, refund=True),  # -3.00
        tx("u1", "d", cat="toys"),  # 3.00
        tx("u2", "a", cat="candles", refund=True),
    ]
    got = interests(txs, top=2)
    assert set(got) == {"u1"}  # u2 has no positive spend
    assert got["u1"].shares == pytest.approx({"candles": 1 / 3, "garden": 1 / 3, "toys": 1 / 3})
    assert got["u1"].top == ("candles", "garden")
    assert got["u1"].spend == Decimal("9.00")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        interests([tx("u1", "a")])
    assert any(isinstance(w.message, RowsLeftOutWarning) and w.message.count == 1 for w in seen)


def test_evaluation_measures_against_hand_computed_values() -> None:
    rec = {"u1": ["a", "b", "c", "d"], "u2": ["x", "y", "z", "w"], "u3": ["q"]}
    rel = {"u1": {"b", "d", "e"}, "u2": {"w"}, "u3": set()}
    # u1: hits at ranks 2, 4 in top 4; u2: hit at rank 4 (top 4) but none in top 3
    assert recall_at_k(rec, rel, k=4) == pytest.approx((2 / 3 + 1 / 1) / 2)
    assert recall_at_k(rec, rel, k=3) == pytest.approx((1 / 3 + 0) / 2)
    dcg1 = 1 / math.log2(3) + 1 / math.log2(5)
    idcg1 = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(rec, rel, k=4) == pytest.approx((dcg1 / idcg1 + (1 / math.log2(5)) / 1) / 2)
    assert hit_rate(rec, rel, k=3) == pytest.approx(0.5)
    assert hit_rate(rec, rel, k=4) == pytest.approx(1.0)
    assert coverage(rec, list("abcdefgh"), k=2) == pytest.approx(2 / 8)
    assert math.isnan(recall_at_k(rec, {"u3": set()}, k=3))
    with pytest.raises(ValidationError):
        ndcg_at_k(rec, rel, k=0)


def test_time_split() -> None:
    txs = needs_sample(customers=10, seed=3)
    cut = dt.datetime(2011, 6, 1, tzinfo=dt.timezone.utc)
    before, after = time_split(txs, cut)
    assert len(before) + len(after) == len(txs)
    assert all(t.at < cut for t in before) and all(t.at >= cut for t in after)
    with pytest.raises(ValidationError):
        time_split(txs, dt.datetime(2011, 6, 1))


def test_on_the_generated_sample_ease_beats_chance() -> None:
    txs = needs_sample(customers=120, items=40, seed=1)
    cut = dt.datetime(2011, 7, 1, tzinfo=dt.timezone.utc)
    train, test = time_split(txs, cut)
    bought = item_catalogue(train)
    owned = {c: set() for c in bought.customers}
    for c, s in zip(*bought.matrix.nonzero(), strict=True):
        owned[bought.customers[c]].add(bought.skus[s])
    later = item_catalogue(test)
    relevant = {c: set() for c in later.customers if c in owned}
    for c, s in zip(*later.matrix.nonzero(), strict=True):
        cid, sku = later.customers[c], later.skus[s]
        if cid in relevant and sku not in owned[cid]:
            relevant[cid].add(sku)
    r = Recommender("ease", lam=10).fit(train)
    recs = {c: [x.sku for x in r.recommend(c, n=10)] for c in relevant}
    assert hit_rate(recs, relevant, k=10) > 0.5


def test_half_life_weights_older_purchases_down() -> None:
    # u1 bought a 40 days before the latest purchase and c on the latest day
    txs = [*TINY[1:], tx("u1", "a", day=0), tx("u1", "c", day=40)]
    plain = Recommender("ease", lam=0.5).fit(txs)
    decayed = Recommender("ease", lam=0.5, half_life_days=20).fit(txs)
    x = item_catalogue(txs)
    b = _dense_ease(x.matrix.toarray(), 0.5)
    row = x.matrix.getrow(x.customer_index()["u1"]).toarray().ravel()
    row[x.sku_index()["a"]] = 0.25  # two half-lives old
    np.testing.assert_allclose(decayed.scores("u1"), row @ b, rtol=2e-5, atol=1e-6)  # float32 solve
    assert not np.allclose(plain.scores("u1"), decayed.scores("u1"))
    parts = {p.sku: p.weight for p in decayed.explain("u1", "b")}
    assert math.isclose(parts["a"], 0.25 * b[x.sku_index()["a"], x.sku_index()["b"]], rel_tol=2e-5)
    with pytest.raises(ValidationError):
        Recommender("ease", half_life_days=0).fit(txs)
    with pytest.raises(ValidationError):
        Recommender("popular", recent_days=-1).fit(txs)
