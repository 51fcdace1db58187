"""Field comparators: each turns a pair of :class:`Features` into a comparison level.

Level 0 is the strongest agreement, the last level is "different", and ``-1`` means a value is missing on
either side: a missing value is neutral (it adds no weight), never a mismatch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import re
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein
from rapidfuzz.fuzz import ratio as _ratio
from rapidfuzz.fuzz import token_sort_ratio

from custdata.matching._features import Features
from custdata.normalization import normalize_name

__all__ = ["DEFAULT_FIELDS", "FieldComparison", "compare_pair", "field_by_name", "missing_label"]

MISSING = -1
_jw = JaroWinkler.similarity
_lev = Levenshtein.distance
_osa = OSA.distance


@attrs.frozen
class FieldComparison:
    """One compared field: its name, the label of every level (strongest first, "different" last) and the
    function that gives the level of a pair (``-1`` when a value is missing)."""

    name: str
    levels: tuple[str, ...]
    compare: Callable[[Features, Features], int] = attrs.field(eq=False, repr=False)
    tf: bool = False  # term-frequency adjustment on the exact levels (tf_levels)
    m_default: tuple[float, ...] = ()  # prior guesses of m and u per level, used as EM's weak prior
    u_default: tuple[float, ...] = ()
    tf_levels: tuple[int, ...] = (0,)  # the levels that mean "the same value": term frequencies apply there

    def value(self, f: Features) -> str:
        """The value of this field used for term frequencies."""
        return _TF_VALUE[self.name](f) if self.name in _TF_VALUE else ""

    def tf_keys(self, f: Features) -> tuple[str, ...]:
        """Every value of a record counted for term frequencies (a record's phones, its custom attributes)."""
        many = _TF_KEYS.get(self.name)
        if many is not None:
            return many(f)
        v = self.value(f)
        return (v,) if v else ()

    def shared_keys(self, a: Features, b: Features) -> tuple[str, ...]:
        """The term-frequency keys two records have in common (on an exact level: the value they share)."""
        if self.name not in _TF_KEYS:
            v = self.value(a)
            return (v,) if v else ()
        theirs = self.tf_keys(b)
        return tuple(k for k in self.tf_keys(a) if k in theirs)


# levels of one name compared with another (family_name's levels; given_name adds the swap levels)
EXACT, SIMILAR, PHONETIC, WEAKLY_SIMILAR, SAME_LETTERS, DIFFERENT = range(6)
# given_name only: the whole name, given and family written the other way round (or its words in another
# order or split) exactly / with a typo, or a name of one part that is the other's name in the other slot;
# the family name is then counted there, not again (missing)
SWAPPED, SWAPPED_TYPO, ONE_PART, GIVEN_DIFFERENT = 5, 6, 7, 8


def _name_level(a: str, b: str, pa: str, pb: str, cjk: bool) -> int:
    if a == b:
        return EXACT
    if cjk:  # by character: one of two or more characters differs, or they share one
        if len(a) == len(b) and len(a) > 1 and _lev(a, b) <= 1:
            return SIMILAR
        if len(a) > 1 and len(b) > 1 and set(a) & set(b):
            return PHONETIC
        return DIFFERENT
    s = _jw(a, b)
    if s >= 0.92:
        return SIMILAR
    if pa == pb and pa:
        return PHONETIC
    if s >= 0.8 or (len(a) > 1 and len(b) > 1 and (a in b or b in a)):
        return WEAKLY_SIMILAR
    # letters scrambled (oievr / oliver, foSia / sofia): most letters are the same ones
    if len(a) > 2 and len(b) > 2 and _ratio("".join(sorted(a)), "".join(sorted(b))) >= 80:
        return SAME_LETTERS
    return DIFFERENT


def _near(x: str, y: str) -> bool:
    """A cheap necessary test before comparing two names the long way: their first letters agree, or one's
    first letter is the other's second (a letter dropped or two swapped at the start)."""
    return x[0] == y[0] or x[0] == y[1:2] or y[0] == x[1:2]


def _swap_level(a: Features, b: Features, g: int, f: int, cjk: bool) -> int:
    """SWAPPED or SWAPPED_TYPO when ``a``'s given and family names are ``b``'s the other way round (or the
    whole names hold the same words in another order or split), given that as written (given ``g``, family
    ``f``) neither is exact nor similar; else -1. A typo is allowed in one or both names: one exact and the
    other an initial, the same letters scrambled or one slip away (a letter changed, dropped or two
    swapped); or both within weakly similar and closer than as written. One of the two cross pairs must
    begin alike (:func:`_near`). Chinese names only exactly."""
    if a.name_key == b.name_key:
        return SWAPPED
    ag, af, bg, bf = a.given, a.family, b.given, b.family
    # written out for speed (most candidate pairs are strangers whose names differ both ways); the tests
    # pin it to the plain definition above
    if ag == bf:
        if af == bg:
            return SWAPPED
        x, y, px, py = af, bg, a.family_ph, b.given_ph
    elif af == bg:
        x, y, px, py = ag, bf, a.given_ph, b.family_ph
    else:  # both within weakly similar, and closer than as written
        if cjk:
            return -1
        x, y, u, v = ag[0], bf[0], af[0], bg[0]  # _near(ag, bf) or _near(af, bg), inlined
        if not (x == y or x == bf[1:2] or y == ag[1:2] or u == v or u == bg[1:2] or v == af[1:2]):
            return -1
        if not (_weakly(ag, bf, a.given_ph, b.family_ph) and _weakly(af, bg, a.family_ph, b.given_ph)):
            return -1
        c1 = _name_level(ag, bf, a.given_ph, b.family_ph, cjk)
        c2 = _name_level(af, bg, a.family_ph, b.given_ph, cjk)
        return SWAPPED_TYPO if c1 + c2 < g + f else -1
    if cjk:
        return -1
    # one exact, the other scrambled, one slip away (ava / lva) or an initial
    if _osa(x, y) <= 1 or ((len(x) == 1 or len(y) == 1) and x[0] == y[0]):
        return SWAPPED_TYPO
    return SWAPPED_TYPO if _name_level(x, y, px, py, False) <= SAME_LETTERS else -1


def _weakly(x: str, y: str, px: str, py: str) -> bool:
    """``_name_level(x, y, ...) <= WEAKLY_SIMILAR`` for Latin names, without the scrambled-letters test."""
    return (
        x == y
        or (px == py and bool(px))
        or (len(x) > 1 and len(y) > 1 and (x in y or y in x))
        or _jw(x, y) >= 0.8
    )


_HAN_KEY_PENDING = "\x00"  # Features.pinyin of an all-Han name whose (non-empty) key is not computed yet


_pinyin_cache: dict[str, str] = {}


def _pinyin(f: Features) -> str:
    """The pinyin key of a record's name (see :func:`pinyin_of`), kept on the record."""
    key = f.pinyin
    if key is None or key == _HAN_KEY_PENDING:
        key = f.pinyin = pinyin_of(f.raw_name)
    return key


def pinyin_of(raw_name: str) -> str:
    """``normalize_name(raw_name).pinyin_key`` ("" where it fails), remembered per distinct name: the
    Latin names that meet a Chinese one repeat across records."""
    key = _pinyin_cache.get(raw_name)
    if key is None:
        try:
            key = normalize_name(raw_name).pinyin_key
        except (ImportError, ValueError):
            key = ""
        if len(_pinyin_cache) < 200_000:
            _pinyin_cache[raw_name] = key
    return key


# Every syllable pypinyin gives a Han character (all readings of every character and phrase, toneless, with
# ü written v or u): a Chinese name's pinyin key is made of words that are runs of these.
_SYLLABLE_TEXT = """
a ai an ang ao ba bai ban bang bao bei ben beng bi bian biang biao bie bin bing bo bong bu ca cai can
cang cao ce cei cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua chuai chuan
chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de dei den deng di dia dian
diao die din ding diu dong dou du duan dui dun duo e ei en eng er fa fan fang fei fen feng fiao fo fou
fu ga gai gan gang gao ge gei gen geng gong gou gu gua guai guan guang gui gun guo ha hai han hang hao
he hei hen heng hm hng hong hou hu hua huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing
jiong jiu ju juan jue jun ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun
kuo la lai lan lang lao le lei len leng li lia lian liang liao lie lin ling liu lo long lou lu luan lue
lun luo lv lve m ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou mu n na nai
nan nang nao ne nei nen neng ng ni nia nian niang niao nie nin ning niu nong nou nu nuan nue nun nuo nv
nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po pou pu qi qia qian qiang qiao qie
qin qing qiong qiu qu quan que qun ran rang rao re ren reng ri rong rou ru rua ruan rui run ruo sa sai
san sang sao se sen seng sha shai shan shang shao she shei shen sheng shi shou shu shua shuai shuan
shuang shui shun shuo si song sou su suan sui sun suo ta tai tan tang tao te tei teng ti tian tiao tie
ting tong tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wong wu xi xia xian xiang xiao xie xin
xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun za zai zan
zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi zhong zhou zhu zhua zhuai
zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo
"""
_SYLLABLES = frozenset(_SYLLABLE_TEXT.split())
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+")
_WORDS = re.compile("[a-z]+(?: [a-z]+)*")
_spellable_cache: dict[str, bool] = {}
_city_cache: dict[tuple[str, str], int] = {}
_have_pinyin: list[bool] = []


def _spellable(key: str) -> bool:
    """Whether ``key`` could be the pinyin key of a Chinese name: one or two words, each a run of pinyin
    syllables (``wei zhang``, ``ouyang`` yes; ``james smith`` no). Keys other than lower-case ASCII words
    are given the benefit of the doubt."""
    hit = _spellable_cache.get(key)
    if hit is not None:
        return hit
    ok = True
    if _WORDS.fullmatch(key):
        words = key.split(" ")
        ok = len(words) <= 2
        for word in words if ok else ():
            reach = [True] + [False] * len(word)  # reach[k]: word[:k] is a run of syllables
            for end in range(1, len(word) + 1):
                reach[end] = any(reach[s] and word[s:end] in _SYLLABLES for s in range(max(0, end - 6), end))
            if not reach[-1]:
                ok = False
                break
    if len(_spellable_cache) < 200_000:
        _spellable_cache[key] = ok
    return ok


def _han_key(f: Features) -> str:
    """The pinyin key of a Chinese name, or ``_HAN_KEY_PENDING`` for an all-Han name while it is not
    needed: such a key is never empty and is one or two runs of the syllables in ``_SYLLABLES`` (all the
    readings pypinyin gives Han characters), so it cannot equal a key that :func:`_spellable` rejects."""
    key = f.pinyin
    if key is None:
        if not _have_pinyin:
            _have_pinyin.append(importlib.util.find_spec("pypinyin") is not None)
        if _have_pinyin[0] and _HAN.fullmatch(f.raw_name):
            try:
                n = normalize_name(f.raw_name)
            except ValueError:
                n = None
            # the key is empty only without a family name and a full name
            if n is not None and n.script == "cjk" and (n.family or n.full):
                f.pinyin = _HAN_KEY_PENDING
                return _HAN_KEY_PENDING
        key = _pinyin(f)
    return key


_nicks: dict[str, frozenset[str]] = {}
_nicknamer: list[object] = []


def _nicknames(name: str) -> frozenset[str]:
    """The nicknames of a formal name (from the maintained ``nicknames`` data set, the ``names`` extra;
    empty without it)."""
    found = _nicks.get(name)
    if found is not None:
        return found
    if not _nicknamer:
        try:
            from nicknames import NickNamer  # type: ignore[import-not-found, unused-ignore]

            _nicknamer.append(NickNamer())
        except ImportError:
            _nicknamer.append(None)
    nn: Any = _nicknamer[0]
    found = frozenset()
    if nn is not None and name.isascii() and name.isalpha():
        found = frozenset(nn.nicknames_of(name))
    if len(_nicks) < 200_000:
        _nicks[name] = found
    return found


def _names(a: Features, b: Features) -> tuple[int, int]:
    """The levels of ``given_name`` and ``family_name`` (``GIVEN_DIFFERENT`` and ``DIFFERENT`` for
    "different"; a swap is one level of ``given_name`` with ``family_name`` missing)."""
    if a.script != b.script:
        if a.script == "none" or b.script == "none":
            return MISSING, MISSING
        han, other = (a, b) if a.script == "cjk" else (b, a)
        ka, kb = _han_key(han), _pinyin(other)
        if ka == _HAN_KEY_PENDING:
            if not kb:
                return MISSING, MISSING
            if not _spellable(kb):  # pypinyin is slow: skipped when the other name cannot be pinyin
                return GIVEN_DIFFERENT, DIFFERENT
            ka = _pinyin(han)
        if not ka or not kb:
            return MISSING, MISSING
        return (SIMILAR, SIMILAR) if ka == kb else (GIVEN_DIFFERENT, DIFFERENT)
    cjk = a.script == "cjk"
    g = _name_level(a.given, b.given, a.given_ph, b.given_ph, cjk) if a.given and b.given else MISSING
    if g >= PHONETIC and not cjk and (b.given in _nicknames(a.given) or a.given in _nicknames(b.given)):
        g = SIMILAR  # one is a nickname of the other: dickie / richard, ned / edward
    f = _name_level(a.family, b.family, a.family_ph, b.family_ph, cjk) if a.family and b.family else MISSING
    if g >= PHONETIC and f >= PHONETIC and a.family and b.family:  # both given too (g is not MISSING)
        swap = _swap_level(a, b, g, f, cjk)
        if swap >= 0:
            return swap, MISSING
    elif cjk and not (a.given and b.given) and a.name_key and b.name_key and g == MISSING:
        # a Chinese name not split on one side: compare the whole name by character
        return (EXACT if a.name_key == b.name_key else GIVEN_DIFFERENT), f
    elif not cjk and (g == MISSING) != (f == MISSING) and _lone_name(a, b, g, f):
        # one part against a whole name, that part in the other slot: like a swap, one level of given_name
        return ONE_PART, MISSING
    return (GIVEN_DIFFERENT if g == DIFFERENT else g), f


def _lone_name(a: Features, b: Features, g: int, f: int) -> bool:
    """Whether a name of one part on one side (``bennett``) is exactly the other's name in the other slot
    (``joseph bennett``), and not the one in its own slot (``g``, ``f``: the levels as written). Within a
    typo it bridged namesakes on historical_50k (precision 0.908 -> 0.901)."""
    lone, full = (a, b) if not (a.given and a.family) else (b, a)
    if not (full.given and full.family) or (lone.given and lone.family):
        return False
    if lone.given:  # the one part is in the given slot: is it the other's family name?
        return g != EXACT and lone.given == full.family
    return f != EXACT and lone.family == full.given


def _given(a: Features, b: Features) -> int:
    return _names(a, b)[0]


def _family(a: Features, b: Features) -> int:
    return _names(a, b)[1]


def _dob(a: Features, b: Features) -> int:
    x, y = a.dob, b.dob
    if not x or not y:
        return MISSING
    if x == y:
        return 0
    if x[:4] == "0000" or y[:4] == "0000":
        return 1 if x[4:] == y[4:] else 5
    if x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]:
        return 1
    if _osa(x, y) <= 1:
        return 2
    if not (x[:4].isdigit() and y[:4].isdigit()):
        return 5 if _days_apart(x, y) > 45 else 4
    years = abs(int(x[:4]) - int(y[:4]))
    if years == 1 and x[4:] == y[4:]:
        return 3
    if years <= 1 and _days_apart(x, y) <= 45:  # a slip of a few weeks (a day and a month off by one)
        return 4
    return 5


def _days_apart(x: str, y: str) -> int:
    """Days between two ``YYYYMMDD`` dates (a large number when either is not a date)."""
    try:
        return abs((_date(x) - _date(y)).days)
    except ValueError:
        return 1 << 30


def _date(x: str) -> dt.date:
    return dt.date(int(x[:4]), int(x[4:6]), int(x[6:8]))


def _phone(a: Features, b: Features) -> int:
    if not a.phones or not b.phones:
        return MISSING
    best = 4
    for p in a.phones:
        for q in b.phones:
            if p == q:
                if p not in a.lines and p not in b.lines:
                    return 0
                best = 1
            elif best > 2 and len(p) >= 8 and len(q) >= 8 and p[-8:] == q[-8:]:
                best = 2
            elif best > 3 and len(p) == len(q) and _osa(p, q) <= 1:
                best = 3
    return best


def _email(a: Features, b: Features) -> int:
    if not a.emails or not b.emails:
        return MISSING
    best = 3
    for p in a.emails:
        for q in b.emails:
            if p == q:
                return 0
            if p.split("@", 1)[0] == q.split("@", 1)[0]:
                best = min(best, 1)
            elif best > 2 and _osa(p, q) <= 2:
                best = 2
    return best


def _street(a: Features, b: Features) -> int:
    x, y = a.street, b.street
    if not x or not y:
        return MISSING
    if x == y:
        return 0
    s = token_sort_ratio(x, y)
    if s >= 90:
        return 1
    if s >= 70:
        return 2
    return 3


def _city(a: Features, b: Features) -> int:
    x, y = a.city, b.city
    if not x or not y:
        return MISSING
    if x == y:
        return 0
    return 1 if _jw(x, y) >= 0.9 else 2


def _postcode(a: Features, b: Features) -> int:
    x, y = a.postcode, b.postcode
    if not x or not y:
        return MISSING
    if x == y:
        return 0
    return 1 if _osa(x, y) <= 1 else 2


def _province(a: Features, b: Features) -> int:
    x, y = a.province, b.province
    if not x or not y:
        return MISSING
    return 0 if x == y else 1


def _external(a: Features, b: Features) -> int:
    if not a.ext or not b.ext:
        return MISSING
    best = MISSING
    for k, v in a.ext:
        for k2, w in b.ext:
            if k != k2:
                continue
            if v == w:
                return 0
            d = _osa(v, w)
            level = 1 if d <= 1 else 2 if d <= 2 else 3
            best = level if best == MISSING else min(best, level)
    return best


def _gender(a: Features, b: Features) -> int:
    if not a.gender or not b.gender:
        return MISSING
    return 0 if a.gender == b.gender else 1


def _custom(a: Features, b: Features) -> int:
    """Custom attributes present on both sides: all the same, some, or none."""
    if not a.custom or not b.custom:
        return MISSING
    other = dict(b.custom)
    shared = same = 0
    for k, v in a.custom:
        w = other.get(k)
        if w is not None:
            shared += 1
            same += v == w
    if not shared:
        return MISSING
    return 0 if same == shared else 1 if same else 2


def _company(a: Features, b: Features) -> int:
    if not a.company or not b.company:
        return MISSING
    if a.company == b.company:
        return 0
    return 1 if token_sort_ratio(a.company, b.company) >= 85 else 2


_NAME_LEVELS = (
    "exact",
    "similar",
    "phonetic_or_shared_chars",
    "weakly_similar",
    "same_letters",
    "different",
)
_GIVEN_LEVELS = (
    *_NAME_LEVELS[:-1],
    "swapped_or_reordered",
    "swapped_with_typo",
    "one_part_in_other_slot",
    "different",
)
_TF_VALUE: dict[str, Callable[[Features], str]] = {
    "given_name": lambda f: f.given,
    "family_name": lambda f: f.family,
    "city": lambda f: f.city,
}


def _tf_hash(text: str) -> str:
    """A contact point's key in the term-frequency table: a short hash, so a saved model does not list
    phone numbers, streets or attribute values in clear (a hash of a phone number can be reversed by trying
    every number: this keeps them out of sight, it does not make them secret)."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# fields whose term frequencies count several values per record, kept hashed
_TF_KEYS: dict[str, Callable[[Features], tuple[str, ...]]] = {
    "phone": lambda f: tuple(_tf_hash(p) for p in f.phones),
    "street": lambda f: (_tf_hash(f"{f.street}\x1f{f.postcode or f.city}"),) if f.street else (),
    "custom": lambda f: tuple(_tf_hash(f"{k}\x1f{v}") for k, v in f.custom),
}

DEFAULT_FIELDS: tuple[FieldComparison, ...] = (
    FieldComparison(
        "given_name",
        _GIVEN_LEVELS,
        _given,
        True,
        (0.8, 0.1, 0.04, 0.03, 0.01, 0.01, 0.005, 0.01, 0.02),
        (0.01, 0.01, 0.02, 0.06, 0.01, 0.0002, 0.0005, 0.005, 0.8843),
    ),
    FieldComparison(
        "family_name",
        _NAME_LEVELS,
        _family,
        True,
        (0.85, 0.07, 0.03, 0.02, 0.01, 0.02),
        (0.01, 0.005, 0.02, 0.05, 0.01, 0.905),
    ),
    FieldComparison(
        "birthday",
        ("exact", "day_month_swapped", "one_typo", "year_off_by_one", "within_45_days", "different"),
        _dob,
        False,
        (0.85, 0.03, 0.05, 0.03, 0.02, 0.02),
        (0.0005, 0.0002, 0.003, 0.002, 0.01, 0.9843),
    ),
    FieldComparison(
        "phone",
        ("exact", "exact_shared_line", "same_last_8_digits", "one_typo_or_transposed", "different"),
        _phone,
        True,
        (0.8, 0.05, 0.03, 0.04, 0.08),
        (0.001, 0.003, 0.0005, 0.001, 0.9945),
        (0, 1),
    ),
    FieldComparison(
        "email",
        ("same_match_key", "same_local_part", "close", "different"),
        _email,
        False,
        (0.85, 0.05, 0.03, 0.07),
        (0.001, 0.002, 0.002, 0.995),
    ),
    FieldComparison(
        "external_id",
        ("exact", "one_typo_or_transposed", "two_edits", "different"),
        _external,
        False,
        (0.9, 0.04, 0.02, 0.04),
        (0.0001, 0.001, 0.005, 0.9939),
    ),
    FieldComparison(
        "street",
        ("exact", "very_similar", "similar", "different"),
        _street,
        True,
        (0.6, 0.2, 0.1, 0.1),
        (0.001, 0.002, 0.02, 0.977),
    ),
    FieldComparison(
        "city", ("exact", "similar", "different"), _city, False, (0.8, 0.1, 0.1), (0.05, 0.01, 0.94)
    ),
    FieldComparison(
        "postal_code",
        ("exact", "one_typo", "different"),
        _postcode,
        False,
        (0.8, 0.1, 0.1),
        (0.01, 0.05, 0.94),
    ),
    FieldComparison("province", ("exact", "different"), _province, False, (0.95, 0.05), (0.2, 0.8)),
    FieldComparison("gender", ("exact", "different"), _gender, False, (0.97, 0.03), (0.5, 0.5)),
    FieldComparison(
        "company", ("exact", "similar", "different"), _company, False, (0.6, 0.2, 0.2), (0.01, 0.02, 0.97)
    ),
    FieldComparison(
        "custom",
        ("all_agree", "some_agree", "different"),
        _custom,
        True,
        (0.7, 0.15, 0.15),
        (0.05, 0.1, 0.85),
    ),
)

_BY_NAME = {f.name: f for f in DEFAULT_FIELDS}


def field_by_name(name: str) -> FieldComparison:
    """The built-in comparison called ``name``."""
    return _BY_NAME[name]


def missing_label(fields: Sequence[FieldComparison], vec: Sequence[int], k: int) -> str:
    """How :meth:`Matcher.explain` names field ``k``'s missing level in ``vec``: ``in_given_name`` for the
    family name of a swapped pair (counted once, in ``given_name``), else ``missing``."""
    if fields[k].name == "family_name" and vec[k] == MISSING:
        for j, fc in enumerate(fields):
            if fc.name == "given_name" and vec[j] in (SWAPPED, SWAPPED_TYPO, ONE_PART):
                return "in_given_name"
    return "missing"


def compare_pair(fields: Sequence[FieldComparison], a: Features, b: Features) -> tuple[int, ...]:
    """The comparison vector of a pair: one level per field."""
    if fields is DEFAULT_FIELDS:
        return _default_vector(a, b)
    return tuple(fc.compare(a, b) for fc in fields)


def _default_vector(a: Features, b: Features) -> tuple[int, ...]:
    """The comparison vector over :data:`DEFAULT_FIELDS`: the field functions above inlined (each value
    read once, the common one-phone and one-e-mail cases without loops), the same levels."""
    g, f = _names(a, b)
    x, y = a.dob, b.dob
    dob = (0 if x == y else _dob(a, b)) if x and y else MISSING
    pa, pb = a.phones, b.phones
    if not pa or not pb:
        phone = MISSING
    elif len(pa) == 1 and len(pb) == 1:
        p, q = pa[0], pb[0]
        if p == q:
            phone = 1 if a.lines or b.lines else 0
        elif len(p) >= 8 and len(q) >= 8 and p[-8:] == q[-8:]:
            phone = 2
        elif len(p) == len(q) and _osa(p, q) <= 1:
            phone = 3
        else:
            phone = 4
    else:
        phone = _phone(a, b)
    ea, eb = a.emails, b.emails
    if not ea or not eb:
        email = MISSING
    elif len(ea) == 1 and len(eb) == 1:
        p, q = ea[0], eb[0]
        if p == q:
            email = 0
        elif p.split("@", 1)[0] == q.split("@", 1)[0]:
            email = 1
        elif _osa(p, q) <= 2:
            email = 2
        else:
            email = 3
    else:
        email = _email(a, b)
    ext = _external(a, b) if a.ext and b.ext else MISSING
    x, y = a.street, b.street
    if not x or not y:
        street = MISSING
    elif x == y:
        street = 0
    else:
        # folded streets hold single spaces only: one word each, token_sort_ratio is the plain ratio
        s = _ratio(x, y) if " " not in x and " " not in y else token_sort_ratio(x, y)
        street = 1 if s >= 90 else 2 if s >= 70 else 3
    x, y = a.city, b.city
    if not x or not y:
        city = MISSING
    elif x == y:
        city = 0
    else:  # few distinct cities: their levels are remembered
        city = _city_cache.get((x, y), MISSING)
        if city == MISSING:
            city = 1 if _jw(x, y) >= 0.9 else 2
            if len(_city_cache) < 100_000:
                _city_cache[x, y] = city
    x, y = a.postcode, b.postcode
    postcode = (0 if x == y else 1 if _osa(x, y) <= 1 else 2) if x and y else MISSING
    x, y = a.province, b.province
    province = (0 if x == y else 1) if x and y else MISSING
    x, y = a.gender, b.gender
    gender = (0 if x == y else 1) if x and y else MISSING
    x, y = a.company, b.company
    company = (0 if x == y else 1 if token_sort_ratio(x, y) >= 85 else 2) if x and y else MISSING
    custom = _custom(a, b) if a.custom and b.custom else MISSING
    return (g, f, dob, phone, email, ext, street, city, postcode, province, gender, company, custom)
