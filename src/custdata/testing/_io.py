"""Hypothesis strategies for the file readers and writers: rows of cells, text in many encodings, phone
cells with remarks around the number (exported from ``custdata.testing``)."""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "REMARKS",
    "chinese_text",
    "csv_rows",
    "encodings",
    "latin_text",
    "phone_cells",
    "plain_cells",
]

#: Remarks people write beside a phone number (no digits, no brackets).
REMARKS = (
    "同号",
    "微信同号",
    "QQ同号",
    "同微信",
    "办公室",
    "晚上打",
    "home",
    "office, weekdays",
    "evenings only",
)

# Common Hanzi (in GB2312) and a few rarer name characters that only GB18030/GBK have.
_COMMON_HAN = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
    "刚桂英华玉兰红梅海波北京上海广州深圳市区路号客户会员"
)
_RARE_HAN = "䶮喆堃珺昇镕"


def plain_cells(*, min_size: int = 1, max_size: int = 12) -> st.SearchStrategy[str]:
    """Cell text without quotes, delimiters, line breaks or a leading formula character."""
    alphabet = st.sampled_from(string.ascii_letters + string.digits + " ._" + _COMMON_HAN + "éüñ")
    return st.text(alphabet, min_size=min_size, max_size=max_size).map(str.strip).filter(bool)


@st.composite
def csv_rows(draw: st.DrawFn, *, min_rows: int = 2, max_rows: int = 8) -> list[list[str]]:
    """Customer rows ``[id, name, note]`` with distinct ids (header not included)."""
    n = draw(st.integers(min_rows, max_rows))
    return [[f"c{i}", draw(plain_cells()), draw(plain_cells())] for i in range(n)]


@st.composite
def chinese_text(draw: st.DrawFn, *, max_cells: int = 12) -> str:
    """Chinese customer text as a CSV holds it: cells of Hanzi (mostly common, some rare name
    characters), ASCII letters and digits, joined by commas and line breaks. At least six cells: a
    GB18030 text of one or two characters can be valid UTF-8 by chance (``肖`` is ``Ф``), which no
    detector can tell; a file of a few rows cannot."""
    han = st.sampled_from(_COMMON_HAN * 4 + _RARE_HAN)
    other = st.sampled_from(string.ascii_letters + string.digits + _COMMON_HAN)
    cells = draw(
        st.lists(st.tuples(han, st.text(other, max_size=6)).map("".join), min_size=6, max_size=max_cells)
    )
    seps = draw(st.lists(st.sampled_from([",", "\n"]), min_size=len(cells) - 1, max_size=len(cells) - 1))
    return cells[0] + "".join(sep + cell for sep, cell in zip(seps, cells[1:], strict=True))


@st.composite
def latin_text(draw: st.DrawFn) -> str:
    """Western European text with accented letters, each beside ASCII (``Zoë Müller,München``)."""
    words = draw(
        st.lists(
            st.tuples(
                st.text(st.sampled_from(string.ascii_letters), min_size=1, max_size=6),
                st.sampled_from("àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßÄÖÜÉÅ"),
                st.text(st.sampled_from(string.ascii_lowercase), min_size=0, max_size=6),
            ),
            min_size=1,
            max_size=12,
        )
    )
    seps = draw(st.lists(st.sampled_from([" ", ",", "\n"]), min_size=len(words), max_size=len(words)))
    return "".join(a + b + c + s for (a, b, c), s in zip(words, seps, strict=True))


def encodings() -> st.SearchStrategy[tuple[str, bytes]]:
    """(codec, BOM or b"") pairs a customer file comes in."""
    import codecs

    return st.sampled_from(
        [
            ("utf-8", b""),
            ("utf-8", codecs.BOM_UTF8),
            ("gb18030", b""),
            ("utf-16-le", b""),
            ("utf-16-be", b""),
            ("utf-16-le", codecs.BOM_UTF16_LE),
            ("utf-16-be", codecs.BOM_UTF16_BE),
            ("utf-32-le", b""),
            ("utf-32-be", b""),
            ("utf-32-le", codecs.BOM_UTF32_LE),
            ("utf-32-be", codecs.BOM_UTF32_BE),
        ]
    )


@st.composite
def phone_cells(draw: st.DrawFn, number: Any = None) -> tuple[str, str, str]:
    """(cell text, the number in it, the remark in it): a number with a remark in full-width or ASCII
    brackets, or a 同号 note, before or after it."""
    from custdata.testing import phones

    num = number if number is not None else draw(phones()).number
    remark = draw(st.sampled_from(REMARKS))
    if "同" in remark and draw(st.booleans()):
        cell = draw(st.sampled_from([f"{num} {remark}", f"{num}{remark}", f"{num}（{remark}）"]))
    else:
        left, right = draw(st.sampled_from([("（", "）"), ("(", ")"), ("【", "】"), ("[", "]")]))
        cell = f"{num}{draw(st.sampled_from(['', ' ']))}{left}{remark}{right}"
    return cell, num, remark
