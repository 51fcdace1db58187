"""Encoding detection: custdata's rules beside charset-normalizer, on the same files.

Run: python benchmarks/accuracy_encoding.py   (needs charset-normalizer, in the bench dependency group)

For each file: what each side picked and whether decoding with it gives the original text back exactly
("exact"), something else ("MIS-DECODED": the silent failure custdata must never have), or nothing
("refused": custdata then asks for encoding=). Then the time for a 25 MB GB18030 file and its UTF-8 copy.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable

import charset_normalizer

import custdata
from custdata.exceptions import ParseError
from custdata.io import detect_encoding


def main() -> None:
    tmp = tempfile.mkdtemp()
    zh = custdata.sample_path("sample_customers.csv").read_text(encoding="utf-8-sig")
    names = [
        ("Zoë Müller", "München"),
        ("François Ångström", "Besançon"),
        ("Jürgen Weiß", "Köln"),
        ("José Núñez", "Málaga"),
        ("Søren Kierkegård", "Århus"),
        ("Chloé Lefèvre", "Orléans"),
        ("Björn Öberg", "Göteborg"),
        ("Ana Conceição", "São Paulo"),
    ]
    eu = "name,city,email\n" + "".join(f"{n},{c},x{i}@example.de\n" for i, (n, c) in enumerate(names * 40))
    ja = "名前,都市\n" + "山田太郎,東京\n佐藤花子,大阪\n鈴木一郎,名古屋\nさくら,京都\n" * 50
    hant = "姓名,城市\n" + "陳大文,臺北\n林美玲,高雄\n張志明,臺中\n黃淑芬,新竹\n" * 50
    cases = [
        ("Chinese, UTF-8", zh, "utf-8"),
        ("Chinese, GB18030", zh, "gb18030"),
        ("Chinese, UTF-16-LE, no BOM", zh, "utf-16-le"),
        ("Chinese, UTF-16-BE, no BOM", zh, "utf-16-be"),
        ("Chinese, UTF-32-LE, no BOM", zh, "utf-32-le"),
        ("accented names, cp1252", eu, "cp1252"),
        ("Japanese, Shift-JIS", ja, "shift_jis"),
        ("traditional Chinese, Big5", hant, "big5"),
    ]

    def ours(path: str) -> str | None:
        try:
            return detect_encoding(path)
        except ParseError:
            return None

    def theirs(path: str) -> str | None:
        best = charset_normalizer.from_path(path).best()
        return best.encoding if best else None

    def verdict(data: bytes, text: str, enc: str | None) -> str:
        if enc is None:
            return "refused"
        try:
            return "exact" if data.decode(enc).replace("\r\n", "\n") == text else "MIS-DECODED"
        except (UnicodeDecodeError, LookupError):
            return "MIS-DECODED"

    print(f"{'file':30s} {'custdata':>12s} {'':12s} {'charset-normalizer':>18s}")
    for label, text, codec in cases:
        data = text.encode(codec)
        path = os.path.join(tmp, "f.csv")
        with open(path, "wb") as fh:
            fh.write(data)
        a, b = ours(path), theirs(path)
        print(
            f"{label:30s} {a or '-':>12s} {verdict(data, text, a):12s} {b or '-':>12s} {verdict(data, text, b)}"
        )

    body = zh.split("\n", 1)[1]
    big = (body * (200_000 // zh.count("\n") + 1)).encode("gb18030")
    for label, data in (("GB18030", big), ("UTF-8", big.decode("gb18030").encode("utf-8"))):
        path = os.path.join(tmp, f"big-{label}.csv")
        with open(path, "wb") as fh:
            fh.write(data)
        fns: list[tuple[str, Callable[[], str | None]]] = [
            ("custdata", lambda p=path: ours(p)),
            ("charset-normalizer", lambda p=path: theirs(p)),
        ]
        for name, fn in fns:
            t = time.perf_counter()
            got = fn()
            print(f"{len(data) / 1e6:5.1f} MB {label:8s} {name:20s} {got} in {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
