"""Blocking: which pairs are worth comparing.

Several cheap passes each propose the pairs that share a key; the candidates are the union. A block larger
than ``max_block_size`` (a shared office phone, a very common name) is not compared all-to-all: it falls
back to a sorted neighbourhood inside the block and a :class:`LargeBlockWarning` says so.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from collections.abc import Callable, Iterable, Sequence

import attrs

from custdata.dedupe._features import Features

__all__ = ["DEFAULT_PASSES", "BlockingStats", "LargeBlockWarning", "candidate_pairs"]

logger = logging.getLogger(__name__)

_SHIFT = 32
_MASK = (1 << _SHIFT) - 1


class LargeBlockWarning(UserWarning):
    """A blocking key was shared by more records than ``max_block_size``; that block was compared only
    between sort neighbours."""


def _phone(f: Features) -> Iterable[str]:
    return f.phones


def _email(f: Features) -> Iterable[str]:
    return f.emails


def _external(f: Features) -> Iterable[str]:
    return [f"{k}\x1f{v}" for k, v in f.ext]


def _name_year(f: Features) -> Iterable[str]:
    return [f"{f.name_key}\x1f{f.dob[:4]}"] if f.name_key and f.dob else []


def _phonetic_dob(f: Features) -> Iterable[str]:
    if not f.dob:
        return []
    return [f"{f.family_ph}\x1f{f.dob}", f"{f.given_ph}\x1f{f.dob}"] if f.family_ph or f.given_ph else []


def _dob_postcode(f: Features) -> Iterable[str]:
    return [f"{f.dob}\x1f{f.postcode}"] if f.dob and f.postcode else []


def _name_postcode(f: Features) -> Iterable[str]:
    return [f"{f.family_ph}\x1f{f.given_ph}\x1f{f.postcode}"] if f.family_ph and f.postcode else []


def _name_street(f: Features) -> Iterable[str]:
    if not f.street:
        return []
    return [f"{f.family_ph or f.given_ph}\x1f{f.street}"]


def _email_local(f: Features) -> Iterable[str]:
    """The mailbox name without its domain: catches a mistyped domain."""
    return [e.split("@", 1)[0] for e in f.emails if len(e.split("@", 1)[0]) >= 3]


def _dob_place(f: Features) -> Iterable[str]:
    return [f"{f.dob}\x1f{f.city}"] if f.dob and f.city else []


def _dob_initials(f: Features) -> Iterable[str]:
    if not f.dob:
        return []
    return [f"{f.dob}\x1f{x[:1]}" for x in {f.given, f.family} if x]


def _qgrams(f: Features) -> Iterable[str]:
    """Each 3-gram of the name with the full date of birth: catches names mangled beyond phonetics."""
    if not f.dob:
        return []
    key = f.name_key.replace(" ", "")
    if len(key) < 3:
        return [f"{key}\x1f{f.dob}"] if key else []
    return list({f"{key[i : i + 3]}\x1f{f.dob}" for i in range(len(key) - 2)})


def _sn_name(f: Features) -> str:
    return f"{f.family} {f.given} {f.dob}" if f.family or f.given else ""


def _sn_given(f: Features) -> str:
    return f"{f.given} {f.family} {f.postcode}" if f.family or f.given else ""


def _sn_external(f: Features) -> str:
    return " ".join(v for _, v in f.ext)


def _sn_street(f: Features) -> str:
    return f"{f.street} {f.postcode}" if f.street else ""


KeyFn = Callable[[Features], Iterable[str]]
SortFn = Callable[[Features], str]

DEFAULT_PASSES: dict[str, KeyFn] = {
    "phone": _phone,
    "email": _email,
    "external_id": _external,
    "name_birth_year": _name_year,
    "phonetic_name_dob": _phonetic_dob,
    "dob_postcode": _dob_postcode,
    "phonetic_name_postcode": _name_postcode,
    "name_street": _name_street,
    "qgram_name_dob": _qgrams,
    "email_local_part": _email_local,
    "dob_city": _dob_place,
    "dob_initial": _dob_initials,
}
SORTED_PASSES: dict[str, SortFn] = {
    "sorted_family_given": _sn_name,
    "sorted_given_family": _sn_given,
    "sorted_external_id": _sn_external,
    "sorted_street": _sn_street,
}


@attrs.define
class BlockingStats:
    """What blocking did: candidate pairs per pass (before the union), the union, and the blocks capped."""

    pairs_per_pass: dict[str, int] = attrs.field(factory=dict)
    candidates: int = 0
    capped_blocks: dict[str, int] = attrs.field(factory=dict)


def encode(i: int, j: int) -> int:
    return (i << _SHIFT) | j if i < j else (j << _SHIFT) | i


def decode(code: int) -> tuple[int, int]:
    return code >> _SHIFT, code & _MASK


def _window(order: Sequence[int], window: int, out: set[int], side: Sequence[int] | None) -> None:
    """Add the pairs of records at most ``window - 1`` places apart in ``order``."""
    for offset in range(1, window):
        pairs = zip(order, order[offset:], strict=False)
        if side is None:
            out.update([(a << _SHIFT) | b if a < b else (b << _SHIFT) | a for a, b in pairs if a != b])
        else:
            out.update(
                [(a << _SHIFT) | b if a < b else (b << _SHIFT) | a for a, b in pairs if side[a] != side[b]]
            )


def _all_pairs(members: Sequence[int], out: set[int], side: Sequence[int] | None) -> None:
    """Add every pair of a block (``members`` ascending)."""
    pairs = itertools.combinations(members, 2)
    if side is None:
        out.update([(a << _SHIFT) | b for a, b in pairs if a != b])
    else:
        out.update([(a << _SHIFT) | b for a, b in pairs if side[a] != side[b]])


def candidate_pairs(
    feats: Sequence[Features],
    *,
    passes: Iterable[str] | None = None,
    window: int = 3,
    max_block_size: int = 100,
    side: Sequence[int] | None = None,
) -> tuple[set[int], BlockingStats]:
    """Encoded candidate pairs (see :func:`decode`) over ``feats`` and statistics.

    ``side`` (link mode) gives each record's source, 0 or 1; only pairs across the sources are kept.
    """
    names = list(passes) if passes is not None else [*DEFAULT_PASSES, *SORTED_PASSES]
    unknown = [n for n in names if n not in DEFAULT_PASSES and n not in SORTED_PASSES]
    if unknown:
        from custdata.exceptions import ValidationError

        raise ValidationError(
            f"unknown blocking pass {unknown[0]!r}; choose from {sorted([*DEFAULT_PASSES, *SORTED_PASSES])}"
        )
    out: set[int] = set()
    stats = BlockingStats()
    for name in names:
        before = len(out)
        if name in DEFAULT_PASSES:
            fn = DEFAULT_PASSES[name]
            blocks: dict[str, list[int]] = {}
            for i, f in enumerate(feats):
                for key in fn(f):
                    blocks.setdefault(key, []).append(i)
            capped = 0
            for members in blocks.values():
                if len(members) < 2:
                    continue
                if len(members) > max_block_size:
                    capped += 1
                    members.sort(key=lambda i: _sn_name(feats[i]))
                    _window(members, window, out, side)
                    continue
                _all_pairs(members, out, side)
            if capped:
                stats.capped_blocks[name] = capped
                msg = (
                    f"blocking pass {name!r}: {capped} block(s) larger than max_block_size="
                    f"{max_block_size} compared only between sort neighbours"
                )
                logger.warning(msg)
                warnings.warn(msg, LargeBlockWarning, stacklevel=3)
        else:
            key_fn = SORTED_PASSES[name]
            keyed = [(k, i) for i, f in enumerate(feats) if (k := key_fn(f))]
            keyed.sort()
            _window([i for _, i in keyed], window, out, side)
        stats.pairs_per_pass[name] = len(out) - before
    stats.candidates = len(out)
    logger.info("blocking: %d candidate pairs over %d records", len(out), len(feats))
    return out, stats
