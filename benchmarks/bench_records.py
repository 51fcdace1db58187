"""Records: ``Customer.from_dict``, ``to_dict`` and the store body text, beside plain attrs and cattrs.

Run: python benchmarks/bench_records.py [N] [REPEAT]   (default 20,000 customers, best of 5)

Prints one line of records per second of CPU time for each operation (best of REPEAT passes; CPU time
of this process, so that other work on a shared machine does not count against either side). The peers, in the same
run, at their best documented settings for the same shapes (frozen slotted attrs classes, typed fields):

* ``attrs (no checks)``: hand-written construction of plain attrs classes from the dict (no validation,
  no conversion of dates or enums): the floor any typed-record library starts from.
* ``cattrs detailed``: ``cattrs.Converter(detailed_validation=True)`` structuring the same dict into
  those classes (type checks and conversion of dates/enums, every error collected), and
  ``unstructure`` + ``json.dumps`` for the dict and body columns.

To compare two versions of custdata, run it once with each on PYTHONPATH, alternating.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import attrs

import custdata
from custdata.storage import _core


def _dicts(n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        out.append(
            {
                "id": f"c{i}",
                "name": {"full": f"客户{i}", "family": "客", "given": f"户{i}"},
                "phones": [{"number": f"+86138{i:08d}", "kind": "mobile", "primary": True}],
                "emails": [{"address": f"user{i}@example.com"}],
                "addresses": [{"country": "CN", "city": "上海市"}],
                "birthday": "1990-01-02",
                "tags": ["vip"] if i % 7 == 0 else [],
                "channel": "store",
                "created_at": "2026-01-02T03:04:05+08:00",
                "version": 1,
            }
        )
    return out


# --------------------------------------------------------------------------------------------- peers
class PKind(str, enum.Enum):
    MOBILE = "mobile"
    OTHER = "other"


@attrs.frozen
class PName:
    full: str | None = None
    family: str | None = None
    given: str | None = None


@attrs.frozen
class PPhone:
    number: str
    kind: PKind = PKind.OTHER
    primary: bool = False
    verified_at: dt.datetime | None = None


@attrs.frozen
class PEmail:
    address: str
    kind: str = "other"
    primary: bool = False
    verified_at: dt.datetime | None = None


@attrs.frozen
class PAddress:
    country: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None
    postal_code: str | None = None
    raw: str | None = None


@attrs.frozen
class PCustomer:
    id: str
    name: PName = PName()
    phones: tuple[PPhone, ...] = ()
    emails: tuple[PEmail, ...] = ()
    addresses: tuple[PAddress, ...] = ()
    birthday: dt.date | None = None
    tags: frozenset[str] = frozenset()
    channel: str | None = None
    created_at: dt.datetime | None = None
    version: int = 0


def _plain(d: dict[str, Any]) -> PCustomer:
    return PCustomer(
        id=d["id"],
        name=PName(**d["name"]),
        phones=tuple(PPhone(**p) for p in d["phones"]),
        emails=tuple(PEmail(**e) for e in d["emails"]),
        addresses=tuple(PAddress(**a) for a in d["addresses"]),
        birthday=d["birthday"],
        tags=frozenset(d["tags"]),
        channel=d["channel"],
        created_at=d["created_at"],
        version=d["version"],
    )


def _cattrs() -> Any:
    import cattrs

    conv = cattrs.Converter(detailed_validation=True)
    conv.register_structure_hook(dt.datetime, lambda v, _: dt.datetime.fromisoformat(v))
    conv.register_structure_hook(dt.date, lambda v, _: dt.date.fromisoformat(v))
    conv.register_unstructure_hook(dt.datetime, lambda v: v.isoformat())
    conv.register_unstructure_hook(dt.date, lambda v: v.isoformat())
    conv.register_unstructure_hook_func(lambda t: t == frozenset[str], sorted)
    return conv


def _best(fn: Callable[[], object], n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return n / best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    dicts = _dicts(n)
    cs = [custdata.Customer.from_dict(d) for d in dicts]
    conv = _cattrs()
    plain = [conv.structure(d, PCustomer) for d in dicts]
    dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
    rows = {
        "from_dict": {
            "custdata": lambda: [custdata.Customer.from_dict(d) for d in dicts],
            "attrs (no checks)": lambda: [_plain(d) for d in dicts],
            "cattrs detailed": lambda: [conv.structure(d, PCustomer) for d in dicts],
        },
        "to_dict": {
            "custdata": lambda: [c.to_dict() for c in cs],
            "attrs (no checks)": lambda: [attrs.asdict(p) for p in plain],
            "cattrs detailed": lambda: [conv.unstructure(p) for p in plain],
        },
        "store body": {
            "custdata": lambda: [_core.body_text(c) for c in cs],
            "cattrs detailed": lambda: [dumps(conv.unstructure(p)) for p in plain],
        },
    }
    where = custdata.__file__.rsplit("/src/", 1)[0]
    print(f"custdata from {where}, N={n}, best of {repeat} (records/s)")
    for op, peers in rows.items():
        cells = [f"{name} {_best(fn, n, repeat):>9,.0f}" for name, fn in peers.items()]
        print(f"{op:<11} " + " | ".join(cells))


if __name__ == "__main__":
    main()
