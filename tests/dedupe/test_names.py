"""Names written the other way round, with a typo, as initials: the swap levels of ``given_name`` and the
veto that must not fire on them (Chinese names kept as they were)."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import assume, given, settings
from rapidfuzz.distance import OSA

import custdata.testing as cst
from custdata import Customer, PersonName
from custdata.matching import Matcher, dedupe
from custdata.matching._compare import (
    DEFAULT_FIELDS,
    DIFFERENT,
    EXACT,
    GIVEN_DIFFERENT,
    MISSING,
    ONE_PART,
    PHONETIC,
    SAME_LETTERS,
    SIMILAR,
    SWAPPED,
    SWAPPED_TYPO,
    WEAKLY_SIMILAR,
    _name_level,
    _names,
    _near,
    _swap_level,
    compare_pair,
)
from custdata.matching._features import Features, features_of, fold, phonetic
from custdata.matching._matcher import _guesses
from custdata.testing._names import (
    AWKWARD_FAMILY_CN,
    AWKWARD_GIVEN_CN,
    COMMON_FAMILY_LATIN,
    COMMON_GIVEN_LATIN,
)

POOL = sorted({fold(n) for n in COMMON_GIVEN_LATIN + COMMON_FAMILY_LATIN if " " not in fold(n)})
words = st.sampled_from(POOL) | st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=9)
long_words = words.filter(lambda w: len(w) >= 4)
cjk_family = st.sampled_from(AWKWARD_FAMILY_CN)
cjk_given = st.sampled_from(AWKWARD_GIVEN_CN)


def person(given: str, family: str, **more: object) -> Customer:
    return Customer.from_dict({"id": f"{given}|{family}", "name": {"given": given, "family": family}, **more})


def feat(given: str, family: str) -> Features:
    return features_of(Customer(id="x", name=PersonName(given=given, family=family)))


def level(x: str, y: str) -> int:
    return _name_level(x, y, phonetic(x), phonetic(y), False)


@settings(max_examples=300, deadline=None)
@given(words, words, words, words)
def test_name_levels_are_symmetric(g1: str, f1: str, g2: str, f2: str) -> None:
    a, b = feat(g1, f1), feat(g2, f2)
    assert _names(a, b) == _names(b, a)


def lone(word: str, *, slot: str = "given") -> Features:
    return features_of(Customer(id="x", name=PersonName(**{slot: word})))


@settings(max_examples=300, deadline=None)
@given(words, words, words, st.sampled_from(["given", "family"]))
def test_a_name_of_one_part_in_the_other_slot(g: str, f: str, w: str, slot: str) -> None:
    full, one = feat(g, f), lone(w, slot=slot)
    got = _names(full, one)
    assert got == _names(one, full)
    other, own = (f, g) if slot == "given" else (g, f)
    if w == other and w != own:
        assert got == (ONE_PART, MISSING)
    else:
        assert ONE_PART not in got


@settings(max_examples=300, deadline=None)
@given(cjk_given, cjk_family, cjk_given, cjk_family)
def test_chinese_name_levels_are_symmetric(g1: str, f1: str, g2: str, f2: str) -> None:
    a, b = feat(g1, f1), feat(g2, f2)
    assert _names(a, b) == _names(b, a)


@settings(max_examples=300, deadline=None)
@given(words, words)
def test_a_name_written_the_other_way_round_is_swapped(g: str, f: str) -> None:
    got = _names(feat(g, f), feat(f, g))
    if level(g, f) > SIMILAR:  # as written the two readings do not already agree
        assert got == (SWAPPED, MISSING)
    else:
        assert got[0] <= SIMILAR and got[1] <= SIMILAR


@settings(max_examples=400, deadline=None)
@given(long_words, long_words, st.data())
def test_a_swap_with_one_slip_is_swapped_with_a_typo(g: str, f: str, data: st.DataObject) -> None:
    slip = data.draw(cst.misspellings(g))
    assume(level(g, f) > SIMILAR and level(f, slip) > SIMILAR)
    a, b = feat(g, f), feat(f, slip)  # b: given and family the other way round, a slip in one
    assert _names(a, b) in ((SWAPPED_TYPO, MISSING), (SWAPPED, MISSING))


@settings(max_examples=300, deadline=None)
@given(words, words, words, words)
def test_a_swap_level_needs_the_names_the_other_way_round(g1: str, f1: str, g2: str, f2: str) -> None:
    a, b = feat(g1, f1), feat(g2, f2)
    gl, fl = _names(a, b)
    if gl in (SWAPPED, SWAPPED_TYPO):
        assert fl == MISSING
        cross = sorted((level(a.given, b.family), level(a.family, b.given)))
        assert cross[0] == EXACT or cross[1] <= 3
        assert level(a.given, b.given) > SIMILAR and level(a.family, b.family) > SIMILAR
    else:  # not a swap: the names as written
        straight = level(a.given, b.given)
        assert fl == level(a.family, b.family)
        assert gl == (GIVEN_DIFFERENT if straight == DIFFERENT else straight) or gl == SIMILAR  # nickname


@settings(max_examples=300, deadline=None)
@given(cjk_given, cjk_family, cjk_given, cjk_family)
def test_chinese_names_swap_only_exactly(g1: str, f1: str, g2: str, f2: str) -> None:
    a, b = feat(g1, f1), feat(g2, f2)
    gl, fl = _names(a, b)
    if gl == SWAPPED:
        assert a.name_key == b.name_key or (a.given == b.family and a.family == b.given)
        assert fl == MISSING
    else:  # the names as written, by character
        assert fl == _name_level(a.family, b.family, a.family, b.family, True)
    assert gl != SWAPPED_TYPO
    if a.given == b.given:
        assert gl == EXACT


def _plain_swap_level(a: Features, b: Features, g: int, f: int, cjk: bool) -> int:
    """The swap levels by their definition, every cross level computed (the general path)."""
    if a.name_key == b.name_key:
        return SWAPPED
    if not (_near(a.given, b.family) or _near(a.family, b.given)):
        return -1
    c1 = _name_level(a.given, b.family, a.given_ph, b.family_ph, cjk)
    c2 = _name_level(a.family, b.given, a.family_ph, b.given_ph, cjk)
    if c1 == EXACT and c2 == EXACT:
        return SWAPPED
    if cjk:
        return -1
    if max(c1, c2) <= WEAKLY_SIMILAR:
        return SWAPPED_TYPO if c1 + c2 < g + f else -1
    if EXACT in (c1, c2):
        x, y = (a.family, b.given) if c1 == EXACT else (a.given, b.family)
        initial = (len(x) == 1 or len(y) == 1) and x[0] == y[0]
        if max(c1, c2) <= SAME_LETTERS or OSA.distance(x, y) <= 1 or initial:
            return SWAPPED_TYPO
    return -1


similar_words = st.builds(
    lambda w, k, ch: w[:k] + ch + w[k + 1 :],
    st.sampled_from(POOL),
    st.integers(0, 3),
    st.sampled_from("aeiouhlnrst"),
)


@settings(max_examples=1000, deadline=None)
@given(*(words | similar_words for _ in range(4)))
def test_the_swap_level_agrees_with_its_definition(g1: str, f1: str, g2: str, f2: str) -> None:
    a, b = feat(g1, f1), feat(g2, f2)
    g, f = level(a.given, b.given), level(a.family, b.family)
    assume(g >= PHONETIC and f >= PHONETIC)
    assert _swap_level(a, b, g, f, False) == _plain_swap_level(a, b, g, f, False)


@settings(max_examples=300, deadline=None)
@given(cjk_given, cjk_family, cjk_given, cjk_family)
def test_the_chinese_swap_level_agrees_with_its_definition(g1: str, f1: str, g2: str, f2: str) -> None:
    a, b = feat(g1, f1), feat(g2, f2)
    g = _name_level(a.given, b.given, a.given, b.given, True)
    f = _name_level(a.family, b.family, a.family, b.family, True)
    assume(g >= PHONETIC and f >= PHONETIC)
    assert _swap_level(a, b, g, f, True) == _plain_swap_level(a, b, g, f, True)


def test_examples() -> None:
    assert _names(feat("elly", "charlotte"), feat("charlotte", "kelly")) == (SWAPPED_TYPO, MISSING)
    assert _names(feat("ava", "gonzalez"), feat("gonzalez", "lva")) == (SWAPPED_TYPO, MISSING)
    assert _names(feat("wei", "zhang"), feat("zhang", "wei")) == (SWAPPED, MISSING)
    assert _names(feat("smith", "j"), feat("john", "smith")) == (SWAPPED_TYPO, MISSING)
    assert _names(feat("james", "smith"), feat("mary", "smith")) == (GIVEN_DIFFERENT, EXACT)
    assert _names(feat("伟", "张"), feat("伟", "张")) == (EXACT, EXACT)
    assert _names(feat("伟", "张"), feat("芳", "张")) == (GIVEN_DIFFERENT, EXACT)
    assert _names(feat("伟", "张"), feat("张", "伟")) == (SWAPPED, MISSING)
    assert _names(feat("joseph", "bennett"), lone("bennett")) == (ONE_PART, MISSING)
    assert _names(feat("joseph", "bennett"), lone("joseph")) == (EXACT, MISSING)


@settings(max_examples=200, deadline=None)
@given(long_words, long_words, st.data())
def test_the_inlined_vector_agrees_with_the_field_functions_on_swaps(
    g: str, f: str, data: st.DataObject
) -> None:
    slip = data.draw(cst.misspellings(g))
    a = features_of(person(g, f, phones=[{"number": "13812345678"}], birthday="1980-02-03"))
    b = features_of(person(f, slip, phones=[{"number": "13812345687"}], birthday="1980-02-03"))
    assert compare_pair(DEFAULT_FIELDS, a, b) == tuple(fc.compare(a, b) for fc in DEFAULT_FIELDS)


@given(st.data())
def test_misspellings_refuses_a_single_letter(data: st.DataObject) -> None:
    from custdata.exceptions import ValidationError

    with pytest.raises(ValidationError):
        data.draw(cst.misspellings("a"))


def _matcher() -> Matcher:
    return Matcher(_guesses(DEFAULT_FIELDS))


def test_a_swapped_name_is_not_vetoed_but_a_stranger_is() -> None:
    m = _matcher()
    # given and family the other way round with a typo, a phone with two digits transposed
    a = person("Kelly", "Charlotte", phones=[{"number": "13812345678"}], birthday="1980-02-03")
    b = person("Charlotte", "Elly", phones=[{"number": "13812345687"}], birthday="1980-02-03")
    stranger = person("Mary", "Jones", phones=[{"number": "13812345678"}], birthday="1980-02-03")
    vec = compare_pair(DEFAULT_FIELDS, m.features(a), m.features(b))
    assert m._vetoed(vec) == ""
    assert m._vetoed(compare_pair(DEFAULT_FIELDS, m.features(b), m.features(stranger))) == "names_differ"
    e = m.explain(a, b)
    rows = {r.field: r for r in e.fields}
    assert rows["given_name"].level == "swapped_with_typo" and rows["given_name"].weight > 0
    assert rows["family_name"].level == "in_given_name" and rows["family_name"].weight == 0
    assert "veto" not in rows
    # a name of one part that is the other's family name, with a birthday clearly different: two people
    one = Customer.from_dict({"id": "o", "name": {"given": "Elly"}, "birthday": "1951-07-19"})
    vec = compare_pair(DEFAULT_FIELDS, m.features(b), m.features(one))
    assert vec[:2] == (ONE_PART, MISSING)
    assert m._vetoed(vec) == "given_name_and_birthday_differ"
    assert abs(e.prior_weight + sum(r.weight + r.tf_adjustment for r in e.fields) - e.weight) < 1e-9


def _swapped_people(n: int) -> tuple[list[Customer], set[tuple[str, str]]]:
    """``n`` people with distinct names and, for every other one, a second record with given and family
    names the other way round, the first letter of one of them mistyped, a phone with two digits transposed
    and the same birthday."""
    givens = [fold(x) for x in COMMON_GIVEN_LATIN if " " not in x]
    families = [fold(x) for x in COMMON_FAMILY_LATIN if " " not in x]
    assert n <= len(givens) * len(families)
    out: list[Customer] = []
    truth = set()
    for k in range(n):
        g, f = givens[k % len(givens)], families[(k // len(givens)) % len(families)]
        phone = f"1{3 + k % 6}{k * 7919 % 10**9:09d}"
        day = f"19{50 + k * 7 % 50}-{1 + k * 5 % 12:02d}-{1 + k * 11 % 28:02d}"
        a = Customer.from_dict(
            {
                "id": f"p{k}a",
                "name": {"given": g, "family": f},
                "phones": [{"number": phone}],
                "birthday": day,
            }
        )
        out.append(a)
        if k % 2:
            continue
        first = "q" if f[0] != "q" else "x"
        slipped = phone[:6] + phone[7] + phone[6] + phone[8:]
        b = Customer.from_dict(
            {
                "id": f"p{k}b",
                "name": {"given": first + f[1:], "family": g},
                "phones": [{"number": slipped}],
                "birthday": day,
            }
        )
        out.append(b)
        truth.add((a.id, b.id))
    return out, truth


def test_swapped_and_mistyped_names_with_a_slipped_phone_are_found() -> None:
    # before the swap levels: each pair was vetoed as names_differ (a typo in the first letter hid the swap)
    records, truth = _swapped_people(600)
    result = dedupe(records, workers=1)
    pred = {tuple(sorted(c)) for c in result.clusters if len(c) == 2}
    assert all(len(c) <= 2 for c in result.clusters)
    found = len(pred & truth)
    assert found >= 0.95 * len(truth), found
    assert pred <= truth


@pytest.mark.parametrize("old", ["custdata.matcher/1", "custdata.matcher/2"])
def test_a_matcher_saved_with_fewer_name_levels_says_to_fit_again(old: str) -> None:
    from custdata.exceptions import ValidationError

    saved = _matcher().to_dict()
    assert saved["format"] == "custdata.matcher/3"
    with pytest.raises(ValidationError, match="fit it again"):
        Matcher.from_dict({**saved, "format": old})
    assert Matcher.from_dict(saved).to_dict() == saved
