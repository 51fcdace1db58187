"""Unsupervised accuracy on the Febrl data (truth from rec_id), default options."""

from __future__ import annotations

import itertools
import re

import pytest

from custdata import Customer
from custdata.datasets import load_febrl, load_febrl4
from custdata.matching import dedupe, link


def entity(rec_id: str) -> str:
    m = re.match(r"rec-(\d+)-", rec_id)
    assert m
    return m.group(1)


def f1(pred: set[tuple[str, str]], truth: set[tuple[str, str]]) -> float:
    tp = len(pred & truth)
    p, r = tp / len(pred), tp / len(truth)
    return 2 * p * r / (p + r)


@pytest.fixture(scope="module")
def febrl3() -> list[Customer]:
    return load_febrl(3).records


def test_link_febrl4() -> None:
    left, right, _links = load_febrl4()
    by_entity = {entity(b.id): b.id for b in right}
    truth = {(a.id, by_entity[entity(a.id)]) for a in left if entity(a.id) in by_entity}
    result = link(left, right)
    assert f1(result.links, truth) >= 0.997
    # one-to-one: no record is linked twice
    assert len({a for a, _ in result.links}) == len(result.links) == len({b for _, b in result.links})


def test_dedupe_febrl3(febrl3: list[Customer]) -> None:
    groups: dict[str, list[str]] = {}
    for rec in febrl3:
        groups.setdefault(entity(rec.id), []).append(rec.id)
    truth = {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}
    result = dedupe(febrl3)
    pred = {tuple(sorted(p)) for c in result.clusters for p in itertools.combinations(c, 2)}
    assert f1(pred, truth) >= 0.997  # type: ignore[arg-type]
    assert result.pair_completeness(truth) >= 0.99  # type: ignore[arg-type]
    ids = [i for c in result.clusters for i in c]
    assert sorted(ids) == sorted(r.id for r in febrl3)


def test_febrl3_explain_names_every_field(febrl3: list[Customer]) -> None:
    result = dedupe(febrl3[:1500])
    best = max(result.pairs, key=lambda p: p.probability)
    e = result.explain(best.id_a, best.id_b)
    assert {f.field for f in e.fields} >= {"given_name", "family_name", "birthday", "external_id", "street"}
    assert e.is_match
    assert abs(e.prior_weight + sum(f.weight + f.tf_adjustment for f in e.fields) - e.weight) < 1e-9


def test_dedupe_febrl3_learning_on_a_birthday_sample(febrl3: list[Customer]) -> None:
    """The path large inputs take: EM on about `fit_sample` records chosen by birthday."""
    groups: dict[str, list[str]] = {}
    for rec in febrl3:
        groups.setdefault(entity(rec.id), []).append(rec.id)
    truth = {tuple(sorted(p)) for g in groups.values() for p in itertools.combinations(g, 2)}
    result = dedupe(febrl3, fit_sample=1500)
    pred = {tuple(sorted(p)) for c in result.clusters for p in itertools.combinations(c, 2)}
    assert f1(pred, truth) >= 0.99  # type: ignore[arg-type]
