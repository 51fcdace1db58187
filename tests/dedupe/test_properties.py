"""Properties of dedupe, golden records and the Matcher on small messy inputs."""

from __future__ import annotations

import json
import pickle
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from custdata import Customer
from custdata.matching import Matcher, dedupe, golden_record
from custdata.normalization import normalize_email, normalize_phone

FAMILY = ["王", "李", "张", "Smith", "Garcia", "欧阳"]
GIVEN = ["伟", "娜", "秀英", "John", "Maria", "娜娜"]


@st.composite
def people(draw: Any) -> list[Customer]:
    """A handful of persons, each written one to three times with small differences."""
    n = draw(st.integers(1, 5))
    out: list[Customer] = []
    for k in range(n):
        fam, giv = draw(st.sampled_from(FAMILY)), draw(st.sampled_from(GIVEN))
        phone = f"13{draw(st.integers(0, 9))}{draw(st.integers(10**7, 10**8 - 1))}"
        email = draw(st.sampled_from([None, f"p{k}@qq.com", f"P.{k}@gmail.com"]))
        bday = draw(st.sampled_from([None, "1990-01-02", "1985-12-31", "2001-07-08"]))
        for v in range(draw(st.integers(1, 3))):
            fmt = draw(st.sampled_from(["plain", "spaced", "plus"]))
            number = {
                "plain": phone,
                "spaced": f"{phone[:3]} {phone[3:7]} {phone[7:]}",
                "plus": "+86" + phone,
            }[fmt]
            d: dict[str, Any] = {
                "id": f"p{k}v{v}",
                "name": {"family": fam, "given": giv},
                "phones": [{"number": number}] if draw(st.booleans()) or v == 0 else [],
            }
            if email and draw(st.booleans()):
                d["emails"] = [{"address": email}]
            if bday:
                d["birthday"] = bday
            d["tags"] = draw(st.sets(st.sampled_from(["vip", "new", "b2b"]), max_size=2))
            if draw(st.booleans()):
                d["external_ids"] = {"erp": f"E{k}{v}"}
            out.append(Customer.from_dict(d))
    return out


def _partition(clusters: Any, recs: list[Customer]) -> None:
    ids = [i for c in clusters for i in c]
    assert sorted(ids) == sorted(r.id for r in recs)


@settings(max_examples=30)
@given(people())
def test_clusters_partition_the_input(recs: list[Customer]) -> None:
    result = dedupe(recs, workers=1)
    _partition(result.clusters, recs)
    for r in recs:  # a record is always in its own cluster
        assert r.id in result.cluster_of(r.id)
        assert result.cluster_ids[r.id] == min(result.cluster_of(r.id))


@settings(max_examples=20)
@given(people(), st.randoms(use_true_random=False))
def test_dedupe_is_invariant_to_input_order(recs: list[Customer], rnd: Any) -> None:
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    a, b = dedupe(recs, workers=1), dedupe(shuffled, workers=1)
    assert set(a.clusters) == set(b.clusters)
    assert a.cluster_ids == b.cluster_ids


def _phone_keys(recs: list[Customer]) -> set[str]:
    return {normalize_phone(p.number).e164 for r in recs for p in r.phones}


def _email_keys(recs: list[Customer]) -> set[str]:
    return {normalize_email(e.address).match_key for r in recs for e in r.emails}


@settings(max_examples=30)
@given(people())
def test_golden_records_keep_every_contact_point(recs: list[Customer]) -> None:
    result = dedupe(recs, workers=1)
    goldens = result.golden_records()
    assert len(goldens) == len(result.clusters)
    for g in goldens:
        members = [r for r in recs if r.id in g.sources]
        assert _phone_keys([g.record]) == _phone_keys(members)
        assert _email_keys([g.record]) == _email_keys(members)
        assert {(k, v) for m in members for k, v in m.external_ids.items()} <= {
            (k.split("#")[0], v) for k, v in g.record.external_ids.items()
        }
        assert g.record.tags == frozenset().union(*(m.tags for m in members))
        assert sum(p.primary for p in g.record.phones) == (1 if g.record.phones else 0)


@settings(max_examples=20)
@given(people())
def test_golden_record_of_one_group_merges_everything(recs: list[Customer]) -> None:
    g = golden_record(recs)
    assert _phone_keys([g.record]) == _phone_keys(recs)
    assert set(g.sources) == {r.id for r in recs}


@settings(max_examples=15)
@given(people(), people())
def test_matcher_json_round_trip_gives_identical_scores(train: list[Customer], other: list[Customer]) -> None:
    m = Matcher.fit(train)
    back = Matcher.from_json(m.to_json())
    assert Matcher.from_dict(json.loads(m.to_json())).to_dict() == m.to_dict()
    pickled = pickle.loads(pickle.dumps(m))
    for a in other[:4]:
        for b in train[:4]:
            s = m.score(a, b)
            assert back.score(a, b) == s
            assert pickled.score(a, b) == s
