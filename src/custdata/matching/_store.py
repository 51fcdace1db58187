"""Dedupe on a store, encrypted or not, decrypting only the customers in candidate pairs.

Each customer's blocking keys (the keys dedupe's keyed passes compute: :data:`DEFAULT_PASSES` and the
optional ``EXTRA_PASSES``, the same functions, not a copy) go into the store's lookup index as block keys
(``custdata.storage._blocks``): a keyed HMAC per pass on an encrypted store. Candidate groups come from
grouping those keys inside the database; only the customers sharing a key with another are read, and they
go through :func:`dedupe` with the passes that ran. Every block of the whole store is a block of the
candidates (a block holds two or more customers, all of them candidates), so the candidate pairs, the
capped blocks and therefore the clusters are those :func:`dedupe` finds on the plaintext records with the
same passes and the same model.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from custdata._records import Customer
from custdata.exceptions import NotFoundError, StoreError, ValidationError
from custdata.matching._api import DedupeResult, dedupe
from custdata.matching._blocking import _EXTRA_BUDGET, DEFAULT_PASSES, EXTRA_PASSES, SORTED_PASSES, KeyFn
from custdata.matching._features import Features, features_of
from custdata.matching._golden import GoldenRecord, Rules, golden_record
from custdata.matching._matcher import Matcher, MatchExplanation
from custdata.matching._settings import UNSET, MatchSettings, _Unset, region_arg, resolve_settings

__all__ = [
    "INDEX_PASSES",
    "StoreDedupeResult",
    "block_keys",
    "dedupe_store",
    "indexed_passes",
    "update_block_index",
]

logger = logging.getLogger(__name__)

#: The blocking passes a store's block index holds: every keyed pass of :func:`dedupe` (the sorted
#: neighbourhood passes need the records in plaintext order, which a blind index hides by design).
INDEX_PASSES: dict[str, KeyFn] = {**DEFAULT_PASSES, **EXTRA_PASSES}
_FORMAT = 2  # 2: short index kinds (kind_of)
_BATCH = 500


def block_keys(record: Customer, *, region: str | None = "CN") -> list[tuple[str, str]]:
    """The ``(pass, key)`` blocking keys of one customer, as dedupe's keyed passes compute them.

    >>> from custdata import Customer
    >>> c = Customer(id="c1", phones=[{"number": "138 0013 8000"}])
    >>> block_keys(c)
    [('phone', '+8613800138000')]
    """
    if not isinstance(record, Customer):
        raise ValidationError(f"expected a Customer, got {type(record).__name__}", field="record")
    return _keys_of(features_of(record, region=region_arg(region)), INDEX_PASSES.items())


def _keys_of(f: Features, fns: Iterable[tuple[str, KeyFn]]) -> list[tuple[str, str]]:
    return sorted({(name, key) for name, fn in fns for key in fn(f)})


_PROBES = (
    {
        "id": "p1",
        "name": {"given": "Wei", "family": "Zhang"},
        "phones": [{"number": "138 0013 8000"}, {"number": "+44 20 7946 0958", "kind": "home"}],
        "emails": [{"address": "Zhang.Wei+shop@Example.com"}],
        "addresses": [{"street": "1 Renmin Rd", "city": "Beijing", "postal_code": "100000"}],
        "birthday": "1990-01-02",
        "external_ids": {"crm": "A-17"},
        "custom": {"birthplace": "Shanghai"},
    },
    {"id": "p2", "name": {"full": "张伟"}, "birthday": "--11-25", "emails": [{"address": "zw@qq.com"}]},
    {"id": "p3", "name": {"full": "Dr. Mary-Ann O'Neil Jr"}, "birthday": "1856-06-18"},
)


@functools.lru_cache(maxsize=16)
def fingerprint(region: str | None) -> str:
    """A digest of the code computing blocking keys and of the keys of fixed probe records under ``region``:
    changes when a newer custdata computes blocking keys differently, so a block index built before is
    rebuilt, never trusted stale."""
    h = hashlib.sha256(repr(region).encode())
    # the code that computes the keys: any change to it rebuilds the index, even one the probes miss
    from custdata.matching import _features

    parts: list[Any] = [_features, *INDEX_PASSES.values()]
    for part in parts:
        try:
            h.update(inspect.getsource(part).encode())
        except (OSError, TypeError):  # no source shipped: the version stands in for it
            from custdata import __version__

            h.update(__version__.encode())
    for probe in _PROBES:
        h.update(repr(block_keys(Customer.from_dict(probe), region=region)).encode())
    return h.hexdigest()[:16]


def kind_of(name: str) -> str:
    from custdata.storage._blocks import kind_of as kind

    return kind(name)


def _index(store: object) -> Any:
    from custdata.storage._blocks import block_index_of

    return block_index_of(store)


def update_block_index(
    store: Any,
    *,
    region: str | None = "CN",
    passes: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
    limit: int | None = None,
) -> int:
    """Bring ``store``'s block index up to date: compute the blocking keys of every customer written since
    (new or changed ones; all of them the first time) and keep them in the store's lookup index, a keyed
    HMAC per blocking pass on an encrypted store. Each customer indexed is read (decrypted) once.

    ``passes`` chooses the blocking passes the index holds (default: those it holds already, or every pass
    of :data:`INDEX_PASSES` for a new index); fewer passes reveal less (docs/security.md) and
    :func:`dedupe_store` then blocks on those only. Resumable: it works in batches, each in its own
    transaction, so an interrupted run loses at most one batch and the next call carries on. ``limit``
    stops after about that many customers; ``progress`` is called with the running count after each
    batch. An index built under another ``region``, with other passes, or by a custdata that computes
    blocking keys differently is dropped and rebuilt. Returns how many customers it indexed. SQL stores
    and memory stores keep a block index; other stores have none (ValidationError)."""
    region = region_arg(region)
    if progress is not None and not callable(progress):
        raise ValidationError("progress must be callable or None", field="progress")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValidationError("limit must be a whole number of at least 1, or None", field="limit")
    chosen = None if passes is None else _check_passes(MatchSettings(passes=passes).passes)[0]
    index = _index(store)
    if index is None:
        raise ValidationError(
            f"{type(store).__name__} keeps no block index (SQL and memory stores do)", field="store"
        )
    have = index.meta()
    want: dict[str, Any] = {"format": _FORMAT, "region": region, "fingerprint": fingerprint(region)}
    if chosen is None:
        same = have is not None and all(have.get(k) == v for k, v in want.items())
        chosen = list(have["passes"]) if same and have is not None else list(INDEX_PASSES)
    want["passes"] = [p for p in INDEX_PASSES if p in chosen]
    if have != want:
        if have is not None:
            logger.warning(
                "block index of %s was built differently (%s): rebuilding it", store, _why(have, want)
            )
            index.drop()
        index.set_meta(want)
    fns = [(name, INDEX_PASSES[name]) for name in want["passes"]]
    done = 0
    after = ""
    while limit is None or done < limit:
        batch = index.pending(after, _BATCH if limit is None else min(_BATCH, limit - done))
        if not batch:
            break
        after = batch[-1].id
        done += index.attach([(c, _keys_of(features_of(c, region=region), fns)) for c in batch])
        if progress is not None:
            progress(done)
    return done


def indexed_passes(store: Any) -> list[str]:
    """The blocking passes ``store``'s block index holds (empty: no index yet, or a store without one)."""
    try:
        index = _index(store)
    except ValidationError:
        return []
    meta = index.meta() if index is not None else None
    return list(meta.get("passes", ())) if meta else []


def _why(have: Mapping[str, Any], want: Mapping[str, Any]) -> str:
    if have.get("region") != want["region"]:
        return f"region {have.get('region')!r}, now {want['region']!r}"
    if have.get("passes") != want["passes"]:
        return f"passes {have.get('passes')}, now {want['passes']}"
    return "an older custdata's blocking keys"


#: Passes :meth:`Matcher.match` asks through ``find`` (exact look-ups every store has), not blocks.
_FOUND_BY_FIND = ("phone", "email", "external_id")
#: Matcher.match leaves out a block shared by more customers than this (dedupe compares only sort
#: neighbours there): the default ``max_block_size``.
_MATCH_BLOCK_CAP = MatchSettings().max_block_size


def block_candidates(record: Features, store: Any, *, region: str | None) -> list[Customer]:
    """The customers of ``store`` sharing a blocking key with ``record`` (besides phone, e-mail and external
    id, which ``find`` looks up), through the store's block index; blocks larger than the default
    ``max_block_size`` are left out. Empty when the store has no block index built under ``region``."""
    try:
        index = _index(store)
    except ValidationError:
        return []
    if index is None:
        return []
    meta = index.meta()
    if not meta or meta.get("region") != region or meta.get("fingerprint") != fingerprint(region):
        return []
    ids: set[str] = set()
    for name in meta.get("passes", ()):
        fn = INDEX_PASSES.get(name)
        if fn is None or name in _FOUND_BY_FIND:
            continue
        kind = kind_of(name)
        for key in set(fn(record)):
            holders = index.holders(kind, index.derive(kind, key))
            if len(holders) <= _MATCH_BLOCK_CAP:
                ids.update(holders)
    ids.discard(record.id)
    if not ids:
        return []
    found: dict[str, Customer] = store.get_many(sorted(ids))
    return list(found.values())


def _check_passes(passes: Sequence[str] | None) -> tuple[list[str], set[str]]:
    """The passes to group (all index passes by default) and which of them are optional."""
    if passes is None:
        return list(INDEX_PASSES), set(EXTRA_PASSES)
    sorted_ones = [p for p in passes if p in SORTED_PASSES]
    if sorted_ones:
        raise ValidationError(
            f"dedupe_store cannot run the sorted-neighbourhood pass {sorted_ones[0]!r}: it needs every "
            "record in plaintext order, which a blind index hides by design; choose from "
            f"{sorted(INDEX_PASSES)}",
            field="passes",
        )
    unknown = [p for p in passes if p not in INDEX_PASSES]
    if unknown:
        raise ValidationError(
            f"unknown blocking pass {unknown[0]!r}; choose from {sorted(INDEX_PASSES)}", field="passes"
        )
    return list(dict.fromkeys(passes)), set()


def _choose(
    names: Sequence[str],
    optional: set[str],
    shared: Callable[[str], list[int]],
    size: int,
    s: MatchSettings,
) -> tuple[list[str], dict[str, int]]:
    """The passes to run and the optional ones left out (with their pair count), by :func:`dedupe`'s rule:
    an optional pass runs only if it gives at most ``_EXTRA_BUDGET`` pairs per record and caps no block.
    ``shared(name)`` gives the sizes of the pass's keys shared by two or more customers."""
    ran: list[str] = []
    skipped: dict[str, int] = {}
    for name in names:
        if name in optional:
            sizes = shared(name)
            full = sum(n * (n - 1) // 2 for n in sizes if n <= s.max_block_size)
            capped = [n for n in sizes if n > s.max_block_size]
            work = full + (s.window - 1) * sum(capped)
            if work > _EXTRA_BUDGET * size or capped:
                skipped[name] = work
                continue
        ran.append(name)
    return ran, skipped


class StoreDedupeResult(DedupeResult):
    """What :func:`dedupe_store` found: a :class:`DedupeResult` over every live customer of the store.

    Beyond it: ``opened``, how many customers were read (decrypted) for the matching (those in candidate
    pairs, plus any :meth:`explain` or :meth:`golden_records` reads later); ``indexed``, how many customers
    the block index took in first; ``store_size``, the live customers. ``households`` are found among the
    candidates only. Customers in no candidate pair are singleton clusters and are read only when asked for.
    """

    opened: int
    indexed: int
    store_size: int
    _store: Any

    @classmethod
    def _wrap(
        cls, inner: DedupeResult, store: Any, ids: Iterable[str], opened: int, indexed: int
    ) -> StoreDedupeResult:
        out = cls.__new__(cls)
        out.__dict__.update(inner.__dict__)
        out._store = store
        lone = [i for i in ids if i not in inner.cluster_ids]
        out.clusters = tuple(sorted((*inner.clusters, *(frozenset([i]) for i in lone)), key=min))
        out.cluster_ids = {**inner.cluster_ids, **{i: i for i in lone}}
        out.opened = opened
        out.indexed = indexed
        out.store_size = len(out.cluster_ids)
        return out

    def __repr__(self) -> str:
        dup = sum(1 for c in self.clusters if len(c) > 1)
        return (
            f"<StoreDedupeResult: {self.store_size} customers, {len(self.clusters)} clusters ({dup} with "
            f"duplicates), {self.opened} read>"
        )

    def _read(self, ids: Sequence[str]) -> dict[str, Customer]:
        found: dict[str, Customer] = self._store.get_many(ids)
        self.opened += len(found)
        return found

    def _feat(self, rid: str) -> Features:
        if rid in self._index:
            return super()._feat(rid)
        if rid not in self.cluster_ids:
            raise NotFoundError(rid)
        found = self._read([rid])
        if rid not in found:
            raise NotFoundError(rid)
        return self.matcher.features(found[rid])

    def explain(self, id_a: str, id_b: str) -> MatchExplanation:
        """As :meth:`DedupeResult.explain`; a customer outside the candidates is read from the store."""
        return self.matcher.explain(self._feat(id_a), self._feat(id_b))

    def golden_records(self, rules: Rules | None = None, *, singletons: bool = True) -> list[GoldenRecord]:
        """As :meth:`DedupeResult.golden_records`; with ``singletons`` the customers outside the candidates
        are read from the store too (``singletons=False`` reads nothing more)."""
        lone = [min(c) for c in self.clusters if len(c) == 1 and min(c) not in self._index]
        extra = self._read(lone) if singletons and lone else {}
        out = []
        for c in self.clusters:
            if len(c) == 1 and not singletons:
                continue
            rid = min(c)
            if rid in extra:
                out.append(golden_record([extra[rid]], cluster_id=rid, rules=rules))
                continue
            members = [self._records[self._index[r]] for r in sorted(c)]
            out.append(golden_record(members, rules=rules, cluster_id=rid))
        return out


def dedupe_store(
    store: Any,
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
) -> StoreDedupeResult:
    """:func:`dedupe` over the live customers of a store, reading (on an encrypted store: decrypting) only
    the customers in candidate pairs.

    The store's block index is brought up to date first (:func:`update_block_index`; customers written
    since the last time are read once for that). Candidate groups come from grouping the block keys inside
    the database, with :func:`dedupe`'s rules: blocks larger than ``max_block_size`` compared between sort
    neighbours only, optional passes left out where they are not selective. The customers in those groups
    are read and go through :func:`dedupe` with the passes that ran; every other customer is a singleton.
    Blocking runs the keyed passes only (:data:`INDEX_PASSES`; a sorted-neighbourhood pass is a
    ValidationError). With the same ``matcher`` the clusters are exactly those of ``dedupe`` on the
    plaintext records with those passes; without one the model is learned from the candidates.
    A store other than an SQL or memory store has no block index: its customers are all read. The result
    is that of the index when it was grouped: a customer written meanwhile may come out a singleton (run
    it again), one deleted meanwhile is a StoreError.
    """
    s = resolve_settings(
        settings,
        matcher,
        progress,
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
    names, optional = _check_passes(s.passes)
    say = progress or (lambda _msg: None)
    index = _index(store)
    if index is None:
        say("reading")
        records = list(store.scan())
        feats: list[Features] = []

        def shared(name: str) -> list[int]:
            if not feats:
                feats.extend(features_of(r, region=s.region) for r in records)
            groups: dict[str, set[str]] = {}
            for f in feats:
                for key in INDEX_PASSES[name](f):
                    groups.setdefault(key, set()).add(f.id)
            return [len(ids) for ids in groups.values() if len(ids) > 1]

        ran, skipped = _choose(names, optional, shared, len(records), s)
        result = dedupe(
            records,
            settings=attrs.evolve(s, passes=tuple(ran)),
            matcher=matcher,
            rules=rules,
            progress=progress,
        )
        result.blocking.skipped_passes.update(skipped)
        return StoreDedupeResult._wrap(result, store, [], len(records), 0)
    say("indexing")
    indexed = update_block_index(store, region=s.region)
    held = indexed_passes(store)
    if s.passes is None:
        names = [n for n in names if n in held]
    else:
        missing = [n for n in names if n not in held]
        if missing:
            raise ValidationError(
                f"blocking pass {missing[0]!r} is not in the store's block index (it holds {held}): add it "
                "with update_block_index(store, passes=[...])",
                field="passes",
            )
    say("grouping")
    size = int(store.count())
    ran, skipped = _choose(names, optional, lambda name: [n for _, n in index.groups(kind_of(name))], size, s)
    ids = sorted(index.members([kind_of(n) for n in ran]))
    say("reading")
    found = store.get_many(ids)
    if len(found) != len(ids):
        raise StoreError(
            f"{getattr(store, 'url', store)}: customers changed while dedupe_store read them; run it again"
        )
    records = [found[i] for i in ids]
    result = dedupe(
        records,
        settings=attrs.evolve(s, passes=tuple(ran)),
        matcher=matcher,
        rules=rules,
        progress=progress,
    )
    result.blocking.skipped_passes.update(skipped)
    everyone = index.live_ids()
    return StoreDedupeResult._wrap(result, store, everyone, len(records), indexed)
