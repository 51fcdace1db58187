"""Learning on a birthday sample from the pairs the run already compared, pinned to learning on the sample
blocked and compared on its own (the path it replaces), and the pair counting it rests on."""

from __future__ import annotations

import importlib.util
import itertools
import zlib
from array import array
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custdata import Customer
from custdata.matching import MatchSettings, dedupe
from custdata.matching._api import _birthday_group, _fit_on_birthday_sample
from custdata.matching._blocking import SAMPLE_EVERY, plan_blocks
from custdata.matching._compare import DEFAULT_FIELDS
from custdata.matching._features import Features, features_of
from custdata.matching._matcher import Matcher
from custdata.matching._pairs import ScoredPairs

_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_dedupe.py"


def _generate(n: int, seed: int) -> tuple[list[Customer], set[tuple[str, str]]]:
    spec = importlib.util.spec_from_file_location("_bench_dedupe", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows, truth = module.generate(n, seed=seed)
    groups: dict[int, list[str]] = {}
    for r, t in zip(rows, truth, strict=True):
        groups.setdefault(t, []).append(r["id"])
    pairs = {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}
    return [Customer.from_dict(r) for r in rows], pairs  # type: ignore[return-value]


def _reblocked_fit(feats: list[Features], s: MatchSettings, fit_sample: int) -> Matcher:
    """The path replaced: the first birthday group's records blocked and compared on their own, then EM."""
    k = -(-len(feats) // fit_sample)
    sub = [f for f in feats if zlib.crc32((f.dob or f.id).encode()) % k == s.seed % k]
    plan = plan_blocks(sub, window=s.window, max_block_size=s.max_block_size, workers=1)
    sub_scored, _ = ScoredPairs.block_and_compare(sub, plan, DEFAULT_FIELDS)
    return Matcher._fit_from(
        sub,
        sub_scored,
        threshold=s.threshold,
        region=s.region,
        rules=None,
        min_support=s.min_support,
        seed=s.seed,
        birthday_sample=k,
    )


def _f1(result: Any, truth: set[tuple[str, str]]) -> float:
    pred = {tuple(sorted(p)) for c in result.clusters for p in itertools.combinations(c, 2)}
    tp = len(pred & truth)
    return 2 * tp / (len(pred) + len(truth))


@pytest.mark.parametrize("seed", [3, 11])
def test_fit_from_compared_pairs_clusters_as_well_as_fitting_the_sample_blocked_on_its_own(seed: int) -> None:
    records, truth = _generate(9_000, seed)
    new = dedupe(records, workers=1, fit_sample=3_000)  # three birthday groups, one learned on
    feats = [features_of(r, region=new.settings.region) for r in sorted(records, key=lambda r: r.id)]
    old_matcher = _reblocked_fit(feats, new.settings, 3_000)
    from custdata.matching._matcher import _add_term_frequencies

    assert isinstance(old_matcher.model, type(new.matcher.model))
    _add_term_frequencies(old_matcher.model, feats, DEFAULT_FIELDS)  # type: ignore[arg-type]
    old = dedupe(records, workers=1, matcher=Matcher(old_matcher.model, threshold=new.threshold))
    assert new.matcher.model.source == "em"  # type: ignore[union-attr]
    # the same people found: F1 against the truth at least the replaced path's, clusters nearly identical
    assert _f1(new, truth) >= _f1(old, truth) - 0.0005
    old_pairs = {tuple(sorted(p)) for c in old.clusters for p in itertools.combinations(c, 2)}
    assert _f1(new, old_pairs) >= 0.995  # type: ignore[arg-type]


def test_fit_on_birthday_sample_learns_from_the_sample_only() -> None:
    records, _ = _generate(3_000, 5)
    feats = [features_of(r) for r in sorted(records, key=lambda r: r.id)]
    s = MatchSettings(fit_sample=1_000)
    plan = plan_blocks(feats, workers=1)
    scored, _ = ScoredPairs.block_and_compare(feats, plan, DEFAULT_FIELDS)
    fitted = _fit_on_birthday_sample(feats, scored, s, 1_000)
    assert fitted is not None
    # the same as EM on the counts of the pairs inside the birthday group, found by hand
    k = 3
    group = [_birthday_group(f, k) for f in feats]
    keep = s.seed % k
    counts: dict[tuple[int, ...], int] = {}
    for i, j, pid in zip(scored.left, scored.right, scored.pattern, strict=True):
        if group[i] == group[j] == keep:
            counts[scored.patterns[pid]] = counts.get(scored.patterns[pid], 0) + 1
    for i, j, vec in zip(scored.sampled_left, scored.sampled_right, scored.sampled_vecs, strict=True):
        if group[i] == group[j] == keep:
            counts[vec] = counts.get(vec, 0) + SAMPLE_EVERY * k  # see _fit_on_birthday_sample
    sub = [f for f, g in zip(feats, group, strict=True) if g == keep]
    by_hand = Matcher._fit_counts(
        sub,
        counts,
        threshold=s.threshold,
        region=s.region,
        min_support=s.min_support,
        seed=s.seed,
        birthday_sample=k,
    )
    # (equal up to the order in which EM sums the patterns)
    for got, want in zip(fitted.model.m + fitted.model.u, by_hand.model.m + by_hand.model.u, strict=True):  # type: ignore[union-attr]
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert fitted.model.prior == pytest.approx(by_hand.model.prior, rel=1e-9)  # type: ignore[union-attr]


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 40),
    pairs=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39), st.integers(0, 2)), max_size=60),
    sampled=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39), st.integers(0, 2)), max_size=20),
    groups=st.lists(st.integers(0, 3), min_size=40, max_size=40),
    wanted=st.sets(st.integers(0, 4), max_size=3),
    weight=st.integers(1, 3),
)
def test_counts_within_a_group_are_the_fit_counts_of_its_pairs(
    n: int,
    pairs: list[tuple[int, int, int]],
    sampled: list[tuple[int, int, int]],
    groups: list[int],
    wanted: set[int],
    weight: int,
) -> None:
    pats = [(0, 1), (1, 1), (2, -1)]
    kept = sorted({(min(i, j) % n, max(i, j) % n, p) for i, j, p in pairs if i % n != j % n})
    scored = ScoredPairs(
        array("I", [x[0] for x in kept]),
        array("I", [x[1] for x in kept]),
        array("I", [x[2] for x in kept]),
        pats,
    )
    for i, j, p in sampled:
        scored.sampled_left.append(i % n)
        scored.sampled_right.append(j % n)
        scored.sampled_vecs.append(pats[p])
        scored.unscored[pats[p]] = scored.unscored.get(pats[p], 0) + SAMPLE_EVERY
    within = scored.counts_within(groups[:n], wanted, sampled_weight=weight)
    assert set(within) == wanted
    for g in wanted:
        inside = [k for k, (i, j, _) in enumerate(kept) if groups[i] == groups[j] == g]
        sub = ScoredPairs(
            array("I", [kept[k][0] for k in inside]),
            array("I", [kept[k][1] for k in inside]),
            array("I", [kept[k][2] for k in inside]),
            pats,
        )
        for i, j, p in sampled:
            if groups[i % n] == groups[j % n] == g:
                sub.unscored[pats[p]] = sub.unscored.get(pats[p], 0) + SAMPLE_EVERY * weight
        assert within[g] == (sub.fit_counts(), len(inside))
    everyone = scored.counts_within([0] * n, [0])  # one group of everyone: the counts of a whole fit
    assert everyone[0] == (scored.fit_counts(), len(kept))
