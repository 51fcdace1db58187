"""Each fast path of dedupe pinned to its general path: a drift is a test failure."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from custdata.matching._compare import DEFAULT_FIELDS, _default_vector, compare_pair
from custdata.matching._features import Features

# small alphabets, so that equal, nearly equal and different values all come up often
_short = st.text(alphabet="abz 1", max_size=6)
_digits = st.text(alphabet="0123", min_size=0, max_size=11)


@st.composite
def features(draw: Any) -> Features:
    f = Features()
    f.id = draw(st.sampled_from(["a", "b", "c"]))
    f.script = draw(st.sampled_from(["latin", "cjk", "none"]))
    names = st.sampled_from(["", "wei", "wie", "li", "anna", "ann", "张", "张伟", "伟", "李"]) | _short
    f.given, f.family = draw(names), draw(names)
    f.given_ph, f.family_ph = draw(st.sampled_from(["", "w", "a5"])), draw(st.sampled_from(["", "l", "a5"]))
    f.name_key = f.family + f.given
    f.raw_name = draw(st.sampled_from(["", "张伟", "Wei Zhang", "Anna Li"]))
    f.pinyin = draw(st.sampled_from([None, "", "wei zhang", "anna li"]))
    f.phones = tuple(
        draw(
            st.lists(
                st.sampled_from(["+8613800138000", "+8613900138000", "13800138000"]) | _digits,
                max_size=3,
                unique=True,
            )
        )
    )
    f.lines = tuple(p for p in f.phones if draw(st.booleans()))
    f.emails = tuple(
        draw(
            st.lists(
                st.sampled_from(["a@x.cn", "a@y.cn", "b@x.cn", "ab@x.cn"]) | _short, max_size=3, unique=True
            )
        )
    )
    f.dob = draw(
        st.sampled_from(["", "19900102", "19900201", "19910102", "19900103", "00000102", "1856-86-"])
    )
    f.street, f.city = (
        draw(st.sampled_from(["", "main st", "main str", "1 main st", "high"]) | _short),
        draw(_short),
    )
    f.postcode, f.province, f.country = draw(_digits), draw(_short), draw(_short)
    f.ext = tuple(sorted(draw(st.dictionaries(st.sampled_from(["erp", "ssn"]), _digits, max_size=2)).items()))
    f.gender = draw(st.sampled_from(["", "m", "f"]))
    f.custom = tuple(
        sorted(
            draw(
                st.dictionaries(st.sampled_from(["place", "job"]), st.sampled_from(["a", "b"]), max_size=2)
            ).items()
        )
    )
    f.company = draw(st.sampled_from(["", "acme", "acme ltd", "zeta"]))
    return f


def _general(a: Features, b: Features) -> tuple[int, ...]:
    return tuple(fc.compare(a, b) for fc in DEFAULT_FIELDS)


@settings(max_examples=500)
@given(features(), features())
def test_default_vector_is_the_field_by_field_comparison(a: Features, b: Features) -> None:
    expected = _general(a, b)
    assert _default_vector(a, b) == expected
    assert compare_pair(DEFAULT_FIELDS, a, b) == expected
    # and with the sides exchanged
    assert _default_vector(b, a) == _general(b, a)
