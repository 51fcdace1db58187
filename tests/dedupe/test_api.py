"""dedupe, link, explain, golden records, Matcher and rules on small hand-made examples."""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path

import attrs
import pytest

import custdata
from custdata import Customer
from custdata.exceptions import CustdataError, NotFoundError, ValidationError
from custdata.matching import (
    FSModel,
    LargeBlockWarning,
    Matcher,
    MatchSettings,
    dedupe,
    golden_record,
    link,
    source_priority,
)


def c(id: str, **kw: object) -> Customer:
    return Customer.from_dict({"id": id, **kw})


PEOPLE = [
    c(
        "a",
        name={"full": "张伟"},
        phones=[{"number": "138 0013 8000"}],
        birthday="1990-01-02",
        updated_at="2025-01-01T00:00:00Z",
        channel="store",
        tags=["vip"],
    ),
    c(
        "b",
        name={"family": "张", "given": "伟"},
        phones=[{"number": "+8613800138000"}],
        birthday="1990-02-01",
        emails=[{"address": "zhangwei@qq.com"}],
        external_ids={"erp": "E1"},
        updated_at="2026-01-01T00:00:00Z",
        channel="website",
        company="ACME",
    ),
    c("c", name={"full": "李娜"}, phones=[{"number": "13900139000"}], birthday="1985-05-06"),
    c(
        "d",
        name={"given": "John", "family": "Smith"},
        emails=[{"address": "J.Smith+shop@gmail.com"}],
        birthday="1970-03-04",
    ),
    c(
        "e",
        name={"full": "Jon Smith"},
        emails=[{"address": "jsmith@gmail.com"}],
        birthday="1970-03-04",
        phones=[{"number": "+1 415 555 0100"}],
    ),
    c("f", name={"full": "Mary Jones"}, emails=[{"address": "mary@example.com"}], birthday="1991-09-09"),
]


def test_dedupe_finds_the_duplicates_and_is_callable_from_the_top_level() -> None:
    for result in (dedupe(PEOPLE), custdata.dedupe(PEOPLE)):
        assert set(result.clusters) == {frozenset("ab"), frozenset("c"), frozenset("de"), frozenset("f")}
        assert result.cluster_ids["b"] == "a"
        assert len(result.pairs) >= 2
        assert all(0.0 <= p.probability <= 1.0 for p in result.pairs)


def test_explain_shows_levels_and_weights() -> None:
    result = dedupe(PEOPLE)
    e = result.explain("a", "b")
    levels = {f.field: f.level for f in e.fields}
    assert levels["phone"] == "exact"
    assert levels["birthday"] == "day_month_swapped"
    assert levels["email"] == "missing"
    assert next(f for f in e.fields if f.field == "email").weight == 0.0  # missing is neutral
    assert "phone" in str(e) and e.is_match
    json.dumps(e.to_dict())
    with pytest.raises(NotFoundError):
        result.explain("a", "nobody")


def test_golden_records_rules_and_provenance() -> None:
    result = dedupe(PEOPLE)
    g = next(g for g in result.golden_records() if g.id == "a")
    assert g.sources == ("a", "b")
    assert [p.number for p in g.record.phones] == ["+8613800138000"]  # the newest record's form
    assert g.provenance["phones"]["+8613800138000"] == ["b", "a"]
    assert g.record.emails[0].address == "zhangwei@qq.com" and g.provenance["emails"]["zhangwei@qq.com"] == [
        "b"
    ]
    assert g.record.tags == {"vip"} and g.record.external_ids == {"erp": "E1"}
    assert g.record.company == "ACME" and g.provenance["company"] == "b"

    store_first = result.golden_records(rules={"birthday": source_priority(["store", "website"])})
    assert next(x for x in store_first if x.id == "a").record.birthday.month == 1  # type: ignore[union-attr]
    custom = result.golden_records(rules={"birthday": lambda cands: min(v for v, _ in cands)})
    assert str(next(x for x in custom if x.id == "a").record.birthday) == "1990-01-02"
    only_dups = result.golden_records(singletons=False)
    assert {x.id for x in only_dups} == {"a", "d"}
    with pytest.raises(ValidationError):
        result.golden_records(rules={"birthday": "newest"})
    with pytest.raises(ValidationError):
        golden_record([])


def test_golden_record_keeps_conflicting_external_ids() -> None:
    g = golden_record([c("x", external_ids={"erp": "1"}), c("y", external_ids={"erp": "2"})])
    assert sorted(g.record.external_ids.values()) == ["1", "2"]


def test_link_one_to_one_and_many() -> None:
    left = [PEOPLE[0], PEOPLE[3]]
    right = [
        PEOPLE[1],
        PEOPLE[4],
        c("e2", name={"full": "Jon Smith"}, emails=[{"address": "jsmith@gmail.com"}], birthday="1970-03-04"),
    ]
    one = link(left, right)
    assert ("a", "b") in one.links and len(one.links) == 2
    many = link(left, right, one_to_one=False, matcher=one.matcher)
    assert {("d", "e"), ("d", "e2")} <= many.links
    assert one.explain("a", "b").is_match


def test_matcher_match_candidates_and_store(tmp_path: Path) -> None:
    matcher = dedupe(PEOPLE).matcher
    query = c("new", name={"full": "张 伟"}, phones=[{"number": "13800138000"}])
    hits = matcher.match(query, PEOPLE)
    assert [h.record_id for h in hits] == ["a", "b"] or [h.record_id for h in hits] == ["b", "a"]
    store = custdata.open_store("memory://")
    store.upsert_many(PEOPLE)
    from_store = matcher.match(query, store)
    assert {h.record_id for h in from_store} == {"a", "b"}
    assert matcher.match(c("x", name={"full": "王芳"}), store) == []

    path = tmp_path / "m.json"
    matcher.save(path)
    back = Matcher.load(path)
    assert back.score(PEOPLE[0], PEOPLE[1]) == matcher.score(PEOPLE[0], PEOPLE[1])
    with pytest.raises(ValidationError):
        Matcher.from_dict({"format": "something else"})
    with pytest.raises(ValidationError, match="not valid JSON"):
        Matcher.from_json("{not json")
    with pytest.raises(ValidationError, match="JSON object"):
        FSModel.from_json("[1, 2]")
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(ValidationError):
        Matcher.load(tmp_path / "bad.json")


def test_to_json_is_text_and_to_dict_the_dict() -> None:
    matcher = dedupe(PEOPLE).matcher
    text = matcher.to_json()
    assert isinstance(text, str)
    assert json.loads(text) == matcher.to_dict()
    assert Matcher.from_json(text).to_dict() == matcher.to_dict()
    with pytest.warns(DeprecationWarning, match="from_dict") as warned:
        old = Matcher.from_json(matcher.to_dict())
    assert warned[0].filename == __file__  # the warning points at the caller
    assert old.to_dict() == matcher.to_dict()
    model = matcher.model
    assert isinstance(model, FSModel)
    assert isinstance(model.to_json(), str)
    assert FSModel.from_json(model.to_json()).to_dict() == model.to_dict()
    with pytest.warns(DeprecationWarning, match="from_dict"):
        FSModel.from_json(model.to_dict())


def test_refine_with_labelled_pairs() -> None:
    matcher = dedupe(PEOPLE).matcher
    refined = matcher.refine([(PEOPLE[0], PEOPLE[1], True), (PEOPLE[2], PEOPLE[5], False)])
    assert refined.score(PEOPLE[0], PEOPLE[1]) > 0.9
    assert refined.score(PEOPLE[2], PEOPLE[5]) < 0.5


def test_rules_instead_of_a_model() -> None:
    result = dedupe(PEOPLE, rules=[{"phone": "exact"}])
    assert frozenset("ab") in result.clusters and frozenset("d") in result.clusters
    back = Matcher.from_json(result.matcher.to_json())
    assert back.score(PEOPLE[0], PEOPLE[1]) == 1.0


def test_a_pathological_block_is_capped_with_a_warning() -> None:
    office = [
        c(f"o{k}", name={"full": f"Person{chr(65 + k % 26)} Number{k}"}, phones=[{"number": "010 6552 9988"}])
        for k in range(60)
    ]
    with pytest.warns(LargeBlockWarning):
        result = dedupe(office, max_block_size=20)
    assert result.blocking.capped_blocks["phone"] == 1
    assert len(result.pairs) < 60 * 59 // 2


def test_bad_input() -> None:
    with pytest.raises(ValidationError):
        dedupe([PEOPLE[0], PEOPLE[0]])
    with pytest.raises(ValidationError):
        dedupe([{"id": "x"}])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        dedupe(PEOPLE, threshold=1.5)
    with pytest.raises(ValidationError):
        dedupe(PEOPLE, passes=["nonsense"])
    with pytest.raises(CustdataError):
        dedupe(PEOPLE, passes=["nonsense"])


def test_tiny_inputs() -> None:
    assert dedupe([]).clusters == ()
    assert dedupe([PEOPLE[0]]).clusters == (frozenset("a"),)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert link([], PEOPLE).links == set()


def test_dedupe_and_link_share_one_settings_object() -> None:
    s = MatchSettings(threshold=0.95, window=4, workers=1)
    res = dedupe(PEOPLE, settings=s)
    assert res.settings == s
    # a keyword changes one setting on top of the object
    res2 = dedupe(PEOPLE, settings=s, threshold=0.8)
    assert res2.settings == attrs.evolve(s, threshold=0.8)
    assert res2.threshold == 0.8
    lk = link(PEOPLE[:2], PEOPLE[2:], settings=s)
    assert lk.settings == s and lk.threshold == 0.95
    assert dedupe(PEOPLE).settings == MatchSettings()
    with pytest.raises(ValidationError):
        MatchSettings(threshold=1.5)
    with pytest.raises(ValidationError):
        MatchSettings(workers=0)


def test_n_jobs_is_a_deprecated_spelling_of_workers() -> None:
    with pytest.warns(DeprecationWarning, match="workers=") as rec:
        res = dedupe(PEOPLE, n_jobs=1)
    assert res.settings.workers == 1
    # the warning points at the user's call, not inside custdata (Python 3.12+ may add its own
    # DeprecationWarning about fork() in a multi-threaded process when workers start: not ours)
    assert [w.filename for w in rec if "workers=" in str(w.message)] == [__file__]
    with pytest.warns(DeprecationWarning, match="workers=") as rec:
        lk = link(PEOPLE[:2], PEOPLE[2:], n_jobs=2)
    assert lk.settings.workers == 2
    assert [w.filename for w in rec if "workers=" in str(w.message)] == [__file__]
    with pytest.raises(ValidationError, match="n_jobs"):
        dedupe(PEOPLE, n_jobs="2")  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dedupe(PEOPLE, workers=1).settings.workers == 1


def test_golden_birthday_is_the_most_complete_and_says_its_rule() -> None:
    # before: the year-less birthday won as the most frequent value
    members = [
        c("g1", name={"full": "Anna Li"}, birthday="1975-11-25", updated_at="2020-01-01T00:00:00Z"),
        c("g2", name={"full": "Anna Li"}, birthday="--11-25", updated_at="2025-01-01T00:00:00Z"),
        c("g3", name={"full": "Anna Li"}, birthday="--11-25", updated_at="2024-01-01T00:00:00Z"),
    ]
    g = golden_record(members)
    assert str(g.record.birthday) == "1975-11-25"
    assert g.provenance["birthday"] == "g1"
    assert g.provenance["rules"]["birthday"] == "most_complete"


def test_golden_name_never_comes_from_a_record_whose_given_name_disagrees() -> None:
    members = [
        c("n1", name={"given": "Anna", "family": "Li"}),
        c("n2", name={"given": "Anna", "family": "Li"}),
        c("n3", name={"given": "Bartholomew", "family": "Li", "full": "Bartholomew Li"}),  # most complete
    ]
    g = golden_record(members)
    assert g.record.name.given == "Anna"
    assert g.provenance["name"] in {"n1", "n2"}


def test_pairs_are_looked_up_by_two_record_ids() -> None:
    res = dedupe(PEOPLE, workers=1)
    first = res.pairs[0]
    assert res.pairs[(first.id_a, first.id_b)] == first
    assert res.pairs[(first.id_b, first.id_a)] == first  # either order
    assert (first.id_a, first.id_b) in res.pairs
    for p in res.pairs:
        assert res.pairs[(p.id_a, p.id_b)] == p
    compared = {frozenset((p.id_a, p.id_b)) for p in res.pairs}
    ids = [r.id for r in PEOPLE]
    missing = next((a, b) for a in ids for b in ids if a < b and frozenset((a, b)) not in compared)
    assert missing not in res.pairs
    with pytest.raises(NotFoundError):
        res.pairs[missing]
    with pytest.raises(NotFoundError):
        res.pairs[("a", "nobody")]
    lk = link(PEOPLE[:2], PEOPLE[2:], workers=1)
    for p in lk.pairs:
        assert lk.pairs[(p.id_a, p.id_b)] == p


def test_sort_neighbours_that_agree_on_nothing_else_are_sampled_for_the_model_not_compared() -> None:
    from custdata.matching._blocking import SAMPLE_EVERY, corroborated, plan_blocks
    from custdata.matching._compare import DEFAULT_FIELDS
    from custdata.matching._features import features_of
    from custdata.matching._pairs import ScoredPairs

    # one family name and unlike given names: sort neighbours are strangers, a few share a birth year
    rnd = random.Random(5)
    people = [
        c(
            f"p{k:03d}",
            name={"given": "".join(rnd.choice("bcdfgklmnprstvz") for _ in range(7)), "family": "li"},
            birthday=f"{1950 + k % 40}-{1 + k % 12:02d}-{1 + k % 28:02d}",
        )
        for k in range(400)
    ]
    feats = [features_of(c) for c in people]
    plan = plan_blocks(feats, passes=["sorted_family_given"], workers=1)
    sample: set[int] = set()
    codes, _ = plan.pairs(0, len(feats), sample)
    assert codes and sample and not codes & sample
    for code in codes:
        assert corroborated(feats[code >> 32], feats[code & 0xFFFFFFFF])
    for code in sample:
        assert not corroborated(feats[code >> 32], feats[code & 0xFFFFFFFF])
    scored, _ = ScoredPairs.block_and_compare(
        feats, plan_blocks(feats, passes=["sorted_family_given"], workers=1), DEFAULT_FIELDS
    )
    assert len(scored) == len(codes)
    assert sum(scored.unscored.values()) == SAMPLE_EVERY * len(sample)


def test_a_phone_many_people_share_weighs_less_than_one_two_records_share() -> None:
    rnd = random.Random(3)
    recs = []
    for k in range(40):  # forty people, each twice, each with their own mobile
        given = "".join(rnd.choice("bcdfgklmnprstvz") for _ in range(6))
        for copy in range(2):
            recs.append(
                c(
                    f"p{k:02d}-{copy}",
                    name={"given": given, "family": "wang"},
                    phones=[{"number": f"139{k:08d}"}],
                    birthday=f"{1960 + k}-03-0{1 + copy}",
                )
            )
    for k in range(8):  # eight more people on one number
        recs.append(c(f"s{k}", name={"given": f"x{k}yz", "family": "li"}, phones=[{"number": "13800138000"}]))
    res = dedupe(recs, workers=1)

    def phone_tf(a: str, b: str) -> float:
        row = next(f for f in res.explain(a, b).fields if f.field == "phone")
        assert row.level == "exact"
        return row.tf_adjustment

    crowded, own = phone_tf("s0", "s1"), phone_tf("p00-0", "p00-1")
    assert crowded < -1.0 < own
    assert "(tf " in str(res.explain("s0", "s1"))
    saved = res.matcher.to_json()
    assert "13800138000" not in saved  # the table keys are hashed


def test_traditional_and_simplified_chinese_names_compare_as_one() -> None:
    pytest.importorskip("opencc")
    trad = c(
        "t", name={"family": "歐陽", "given": "娜娜"}, birthday="1990-05-06", emails=[{"address": "x@qq.com"}]
    )
    simp = c("s", name={"family": "欧阳", "given": "娜娜"}, birthday="1990-05-06")
    other = c("o", name={"family": "張", "given": "偉"}, birthday="1990-05-07")
    res = dedupe([trad, simp, other, c("z", name={"family": "张", "given": "伟"}, birthday="1990-05-07")])
    levels = {f.field: f.level for f in res.explain("t", "s").fields}
    assert levels["family_name"] == "exact" and levels["given_name"] == "exact"
    assert {f.field: f.level for f in res.explain("o", "z").fields}["family_name"] == "exact"


def test_without_opencc_chinese_names_are_compared_as_written_and_a_warning_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from custdata.exceptions import CustdataWarning
    from custdata.matching import _features

    monkeypatch.setattr(_features, "_t2s", [None])
    monkeypatch.setattr(_features, "_t2s_cache", {})
    recs = [
        c("t", name={"family": "歐陽", "given": "娜娜"}),
        c("s", name={"family": "欧阳", "given": "娜娜"}),
    ]
    with pytest.warns(CustdataWarning, match=r"custdata\[names\]"):
        res = dedupe(recs, workers=1)
    assert {f.field: f.level for f in res.explain("t", "s").fields}["family_name"] != "exact"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dedupe(
            [c("a", name={"full": "Ann Lee"}), c("b", name={"full": "Ann Lee"})], workers=1
        )  # no CJK: quiet
