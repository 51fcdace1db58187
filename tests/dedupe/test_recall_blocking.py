"""The corroborated exact-name pass pinned to its general path, and the birthday-sample weighting of EM."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custdata.matching._blocking import (
    DEFAULT_PASSES,
    EXTRA_PASSES,
    ON_REQUEST_PASSES,
    candidate_pairs,
    decode,
    plan_blocks,
)
from custdata.matching._features import Features
from custdata.matching._model import fit_em


@st.composite
def _record(draw: Any) -> Features:
    """Few values per field, so that namesakes who share (or do not share) something else come up often."""
    f = Features()
    f.given = draw(st.sampled_from(["wei", "anna", "伟"]))
    f.family = draw(st.sampled_from(["zhang", "li"]))
    f.name_key = draw(st.sampled_from([f"{f.family} {f.given}", ""]))
    f.dob = draw(st.sampled_from(["", "19900102", "19910102", "19900201", "00000102", "00000201"]))
    f.phones = tuple(
        draw(
            st.lists(
                st.sampled_from(["+8613800138000", "13800138000", "+8613900000001"]), max_size=2, unique=True
            )
        )
    )
    f.emails = tuple(
        draw(st.lists(st.sampled_from(["wz@qq.com", "wz@163.com", "al@qq.com"]), max_size=2, unique=True))
    )
    f.postcode = draw(st.sampled_from(["", "100000", "200000"]))
    f.city = draw(st.sampled_from(["", "北京市", "上海市"]))
    f.street = draw(st.sampled_from(["", "中山路1号", "人民路2号"]))
    f.ext = tuple(
        draw(st.dictionaries(st.sampled_from(["erp"]), st.sampled_from(["1", "2"]), max_size=1)).items()
    )
    f.custom = tuple(
        draw(st.dictionaries(st.sampled_from(["job"]), st.sampled_from(["a", "b"]), max_size=1)).items()
    )
    return f


def _shares_more_than_the_name(a: Features, b: Features) -> bool:
    """The general path: two namesakes that agree on a cheap second value."""
    if a.dob and b.dob and (a.dob[:4] == b.dob[:4] != "0000" or a.dob[4:] == b.dob[4:]):
        return True
    if {p[-8:] for p in a.phones} & {p[-8:] for p in b.phones}:
        return True
    if {e.partition("@")[0] for e in a.emails} & {e.partition("@")[0] for e in b.emails}:
        return True
    return any(
        x and x == y for x, y in ((a.postcode, b.postcode), (a.city, b.city), (a.street, b.street))
    ) or bool(set(a.ext) & set(b.ext) or set(a.custom) & set(b.custom))


@settings(max_examples=300, deadline=None)
@given(st.lists(_record(), min_size=2, max_size=12))
def test_corroborated_name_pass_is_the_name_pass_filtered(feats: list[Features]) -> None:
    for k, f in enumerate(feats):
        f.id = str(k)
    fast, _ = candidate_pairs(feats, passes=["name_corroborated"], max_block_size=1000)
    whole, _ = candidate_pairs(feats, passes=["name"], max_block_size=1000)
    general = {c for c in whole if _shares_more_than_the_name(*(feats[i] for i in decode(c)))}
    assert fast == general
    # and the exact-name pass without the filter is the pairs of namesakes
    namesakes = {
        (i << 32) | j
        for i, j in itertools.combinations(range(len(feats)), 2)
        if feats[i].name_key and feats[i].name_key == feats[j].name_key
    }
    assert whole == namesakes


def test_the_corroborated_name_pass_is_on_request_only() -> None:
    assert "name_corroborated" in ON_REQUEST_PASSES and "name_corroborated" not in DEFAULT_PASSES
    assert "name" in EXTRA_PASSES


def _filled(f: Features) -> Features:
    for slot in Features.__slots__:  # the fields no pass reads
        if not hasattr(f, slot):
            setattr(f, slot, () if slot in ("lines", "custom", "ext") else "")
    return f


@settings(max_examples=150, deadline=None)
@given(st.lists(_record().map(_filled), min_size=2, max_size=12))
def test_by_default_a_kept_whole_name_pass_proposes_only_namesakes_who_share_something_else(
    feats: list[Features],
) -> None:
    for k, f in enumerate(feats):
        f.id = str(k)
    plan = plan_blocks(feats, max_block_size=1000, workers=1)
    kept = [name for name, _, _ in plan.passes]
    whole, _ = candidate_pairs(feats, passes=["name"], max_block_size=1000)
    n = len(feats)
    # left out beyond 5 pairs a record, whole up to 1, corroborated in between
    assert ("name" in plan.stats.skipped_passes) == (len(whole) > 5 * n)
    assert ("name" in kept) == (len(whole) <= n)
    assert ("name_corroborated" in kept) == (n < len(whole) <= 5 * n)
    by_default, _ = candidate_pairs(feats, max_block_size=1000)
    corroborated_namesakes = {c for c in whole if _shares_more_than_the_name(*(feats[i] for i in decode(c)))}
    if len(whole) <= 5 * n:
        assert corroborated_namesakes <= by_default
    if len(whole) <= n:
        assert whole <= by_default
    # with the whole-name pass asked for by name, it is the whole-name pass
    asked = plan_blocks(feats, passes=["name"], max_block_size=1000, workers=1)
    assert [name for name, _, _ in asked.passes] == ["name"]


def _mixture(prior: float, m: list[list[float]], u: list[list[float]], *, factor: float) -> dict[Any, float]:
    """Expected pattern counts of a model over a million pairs, the non-matches at level 0 of
    field 0 made ``factor`` times as common (as a sample of whole birthdays makes strangers born the same
    day)."""
    out: dict[Any, float] = {}
    for vec in itertools.product(*(range(len(row)) for row in m)):
        pm = prior * math.prod(m[f][lvl] for f, lvl in enumerate(vec))
        pu = (1 - prior) * math.prod(u[f][lvl] for f, lvl in enumerate(vec))
        out[vec] = 1e6 * (pm + pu * (factor if vec[0] == 0 else 1.0))
    return out


def test_em_on_a_birthday_sample_learns_the_model_of_a_random_sample() -> None:
    m = [[0.9, 0.05, 0.05], [0.8, 0.2], [0.7, 0.3]]
    u = [[0.02, 0.08, 0.9], [0.1, 0.9], [0.05, 0.95]]
    kw: dict[str, Any] = {"n_levels": [3, 2, 2], "fields": ["birthday", "name", "city"]}
    kw.update(
        m_init=[[0.8, 0.1, 0.1], [0.7, 0.3], [0.6, 0.4]], u_init=[[0.1, 0.1, 0.8], [0.2, 0.8], [0.1, 0.9]]
    )
    plain = fit_em(_mixture(0.05, m, u, factor=1.0), **kw)  # type: ignore[arg-type]
    oversampled = _mixture(0.05, m, u, factor=10.0)
    weighted = fit_em(oversampled, oversampled=(0, 0, 10.0), **kw)  # type: ignore[arg-type]
    unweighted = fit_em(oversampled, **kw)  # type: ignore[arg-type]
    w_plain, w_weighted, w_unweighted = (x.level_weights()[0][0] for x in (plain, weighted, unweighted))
    assert abs(w_weighted - w_plain) < 0.05
    assert abs(weighted.prior - plain.prior) < 0.002
    # without the weighting a shared birthday counts about log2(10) bits less: what grew with the input
    assert w_plain - w_unweighted > 2.0


@pytest.mark.parametrize(
    ("namesakes", "others", "expected"),
    [(2, 0, "name"), (3, 3, "name"), (5, 0, "name_corroborated"), (12, 0, None)],
)
def test_the_whole_name_pass_by_how_many_namesake_pairs_a_record_it_proposes(
    namesakes: int, others: int, expected: str | None
) -> None:
    feats = []
    for k in range(namesakes + others):
        f = _filled(Features())
        f.id, f.given, f.family, f.dob = str(k), "wei", "zhang", f"1990{1 + k % 12:02d}{1 + k:02d}"
        f.name_key = "zhang wei" if k < namesakes else f"li x{k}"
        feats.append(f)
    plan = plan_blocks(feats, max_block_size=1000, workers=1)
    kept = {name for name, _, _ in plan.passes} & {"name", "name_corroborated"}
    # up to a pair a record: the whole name; up to five: namesakes sharing more; beyond: left out
    assert kept == ({expected} if expected else set())
    assert ("name" in plan.stats.skipped_passes) == (expected is None)
