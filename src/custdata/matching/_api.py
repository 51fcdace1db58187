"""``dedupe`` and ``link``: block, compare, learn, score, cluster."""

from __future__ import annotations

import bisect
import functools
import logging
import warnings
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from custdata._records import Customer
from custdata.exceptions import CustdataWarning, MissingExtraError, NotFoundError, ValidationError
from custdata.matching._blocking import BlockingStats, plan_blocks
from custdata.matching._cluster import cluster
from custdata.matching._compare import DEFAULT_FIELDS
from custdata.matching._features import Features, features_of, han_variants_available
from custdata.matching._golden import GoldenRecord, Rules, golden_record
from custdata.matching._matcher import Matcher, MatchExplanation, _add_term_frequencies
from custdata.matching._model import FSModel
from custdata.matching._pairs import ScoredPairs
from custdata.matching._parallel import resolve_jobs, run_chunks
from custdata.matching._settings import DEFAULT_THRESHOLD, UNSET, MatchSettings, _Unset, resolve_settings

__all__ = ["DedupeResult", "LinkResult", "ScoredPair", "dedupe", "link"]

logger = logging.getLogger(__name__)
MAX_HOUSEHOLD = 12  # people sharing a number or an address beyond which it is not a household
_FEATURES_PIECE = 25_000  # records whose features a worker sends back at a time
_FIT_ATTEMPTS = 4  # birthday samples tried when EM on a sample settles on the wrong split


@attrs.frozen
class ScoredPair:
    """A compared candidate pair: the two record ids, the match weight (bits) and probability."""

    id_a: str
    id_b: str
    probability: float
    weight: float


class _Pairs(Sequence[ScoredPair]):
    """The candidate pairs, built on demand from compact arrays (millions of pairs stay cheap).

    Index by position, or look a pair up by its two record ids: ``pairs[("a", "b")]`` (either order) gives
    its :class:`ScoredPair`, ``("a", "b") in pairs`` tells whether blocking proposed it."""

    def __init__(self, scored: ScoredPairs, ids_a: Sequence[str], ids_b: Sequence[str], offset: int) -> None:
        self._s = scored
        self._a = ids_a
        self._b = ids_b
        self._offset = offset

    def __len__(self) -> int:
        return len(self._s)

    def _make(self, k: int) -> ScoredPair:
        s = self._s
        return ScoredPair(
            self._a[s.left[k]], self._b[s.right[k] - self._offset], s.probability[k], s.weight[k]
        )

    @functools.cached_property
    def _pos(self) -> tuple[dict[str, int], dict[str, int]]:
        left = {rid: k for k, rid in enumerate(self._a)}
        right = left if self._b is self._a else {rid: k + self._offset for k, rid in enumerate(self._b)}
        return left, right

    def _find(self, id_a: str, id_b: str) -> int:
        """The position of the pair of two record ids (either order), or -1 when it was not compared."""
        left, right = self._pos
        for x, y in ((id_a, id_b), (id_b, id_a)):
            i, j = left.get(x), right.get(y)
            if i is None or j is None:
                continue
            lo, hi = (i, j) if i < j else (j, i)
            s = self._s
            k = bisect.bisect_left(s.left, lo)
            while k < len(s.left) and s.left[k] == lo:
                if s.right[k] == hi:
                    return k
                k += 1
        return -1

    def __contains__(self, item: object) -> bool:
        if isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item):
            return self._find(item[0], item[1]) >= 0
        return super().__contains__(item)

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, tuple):
            if len(k) != 2 or not all(isinstance(x, str) for x in k):
                raise TypeError("look a pair up by two record ids: pairs[(id_a, id_b)]")
            pos = self._find(k[0], k[1])
            if pos < 0:
                raise NotFoundError(
                    f"{k!r}: these two records were not compared (no blocking pass proposed them)"
                )
            return self._make(pos)
        if isinstance(k, slice):
            return [self._make(x) for x in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        return self._make(k)

    def __iter__(self) -> Iterator[ScoredPair]:
        for k in range(len(self)):
            yield self._make(k)

    def __repr__(self) -> str:
        return f"<{len(self)} scored pairs>"


def _listed(records: Iterable[Customer], name: str) -> list[Customer]:
    """``records`` as a list (``ValidationError`` naming the argument for something not iterable)."""
    try:
        return list(records)
    except TypeError:
        raise ValidationError(
            f"expected an iterable of Customer records, got {type(records).__name__}", field=name
        ) from None


def _check_ids(records: Sequence[Customer], what: str) -> None:
    seen: set[str] = set()
    for r in records:
        if not isinstance(r, Customer):
            raise ValidationError(f"{what}: expected Customer records, got {type(r).__name__}")
        if r.id in seen:
            raise ValidationError(f"{what}: record id {r.id!r} appears more than once; ids must be unique")
        seen.add(r.id)


class DedupeResult:
    """What :func:`dedupe` found.

    ``clusters``: a tuple of frozensets of record ids, a partition of the input (singletons included),
    ordered by cluster id. ``cluster_ids`` maps each record id to its cluster id, the smallest record id in
    its cluster, so ids do not depend on input order. ``pairs``: every compared candidate pair with its
    match probability. ``households``: groups of clusters sharing a phone or an address (people living
    together). ``explain(a, b)`` tells why a pair scored as it did; ``golden_records()`` merges each
    cluster into one record. ``matcher`` is the fitted :class:`Matcher`, ready to save and reuse.
    """

    def __init__(
        self,
        records: Sequence[Customer],
        feats: Sequence[Features],
        groups: list[list[int]],
        scored: ScoredPairs,
        matcher: Matcher,
        blocking: BlockingStats,
        settings: MatchSettings,
    ) -> None:
        self.settings = settings
        self._records = records
        self._feats = feats
        self._index = {r.id: k for k, r in enumerate(records)}
        self.matcher = matcher
        self.blocking = blocking
        clusters = [frozenset(records[i].id for i in g) for g in groups]
        clusters.sort(key=min)
        self.clusters: tuple[frozenset[str], ...] = tuple(clusters)
        self.cluster_ids: dict[str, str] = {rid: min(c) for c in clusters for rid in c}
        ids = [r.id for r in records]
        self.pairs: Sequence[ScoredPair] = _Pairs(scored, ids, ids, 0)
        self.threshold = matcher.threshold

    def __repr__(self) -> str:
        dup = sum(1 for c in self.clusters if len(c) > 1)
        n = len(self._records)
        return f"<DedupeResult: {n} records, {len(self.clusters)} clusters ({dup} with duplicates)>"

    def cluster_of(self, record_id: str) -> frozenset[str]:
        """The cluster holding ``record_id``."""
        try:
            cid = self.cluster_ids[record_id]
        except KeyError:
            raise NotFoundError(record_id) from None
        return self._by_cid[cid]

    @functools.cached_property
    def households(self) -> tuple[frozenset[str], ...]:
        """People who live together: groups of two or more clusters (by cluster id) that share a phone number
        or an address (street with postcode or city), ordered by their smallest cluster id.

        A shared landline and address are evidence of a household, not of one person, so dedupe keeps the
        members apart and reports them here. A number or address shared by more than
        ``MAX_HOUSEHOLD`` people (a switchboard, a dormitory) is not taken as a household."""
        by_key: dict[str, set[str]] = {}
        for rid, k in self._index.items():
            f = self._feats[k]
            cid = self.cluster_ids[rid]
            keys = [f"p\x1f{p}" for p in f.phones]
            if f.street and (f.postcode or f.city):
                keys.append(f"a\x1f{f.street}\x1f{f.postcode or f.city}")
            for key in keys:
                by_key.setdefault(key, set()).add(cid)
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        for cids in by_key.values():
            if 1 < len(cids) <= MAX_HOUSEHOLD:
                first, *rest = sorted(cids)
                for other in rest:
                    a, b = find(first), find(other)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
        groups: dict[str, set[str]] = {}
        for x in parent:
            groups.setdefault(find(x), set()).add(x)
        for root in list(groups):
            groups[root].add(root)
        return tuple(sorted((frozenset(g) for g in groups.values()), key=min))

    @functools.cached_property
    def _by_cid(self) -> dict[str, frozenset[str]]:
        return {min(c): c for c in self.clusters}

    def _feat(self, rid: str) -> Features:
        try:
            return self._feats[self._index[rid]]
        except KeyError:
            raise NotFoundError(rid) from None

    def explain(self, id_a: str, id_b: str) -> MatchExplanation:
        """Per-field comparison levels and weight contributions for two records of the input."""
        return self.matcher.explain(self._feat(id_a), self._feat(id_b))

    def pair_completeness(self, true_pairs: Iterable[tuple[str, str]]) -> float:
        """Share of the true duplicate pairs that blocking proposed as candidates (needs known truth)."""
        truth = {tuple(sorted(p)) for p in true_pairs}
        if not truth:
            return 1.0
        found = {tuple(sorted((p.id_a, p.id_b))) for p in self.pairs}
        return len(truth & found) / len(truth)

    def golden_records(self, rules: Rules | None = None, *, singletons: bool = True) -> list[GoldenRecord]:
        """One merged record per cluster (see :func:`custdata.matching.golden_record` for the rules)."""
        out = []
        for c in self.clusters:
            if len(c) == 1 and not singletons:
                continue
            members = [self._records[self._index[rid]] for rid in sorted(c)]
            out.append(golden_record(members, rules=rules, cluster_id=min(c)))
        return out


class LinkResult:
    """What :func:`link` found: ``links`` (``(left_id, right_id)`` pairs accepted at the threshold),
    ``pairs`` (every compared pair, scored), ``explain(left_id, right_id)`` and the fitted ``matcher``."""

    def __init__(
        self,
        left: Sequence[Customer],
        right: Sequence[Customer],
        feats: Sequence[Features],
        links: set[tuple[str, str]],
        scored: ScoredPairs,
        matcher: Matcher,
        blocking: BlockingStats,
        settings: MatchSettings,
    ) -> None:
        self.settings = settings
        self._n = len(left)
        self._feats = feats
        self._left = {r.id: k for k, r in enumerate(left)}
        self._right = {r.id: k + len(left) for k, r in enumerate(right)}
        self.links = links
        self.matcher = matcher
        self.blocking = blocking
        self.threshold = matcher.threshold
        self.pairs: Sequence[ScoredPair] = _Pairs(
            scored, [r.id for r in left], [r.id for r in right], len(left)
        )

    def __repr__(self) -> str:
        return f"<LinkResult: {len(self.links)} links>"

    def explain(self, left_id: str, right_id: str) -> MatchExplanation:
        try:
            a, b = self._feats[self._left[left_id]], self._feats[self._right[right_id]]
        except KeyError as exc:
            raise NotFoundError(exc.args[0]) from None
        return self.matcher.explain(a, b)


def _features(recs: Sequence[Customer], region: str | None, workers: int | None) -> list[Features]:
    def chunk(start: int, stop: int) -> list[Features]:
        pool: dict[str, str] = {}
        share = pool.setdefault

        def intern(s: str) -> str:
            return share(s, s)

        return [features_of(recs[k], region=region, intern=intern) for k in range(start, stop)]

    # the workers send their features a piece at a time: neither holds all of its features and their
    # pickled copy at once (at a million records the peak of a run was here)
    parts = run_chunks(chunk, len(recs), resolve_jobs(workers, len(recs)), piece=_FEATURES_PIECE)
    feats = parts[0] if len(parts) == 1 else [f for part in parts for f in part]
    if not han_variants_available() and any(f.script == "cjk" for f in feats):
        hint = MissingExtraError("names", "matching traditional and simplified Chinese names", ["opencc"])
        msg = f"Chinese names are compared as written (張偉 and 张伟 differ): {hint}"
        logger.warning(msg)
        warnings.warn(msg, CustdataWarning, stacklevel=3)
    return feats


def _birthday_group(f: Features, k: int) -> int:
    """Which of ``k`` birthday groups a record falls in (by its birthday, or its id when it has none)."""
    return zlib.crc32((f.dob or f.id).encode()) % k


def _fit_on_birthday_sample(
    feats: Sequence[Features], scored: ScoredPairs, s: MatchSettings, fit_sample: int
) -> Matcher | None:
    """The matcher EM learns from the records of about ``fit_sample`` records chosen by birthday.

    On millions of records namesakes crowd the candidates and EM drifts to a "same name" split; the m/u
    learned on a sample carry over to scoring every candidate pair. Sampled by birthday, so a person's
    records (which mostly share one) stay together while namesakes born on other days are thinned out as
    much as the input is. The sample's pairs are those already compared by the run, counted again (no
    blocking or comparing of its own). ``None`` when no birthday group tried has a compared pair."""
    k = -(-len(feats) // fit_sample)
    residues = list(dict.fromkeys((s.seed + attempt) % k for attempt in range(min(k, _FIT_ATTEMPTS))))
    group = array("I", [_birthday_group(f, k) for f in feats])
    # sort neighbours that are no candidates count k times more: blocked on its own, a sample has as many
    # of them per record as the whole input (the window is fixed), k times as many as the run's pairs that
    # fall inside it. Counted so, EM sees the share of strangers among the pairs it saw when each sample
    # was blocked and compared again (on generated customers with crowded birthdays, learned on one in ten:
    # recall 0.9991 so, 0.9986 without)
    within = scored.counts_within(group, residues, sampled_weight=k)
    matcher: Matcher | None = None
    for residue in residues:
        counts, candidates = within[residue]
        if not candidates:  # nothing compared on these birthdays: try others
            continue
        sub = [f for f, g in zip(feats, group, strict=True) if g == residue]
        fitted = Matcher._fit_counts(
            sub,
            counts,
            threshold=s.threshold,
            region=s.region,
            min_support=s.min_support,
            seed=s.seed,
            birthday_sample=k,
        )
        if matcher is None:
            matcher = fitted
        # EM pinned at its cap on the prior (two matches per record) has taken the "namesakes against the
        # rest" split, which accepts every namesake pair; another sample of birthdays rarely does
        cap = min(0.5, 2.0 * len(sub) / max(1, candidates))
        pinned = isinstance(fitted.model, FSModel) and fitted.model.prior >= cap * (1.0 - 1e-6)
        if not pinned:
            matcher = fitted
            break
        logger.info("EM on birthday sample %d of %d reached the prior cap; trying another", residue, k)
    if matcher is not None and isinstance(matcher.model, FSModel):
        _add_term_frequencies(matcher.model, feats, DEFAULT_FIELDS)
        matcher = Matcher(matcher.model, threshold=s.threshold, region=s.region, min_support=s.min_support)
    return matcher


def dedupe(
    records: Iterable[Customer],
    *,
    settings: MatchSettings | None = None,
    matcher: Matcher | None = None,
    rules: Sequence[Mapping[str, str | Sequence[str]]] | None = None,
    progress: Callable[[str], None] | None = None,
    threshold: float | _Unset = UNSET,
    region: str | _Unset | None = UNSET,
    passes: Iterable[str] | _Unset | None = UNSET,
    window: int | _Unset = UNSET,
    max_block_size: int | _Unset = UNSET,
    min_support: float | _Unset = UNSET,
    seed: int | _Unset = UNSET,
    workers: int | _Unset | None = UNSET,
    fit_sample: int | _Unset = UNSET,
    n_jobs: int | None = None,
) -> DedupeResult:
    """Find the records that are the same customer.

    Without labels: candidate pairs come from several blocking passes, each pair is compared field by
    field, a Fellegi–Sunter model is learned by EM (or ``rules`` decide, or a fitted ``matcher`` is
    reused), and pairs at or above ``threshold`` (a match probability) are clustered, guarded against
    chaining through one weak link (``min_support``). Record ids must be unique.

    The settings come from ``settings`` (a :class:`MatchSettings`, shared with :func:`link`) with any of
    its fields given as keywords on top; ``result.settings`` holds what was used. ``workers`` processes
    prepare and compare (default: one per core for large inputs, on Linux; ``n_jobs`` is its deprecated
    name); ``progress`` is called with the name of each step as it starts. On more than ``fit_sample``
    records the model is learned on about that many, chosen by birthday (EM is more reliable there), and
    then scores every candidate pair; a fit pinned at its cap on the prior (the "same name" split) is
    redone on another birthday sample.
    """
    s = resolve_settings(
        settings,
        matcher,
        progress,
        n_jobs=n_jobs,
        threshold=threshold,
        region=region,
        passes=passes,
        window=window,
        max_block_size=max_block_size,
        min_support=min_support,
        seed=seed,
        workers=workers,
        fit_sample=fit_sample,
    )
    threshold, region, passes, window = s.threshold, s.region, s.passes, s.window
    max_block_size, min_support, seed, fit_sample = s.max_block_size, s.min_support, s.seed, s.fit_sample
    nw = s.workers
    say = progress or (lambda _msg: None)
    # records are processed in id order, so the result does not depend on the input order
    recs = _listed(records, "records")
    _check_ids(recs, "dedupe")
    recs.sort(key=lambda r: r.id)
    say("preparing")
    feats = _features(recs, region, nw)
    say("blocking")
    plan = plan_blocks(feats, passes=passes, window=window, max_block_size=max_block_size, workers=nw)
    say("comparing")
    scored, stats = ScoredPairs.block_and_compare(
        feats, plan, DEFAULT_FIELDS, workers=resolve_jobs(nw, plan.work())
    )
    del plan
    if matcher is None:
        say("learning")
        if rules is None and len(recs) > fit_sample:
            matcher = _fit_on_birthday_sample(feats, scored, s, fit_sample)
        if matcher is None:
            matcher = Matcher._fit_from(
                feats,
                scored,
                threshold=threshold,
                region=region,
                rules=rules,
                min_support=min_support,
                seed=seed,
            )
    elif threshold != DEFAULT_THRESHOLD:
        matcher = Matcher(
            matcher.model,
            threshold=threshold,
            region=matcher.region,
            fields=matcher.fields,
            min_support=min_support,
        )
    say("scoring")
    scored.score(matcher, feats)
    cut = matcher.threshold
    edges = [
        (p, i, j) for p, i, j in zip(scored.probability, scored.left, scored.right, strict=True) if p >= cut
    ]
    say("clustering")

    def score(i: int, j: int) -> float:
        return matcher._score_features(feats[i], feats[j])[1]

    groups = cluster(len(recs), edges, score, min_support=matcher.min_support, seed=seed)
    return DedupeResult(recs, feats, groups, scored, matcher, stats, s)


def link(
    left: Iterable[Customer],
    right: Iterable[Customer],
    *,
    settings: MatchSettings | None = None,
    one_to_one: bool = True,
    matcher: Matcher | None = None,
    rules: Sequence[Mapping[str, str | Sequence[str]]] | None = None,
    threshold: float | _Unset = UNSET,
    region: str | _Unset | None = UNSET,
    passes: Iterable[str] | _Unset | None = UNSET,
    window: int | _Unset = UNSET,
    max_block_size: int | _Unset = UNSET,
    min_support: float | _Unset = UNSET,
    seed: int | _Unset = UNSET,
    workers: int | _Unset | None = UNSET,
    n_jobs: int | None = None,
) -> LinkResult:
    """Link the records of two sources that are the same customer.

    Same method and the same :class:`MatchSettings` as :func:`dedupe`, comparing only pairs across the
    sources. With ``one_to_one`` (the default: each source is taken to hold each customer once) a record
    links to at most one record of the other source, the best-scoring pairs first; ``one_to_one=False``
    keeps every pair over the threshold.
    """
    s = resolve_settings(
        settings,
        matcher,
        None,
        n_jobs=n_jobs,
        threshold=threshold,
        region=region,
        passes=passes,
        window=window,
        max_block_size=max_block_size,
        min_support=min_support,
        seed=seed,
        workers=workers,
    )
    threshold, region, passes, window = s.threshold, s.region, s.passes, s.window
    max_block_size, min_support, seed = s.max_block_size, s.min_support, s.seed
    lrecs, rrecs = _listed(left, "left"), _listed(right, "right")
    _check_ids(lrecs, "link (left)")
    _check_ids(rrecs, "link (right)")
    lrecs.sort(key=lambda r: r.id)
    rrecs.sort(key=lambda r: r.id)
    feats = _features([*lrecs, *rrecs], region, s.workers)
    side = [0] * len(lrecs) + [1] * len(rrecs)
    plan = plan_blocks(
        feats, passes=passes, window=window, max_block_size=max_block_size, side=side, workers=s.workers
    )
    scored, stats = ScoredPairs.block_and_compare(
        feats, plan, DEFAULT_FIELDS, workers=resolve_jobs(s.workers, plan.work())
    )
    del plan
    if matcher is None:
        matcher = Matcher._fit_from(
            feats,
            scored,
            threshold=threshold,
            region=region,
            rules=rules,
            min_support=min_support,
            seed=seed,
            side=side,
        )
    elif threshold != DEFAULT_THRESHOLD:
        matcher = Matcher(matcher.model, threshold=threshold, region=matcher.region, fields=matcher.fields)
    scored.score(matcher, feats)
    cut = matcher.threshold
    n = len(lrecs)
    accepted = [
        (p, i, j) for p, i, j in zip(scored.probability, scored.left, scored.right, strict=True) if p >= cut
    ]
    links: set[tuple[str, str]] = set()
    if one_to_one:
        used_l: set[int] = set()
        used_r: set[int] = set()
        for _, i, j in sorted(accepted, key=lambda e: (-e[0], e[1], e[2])):
            if i in used_l or j in used_r:
                continue
            used_l.add(i)
            used_r.add(j)
            links.add((lrecs[i].id, rrecs[j - n].id))
    else:
        links = {(lrecs[i].id, rrecs[j - n].id) for _, i, j in accepted}
    return LinkResult(lrecs, rrecs, feats, links, scored, matcher, stats, s)
