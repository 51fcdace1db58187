"""Encoding sniffing: which codec a file is in, and opening it as text.

The order: a byte-order mark (UTF-32 before UTF-16, whose mark is a prefix of UTF-32 LE's); a workbook
or other binary file is refused by its magic bytes; NUL bytes mean UTF-16 or UTF-32 without a mark, told
apart by where the NULs fall and confirmed by decoding the whole file; else UTF-8 if every byte decodes;
else GB18030 if the text it decodes to reads as Chinese. GB18030 decodes almost any bytes, so Latin-1,
cp1252 or Big5 text would come out as a stream of rare characters: when more than one in ten of the
non-ASCII characters lie outside GB2312 (the 6,763 common Hanzi and the usual symbols), the file is
refused with a hint to pass ``encoding=``.
"""

from __future__ import annotations

import codecs
import zipfile
from typing import IO

from custdata.exceptions import ParseError
from custdata.io._args import check_encoding, file_name, open_file
from custdata.io._problems import PathLike

__all__ = ["detect_encoding", "open_text"]

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
_CHUNK = 1 << 20
#: At most this share of a GB18030 file's non-ASCII characters may lie outside GB2312 (names do use
#: some: 䶮, 喆, 堃 …; text decoded by accident has half or more).
RARE_SHARE = 0.1


def _workbook(fh: IO[bytes], head: bytes) -> str | None:
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "an Excel 97-2003 workbook (.xls) or another OLE document"
    if head.startswith(b"PK\x03\x04"):
        try:
            fh.seek(0)
            with zipfile.ZipFile(fh) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError):
            return "a ZIP archive"
        if "xl/workbook.xml" in names:
            return "an Excel workbook (.xlsx)"
        if "content.xml" in names:
            return "an OpenDocument file (.ods)"
        return "a ZIP archive"
    return None


def _decodes(fh: IO[bytes], encoding: str) -> bool:
    fh.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := fh.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _wide(head: bytes) -> str | None:
    """UTF-16/32 without a BOM, from where the NUL bytes of ASCII characters fall."""
    n = len(head) - len(head) % 4
    if n < 4:
        return None
    zeros = [head[i:n:4].count(0) / (n // 4) for i in range(4)]
    if zeros[2] > 0.9 and zeros[3] > 0.9:  # code points below U+10000 have two zero high bytes
        return "utf-32-le"
    if zeros[0] > 0.9 and zeros[1] > 0.9:
        return "utf-32-be"
    odd, even = (zeros[1] + zeros[3]) / 2, (zeros[0] + zeros[2]) / 2
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _rare_share(fh: IO[bytes]) -> float:
    """The share of the non-ASCII characters of a GB18030 file that GB2312 does not have."""
    fh.seek(0)
    decoder = codecs.getincrementaldecoder("gb18030")()
    wide = rare = 0
    final = False
    while not final:
        chunk = fh.read(_CHUNK)
        final = not chunk
        text = decoder.decode(chunk, final=final)
        n = len(text) - len(text.encode("ascii", "ignore"))
        if n:
            wide += n
            rare += text.encode("gb2312", "replace").count(b"?") - text.count("?")
    return rare / wide if wide else 0.0


def detect_encoding(path: PathLike) -> str:
    """The encoding of a file: a BOM's; UTF-16/32 without a BOM; UTF-8 if every byte decodes; else
    GB18030 when the text reads as Chinese. Raises :class:`~custdata.exceptions.ParseError` for a
    workbook or another binary file, and for text in none of these (pass ``encoding=``), or for a file
    that is missing, a folder or not readable (as :func:`read_csv`)."""
    name = file_name(path)
    with open_file(name) as fh:
        head = fh.read(1 << 16)
        for bom, name in _BOMS:
            if head.startswith(bom):
                return name
        _refuse_binary(path, fh, head)
        if b"\x00" in head:
            wide = _wide(head)
            if wide is not None and _decodes(fh, wide):
                return wide
            raise ParseError(
                "the file has NUL bytes: it is not text, or UTF-16/UTF-32 that cannot be told apart "
                "without a byte-order mark; pass encoding= (e.g. encoding='utf-16-le')",
                path=str(path),
            )
        if _decodes(fh, "utf-8"):
            return "utf-8"
        if not _decodes(fh, "gb18030"):
            raise ParseError(
                "the file is neither UTF-8 nor GB18030; pass encoding= (e.g. encoding='big5')", path=str(path)
            )
        share = _rare_share(fh)
        if share > RARE_SHARE:
            raise ParseError(
                f"the file is not UTF-8, and read as GB18030 {share:.0%} of its non-ASCII characters are rare"
                " ones, as when Latin-1/cp1252, Big5 or Shift-JIS text is read as GB18030; pass encoding= "
                "(e.g. encoding='cp1252' or 'big5')",
                path=str(path),
            )
    return "gb18030"


def _refuse_binary(path: PathLike, fh: IO[bytes], head: bytes) -> None:
    what = _workbook(fh, head)
    if what is not None:
        raise ParseError(
            f"this is {what}, not a CSV file: read it with custdata.read_excel (the 'excel' extra), "
            "or save it as CSV (UTF-8)",
            path=str(path),
        )


def open_text(path: PathLike, encoding: str) -> tuple[IO[str], str]:
    if encoding == "auto":
        encoding = detect_encoding(path)
    else:
        check_encoding(encoding)
        with open_file(file_name(path)) as fh:
            _refuse_binary(path, fh, fh.read(8))
    if encoding.lower().replace("_", "-") in ("gbk", "gb2312", "cp936"):
        encoding = "gb18030"  # a superset: GBK loses rare name characters such as 䶮
    return open_file(file_name(path), "r", encoding=encoding, newline=""), encoding
