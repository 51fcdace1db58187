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
import gc
import logging
import warnings
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import attrs
import dask.bag as db
from dask.base import compute, persist
from dask.delayed import delayed

from custdata._records import Customer
from custdata.dask._normalize import as_bag
from custdata.exceptions import ValidationError
from custdata.matching import Matcher, MatchSettings
from custdata.matching._blocking import (
    _EXTRA_BUDGET,
    DEFAULT_PASSES,
    EXTRA_PASSES,
    ON_REQUEST_PASSES,
    SORTED_PASSES,
    LargeBlockWarning,
    _sn_name,
    corroborated,
    encode,
)
from custdata.matching._cluster import cluster
from custdata.matching._compare import DEFAULT_FIELDS
from custdata.matching._features import Features, features_of
from custdata.matching._pairs import ScoredPairs
from custdata.matching._settings import DEFAULT_THRESHOLD, UNSET, _Unset, resolve_settings

__all__ = ["DaskDedupeResult", "dedupe"]

logger = logging.getLogger(__name__)

_KEYED = {**DEFAULT_PASSES, **EXTRA_PASSES, **ON_REQUEST_PASSES}
_Feat = tuple[str, Features]
_Row = tuple[str, str, str, Features]  # pass, key, id, features
_F = TypeVar("_F", bound=Callable[..., Any])
_SPLIT_SAMPLE = 64  # sort keys sampled per partition to choose the range splitters


@attrs.frozen
class _Job:
    """What every task needs: the model and the blocking settings (one piece of the graph, sent once to
    each worker that needs it)."""

    matcher: Matcher
    window: int
    max_block_size: int


def _edges(feats: Sequence[Features], codes: set[int], matcher: Matcher, out: list[Any]) -> None:
    """Compare and score the encoded pairs ``codes`` of ``feats`` (indices into it) with the matching
    package's batch path, as :func:`custdata.dedupe` does: :meth:`ScoredPairs.compare` gives each pair's
    comparison pattern (each distinct pattern kept once), :meth:`ScoredPairs.score` weighs every pattern
    once and adds the term frequencies where a pattern needs them. The accepted pairs go to ``out`` as
    edges (ids in order). ``codes`` is emptied as it is read."""
    if not codes:
        return
    scored = ScoredPairs.compare(feats, codes, DEFAULT_FIELDS)
    scored.score(matcher, feats)
    cut = matcher.threshold
    for p, i, j in zip(scored.probability, scored.left, scored.right, strict=True):
        if p >= cut:
            a, b = feats[i].id, feats[j].id
            out.append(("edge", a, b, p) if a < b else ("edge", b, a, p))


def _quiet_gc(fn: _F) -> _F:
    """Run ``fn`` with the cyclic garbage collector paused: a task builds millions of small tuples and
    lists (none of them in a reference cycle, freed by their reference counts), and each automatic
    collection would walk every live object of the worker (measured: half the CPU of a run)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        was = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if was:
                gc.enable()

    return run  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------------ shuffle
def _shuffle(bag: db.Bag, split: Any, then: Any, nout: int, *args: Any) -> list[Any]:
    """An all-to-all shuffle, without ``Bag.groupby`` (which hashes every element with ``tokenize``: most of
    the CPU of a run): ``split(partition, nout, *args)`` cuts each input partition into ``nout`` lists on
    the worker holding it; output partition ``j`` (a ``Delayed``) is ``then`` of list ``j`` of every input
    partition, concatenated in input order (only that list travels)."""
    pieces = bag.map_partitions(split, nout, *args).to_delayed(optimize_graph=False)  # type: ignore[no-untyped-call]
    return [delayed(_gather)([p[j] for p in pieces], then) for j in range(nout)]


@_quiet_gc
def _gather(lists: list[list[Any]], then: Any) -> Any:
    rows = [x for part in lists for x in part]
    return rows if then is None else then(rows)


def _bucket(text: str, nout: int) -> int:
    """The output partition of a key: the same in every process (``hash`` of a str is not)."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) % nout


# ------------------------------------------------------------------------------------------ per partition
@_quiet_gc
def _features(part: Iterable[Any], region: str | None) -> list[_Feat]:
    pool: dict[str, str] = {}  # equal strings shared within the partition, as custdata.dedupe does
    share = pool.setdefault

    def intern(s: str) -> str:
        return share(s, s)

    out = []
    for r in part:
        if not isinstance(r, Customer):
            raise ValidationError(f"expected Customer records, got {type(r).__name__}", field="records")
        out.append((r.id, features_of(r, region=region, intern=intern)))
    return out


@_quiet_gc
def _split_keyed(part: Iterable[_Feat], nout: int, names: Sequence[str]) -> list[list[_Row]]:
    """``(pass, key, id, features)`` for every key a keyed pass gives a record (repeats kept, as
    :func:`plan_blocks` keeps them), cut by ``(pass, key)`` into ``nout`` lists. A record's features are
    one object however many keys it has (pickled once per list)."""
    out: list[list[_Row]] = [[] for _ in range(nout)]
    for rid, f in part:
        for name in names:
            for key in _KEYED[name](f):
                out[_bucket(f"{name}\x1f{key}", nout)].append((name, key, rid, f))
    return out


@_quiet_gc
def _blocks(rows: Iterable[_Row]) -> list[tuple[tuple[str, str], list[tuple[str, Features]]]]:
    """The blocks of one shuffled partition: ``((pass, key), members)`` for the keys shared by two rows or
    more, members in id order (a record keyed twice by one pass is there twice, as in :func:`plan_blocks`)."""
    groups: dict[tuple[str, str], list[tuple[str, Features]]] = {}
    for name, key, rid, f in rows:
        groups.setdefault((name, key), []).append((rid, f))
    out = []
    for gk, members in groups.items():
        if len(members) > 1:
            members.sort(key=lambda m: m[0])
            out.append((gk, members))
    return out


@_quiet_gc
def _block_sizes(
    blocks: Iterable[tuple[tuple[str, str], list[Any]]], job: _Job
) -> list[tuple[str, int, int]]:
    """Each block's contribution to its pass's work (pairs) and capped blocks, as :func:`plan_blocks`
    counts them."""
    out = []
    for (name, _), members in blocks:
        size = len(members)
        if size > job.max_block_size:
            out.append((name, (job.window - 1) * size, 1))
        else:
            out.append((name, size * (size - 1) // 2, 0))
    return out


@_quiet_gc
def _block_pairs(
    blocks: Iterable[tuple[tuple[str, str], list[tuple[str, Features]]]], job: _Job, names: frozenset[str]
) -> list[Any]:
    """The pairs of each block of the passes ``names``, as :func:`plan_blocks` and :meth:`BlockPlan.pairs`
    expand them (all-to-all, or sort neighbours in a capped block), gathered over the whole partition (a
    pair two blocks propose is compared once) and compared and scored in one batch."""
    index: dict[str, int] = {}
    feats: list[Features] = []
    codes: set[int] = set()
    out: list[Any] = []
    proposed = 0
    for (name, _), members in blocks:
        if name not in names:
            continue
        at = []
        for rid, f in members:
            k = index.get(rid)
            if k is None:
                k = index[rid] = len(feats)
                feats.append(f)
            at.append(k)
        if len(at) > job.max_block_size:
            out.append(("capped", name))
            order = sorted(range(len(at)), key=lambda x: _sn_name(members[x][1]))  # stable: id order kept
            seq = [at[x] for x in order]
            for offset in range(1, job.window):
                for a, b in zip(seq, seq[offset:], strict=False):
                    if a != b:
                        proposed += 1
                        codes.add(encode(a, b))
            continue
        for x, a in enumerate(at):
            for b in at[x + 1 :]:
                if b != a:
                    proposed += 1
                    codes.add(encode(a, b))
    _edges(feats, codes, job.matcher, out)
    out.append(("pairs", proposed))
    return out


@_quiet_gc
def _sort_rows(part: Iterable[_Feat], name: str) -> list[tuple[str, str, Features]]:
    fn = SORTED_PASSES[name]
    return [(k, rid, f) for rid, f in part if (k := fn(f))]


def _sample_keys(part: Iterable[tuple[str, str, Features]]) -> list[tuple[str, str]]:
    keys = sorted((k, rid) for k, rid, _ in part)
    step = max(1, len(keys) // _SPLIT_SAMPLE)
    return keys[::step]


@_quiet_gc
def _split_ranges(
    part: Iterable[tuple[str, str, Features]], nout: int, splitters: list[tuple[str, str]]
) -> list[list[tuple[str, str, Features]]]:
    out: list[list[tuple[str, str, Features]]] = [[] for _ in range(nout)]
    for row in part:
        out[bisect.bisect_right(splitters, (row[0], row[1]))].append(row)
    return out


@_quiet_gc
def _range_pairs(rows: list[tuple[str, str, Features]], job: _Job, bucket: int) -> list[Any]:
    """Inside one key range: its sort neighbours, corroborated, compared and scored in one batch; its length
    and its first and last ``window - 1`` rows (for the neighbours across ranges)."""
    out: list[Any] = []
    edge = job.window - 1
    order = sorted(rows, key=lambda r: (r[0], r[1]))
    feats = [r[2] for r in order]
    codes: set[int] = set()
    for offset in range(1, job.window):
        for a in range(len(order) - offset):
            b = a + offset
            if corroborated(feats[a], feats[b]):
                codes.add(encode(a, b))
    out.append(("pairs", len(codes)))
    _edges(feats, codes, job.matcher, out)  # (empties codes)
    out.append(("length", bucket, len(order)))
    ends = set(range(min(edge, len(order)))) | set(range(max(0, len(order) - edge), len(order)))
    for pos in sorted(ends):
        out.append(("end", bucket, pos, order[pos][1], order[pos][2]))
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
    of input records, ``compared`` the candidate pairs proposed (a pair proposed by two blocks counts
    twice, though a partition compares it once) and ``accepted`` the distinct pairs at or above the
    threshold. ``capped_blocks`` and ``skipped_passes`` are as in :class:`~custdata.matching.BlockingStats`.
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
    sorted_names = [x for x in names if x in SORTED_PASSES]
    job_d = delayed(job, pure=True)  # one piece of the graph: each worker receives the model once
    tasks: list[Any] = []
    skipped: dict[str, int] = {}
    if keyed:
        blocks = _shuffle(feats, _split_keyed, _blocks, feats.npartitions, keyed)
        if s.passes is None and any(x in EXTRA_PASSES for x in keyed):
            # the optional passes are kept only where selective, by plan_blocks' rule, from the block
            # sizes counted on the workers after the one shuffle of every keyed pass
            blocks = list(persist(*blocks))  # type: ignore[no-untyped-call]
            keyed, skipped = _choose(blocks, keyed, n, job)
        chosen = frozenset(keyed)
        tasks.extend(delayed(_block_pairs)(part, job_d, chosen) for part in blocks)
    keep: list[Any] = []  # persisted sort keys, released when the result is in
    ranged = [_sorted_pass(feats, name, job_d, keep) for name in sorted_names]
    for parts in ranged:
        tasks.extend(parts)
    done = compute(*tasks) if tasks else ()  # type: ignore[no-untyped-call]
    del keep
    edges: dict[tuple[str, str], float] = {}
    capped: dict[str, int] = {}
    compared = 0
    first = len(tasks) - sum(len(parts) for parts in ranged)
    pieces = [done[:first]]
    for parts in ranged:
        pieces.append(done[first : first + len(parts)])
        first += len(parts)
    for number, piece in enumerate(pieces):
        lengths: dict[int, int] = {}
        tail: list[Any] = []
        for part in piece:
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
        if number:  # a sorted pass: the neighbours across two ranges
            compared += _across(tail, lengths, job, edges)
    capped = {name: capped[name] for name in names if name in capped}  # in pass order, as plan_blocks
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


def _choose(blocks: list[Any], keyed: list[str], n: int, job: _Job) -> tuple[list[str], dict[str, int]]:
    """The optional passes that stay selective (at most five pairs per record, no capped block), by
    :func:`plan_blocks`'s rule, from the block sizes counted on the workers."""
    parts = compute(*(delayed(_block_sizes)(part, job) for part in blocks))  # type: ignore[no-untyped-call]
    totals: dict[str, tuple[int, int]] = {}
    for part in parts:
        for name, work, capped in part:
            w, c = totals.get(name, (0, 0))
            totals[name] = (w + work, c + capped)
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


def _sorted_pass(feats: db.Bag, name: str, job: Any, keep: list[Any]) -> list[Any]:
    """One sorted-neighbourhood pass: range-partitioned by ``(key, id)`` on splitters taken from a sample,
    neighbours compared per range (one task per range). The sort keys are computed once, held on the
    workers while ``keep`` holds them."""
    rows = feats.map_partitions(_sort_rows, name).persist()  # type: ignore[no-untyped-call]
    keep.append(rows)
    sample = sorted(rows.map_partitions(_sample_keys).compute())
    ranges = max(1, feats.npartitions)
    splitters = [sample[len(sample) * k // ranges] for k in range(1, ranges)] if sample else []
    parts = _shuffle(rows, _split_ranges, None, ranges, splitters)
    return [delayed(_range_pairs)(part, job, bucket) for bucket, part in enumerate(parts)]


def _across(tail: list[Any], lengths: dict[int, int], job: _Job, edges: dict[tuple[str, str], float]) -> int:
    """Compare the sort neighbours that fall in two different ranges (the rows at the ranges' ends); the
    number of pairs compared."""
    offset: dict[int, int] = {}
    at = 0
    for bucket in sorted(lengths):
        offset[bucket] = at
        at += lengths[bucket]
    rows = sorted(((offset[b] + pos, b, rid, f) for _, b, pos, rid, f in tail), key=lambda r: r[:3])
    feats = [r[3] for r in rows]
    codes: set[int] = set()
    for x, (ga, ba, _, fa) in enumerate(rows):
        for y in range(x + 1, len(rows)):
            gb, bb, _, fb = rows[y]
            if gb - ga >= job.window:
                break
            if ba != bb and corroborated(fa, fb):
                codes.add(encode(x, y))
    out: list[Any] = []
    compared = len(codes)
    _edges(feats, codes, job.matcher, out)  # (empties codes)
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
