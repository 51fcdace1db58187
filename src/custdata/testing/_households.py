"""Generated data sets for the precision traps of matching, with their truth.

Plain seeded generators (no Hypothesis needed): each returns a :class:`TrapSet`, the records and which
person (and household) each record belongs to, to score a matcher by precision and recall.

- :func:`household_records`: families sharing a landline and an address, each member with a name, mobile,
  e-mail and birthday of their own, and true duplicates of some members.
- :func:`identical_copies`: one person written ``n`` times, identically.
- :func:`names_and_dates`: people with only a given name, a family name and a birthday, some written twice
  with typos.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Mapping
from typing import Any

import attrs

from custdata._records import Customer
from custdata.testing._names import (
    COMMON_CITIES_CN,
    COMMON_FAMILY_CN,
    COMMON_FAMILY_LATIN,
    COMMON_GIVEN_CN,
    COMMON_GIVEN_LATIN,
    COMMON_STREETS,
    COMMON_STREETS_CN,
)

__all__ = ["TrapSet", "household_records", "identical_copies", "names_and_dates"]


@attrs.frozen
class TrapSet:
    """Generated records with their truth: ``person`` maps each record id to its person, ``household``
    to its household (people living together; every person is in one, possibly alone)."""

    records: tuple[Customer, ...]
    person: Mapping[str, str]
    household: Mapping[str, str]

    def true_pairs(self) -> set[tuple[str, str]]:
        """Every pair of record ids (smaller first) that are the same person."""
        return _pairs_of(self.person)

    def household_pairs(self) -> set[tuple[str, str]]:
        """Every pair of record ids (smaller first) of people of one household (the same person too)."""
        return _pairs_of(self.household)

    def score(self, clusters: Any) -> dict[str, float]:
        """Pairwise precision, recall and F1 of ``clusters`` (an iterable of sets of record ids) against
        the persons, and the number of pairs of different people merged (``false_pairs``)."""
        pred = {tuple(sorted(p)) for c in clusters for p in itertools.combinations(c, 2)}
        truth = self.true_pairs()
        tp = len(pred & truth)
        p = tp / len(pred) if pred else 1.0
        r = tp / len(truth) if truth else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": p, "recall": r, "f1": f1, "false_pairs": len(pred) - tp, "true_pairs": tp}


def _pairs_of(groups: Mapping[str, str]) -> set[tuple[str, str]]:
    by: dict[str, list[str]] = {}
    for rid, g in groups.items():
        by.setdefault(g, []).append(rid)
    return {(a, b) if a < b else (b, a) for m in by.values() for a, b in itertools.combinations(m, 2)}


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3 or not word.isascii():
        return word
    k = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.4:  # substitute
        return word[:k] + rng.choice("aeiounrst") + word[k + 1 :]
    if kind < 0.7:  # transpose
        return word[: k - 1] + word[k] + word[k - 1] + word[k + 1 :]
    return word[:k] + word[k + 1 :]  # delete


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def household_records(
    households: int = 300, *, duplicates: float = 0.5, seed: int = 0, with_kinds: bool = True
) -> TrapSet:
    """Families of two to five people sharing a landline and an address (most also a family name), each
    with a given name, mobile, e-mail and birthday of their own; ``duplicates`` of the people are written a
    second time (a typo in the given name, the mobile or e-mail left out, the day and month swapped).
    ``with_kinds`` marks the landline ``home`` and the mobiles ``mobile``; without it the numbering plan
    alone says which is which. Half the families are Chinese, half have Latin names; numbers are Chinese."""
    rng = random.Random(seed)
    records: list[Customer] = []
    person: dict[str, str] = {}
    household: dict[str, str] = {}
    for h in range(households):
        chinese = h % 2 == 0
        city, province, area = rng.choice(COMMON_CITIES_CN)
        landline = f"0{area}{rng.randrange(10**7, 10**8)}"
        if chinese:
            family = rng.choice(COMMON_FAMILY_CN)
            street = f"{rng.choice(COMMON_STREETS_CN)}{rng.randrange(1, 300)}号{rng.randrange(1, 30)}栋"
        else:
            family = rng.choice(COMMON_FAMILY_LATIN)
            street = f"{rng.randrange(1, 999)} {rng.choice(COMMON_STREETS)} Street"
        postcode = f"{rng.randrange(100000, 999999)}"
        size = rng.choice((2, 2, 3, 3, 4, 5))
        pool = COMMON_GIVEN_CN if chinese else COMMON_GIVEN_LATIN
        givens = rng.sample(pool, size)
        for k, given in enumerate(givens):
            pid = f"h{h}p{k}"
            # a spouse may keep their own family name
            fam = (
                family
                if k != 1 or rng.random() < 0.5
                else rng.choice(COMMON_FAMILY_CN if chinese else COMMON_FAMILY_LATIN)
            )
            year = rng.randrange(1955, 1980) if k < 2 else rng.randrange(1985, 2012)
            born = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
            mobile = _mobile(rng)
            email = (
                f"{given.lower()}.{fam.lower()}{rng.randrange(100)}@example.com"
                if given.isascii()
                else f"u{rng.randrange(10**8)}@qq.com"
            )
            phones = [
                {"number": mobile, "kind": "mobile" if with_kinds else "other"},
                {"number": landline, "kind": "home" if with_kinds else "other"},
            ]
            base: dict[str, Any] = {
                "name": {"family": fam, "given": given},
                "phones": phones,
                "emails": [{"address": email}],
                "birthday": born.isoformat(),
                "addresses": [
                    {"street": street, "city": city, "province": province, "postal_code": postcode}
                ],
            }
            copies = [base]
            if rng.random() < duplicates:
                dup = {**base, "name": {"family": fam, "given": _typo(rng, given)}}
                change = rng.random()
                if change < 0.3:
                    dup["phones"] = phones[1:]  # the landline only
                elif change < 0.6:
                    dup.pop("emails")
                elif change < 0.8 and born.day <= 12:
                    dup["birthday"] = dt.date(born.year, born.day, born.month).isoformat()
                copies.append(dup)
            for v, d in enumerate(copies):
                rid = f"{pid}v{v}"
                records.append(Customer.from_dict({"id": rid, **d}))
                person[rid] = pid
                household[rid] = f"h{h}"
    return TrapSet(tuple(records), person, household)


def identical_copies(n: int, *, seed: int = 0) -> TrapSet:
    """One person written ``n`` times, every copy the same (name, phone, e-mail, birthday)."""
    rng = random.Random(seed)
    mobile = _mobile(rng)
    d = {
        "name": {"given": "Anna", "family": "Li"},
        "phones": [{"number": mobile}],
        "emails": [{"address": "anna.li@example.com"}],
        "birthday": "1990-04-05",
    }
    records = tuple(Customer.from_dict({"id": f"copy{k:05d}", **d}) for k in range(n))
    return TrapSet(records, {r.id: "anna" for r in records}, {r.id: "anna" for r in records})


def names_and_dates(n: int = 10_000, *, duplicates: float = 0.1, seed: int = 0) -> TrapSet:
    """About ``n`` records with only a given name, a family name and a birthday; ``duplicates`` of the
    people are written twice with a typo in a name or a date (one digit, or day and month swapped).
    Names are drawn from small pools, so many different people share a family name or a full name."""
    rng = random.Random(seed)
    people = round(n / (1.0 + duplicates))
    records: list[Customer] = []
    person: dict[str, str] = {}
    for k in range(people):
        given, family = rng.choice(COMMON_GIVEN_LATIN), rng.choice(COMMON_FAMILY_LATIN)
        born = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(80 * 365))
        rows = [(given, family, born.isoformat())]
        if rng.random() < duplicates and len(records) + 2 <= n:
            g2, f2, d2 = given, family, born.isoformat()
            what = rng.random()
            if what < 0.35:
                g2 = _typo(rng, given)
            elif what < 0.7:
                f2 = _typo(rng, family)
            elif what < 0.85 and born.day <= 12:
                d2 = dt.date(born.year, born.day, born.month).isoformat()
            else:
                year = born.year + rng.choice((-1, 1))
                d2 = born.replace(year=year, day=min(born.day, 28)).isoformat()
            rows.append((g2, f2, d2))
        for v, (g, f, d) in enumerate(rows):
            rid = f"n{k}v{v}"
            records.append(Customer.from_dict({"id": rid, "name": {"given": g, "family": f}, "birthday": d}))
            person[rid] = f"n{k}"
    return TrapSet(tuple(records), person, dict(person))
