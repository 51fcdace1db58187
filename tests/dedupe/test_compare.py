"""Field comparisons (the shortcut that skips pypinyin when a Latin name cannot be a pinyin spelling) and
the features they read."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custdata import Customer
from custdata.matching._compare import (
    _SYLLABLES,
    DIFFERENT,
    GIVEN_DIFFERENT,
    MISSING,
    _names,
    _pinyin,
    _spellable,
)
from custdata.matching._features import Features, features_of
from custdata.normalization import normalize_name

pypinyin = pytest.importorskip("pypinyin")

HAN_NAMES = [
    "张伟",
    "欧阳娜娜",
    "王秀英",
    "李",
    "单田芳",
    "曾子涵",
    "䑮明",
    "女娲",
    "略",
    "吕布",
    "先生",
    "王先生",
]
LATIN_NAMES = [
    "Wei Zhang",
    "Zhang Wei",
    "Ouyang Nana",
    "Shan Tianfang",
    "nv wa",
    "Lyu Bu",
    "Lu Bu",
    "Xiansheng",
    "James Smith",
    "Anna Lee",
    "Liam",
    "Zhang Wei Jr",
    "Wei Zhang Ming",
    "O'Brien",
    "José Núñez",
    "Dr Li Ming",
    "li",
    "Xiao-Ming Li",
]


def _reference(a: Features, b: Features) -> tuple[int, int]:
    """The cross-script comparison computed the long way: both pinyin keys, then equality."""

    def key(f: Features) -> str:
        try:
            return normalize_name(f.raw_name).pinyin_key
        except (ImportError, ValueError):
            return ""

    ka, kb = key(a), key(b)
    if not ka or not kb:
        return MISSING, MISSING
    return (1, 1) if ka == kb else (GIVEN_DIFFERENT, DIFFERENT)


def _feature(name: str) -> Features:
    return features_of(Customer.from_dict({"id": name, "name": {"full": name}}))


def test_every_reading_pypinyin_gives_is_a_known_syllable() -> None:
    from pypinyin import Style, lazy_pinyin
    from pypinyin.pinyin_dict import pinyin_dict
    from pypinyin.style import convert

    from custdata.normalization._name import _SURNAME_PINYIN, _fold

    def syllable(p: str) -> str:
        return _fold(p)

    for cp in [*range(0x3400, 0x4DC0), *range(0x4E00, 0xA000)]:
        for p in lazy_pinyin(chr(cp)):
            assert syllable(p) in _SYLLABLES or not p.isascii(), (hex(cp), p)
    for readings in pinyin_dict.values():
        for r in readings.split(","):
            for strict in (True, False):
                assert syllable(convert(r, Style.NORMAL, strict=strict)) in _SYLLABLES, r
    from pypinyin.phrases_dict import phrases_dict

    for phrase in phrases_dict.values():  # lazy_pinyin reads a name by phrases, then by characters
        for readings in phrase:
            for r in readings:
                assert syllable(convert(r, Style.NORMAL, strict=True)) in _SYLLABLES, r
    for surname in _SURNAME_PINYIN.values():
        assert _spellable(_fold(surname)), surname


def test_spellable() -> None:
    assert _spellable("wei zhang") and _spellable("ouyang nana") and _spellable("lve")
    assert not _spellable("james smith") and not _spellable("wei zhangx")
    assert not _spellable("zhang wei ming")  # a Chinese name's key has at most two words
    # anything but lower-case ASCII words is left to the full comparison
    assert _spellable("") and _spellable("josé") and _spellable("li  ming") and _spellable("o'brien")


def test_a_skipped_key_is_computed_when_needed() -> None:
    han, latin = _feature("张伟"), _feature("James Smith")
    assert _names(han, latin) == (GIVEN_DIFFERENT, DIFFERENT)
    assert _pinyin(han) == "wei zhang" and han.pinyin == "wei zhang"
    assert _names(han, _feature("Zhang Wei")) == (1, 1)


@pytest.mark.parametrize("han", HAN_NAMES)
@pytest.mark.parametrize("latin", LATIN_NAMES)
def test_cross_script_names_agree_with_the_full_computation(han: str, latin: str) -> None:
    a, b = _feature(han), _feature(latin)
    assert a.script == "cjk"
    assert _names(a, b) == _reference(_feature(han), _feature(latin))
    assert _names(_feature(latin), _feature(han)) == _reference(_feature(han), _feature(latin))


@settings(max_examples=300, deadline=None)
@given(
    han=st.text(
        alphabet=st.sampled_from("张伟欧阳娜秀英李单田芳曾子涵吕布女娲明先生䑮略"), min_size=1, max_size=4
    ),
    latin=st.lists(
        st.sampled_from(["zhang", "wei", "ou", "yang", "na", "lv", "nv", "bu", "x", "smith", "li", "ming"]),
        min_size=1,
        max_size=3,
    ).map(" ".join),
)
def test_cross_script_property(han: Any, latin: Any) -> None:
    assert _names(_feature(han), _feature(latin)) == _reference(_feature(han), _feature(latin))


def test_features_survive_pickling_slot_by_slot() -> None:
    import inspect
    import pickle

    from custdata.matching._features import _rebuild

    assert list(inspect.signature(_rebuild).parameters) == list(Features.__slots__)
    f = features_of(
        Customer.from_dict(
            {
                "id": "x1",
                "name": {"full": "张伟"},
                "phones": [{"number": "13800138000"}],
                "emails": [{"address": "a@qq.com"}],
                "birthday": "1990-01-02",
                "gender": "male",
                "company": "ACME",
                "external_ids": {"erp": "A-1"},
                "addresses": [
                    {"country": "CN", "city": "北京市", "street": "中山路1号", "postal_code": "100000"}
                ],
            }
        )
    )
    f.pinyin = "wei zhang"
    g = pickle.loads(pickle.dumps(f))
    assert all(getattr(g, k) == getattr(f, k) for k in Features.__slots__)


def test_nicknames_of_one_formal_name_are_similar_given_names() -> None:
    pytest.importorskip("nicknames")
    a = features_of(Customer(id="a", name={"given": "Dickie", "family": "Langrish"}))
    b = features_of(Customer(id="b", name={"given": "Richard", "family": "Langrish"}))
    c = features_of(Customer(id="c", name={"given": "Edward", "family": "Langrish"}))
    assert _names(a, b) == (1, 0)
    assert _names(a, c)[0] == GIVEN_DIFFERENT
