"""The multiprocess pair engine: candidate pairs expanded from the blocks, compared and scored in compact
arrays.

Each worker process takes the pairs of a range of records (see :meth:`BlockPlan.bounds`), expands the blocks
into encoded pairs, compares them and sends back four arrays (left index, right index, comparison pattern id)
and the distinct patterns; the parent merges the pattern tables. Millions of pairs stay a few bytes each.
"""

from __future__ import annotations

import itertools
import logging
from array import array
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from custdata.matching._blocking import SAMPLE_EVERY, BlockingStats, BlockPlan, decode
from custdata.matching._compare import FieldComparison, compare_pair
from custdata.matching._features import Features
from custdata.matching._model import VETO_WEIGHT, probability_of
from custdata.matching._parallel import run_chunks

if TYPE_CHECKING:
    from custdata.matching._matcher import Matcher

__all__ = ["ScoredPairs"]

logger = logging.getLogger(__name__)

_BLOCK_RANGE = 250_000  # records whose pairs one process expands and compares at a time


class ScoredPairs:
    """Candidate pairs in compact arrays: indices, comparison pattern ids, weights and probabilities."""

    def __init__(
        self, left: array[int], right: array[int], pattern: array[int], patterns: list[tuple[int, ...]]
    ) -> None:
        self.left = left
        self.right = right
        self.pattern = pattern
        self.patterns = patterns
        self.weight: array[float] = array("d")
        self.probability: array[float] = array("d")
        # comparison patterns of pairs seen by blocking but not candidates (sampled sort neighbours that
        # agree on nothing else), with the number of such pairs each stands for: EM counts them too
        self.unscored: dict[tuple[int, ...], int] = {}
        # those sampled pairs one by one (each standing for SAMPLE_EVERY), so that a fit on a group of the
        # records (see :meth:`counts_within`) counts those of the group
        self.sampled_left: array[int] = array("I")
        self.sampled_right: array[int] = array("I")
        self.sampled_vecs: list[tuple[int, ...]] = []

    def __len__(self) -> int:
        return len(self.left)

    @classmethod
    def compare(
        cls,
        feats: Sequence[Features],
        codes: Iterable[int],
        fields: Sequence[FieldComparison],
        *,
        workers: int = 1,
    ) -> ScoredPairs:
        """Compare every encoded candidate pair (sorted, so the result does not depend on input order).

        A ``set`` of codes is emptied as it is read, to keep the peak memory down.
        """
        ordered = array("Q", sorted(codes))
        if isinstance(codes, set):
            codes.clear()

        def chunk(start: int, stop: int) -> tuple[array[int], array[int], array[int], list[tuple[int, ...]]]:
            left, right, pattern = array("I"), array("I"), array("I")
            ids: dict[tuple[int, ...], int] = {}
            patterns: list[tuple[int, ...]] = []
            _compare_codes(
                itertools.islice(ordered, start, stop), fields, feats, left, right, pattern, ids, patterns
            )
            return left, right, pattern, patterns

        return cls._merge(run_chunks(chunk, len(ordered), workers))

    @classmethod
    def block_and_compare(
        cls,
        feats: Sequence[Features],
        plan: BlockPlan,
        fields: Sequence[FieldComparison],
        *,
        workers: int = 1,
    ) -> tuple[ScoredPairs, BlockingStats]:
        """Expand the blocks of ``plan`` into pairs and compare them, each process taking the pairs of a
        range of records (no set of all the pairs is ever held in one place). Pairs come out sorted by
        (smaller index, larger index), as from :meth:`compare`; the statistics of ``plan`` are completed."""
        bounds = plan.bounds(workers)
        pieces = max(1, -(-plan.size // _BLOCK_RANGE))  # ranges per process: bounds the size of one set

        def chunk(
            start: int, stop: int
        ) -> tuple[
            array[int],
            array[int],
            array[int],
            list[tuple[int, ...]],
            dict[str, int],
            tuple[array[int], array[int], list[tuple[int, ...]]],
        ]:
            left, right, pattern = array("I"), array("I"), array("I")
            ids: dict[tuple[int, ...], int] = {}
            patterns: list[tuple[int, ...]] = []
            added: dict[str, int] = {}
            s_left, s_right = array("I"), array("I")
            s_vecs: list[tuple[int, ...]] = []
            distinct: dict[tuple[int, ...], tuple[int, ...]] = {}  # one tuple per pattern travels back
            lo_all, hi_all = bounds[start], bounds[stop]
            cuts = [lo_all + (hi_all - lo_all) * k // pieces for k in range(pieces + 1)]
            for lo, hi in itertools.pairwise(cuts):
                sample: set[int] = set()
                codes, counts = plan.pairs(lo, hi, sample)
                for name, c in counts.items():
                    added[name] = added.get(name, 0) + c
                ordered = sorted(codes)
                del codes
                _compare_codes(ordered, fields, feats, left, right, pattern, ids, patterns)
                del ordered
                for code in sorted(sample):
                    i, j = decode(code)
                    vec = compare_pair(fields, feats[i], feats[j])
                    s_left.append(i)
                    s_right.append(j)
                    s_vecs.append(distinct.setdefault(vec, vec))
            return left, right, pattern, patterns, added, (s_left, s_right, s_vecs)

        parts = run_chunks(chunk, len(bounds) - 1, len(bounds) - 1)
        scored = cls._merge([p[:4] for p in parts])
        stats = plan.stats
        for part in parts:
            for name, c in part[4].items():
                stats.pairs_per_pass[name] = stats.pairs_per_pass.get(name, 0) + c
            s_left, s_right, s_vecs = part[5]
            scored.sampled_left.extend(s_left)
            scored.sampled_right.extend(s_right)
            scored.sampled_vecs.extend(s_vecs)
            for vec in s_vecs:
                scored.unscored[vec] = scored.unscored.get(vec, 0) + SAMPLE_EVERY
        stats.candidates = len(scored)
        logger.info("blocking: %d candidate pairs over %d records", len(scored), plan.size)
        return scored, stats

    @classmethod
    def _merge(
        cls, parts: Sequence[tuple[array[int], array[int], array[int], list[tuple[int, ...]]]]
    ) -> ScoredPairs:
        left, right, pattern, patterns = parts[0]
        ids = {vec: k for k, vec in enumerate(patterns)}
        for l2, r2, p2, pats2 in parts[1:]:
            remap = []
            for vec in pats2:
                pid = ids.get(vec)
                if pid is None:
                    pid = ids[vec] = len(patterns)
                    patterns.append(vec)
                remap.append(pid)
            left.extend(l2)
            right.extend(r2)
            pattern.extend(array("I", map(remap.__getitem__, p2)))
        return cls(left, right, pattern, patterns)

    def pattern_counts(self) -> list[int]:
        counts = [0] * len(self.patterns)
        for pid in self.pattern:
            counts[pid] += 1
        return counts

    def fit_counts(self) -> dict[tuple[int, ...], int]:
        """What EM learns from: each comparison pattern with the number of pairs showing it, the candidates
        and the sampled sort neighbours that are not candidates (each standing for SAMPLE_EVERY)."""
        counts: dict[tuple[int, ...], int] = {}
        for pid, n in enumerate(self.pattern_counts()):
            if n:
                counts[self.patterns[pid]] = n
        for vec, n in self.unscored.items():
            counts[vec] = counts.get(vec, 0) + n
        return counts

    def counts_within(
        self, group: Sequence[int], wanted: Iterable[int], *, sampled_weight: int = 1
    ) -> dict[int, tuple[dict[tuple[int, ...], int], int]]:
        """For each group number in ``wanted``: :meth:`fit_counts` over the pairs whose two records are both
        in that group (``group[i]`` is record ``i``'s), and how many of those pairs are candidates. The
        sampled sort neighbours count ``sampled_weight`` times as much as in :meth:`fit_counts`.

        The pairs already compared, counted again: a fit on a group of the records needs no blocking and
        comparing of its own."""
        each = SAMPLE_EVERY * sampled_weight
        per = {g: [0] * len(self.patterns) for g in wanted}
        for i, j, pid in zip(self.left, self.right, self.pattern, strict=True):
            g = group[i]
            if g == group[j] and g in per:
                per[g][pid] += 1
        sampled: dict[int, dict[tuple[int, ...], int]] = {g: {} for g in per}
        for i, j, vec in zip(self.sampled_left, self.sampled_right, self.sampled_vecs, strict=True):
            g = group[i]
            if g == group[j] and g in per:
                into = sampled[g]
                into[vec] = into.get(vec, 0) + each
        out: dict[int, tuple[dict[tuple[int, ...], int], int]] = {}
        for g, pids in per.items():
            counts = {self.patterns[pid]: n for pid, n in enumerate(pids) if n}
            for vec, n in sampled[g].items():
                counts[vec] = counts.get(vec, 0) + n
            out[g] = (counts, sum(pids))
        return out

    def score(self, matcher: Matcher, feats: Sequence[Features]) -> None:
        base = [matcher._pattern_weight(p) for p in self.patterns]
        tf_needed = [any(p[k] in fc.tf_levels for k, fc in matcher._tf_index) for p in self.patterns]
        vetoed = [matcher._vetoed(p) for p in self.patterns]
        weight, prob = array("d"), array("d")
        for i, j, pid in zip(self.left, self.right, self.pattern, strict=True):
            w = base[pid]
            if tf_needed[pid]:
                w += matcher._tf(self.patterns[pid], feats[i], feats[j])
            if vetoed[pid] and w > VETO_WEIGHT:
                w = VETO_WEIGHT
            weight.append(w)
            prob.append(probability_of(w))
        self.weight, self.probability = weight, prob


def _compare_codes(
    codes: Iterable[int],
    fields: Sequence[FieldComparison],
    feats: Sequence[Features],
    left: array[int],
    right: array[int],
    pattern: array[int],
    ids: dict[tuple[int, ...], int],
    patterns: list[tuple[int, ...]],
) -> None:
    """Compare the pairs of the encoded ``codes`` in order, appending each pair's two indexes to ``left``
    and ``right`` and the position of its comparison vector in ``patterns`` (each distinct vector is kept
    once; ``ids`` finds it) to ``pattern``."""
    for code in codes:
        i, j = decode(code)
        vec = compare_pair(fields, feats[i], feats[j])
        pid = ids.get(vec)
        if pid is None:
            pid = ids[vec] = len(patterns)
            patterns.append(vec)
        left.append(i)
        right.append(j)
        pattern.append(pid)
