"""Blocking: which pairs are worth comparing.

Several cheap passes each propose the pairs that share a key; the candidates are the union. A block larger
than ``max_block_size`` (a shared office phone, a very common name) is not compared all-to-all: it falls
back to a sorted neighbourhood inside the block and a :class:`LargeBlockWarning` says so.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

import attrs
from rapidfuzz.distance import JaroWinkler

from custdata.matching._features import Features
from custdata.matching._parallel import resolve_jobs, run_chunks

__all__ = [
    "DEFAULT_PASSES",
    "EXTRA_PASSES",
    "ON_REQUEST_PASSES",
    "SAMPLE_EVERY",
    "BlockPlan",
    "BlockingStats",
    "LargeBlockWarning",
    "candidate_pairs",
    "corroborated",
    "plan_blocks",
]

logger = logging.getLogger(__name__)

_jw = JaroWinkler.similarity
_SHIFT = 32
_MASK = (1 << _SHIFT) - 1
# Sort neighbours that agree on nothing else are not candidates, but the model must still see them as the
# non-matches they are (its prior and u are shares among all the pairs blocking proposes): one in
# SAMPLE_EVERY of them is compared, and its comparison pattern counts SAMPLE_EVERY times in the fit.
SAMPLE_EVERY = 16
_MIX = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_SAMPLE_BELOW = (1 << 64) // SAMPLE_EVERY


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


def _name_only(f: Features) -> Iterable[str]:
    """The whole name, its words sorted (given and family written either way round)."""
    return [f.name_key] if f.name_key else []


def _name_corroborated(f: Features) -> Iterable[str]:
    """The whole name (as :func:`_name_only`) with each cheap value that can corroborate it: the birth year,
    the birthday's month and day, the last eight digits of a phone, an e-mail's mailbox name, the postcode,
    the city, the street, an external id, a custom attribute. Two records meet when they
    share the name and at least one of these, so namesakes who share nothing else are not proposed.

    The same pairs as filtering the name's blocks pair by pair, at the cost of keying each record once."""
    name = f.name_key
    if not name:
        return []
    keys = []
    dob = f.dob
    if dob:  # YYYYMMDD, the year 0000 when unknown
        if dob[:4] != "0000":
            keys.append(f"{name}\x1fy{dob[:4]}")
        keys.append(f"{name}\x1fd{dob[4:]}")
    keys.extend({f"{name}\x1fp{p[-8:]}" for p in f.phones})
    keys.extend({f"{name}\x1fe{e.partition('@')[0]}" for e in f.emails})
    if f.postcode:
        keys.append(f"{name}\x1fz{f.postcode}")
    if f.city:
        keys.append(f"{name}\x1fc{f.city}")
    if f.street:
        keys.append(f"{name}\x1fs{f.street}")
    keys.extend(f"{name}\x1fx{k}\x1f{v}" for k, v in f.ext)
    keys.extend(f"{name}\x1fu{k}\x1f{v}" for k, v in f.custom)
    return keys


def _family_city(f: Features) -> Iterable[str]:
    return [f"{f.family_ph}\x1f{f.city}"] if f.family_ph and f.city else []


def _given_city(f: Features) -> Iterable[str]:
    return [f"{f.given_ph}\x1f{f.city}"] if f.given_ph and f.city else []


def _name_custom(f: Features) -> Iterable[str]:
    """The phonetic family (or given) name with each custom attribute (a birthplace, an occupation)."""
    ph = f.family_ph or f.given_ph
    return [f"{ph}\x1f{k}\x1f{v}" for k, v in f.custom] if ph else []


def _qgrams(f: Features) -> Iterable[str]:
    """Each 3-gram of the name with the full date of birth: catches names mangled beyond phonetics."""
    if not f.dob:
        return []
    key = f.name_key.replace(" ", "")
    if len(key) < 3:
        return [f"{key}\x1f{f.dob}"] if key else []
    return list({f"{key[i : i + 3]}\x1f{f.dob}" for i in range(len(key) - 2)})


def corroborated(a: Features, b: Features) -> bool:
    """Whether two records agree on something besides their sort key: the year or the day of birth, the
    last eight digits of a phone, an e-mail's mailbox name, the street, the postcode, an external id, a
    custom attribute, or the whole name within a typo or two (Jaro-Winkler 0.9).

    Sort neighbours are mostly strangers with alike names; a pair of them is compared only when this holds
    (a pair that agrees on nothing else rarely reaches the threshold; the model still learns from a sample
    of them, see :data:`SAMPLE_EVERY`)."""
    x, y = a.dob, b.dob
    if x and y and (x[:4] == y[:4] or x[4:] == y[4:]):
        return True
    pa, pb = a.phones, b.phones
    if pa and pb:
        if len(pa) == 1 and len(pb) == 1:
            if pa[0][-8:] == pb[0][-8:]:
                return True
        elif not {p[-8:] for p in pa}.isdisjoint([q[-8:] for q in pb]):
            return True
    if (a.street and a.street == b.street) or (a.postcode and a.postcode == b.postcode):
        return True
    ea, eb = a.emails, b.emails
    if ea and eb:
        if len(ea) == 1 and len(eb) == 1:
            if ea[0].partition("@")[0] == eb[0].partition("@")[0]:
                return True
        else:
            mine = {e.partition("@")[0] for e in ea}
            if any(e.partition("@")[0] in mine for e in eb):
                return True
    if a.ext and b.ext and not set(a.ext).isdisjoint(b.ext):
        return True
    if a.custom and b.custom and not set(a.custom).isdisjoint(b.custom):
        return True
    # the costliest test last
    return bool(a.name_key and b.name_key and _jw(a.name_key, b.name_key) >= 0.9)


def _sn_name(f: Features) -> str:
    return f"{f.family} {f.given} {f.dob}" if f.family or f.given else ""


def _sn_given(f: Features) -> str:
    return f"{f.given} {f.family} {f.postcode}" if f.family or f.given else ""


def _sn_external(f: Features) -> str:
    return " ".join(v for _, v in f.ext)


def _sn_street(f: Features) -> str:
    return f"{f.street} {f.postcode}" if f.street else ""


KeyFn = Callable[[Features], Iterable[str]]
_EXTRA_BUDGET = 5  # pairs per record an optional pass may add
_NAMESAKES_PER_RECORD = 1  # beyond this many whole-name pairs a record, only corroborated namesakes
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
# passes that are used only where they stay selective: with passes=None, one that would give more than
# ``_EXTRA_BUDGET`` pairs per record (a birthday alone among millions) is left out, and the statistics say so
EXTRA_PASSES: dict[str, KeyFn] = {
    "name": _name_only,
    "phonetic_family_city": _family_city,
    "phonetic_given_city": _given_city,
    "phonetic_name_custom": _name_custom,
}
# passes used only when named in ``passes``. ``name_corroborated`` proposes the namesakes the whole-name
# pass would that also share a cheap second value: 55,000 pairs instead of 1,048,000 on 300,000 generated
# customers, but on historical_50k (where the whole-name pass is left out) its extra pairs cost precision
# (0.908 to 0.876), so it is not a default yet
ON_REQUEST_PASSES: dict[str, KeyFn] = {
    "name_corroborated": _name_corroborated,
}
SORTED_PASSES: dict[str, SortFn] = {
    "sorted_family_given": _sn_name,
    "sorted_given_family": _sn_given,
    "sorted_external_id": _sn_external,
    "sorted_street": _sn_street,
}


@attrs.define
class BlockingStats:
    """What blocking did: candidate pairs per pass (before the union), the union, the blocks capped, and
    the optional passes left out because they were not selective on this input (with their pair count)."""

    pairs_per_pass: dict[str, int] = attrs.field(factory=dict)
    candidates: int = 0
    capped_blocks: dict[str, int] = attrs.field(factory=dict)
    skipped_passes: dict[str, int] = attrs.field(factory=dict)  # optional passes left out: their pair count


def encode(i: int, j: int) -> int:
    return (i << _SHIFT) | j if i < j else (j << _SHIFT) | i


def decode(code: int) -> tuple[int, int]:
    return code >> _SHIFT, code & _MASK


def _window(
    order: Sequence[int],
    window: int,
    out: set[int],
    side: Sequence[int] | None,
    lo: int,
    hi: int,
    feats: Sequence[Features] | None = None,
    sample: set[int] | None = None,
) -> None:
    """Add the pairs of records at most ``window - 1`` places apart in ``order`` whose smaller index is in
    ``[lo, hi)``; with ``feats``, only those :func:`corroborated` by a second value, the others going to
    ``sample`` one in :data:`SAMPLE_EVERY` (chosen by a hash of the pair)."""
    for offset in range(1, window):
        pairs = zip(order, order[offset:], strict=False)
        if feats is not None:
            for a, b in pairs:
                first = a if a < b else b
                if a == b or not lo <= first < hi or (side is not None and side[a] == side[b]):
                    continue
                code = (a << _SHIFT) | b if a < b else (b << _SHIFT) | a
                if corroborated(feats[a], feats[b]):
                    out.add(code)
                elif sample is not None and (code * _MIX) & _MASK64 < _SAMPLE_BELOW:
                    sample.add(code)
        elif side is None:
            out.update(
                [
                    (a << _SHIFT) | b if a < b else (b << _SHIFT) | a
                    for a, b in pairs
                    if a != b and lo <= (a if a < b else b) < hi
                ]
            )
        else:
            out.update(
                [
                    (a << _SHIFT) | b if a < b else (b << _SHIFT) | a
                    for a, b in pairs
                    if side[a] != side[b] and lo <= (a if a < b else b) < hi
                ]
            )


def _all_pairs(members: Sequence[int], out: set[int], side: Sequence[int] | None, lo: int, hi: int) -> None:
    """Add every pair of a block (``members`` ascending) whose smaller index is in ``[lo, hi)``."""
    last = len(members) - 1
    for x, a in enumerate(members):
        if x == last or a >= hi:
            break
        if a < lo:
            continue
        base = a << _SHIFT
        if side is None:
            out.update([base | b for b in members[x + 1 :] if b != a])
        else:
            sa = side[a]
            out.update([base | b for b in members[x + 1 :] if side[b] != sa])


@attrs.frozen
class BlockPlan:
    """The blocks of every pass, keyed but not yet expanded into pairs: per pass, the blocks compared
    all-to-all (members ascending) and the sequences compared between sort neighbours. Pairs come from
    :meth:`pairs`, a range of record indices at a time, so the work splits over processes."""

    size: int
    window: int
    side: Sequence[int] | None
    passes: list[tuple[str, list[Sequence[int]], list[Sequence[int]]]]
    stats: BlockingStats
    # the records, for the sorted passes (SORTED_PASSES), whose neighbours must be corroborated
    feats: Sequence[Features] | None = None

    def pairs(self, lo: int, hi: int, sample: set[int] | None = None) -> tuple[set[int], dict[str, int]]:
        """The encoded candidate pairs whose smaller record index is in ``[lo, hi)``, and how many each
        pass added to the union. ``sample`` receives the sampled sort neighbours that are not candidates
        (see :data:`SAMPLE_EVERY`), none of them a candidate."""
        out: set[int] = set()
        added: dict[str, int] = {}
        for name, blocks, sequences in self.passes:
            before = len(out)
            for members in blocks:
                if members[0] < hi and members[-2] >= lo:  # else no pair of the block is in range
                    _all_pairs(members, out, self.side, lo, hi)
            sharp = self.feats if name in SORTED_PASSES else None
            for order in sequences:
                _window(order, self.window, out, self.side, lo, hi, sharp, sample)
            added[name] = len(out) - before
        if sample:
            sample -= out
        return out, added

    def work(self) -> int:
        """An upper bound on the candidate pairs (before the union removes the repeats)."""
        full = sum(len(m) * (len(m) - 1) // 2 for _, blocks, _ in self.passes for m in blocks)
        return full + sum(len(s) * (self.window - 1) for _, _, seqs in self.passes for s in seqs)

    def bounds(self, jobs: int) -> list[int]:
        """``jobs + 1`` increasing record indices splitting the pairs about evenly: a pair belongs to its
        smaller index, so the early indices own more pairs."""
        n = self.size
        return [0, *(round(n * (1.0 - (1.0 - k / jobs) ** 0.5)) for k in range(1, jobs)), n]


# one pass's blocks, flattened: name, members, block ends, sequences, sequence ends, blocks capped
_Flat = tuple[str, "array[int]", "array[int]", "array[int]", "array[int]", int]


def plan_blocks(
    feats: Sequence[Features],
    *,
    passes: Iterable[str] | None = None,
    window: int = 3,
    max_block_size: int = 100,
    side: Sequence[int] | None = None,
    workers: int | None = 1,
) -> BlockPlan:
    """Key every record for every blocking pass (see :func:`candidate_pairs`); singleton blocks are
    dropped at once, so only the blocks that give pairs are kept."""
    keyed_fns = {**DEFAULT_PASSES, **EXTRA_PASSES, **ON_REQUEST_PASSES}
    names = list(passes) if passes is not None else [*DEFAULT_PASSES, *EXTRA_PASSES, *SORTED_PASSES]
    optional = set(EXTRA_PASSES) if passes is None else set()
    unknown = [n for n in names if n not in keyed_fns and n not in SORTED_PASSES]
    if unknown:
        from custdata.exceptions import ValidationError

        raise ValidationError(
            f"unknown blocking pass {unknown[0]!r}; choose from {sorted([*keyed_fns, *SORTED_PASSES])}"
        )

    def _work(flat: _Flat) -> int:
        """The pairs a pass's blocks give (before the union), an upper bound for its sequences."""
        full_ends, seqs = flat[2], flat[3]
        bounds = zip(itertools.chain((0,), full_ends), full_ends, strict=False)
        return sum((y - x) * (y - x - 1) // 2 for x, y in bounds) + (window - 1) * len(seqs)

    def key_pass(name: str) -> _Flat:
        """One pass's blocks, flattened (members and block ends) so they travel cheaply between processes.

        The whole-name pass, when it is optional and kept, gives way to ``name_corroborated`` (the same
        namesakes, but only those who share something else) once it proposes more than
        ``_NAMESAKES_PER_RECORD`` pairs a record: namesakes are then mostly strangers, the more so the
        larger the input. Below that, a shared name alone is still worth a comparison (on fake_1000, 517
        namesake pairs, F1 0.9652 with all of them, 0.9631 with the 394 corroborated)."""
        flat = _key_pass(name)
        if name == "name" and name in optional and flat[5] == 0:
            work = _work(flat)
            if _NAMESAKES_PER_RECORD * len(feats) < work <= _EXTRA_BUDGET * len(feats):
                return _key_pass("name_corroborated")
        return flat

    def _key_pass(name: str) -> _Flat:
        full, full_ends, seqs, seq_ends = array("I"), array("Q"), array("I"), array("Q")
        capped = 0
        if name in keyed_fns:
            fn = keyed_fns[name]
            keyed: defaultdict[str, list[int]] = defaultdict(list)  # no empty list made per key looked up
            for i, f in enumerate(feats):
                for key in fn(f):
                    keyed[key].append(i)
            for members in keyed.values():
                if len(members) < 2:
                    continue
                if len(members) > max_block_size:
                    capped += 1
                    members.sort(key=lambda i: _sn_name(feats[i]))
                    seqs.extend(members)
                    seq_ends.append(len(seqs))
                    continue
                full.extend(members)
                full_ends.append(len(full))
            del keyed
        else:
            key_fn = SORTED_PASSES[name]
            by_key = [(k, i) for i, f in enumerate(feats) if (k := key_fn(f))]
            by_key.sort()
            seqs.extend([i for _, i in by_key])
            seq_ends.append(len(seqs))
        return name, full, full_ends, seqs, seq_ends, capped

    def chunk(start: int, stop: int) -> list[tuple[str, _Flat]]:
        return [(name, key_pass(name)) for k in range(start, stop) for name in names[k::jobs]]

    # the passes are keyed in worker processes, the k-th taking every jobs-th pass
    jobs = min(resolve_jobs(workers, len(feats)), max(1, len(names)))

    keyed_passes = {name: flat for part in run_chunks(chunk, jobs, jobs) for name, flat in part}
    stats = BlockingStats()
    planned: list[tuple[str, list[Sequence[int]], list[Sequence[int]]]] = []
    for asked in names:
        name, full, full_ends, seqs, seq_ends, capped = flat = keyed_passes.pop(asked)
        if asked in optional and name == asked:  # (a pass given way to another was judged in key_pass)
            work = _work(flat)
            if work > _EXTRA_BUDGET * len(feats) or capped:
                stats.skipped_passes[name] = work
                continue
        blocks: list[Sequence[int]] = [
            full[x:y] for x, y in zip(itertools.chain((0,), full_ends), full_ends, strict=False)
        ]
        sequences: list[Sequence[int]] = [
            seqs[x:y] for x, y in zip(itertools.chain((0,), seq_ends), seq_ends, strict=False)
        ]
        del full, seqs
        if capped:
            stats.capped_blocks[name] = capped
            msg = (
                f"blocking pass {name!r}: {capped} block(s) larger than max_block_size="
                f"{max_block_size} compared only between sort neighbours"
            )
            logger.warning(msg)
            warnings.warn(msg, LargeBlockWarning, stacklevel=3)
        planned.append((name, blocks, sequences))
    return BlockPlan(len(feats), window, side, planned, stats, feats)


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
    plan = plan_blocks(feats, passes=passes, window=window, max_block_size=max_block_size, side=side)
    out, added = plan.pairs(0, len(feats))
    stats = plan.stats
    stats.pairs_per_pass.update(added)
    stats.candidates = len(out)
    logger.info("blocking: %d candidate pairs over %d records", len(out), len(feats))
    return out, stats
