"""Clustering: connected components over the accepted pairs, guarded against chaining.

Plain connected components let one weak or wrong link glue two groups of people together (A–B, B–C makes
A and C the same person even when A and C share nothing). Here accepted pairs are joined strongest first,
and two groups that already hold more than one record join only when the pairs *between* them are, on
average, matches too (``min_support``): the mean match probability over every cross pair (scored on the
spot; large groups are sampled) must reach it.
"""

from __future__ import annotations

import itertools
import logging
import random
from collections.abc import Callable, Iterable

__all__ = ["cluster"]

_MAX_CROSS = 400
logger = logging.getLogger(__name__)


def cluster(
    n: int,
    edges: Iterable[tuple[float, int, int]],
    score: Callable[[int, int], float],
    *,
    min_support: float = 0.5,
    seed: int = 0,
) -> list[list[int]]:
    """Groups of indices ``0..n-1``; ``edges`` are ``(probability, i, j)`` already over the threshold."""
    parent = list(range(n))
    members: dict[int, list[int]] = {}
    rng = random.Random(seed)
    rejected: set[tuple[int, int, int, int]] = set()

    def find(x: int) -> int:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    ordered = sorted(edges, key=lambda e: (-e[0], e[1], e[2]))
    n_edges = len(ordered)
    checks = 0
    for _, i, j in ordered:
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        a = members.get(ri, [ri])
        b = members.get(rj, [rj])
        if len(a) > 1 or len(b) > 1:
            key = (ri, rj, len(a), len(b)) if ri < rj else (rj, ri, len(b), len(a))
            if key in rejected:  # the same two groups, unchanged since they were refused
                continue
            checks += 1
            if len(a) * len(b) <= _MAX_CROSS:
                cross = list(itertools.product(a, b))
            else:  # large groups: a random sample of the cross pairs, never the whole product
                cross = [(rng.choice(a), rng.choice(b)) for _ in range(_MAX_CROSS)]
            support = sum(score(x, y) for x, y in cross) / len(cross)
            if support < min_support:
                rejected.add(key)
                continue
        if len(a) < len(b):
            ri, rj, a, b = rj, ri, b, a
        parent[rj] = ri
        a.extend(b)  # the smaller group joins the larger one: linear-logarithmic overall
        members[ri] = a
        members.pop(rj, None)
    logger.info(
        "clustering: %d accepted pairs, %d group merges checked for support, %d refused",
        n_edges,
        checks,
        len(rejected),
    )
    groups: dict[int, list[int]] = {}
    for x in range(n):
        groups.setdefault(find(x), []).append(x)
    return list(groups.values())
