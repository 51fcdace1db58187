"""People's names: Unicode clean-up, honorifics, script detection, family/given split, matching keys.

Chinese names are written family name first; the family name is one character, or two for the compound
surnames in :data:`COMPOUND_SURNAMES` (欧阳, 司马, 诸葛 …). Latin-script names are read given name first
unless a comma says otherwise (``Zhang, Wei``) or one word is in capitals (``ZHANG Wei``).

``match_key`` is what two spellings of one name share: case-folded, accents and punctuation removed,
words sorted (so ``Wei Zhang`` meets ``Zhang Wei``), honorifics left out. With the ``pinyin`` extra,
``pinyin_key`` puts Chinese names into the same space, so ``张伟`` meets ``Zhang Wei``.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import attrs

from custdata._records import PersonName
from custdata.exceptions import InvalidNameError, MissingExtraError, ValidationError

__all__ = ["COMPOUND_SURNAMES", "NAME_REASONS", "NormalizedName", "normalize_name", "script_of"]

#: Every ``reason`` an :class:`InvalidNameError` from :func:`normalize_name` can carry.
NAME_REASONS = ("empty", "no_letters", "digits", "too_long")

#: Two-character Chinese family names (复姓); a name starting with one of these splits after two characters.
COMPOUND_SURNAMES = frozenset((
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "令狐", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "万俟", "闻人", "赫连",
    "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "太叔", "申屠", "仲孙", "钟离", "鲜于", "闾丘",
    "司空", "亓官", "司寇", "子车", "颛孙", "拓跋", "东郭", "公羊", "梁丘", "左丘", "第五", "谷梁",
    "乐正", "漆雕", "壤驷", "公西", "巫马", "羊舌", "微生", "公良", "段干", "歐陽", "司馬", "諸葛",
    "東方", "長孫", "夏侯", "軒轅", "獨孤", "鍾離", "鮮于", "閭丘",
))  # fmt: skip

# Surnames whose reading differs from the character's everyday reading.
_SURNAME_PINYIN = {
    "单": "shan", "單": "shan", "曾": "zeng", "解": "xie", "区": "ou", "區": "ou", "仇": "qiu",
    "朴": "piao", "查": "zha", "盖": "ge", "蓋": "ge", "乐": "yue", "樂": "yue", "覃": "qin",
    "秘": "bi", "缪": "miao", "繆": "miao", "员": "yun", "召": "shao", "种": "chong", "翟": "zhai",
    "黑": "he", "尉迟": "yuchi", "万俟": "moqi", "长孙": "zhangsun", "長孫": "zhangsun", "单于": "chanyu",
    "传": "chuan", "葛": "ge", "殷": "yin", "折": "she", "阚": "kan", "华": "hua", "任": "ren",
}  # fmt: skip

_CJK_HONORIFICS = (
    "先生", "女士", "小姐", "太太", "夫人", "老师", "老師", "医生", "醫生", "博士", "教授", "同学", "同學",
    "经理", "經理", "总经理", "總經理", "董事长", "董事長", "律师", "律師", "阿姨", "师傅", "師傅",
)  # fmt: skip
_CJK_HONORIFIC = re.compile("(?:" + "|".join(sorted(_CJK_HONORIFICS, key=len, reverse=True)) + ")$")
_LATIN_TITLES = {
    "mr": "Mr", "mister": "Mr", "mrs": "Mrs", "ms": "Ms", "miss": "Miss", "mx": "Mx", "dr": "Dr",
    "doctor": "Dr", "prof": "Prof", "professor": "Prof", "sir": "Sir", "madam": "Madam", "dame": "Dame",
    "lady": "Lady", "lord": "Lord", "rev": "Rev", "fr": "Fr", "mme": "Mme", "mlle": "Mlle", "herr": "Herr",
    "frau": "Frau", "sr": "Sr", "sra": "Sra", "srta": "Srta",
}  # fmt: skip
_LATIN_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "mba", "dds"}
_PARTICLES = {
    "van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "la", "le", "dos", "das", "bin", "al",
}  # fmt: skip
_SPACES = re.compile(r"\s+")
_DOTS = "·•・‧∙."  # middle dots used between parts of transliterated names
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0003134f"


@functools.lru_cache(maxsize=1024)
def _script_of_char(ch: str) -> str:
    if _is_han(ch):
        return "cjk"
    if "\u3040" <= ch <= "\u30ff" or "\u31f0" <= ch <= "\u31ff":
        return "kana"
    if "\uac00" <= ch <= "\ud7af" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f":
        return "hangul"
    if ch.isascii() or "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff":
        return "latin"
    try:
        return unicodedata.name(ch).split()[0].lower()
    except ValueError:
        return "other"


def script_of(text: str) -> str:
    """The writing system of the letters in ``text``: ``cjk`` (Han characters), ``kana`` (Japanese with
    kana), ``hangul``, ``latin``, ``cyrillic``, ``greek``, ``arabic`` … ``mixed`` when several, ``none``.

    >>> script_of("欧阳娜娜"), script_of("Zoë Smith"), script_of("山田 たろう"), script_of("Иван")
    ('cjk', 'latin', 'kana', 'cyrillic')
    """
    if not isinstance(text, str):
        raise ValidationError(f"must be text, got {type(text).__name__}", field="text")
    found = {_script_of_char(ch) for ch in text if ch.isalpha()}
    if not found:
        return "none"
    if len(found) == 1:
        return found.pop()
    if found <= {"cjk", "kana"}:
        return "kana"
    return "mixed"


@attrs.frozen
class NormalizedName:
    """A cleaned person's name.

    ``full`` is the name without honorific in its culture's order (``欧阳娜娜``, ``Wei Zhang``);
    ``family``/``given`` the parts when they can be told; ``script`` from :func:`script_of`;
    ``honorific`` a title or polite form found and removed (``先生``, ``Dr``); ``suffix`` (``Jr``, ``PhD``);
    ``match_key`` the matching key.

    >>> n = normalize_name("欧阳娜娜女士")
    >>> n.full, n.family, n.given, n.honorific, n.match_key
    ('欧阳娜娜', '欧阳', '娜娜', '女士', '欧阳娜娜')
    """

    full: str
    family: str | None
    given: str | None
    script: str
    honorific: str | None = None
    suffix: str | None = None
    match_key: str = ""

    @property
    def pinyin_key(self) -> str:
        """A key shared by a Chinese name and its pinyin spelling (needs the ``pinyin`` extra for Han
        characters): ``张伟`` and ``Zhang Wei`` both give ``wei zhang``.

        >>> normalize_name("张伟").pinyin_key == normalize_name("Wei ZHANG").pinyin_key
        True
        """
        if self.script not in ("cjk", "mixed"):
            return self.match_key
        return _pinyin_key(self.family or "", self.given or "", self.full)

    def to_person_name(self) -> PersonName:
        """A :class:`~custdata.PersonName` record with ``full``, ``family`` and ``given``."""
        return PersonName(full=self.full, family=self.family, given=self.given)


@functools.lru_cache(maxsize=65536)
def _pinyin_key(family: str, given: str, full: str) -> str:
    try:
        from pypinyin import lazy_pinyin
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtraError("pinyin", "pinyin name keys", ["pypinyin"]) from None

    words: list[str] = []
    if family:
        words.append(_SURNAME_PINYIN.get(family) or "".join(lazy_pinyin(family)))
        rest = given
    else:
        rest = full
    if rest:
        words.append("".join(p for p in lazy_pinyin(rest) if p.isalpha()))
    return " ".join(sorted(_fold(w) for w in words if w))


def _fold(text: str) -> str:
    """Case-fold and strip accents (ü → u, é → e)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _latin_key(words: list[str]) -> str:
    tokens: list[str] = []
    for w in words:
        tokens.extend(_PUNCT.sub("", _fold(w).replace("-", " ")).split())
    return " ".join(sorted(tokens))


_EDGES = ",;:，；：、"


def _words(text: str) -> list[str]:
    """The words of a Latin-script name, without stray separators at their edges."""
    return [w for w in (w.strip(_EDGES) for w in text.split()) if w]


def _recase(word: str) -> str:
    if any(len(c.upper()) != 1 or len(c.lower()) != 1 for c in word):
        return word  # ß, İ …: changing case would change the letters
    if word.lower() in _PARTICLES:
        return word.lower()
    return word.title()


def _split_cjk(body: str, spaced: list[str]) -> tuple[str | None, str | None]:
    if len(spaced) == 2:  # "张 伟": the writer said where the family name ends
        return spaced[0], spaced[1]
    if any(ch in _DOTS for ch in body):  # 约翰·史密斯 and the like: no Chinese family name
        return None, None
    if len(body) == 1:
        return body, None
    if len(body) >= 3 and body[:2] in COMPOUND_SURNAMES:
        return body[:2], body[2:]
    if len(body) > 4:
        return None, None
    return body[0], body[1:]


_Parts = tuple[str, str | None, str | None, str | None, str | None]


def _normalize_latin(words: list[str], comma: bool) -> _Parts:
    honorific = suffix = None
    while words and words[0].rstrip(".").lower() in _LATIN_TITLES:
        honorific = honorific or _LATIN_TITLES[words[0].rstrip(".").lower()]
        words = words[1:]
    while len(words) > 1 and words[-1].rstrip(".").lower().replace(".", "") in _LATIN_SUFFIXES:
        suffix = words[-1].rstrip(".")
        words = words[:-1]
    letters = "".join(ch for w in words for ch in w if ch.isalpha())
    if letters and (letters.isupper() or letters.islower()) and len(words) > 0:
        words = [_recase(w) for w in words]
        caps: list[int] = []
    else:
        caps = [i for i, w in enumerate(words) if w.isupper() and w.title() != w]
        if len(caps) == 1 or comma:  # "ZHANG wei", "smith, John": fix the case of the odd words
            words = [_recase(w) if i in caps or w.islower() else w for i, w in enumerate(words)]
    if comma:
        return " ".join(words), None, None, honorific, suffix  # resolved by the caller
    if len(words) == 1:
        return words[0], None, words[0], honorific, suffix
    if len(caps) == 1:  # "ZHANG Wei", "Wei ZHANG": the capitalised word is the family name
        i = caps[0]
        family = words[i]
        given = " ".join(w for j, w in enumerate(words) if j != i)
        full = f"{given} {family}"
        return full, family, given, honorific, suffix
    j = len(words) - 1
    while j > 1 and words[j - 1].lower() in _PARTICLES:
        j -= 1
    family = " ".join(words[j:])
    given = " ".join(words[:j])
    return " ".join(words), family, given, honorific, suffix


@functools.lru_cache(maxsize=65536)
def _normalize_cached(text: str) -> NormalizedName | InvalidNameError:
    if (
        2 <= len(text) <= 4
        and all("\u4e00" <= ch <= "\u9fff" for ch in text)
        and not _CJK_HONORIFIC.search(text)
    ):
        # the common Chinese name, already clean: 2-4 characters, no blanks, no honorific
        family, given = _split_cjk(text, [])
        return NormalizedName(text, family, given, "cjk", None, None, text)
    m = _CJK_HONORIFIC.search(text) if text.isalpha() or text.count(" ") == 1 else None
    if m is not None:
        # the common Chinese name with a polite form after it (王伟先生, 王伟 女士), as _normalize reads it
        body, honorific = text[: m.start()].removesuffix(" "), m.group(0)
        if (
            2 <= len(body) <= 4
            and all("\u4e00" <= ch <= "\u9fff" for ch in body)
            and _CJK_HONORIFIC.search(body + honorific).start() == len(body)  # type: ignore[union-attr]
            and not _CJK_HONORIFIC.search(body)
        ):
            family, given = _split_cjk(body, [])
            return NormalizedName(body, family, given, "cjk", honorific, None, body)
    return _normalize_checked(text)


def _normalize_checked(text: str) -> NormalizedName | InvalidNameError:
    """The full path: :func:`_normalize`, read back until it reads as itself."""
    try:
        result = _normalize(text)
    except InvalidNameError as exc:
        return exc.with_traceback(None)  # cached: keep no frames alive
    # The clean name must read back as itself (normalising twice equals once). Odd inputs ("欧 阳娜娜",
    # stray symbols, letters without case) can read back differently; settle on the reading that does.
    for _ in range(3 if result.full != text else 0):
        try:
            again = _normalize(result.full)
        except InvalidNameError:  # pragma: no cover - a clean name always has letters
            break
        if (again.full, again.family, again.given) == (result.full, result.family, result.given):
            break
        result = attrs.evolve(
            again, honorific=result.honorific or again.honorific, suffix=result.suffix or again.suffix
        )
    return result


def _normalize(text: str) -> NormalizedName:
    t = _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().strip(",;，；")
    if not t:
        raise InvalidNameError(text, "empty")
    if len(t) > 200:
        raise InvalidNameError(text, "too_long")
    if any(ch.isdigit() for ch in t):
        raise InvalidNameError(text, "digits")
    if not any(ch.isalpha() for ch in t):
        raise InvalidNameError(text, "no_letters")
    script = script_of(t)
    if script in ("cjk", "kana", "hangul"):
        honorific = None
        m = _CJK_HONORIFIC.search(t.replace(" ", ""))
        body = t
        if m and any(ch.isalpha() for ch in t.replace(" ", "")[: m.start()]):
            honorific = m.group(0)
            compact = t.replace(" ", "")[: m.start()]
            body = compact
        spaced = body.split(" ")
        body = body.replace(" ", "")
        body_nodots = "".join(ch for ch in body if ch not in " ")
        if script == "kana" and len(spaced) != 2:
            family, given = None, None
        else:
            family, given = _split_cjk(body_nodots, spaced if len(spaced) == 2 else [])
        full = (family or "") + (given or "") if family else body_nodots
        key = "".join(ch for ch in full if ch.isalpha()).casefold()
        return NormalizedName(full, family, given, script, honorific, None, key)
    parts = t.replace("，", ",").split(",")
    fam_words = _words(parts[0])
    giv_words = _words(parts[1]) if len(parts) == 2 else []
    if fam_words and giv_words:  # "Zhang, Wei": family name first
        full, _, _, honorific, suffix = _normalize_latin(giv_words + fam_words, comma=True)
        fam_n = len(fam_words)
        all_words = full.split()
        given = " ".join(all_words[:-fam_n]) if fam_n < len(all_words) else None
        family = " ".join(all_words[-fam_n:]) if fam_n else None
    else:
        words = _words(t.replace(",", " ").replace("，", " "))
        full, family, given, honorific, suffix = _normalize_latin(words, comma=False)
    if not any(ch.isalpha() for ch in full):
        raise InvalidNameError(text, "no_letters")
    return NormalizedName(full, family, given or None, script, honorific, suffix, _latin_key(full.split()))


def normalize_name(text: str) -> NormalizedName:
    """Clean a person's name and split it into family and given name.

    >>> normalize_name("  司马  相如 先生 ").full
    '司马相如'
    >>> n = normalize_name("dr. ZHANG wei")
    >>> n.full, n.family, n.given, n.honorific, n.match_key
    ('Wei Zhang', 'Zhang', 'Wei', 'Dr', 'wei zhang')
    >>> n = normalize_name("Zhang, Wei")
    >>> n.full, n.family, n.given
    ('Wei Zhang', 'Zhang', 'Wei')

    Raises :class:`~custdata.exceptions.InvalidNameError` (``reason`` from :data:`NAME_REASONS`).
    """
    if not isinstance(text, str):
        raise InvalidNameError(text, "empty", f"expected text, got {type(text).__name__}")
    result = _normalize_cached(text)
    if isinstance(result, InvalidNameError):
        raise result._again()
    return result
