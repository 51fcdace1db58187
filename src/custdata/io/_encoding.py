"""Encoding sniffing: which codec a file is in, and opening it as text."""

from __future__ import annotations

import codecs
from typing import IO

from custdata.exceptions import ParseError
from custdata.io._problems import PathLike

__all__ = ["detect_encoding", "open_text"]

_BOMS = [(codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]


def detect_encoding(path: PathLike) -> str:
    """The encoding of a file: a BOM's, else UTF-8 if every byte decodes, else GB18030."""
    with open(path, "rb") as fh:
        head = fh.read(4)
        for bom, name in _BOMS:
            if head.startswith(bom):
                return name
        fh.seek(0)
        decoder: codecs.IncrementalDecoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pass
        else:
            return "utf-8"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("gb18030")()
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ParseError(
                "the file is neither UTF-8 nor GB18030; pass encoding= (e.g. encoding='big5')", path=str(path)
            ) from None
    return "gb18030"


def open_text(path: PathLike, encoding: str) -> tuple[IO[str], str]:
    if encoding == "auto":
        encoding = detect_encoding(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}") from None
    if encoding.lower().replace("_", "-") in ("gbk", "gb2312", "cp936"):
        encoding = "gb18030"  # a superset: GBK loses rare name characters such as 䶮
    return open(path, encoding=encoding, newline=""), encoding
