"""Each fast path of dedupe pinned to its general path: a drift is a test failure."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import OSA, JaroWinkler

from custdata.exceptions import InvalidPhoneError
from custdata.matching._blocking import corroborated
from custdata.matching._compare import DEFAULT_FIELDS, _default_vector, _dob, compare_pair, pinyin_of
from custdata.matching._features import Features, fold, folded
from custdata.normalization import normalize_name, normalize_phone
from custdata.normalization._phone import phone_match_key
from custdata.testing import phones

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


def _dob_reference(x: str, y: str) -> int:
    """The birthday levels as first written: every test in order, no shortcut."""
    import datetime as dt

    if not x or not y:
        return -1
    if x == y:
        return 0
    if x[:4] == "0000" or y[:4] == "0000":
        return 1 if x[4:] == y[4:] else 5
    if x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]:
        return 1
    if OSA.distance(x, y) <= 1:
        return 2
    if x[4:] == y[4:] and x[:4].isdigit() and y[:4].isdigit() and abs(int(x[:4]) - int(y[:4])) == 1:
        return 3
    try:
        days = abs(
            (
                dt.date(int(x[:4]), int(x[4:6]), int(x[6:8])) - dt.date(int(y[:4]), int(y[4:6]), int(y[6:8]))
            ).days
        )
    except ValueError:
        days = 1 << 30
    return 4 if days <= 45 else 5


_dates = st.dates(min_value=dt.date(1899, 11, 1), max_value=dt.date(1901, 2, 1)).map(
    lambda d: d.strftime("%Y%m%d")
)
_odd_dates = st.sampled_from(["", "00000102", "18568618", "1900-1-2", "19001301", "abcd0101", "19000230"])


@settings(max_examples=1000)
@given(_dates | _odd_dates, _dates | _odd_dates)
def test_birthday_level_shortcut_is_the_reference(x: str, y: str) -> None:
    a, b = Features(), Features()
    a.dob, b.dob = x, y
    assert _dob(a, b) == _dob_reference(x, y)


@settings(max_examples=300)
@given(features(), features())
def test_a_corroborated_pair_agrees_on_something_besides_its_sort_key(a: Features, b: Features) -> None:
    """The sort-neighbour filter, pinned to its definition written out the slow way."""
    agree = (
        (bool(a.dob and b.dob) and (a.dob[:4] == b.dob[:4] or a.dob[4:] == b.dob[4:]))
        or (bool(a.name_key and b.name_key) and JaroWinkler.similarity(a.name_key, b.name_key) >= 0.9)
        or any(p[-8:] == q[-8:] for p in a.phones for q in b.phones)
        or any(e.split("@")[0] == d.split("@")[0] for e in a.emails for d in b.emails)
        or bool(a.street and a.street == b.street)
        or bool(a.postcode and a.postcode == b.postcode)
        or bool(set(a.ext) & set(b.ext))
        or bool(set(a.custom) & set(b.custom))
    )
    assert corroborated(a, b) == agree
    assert corroborated(b, a) == agree


@settings(max_examples=300)
@given(
    st.lists(
        st.text(max_size=8) | st.sampled_from(["北京市", "Zürich", "ÅSA", "o'brien", "  a  b "]), max_size=6
    )
)
def test_remembered_fold_is_fold(texts: list[str]) -> None:
    for t in texts + texts:  # the second time from the cache
        assert folded(t) == fold(t)


# phone numbers as people type them: valid ones of several regions written several ways, plain digits of
# every length (mostly not valid anywhere: the fast rejection), digit typos, labels, full-width digits
_phone_texts = st.one_of(
    st.builds(lambda p: p.number, phones(regions=["CN", "US", "DE", "GB", "HK"])),
    st.text(alphabet="0123456789", min_size=0, max_size=18),
    st.builds(lambda d: "+" + d, st.text(alphabet="0123456789", min_size=1, max_size=16)),
    st.builds(
        lambda d, sep: sep.join((d[:3], d[3:7], d[7:])),
        st.text(alphabet="0123456789", min_size=7, max_size=13),
        st.sampled_from([" ", "-", ".", ""]),
    ),
    st.builds(lambda d: "1" + d, st.text(alphabet="3456789", min_size=10, max_size=10)),
    st.sampled_from(
        ["手机：13800138000", "１３８-００１３-８０００", "Tel. 010 6234 5678", "0086 138 0013 8000"]
    ),
    st.text(alphabet="0123456789+-() x#转abc", max_size=16),
)


@given(_phone_texts, st.sampled_from(["CN", "US", "DE", None]))
@settings(max_examples=400)
def test_phone_match_key_is_normalize_phone(text: str, region: str | None) -> None:
    """Matching's phone key (answered by the fast path for plain digits, valid or not, without building
    an error) is what normalize_phone gives, None where it raises."""
    try:
        p = normalize_phone(text, region=region)
        want: tuple[str, str] | None = (p.e164, p.kind)
    except InvalidPhoneError:
        want = None
    assert phone_match_key(text, region) == want


@given(
    st.lists(
        st.sampled_from(["Wei Zhang", "张伟", "zhang wei", "Anna Li", "", "  ", "O'Neil, Mary"])
        | st.text(max_size=8),
        max_size=5,
    )
)
def test_remembered_pinyin_key_is_normalize_names(names: list[str]) -> None:
    """The pinyin key remembered per name is normalize_name's, asked again and again."""
    for raw in [*names, *names]:
        try:
            want = normalize_name(raw).pinyin_key
        except ValueError:
            want = ""
        assert pinyin_of(raw) == want
