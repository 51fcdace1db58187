"""Dedupe on Dask: features and blocking keys per partition, a shuffle by block key so every candidate pair
meets in one partition, scoring there with one fitted :class:`~custdata.matching.Matcher` (shipped to the
workers), and the clustering :func:`custdata.dedupe` uses, on the client, over the accepted pairs.

The candidate pairs are those of :func:`custdata.dedupe`'s blocking (the same key functions, not a copy):

* keyed passes: the records sharing a ``(pass, key)`` meet in one group after the shuffle; a block up to
  ``max_block_size`` is compared all-to-all, a larger one between neighbours sorted by name and birthday;
  an optional pass (``passes=None``) runs only if it would give at most five pairs per record and cap no
  block, decided from block sizes counted on the workers;
* sorted-neighbourhood passes: the records are range-partitioned by ``(sort key, id)`` on splitters taken
  from a sample, sorted in each range, compared with their ``window - 1`` neighbours; the neighbours across
  two ranges are compared on the client from the few rows at each range's ends.

A pair's probability depends only on its two records and the model, so the accepted pairs are
bit-for-bit those of the single-machine run; records are ordered by id in both, so clustering (strongest
pair first, ties by id) joins the same groups.
"""

from __future__ import annotations

import bisect
import functools
import logging
import warnings
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import dask.bag as db
from dask.base import compute

from custdata._records import Customer
from custdata.dask._normalize import as_bag
from custdata.exceptions import ValidationError
from custdata.matching import Matcher, MatchSettings
from custdata.matching._blocking import (
    _EXTRA_BUDGET,
    DEFAULT_PASSES,
    EXTRA_PASSES,
    SORTED_PASSES,
    LargeBlockWarning,
    _sn_name,
    corroborated,
)
from custdata.matching._cluster import cluster
from custdata.matching._compare import DEFAULT_FIELDS, compare_pair
from custdata.matching._features import Features, features_of
from custdata.matching._model import VETO_WEIGHT, probability_of
from custdata.matching._settings import DEFAULT_THRESHOLD, UNSET, _Unset, resolve_settings

__all__ = ["DaskDedupeResult", "dedupe"]

logger = logging.getLogger(__name__)

_KEYED = {**DEFAULT_PASSES, **EXTRA_PASSES}
_Feat = tuple[str, Features]
_Edge = tuple[str, str, float]  # smaller id, larger id, probability
_SPLIT_SAMPLE = 64  # sort keys sampled per partition to choose the range splitters


@attrs.frozen
class _Job:
    """What every task needs: the model and the blocking settings (shipped once per task)."""

    matcher: Matcher
    window: int
    max_block_size: int


def _score(m: Matcher, a: Features, b: Features) -> float:
    """The probability :meth:`ScoredPairs.score` gives the pair (the same steps, one pair)."""
    vec = compare_pair(DEFAULT_FIELDS, a, b)
    w = m._pattern_weight(vec)
    if any(vec[k] in fc.tf_levels for k, fc in m._tf_index):
        w += m._tf(vec, a, b)
    if m._vetoed(vec) and w > VETO_WEIGHT:
        w = VETO_WEIGHT
    return probability_of(w)


def _edge(job: _Job, a: _Feat, b: _Feat, out: list[Any]) -> None:
    """Score one candidate pair; keep it as an edge when accepted (ids in order)."""
    p = _score(job.matcher, a[1], b[1])
    if p >= job.matcher.threshold:
        out.append(("edge", *((a[0], b[0]) if a[0] < b[0] else (b[0], a[0])), p))


# ------------------------------------------------------------------------------------------ per partition
def _features(part: Iterable[Any], region: str | None) -> list[_Feat]:
    out = []
    for r in part:
        if not isinstance(r, Customer):
            raise ValidationError(f"expected Customer records, got {type(r).__name__}", field="records")
        out.append((r.id, features_of(r, region=region)))
    return out


def _keyed_rows(part: Iterable[_Feat], names: Sequence[str]) -> list[tuple[str, str, str, Features]]:
    """``(pass, key, id, features)`` for every key a keyed pass gives a record (repeats kept, as
    :func:`plan_blocks` keeps them)."""
    return [(name, key, rid, f) for rid, f in part for name in names for key in _KEYED[name](f)]


def _block_sizes(item: tuple[tuple[str, str], int], max_block_size: int, window: int) -> tuple[str, int, int]:
    """One shared key's contribution to its pass's work (pairs) and capped blocks."""
    (name, _), size = item
    if size > max_block_size:
        return name, (window - 1) * size, 1
    return name, size * (size - 1) // 2, 0


def _block_pairs(groups: Iterable[tuple[tuple[str, str], list[Any]]], job: _Job) -> list[Any]:
    """Compare the pairs of each block as :func:`plan_blocks` and :meth:`BlockPlan.pairs` do."""
    out: list[Any] = []
    compared = 0
    for (name, _), rows in groups:
        if len(rows) < 2:
            continue
        members = sorted(((rid, f) for _, _, rid, f in rows), key=lambda m: m[0])
        if len(members) > job.max_block_size:
            out.append(("capped", name))
            members.sort(key=lambda m: _sn_name(m[1]))  # stable: ties stay in id order
            for offset in range(1, job.window):
                for a, b in zip(members, members[offset:], strict=False):
                    if a[0] != b[0]:
                        compared += 1
                        _edge(job, a, b, out)
            continue
        for x, a in enumerate(members):
            for b in members[x + 1 :]:
                if b[0] != a[0]:
                    compared += 1
                    _edge(job, a, b, out)
    out.append(("pairs", compared))
    return out


def _sort_rows(part: Iterable[_Feat], name: str) -> list[tuple[str, str, Features]]:
    fn = SORTED_PASSES[name]
    return [(k, rid, f) for rid, f in part if (k := fn(f))]


def _sample_keys(part: Iterable[tuple[str, str, Features]]) -> list[tuple[str, str]]:
    keys = sorted((k, rid) for k, rid, _ in part)
    step = max(1, len(keys) // _SPLIT_SAMPLE)
    return keys[::step]


def _range_pairs(groups: Iterable[tuple[int, list[Any]]], job: _Job) -> list[Any]:
    """Inside each key range: its sort neighbours, corroborated, compared; its length and its first and
    last ``window - 1`` rows (for the neighbours across ranges)."""
    out: list[Any] = []
    edge = job.window - 1
    compared = 0
    for bucket, rows in groups:
        order = sorted(rows, key=lambda r: (r[0], r[1]))
        for offset in range(1, job.window):
            for a, b in zip(order, order[offset:], strict=False):
                if corroborated(a[2], b[2]):
                    compared += 1
                    _edge(job, (a[1], a[2]), (b[1], b[2]), out)
        out.append(("length", bucket, len(order)))
        ends = set(range(min(edge, len(order)))) | set(range(max(0, len(order) - edge), len(order)))
        for pos in sorted(ends):
            out.append(("end", bucket, pos, order[pos][1], order[pos][2]))
    out.append(("pairs", compared))
    return out


# ------------------------------------------------------------------------------------------------- result
class DaskDedupeResult:
    """What :func:`dedupe` on Dask found.

    ``clusters``: the clusters of two or more records (frozensets of record ids, ordered by their smallest
    id); every other record is a cluster of its own. Unlike :class:`custdata.matching.DedupeResult`, the
    singletons are not listed on the client (on a cluster they are most of the input):
    :meth:`assignments` gives every record's cluster id as a Dask bag, computed on the workers.
    ``cluster_ids`` maps each record of those clusters to its cluster id (the smallest id in its
    cluster); :meth:`cluster_id` answers for any record id.
    ``matcher`` is the model that scored the pairs, ``settings`` the settings used, ``records`` the number
    of input records, ``compared`` the pairs compared (a pair proposed by two passes counts twice) and
    ``accepted`` the distinct pairs at or above the threshold. ``capped_blocks`` and ``skipped_passes``
    are as in :class:`~custdata.matching.BlockingStats`.
    """

    def __init__(
        self,
        clusters: list[frozenset[str]],
        matcher: Matcher,
        settings: MatchSettings,
        records: int,
        compared: int,
        accepted: int,
        capped_blocks: dict[str, int],
        skipped_passes: dict[str, int],
        bag: db.Bag,
    ) -> None:
        self._bag = bag
        clusters.sort(key=min)
        self.clusters: tuple[frozenset[str], ...] = tuple(clusters)
        self.cluster_ids: dict[str, str] = {rid: min(c) for c in clusters for rid in c}
        self.matcher = matcher
        self.settings = settings
        self.records = records
        self.compared = compared
        self.accepted = accepted
        self.capped_blocks = capped_blocks
        self.skipped_passes = skipped_passes

    def __repr__(self) -> str:
        return f"<DaskDedupeResult: {self.records} records, {len(self.clusters)} clusters with duplicates>"

    def cluster_id(self, record_id: str) -> str:
        """The cluster id of a record (its own id when it has no duplicate)."""
        return self.cluster_ids.get(record_id, record_id)

    def assignments(self) -> db.Bag:
        """Every input record's ``(record id, cluster id)``, singletons included, in input order: what
        ``DedupeResult.cluster_ids`` holds on one machine, as a Dask bag computed on the workers (from the
        input bag again: a bag read from files reads them again)."""
        out: db.Bag = self._bag.map_partitions(_assign, self.cluster_ids)  # type: ignore[no-untyped-call]
        return out


def _assign(part: Iterable[Customer], ids: dict[str, str]) -> list[tuple[str, str]]:
    return [(r.id, ids.get(r.id, r.id)) for r in part]


# ---------------------------------------------------------------------------------------------------- api
def dedupe(
    records: Any,
    *,
    matcher: Matcher | None = None,
    settings: MatchSettings | None = None,
    threshold: float | _Unset = UNSET,
    region: str | _Unset | None = UNSET,
    passes: Iterable[str] | _Unset | None = UNSET,
    window: int | _Unset = UNSET,
    max_block_size: int | _Unset = UNSET,
    min_support: float | _Unset = UNSET,
    seed: int | _Unset = UNSET,
    fit_sample: int | _Unset = UNSET,
    npartitions: int | None = None,
) -> DaskDedupeResult:
    """Find the records that are the same customer, on the Dask workers.

    ``records``: a Dask bag of :class:`~custdata.Customer` (from :func:`read_csv` or :func:`normalize`),
    or an iterable split into ``npartitions``. With a fitted ``matcher`` (from :func:`custdata.dedupe` or
    :meth:`Matcher.load`) the clusters equal those of ``custdata.dedupe(records, matcher=matcher)`` with
    the same settings. Without one, a model is fitted on the client on a birthday sample of about
    ``fit_sample`` records (with :func:`custdata.dedupe`) and shipped to the workers; its term-frequency
    tables then come from the sample, not from every record as on one machine. Record ids must be unique.
    """
    s = resolve_settings(
        settings,
        matcher,
        threshold=threshold,
        region=region,
        passes=passes,
        window=window,
        max_block_size=max_block_size,
        min_support=min_support,
        seed=seed,
        fit_sample=fit_sample,
    )
    known = [*_KEYED, *SORTED_PASSES]
    unknown = [x for x in s.passes or () if x not in known]
    if unknown:
        raise ValidationError(
            f"unknown blocking pass {unknown[0]!r}; choose from {sorted(known)}", field="passes"
        )
    bag = as_bag(records, npartitions)
    if matcher is None:
        matcher = _fit_on_sample(bag, s)
    s = attrs.evolve(s, region=matcher.region)
    if s.threshold != DEFAULT_THRESHOLD:
        matcher = Matcher(
            matcher.model,
            threshold=s.threshold,
            region=matcher.region,
            fields=matcher.fields,
            min_support=s.min_support,
        )
    job = _Job(matcher, s.window, s.max_block_size)
    feats = bag.map_partitions(_features, s.region).persist()  # type: ignore[no-untyped-call]
    n, distinct = compute(feats.count(), feats.pluck(0).distinct().count())  # type: ignore[no-untyped-call]
    if n != distinct:
        raise ValidationError(
            f"dedupe: {n - distinct} record id(s) appear more than once; ids must be unique"
        )

    names = list(s.passes) if s.passes is not None else [*DEFAULT_PASSES, *EXTRA_PASSES, *SORTED_PASSES]
    keyed = [x for x in names if x in _KEYED]
    skipped: dict[str, int] = {}
    if s.passes is None:
        keyed, skipped = _choose(feats, keyed, n, job)
    graphs: list[Any] = []
    if keyed:
        rows = feats.map_partitions(_keyed_rows, keyed)
        groups = rows.groupby(lambda r: (r[0], r[1]), npartitions=feats.npartitions)
        graphs.append(groups.map_partitions(_block_pairs, job))
    sorted_names = [x for x in names if x in SORTED_PASSES]
    for name in sorted_names:
        graphs.append(_sorted_pass(feats, name, job))
    parts = compute(*graphs) if graphs else ()  # type: ignore[no-untyped-call]
    edges: dict[tuple[str, str], float] = {}
    capped: dict[str, int] = {}
    compared = 0
    for part, is_sorted in zip(parts, [False] * bool(keyed) + [True] * len(sorted_names), strict=True):
        lengths: dict[int, int] = {}
        tail: list[Any] = []
        for item in part:
            kind = item[0]
            if kind == "pairs":
                compared += item[1]
            elif kind == "edge":
                edges[(item[1], item[2])] = item[3]
            elif kind == "capped":
                capped[item[1]] = capped.get(item[1], 0) + 1
            elif kind == "length":
                lengths[item[1]] = item[2]
            else:
                tail.append(item)
        if is_sorted:
            compared += _across(tail, lengths, job, edges)
    for name, count in capped.items():
        msg = (
            f"blocking pass {name!r}: {count} block(s) larger than max_block_size="
            f"{s.max_block_size} compared only between sort neighbours"
        )
        logger.warning(msg)
        warnings.warn(msg, LargeBlockWarning, stacklevel=2)
    groups_ = _cluster(feats, edges, matcher, s.seed)
    return DaskDedupeResult(groups_, matcher, s, n, compared, len(edges), capped, skipped, bag)


def _fit_on_sample(bag: db.Bag, s: MatchSettings) -> Matcher:
    """A model fitted on the client on about ``fit_sample`` records chosen by birthday, as
    :func:`custdata.dedupe` samples them."""
    from custdata.matching import dedupe as local_dedupe

    n = bag.count().compute()  # type: ignore[no-untyped-call]
    k = max(1, -(-n // s.fit_sample))
    residue = s.seed % k
    sample = bag.filter(functools.partial(_in_sample, region=s.region, k=k, residue=residue)).compute()  # type: ignore[no-untyped-call]
    return local_dedupe(sample, settings=s).matcher


def _in_sample(r: Any, region: str | None, k: int, residue: int) -> bool:
    if not isinstance(r, Customer):
        raise ValidationError(f"expected Customer records, got {type(r).__name__}", field="records")
    f = features_of(r, region=region)
    return zlib.crc32((f.dob or f.id).encode()) % k == residue


def _choose(feats: db.Bag, keyed: list[str], n: int, job: _Job) -> tuple[list[str], dict[str, int]]:
    """The optional passes that stay selective (at most five pairs per record, no capped block), by
    :func:`plan_blocks`'s rule, from the block sizes counted on the workers."""
    optional = [x for x in keyed if x in EXTRA_PASSES]
    if not optional:
        return keyed, {}
    sizes = (
        feats.map_partitions(_keyed_rows, optional)  # type: ignore[no-untyped-call]
        .map(lambda r: (r[0], r[1]))
        .frequencies()
        .filter(lambda kv: kv[1] >= 2)
        .map(_block_sizes, job.max_block_size, job.window)
        .foldby(
            lambda t: t[0],
            lambda acc, t: (acc[0] + t[1], acc[1] + t[2]),
            (0, 0),
            lambda x, y: (x[0] + y[0], x[1] + y[1]),
            (0, 0),
        )
    )
    totals = dict(sizes.compute())
    skipped: dict[str, int] = {}
    ran = []
    for name in keyed:
        if name in EXTRA_PASSES:
            work, capped = totals.get(name, (0, 0))
            if work > _EXTRA_BUDGET * n or capped:
                skipped[name] = work
                continue
        ran.append(name)
    return ran, skipped


def _sorted_pass(feats: db.Bag, name: str, job: _Job) -> Any:
    """One sorted-neighbourhood pass: range-partitioned by ``(key, id)``, neighbours compared per range."""
    rows = feats.map_partitions(_sort_rows, name).persist()  # type: ignore[no-untyped-call]
    sample = sorted(rows.map_partitions(_sample_keys).compute())
    ranges = max(1, feats.npartitions)
    splitters = [sample[len(sample) * k // ranges] for k in range(1, ranges)] if sample else []
    by_range = rows.groupby(lambda r: bisect.bisect_right(splitters, (r[0], r[1])), npartitions=ranges)
    return by_range.map_partitions(_range_pairs, job)


def _across(tail: list[Any], lengths: dict[int, int], job: _Job, edges: dict[tuple[str, str], float]) -> int:
    """Compare the sort neighbours that fall in two different ranges (the rows at the ranges' ends); the
    number of pairs compared."""
    offset: dict[int, int] = {}
    at = 0
    for bucket in sorted(lengths):
        offset[bucket] = at
        at += lengths[bucket]
    rows = sorted((offset[b] + pos, b, rid, f) for _, b, pos, rid, f in tail)
    out: list[Any] = []
    compared = 0
    for x, (ga, ba, ida, fa) in enumerate(rows):
        for gb, bb, idb, fb in rows[x + 1 :]:
            if gb - ga >= job.window:
                break
            if ba != bb and corroborated(fa, fb):
                compared += 1
                _edge(job, (ida, fa), (idb, fb), out)
    for item in out:
        edges[(item[1], item[2])] = item[3]
    return compared


def _cluster(
    feats: db.Bag, edges: dict[tuple[str, str], float], matcher: Matcher, seed: int
) -> list[frozenset[str]]:
    """The clustering :func:`custdata.dedupe` uses, over the records in accepted pairs, indexed in id
    order as there (a record in no accepted pair is a cluster of its own)."""
    if not edges:
        return []
    ids = sorted({x for pair in edges for x in pair})
    wanted = frozenset(ids)
    found = dict(feats.filter(lambda t: t[0] in wanted).compute())  # type: ignore[no-untyped-call]
    index = {rid: k for k, rid in enumerate(ids)}
    fs = [found[rid] for rid in ids]
    listed = [(p, index[a], index[b]) for (a, b), p in edges.items()]

    def score(i: int, j: int) -> float:
        return matcher._score_features(fs[i], fs[j])[1]

    groups = cluster(len(ids), listed, score, min_support=matcher.min_support, seed=seed)
    return [frozenset(ids[i] for i in g) for g in groups if len(g) > 1]
