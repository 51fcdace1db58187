"""Fellegi–Sunter scoring with m/u probabilities learned by expectation–maximisation, without labels.

A pair's comparison vector holds one level per field. Under the model, matches and non-matches each
produce levels independently per field with probabilities ``m`` and ``u``; the weight of a level is
``log2(m / u)`` and the match probability follows from the summed weights and the prior. EM runs over the
distinct comparison vectors with their counts, so its cost does not grow with the number of pairs.

Term-frequency adjustment: agreeing on a rare name says more than agreeing on 王伟 or Smith. On an exact
name level the weight is shifted by ``log2(mean frequency of agreeing values / frequency of this value)``,
which is zero on average and positive for rare values.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from custdata.exceptions import ConvergenceError, ValidationError

__all__ = ["FSModel", "RuleModel", "fit_em", "probability_of", "saved_json"]

logger = logging.getLogger(__name__)

_FLOOR = 1e-6
# a pair whose given names and birthdays both clearly differ is two people, whatever else they share (a
# household's landline, address and family name): its weight is capped here, about 1 in 1000
VETO_WEIGHT = -10.0
_TF_CLIP = 4.0


def _normalise(xs: list[float]) -> list[float]:
    xs = [max(x, _FLOOR) for x in xs]
    s = sum(xs)
    return [x / s for x in xs]


def probability_of(w: float) -> float:
    """The match probability of a weight in bits (``1 / (1 + 2**-w)``), exactly 0 or 1 far out."""
    if w > 60:
        return 1.0
    if w < -60:
        return 0.0
    return 1.0 / (1.0 + math.pow(2.0, -w))


@attrs.define
class FSModel:
    """A fitted Fellegi–Sunter model: ``m[f][level]``, ``u[f][level]``, the ``prior`` (share of matches
    among candidate pairs) and term frequencies for the fields that use them."""

    fields: list[str]
    m: list[list[float]]
    u: list[list[float]]
    prior: float
    tf: dict[str, dict[str, float]] = attrs.field(factory=dict)
    tf_mean: dict[str, float] = attrs.field(factory=dict)
    tf_default: dict[str, float] = attrs.field(factory=dict)
    iterations: int = 0
    source: str = "em"  # how m and u were found: "em", or why the built-in guesses are used

    def level_weights(self) -> list[list[float]]:
        return [
            [math.log2(mm / uu) for mm, uu in zip(m, u, strict=True)]
            for m, u in zip(self.m, self.u, strict=True)
        ]

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1.0 - self.prior))

    def tf_adjustment(self, field: str, value: str) -> float:
        table = self.tf.get(field)
        if table is None or not value:
            return 0.0
        freq = table.get(value, self.tf_default.get(field, 0.0))
        if freq <= 0:
            return 0.0
        adj = math.log2(self.tf_mean[field] / freq)
        return max(-_TF_CLIP, min(_TF_CLIP, adj))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` gives the model back."""
        return {
            "fields": list(self.fields),
            "m": self.m,
            "u": self.u,
            "prior": self.prior,
            "tf": self.tf,
            "tf_mean": self.tf_mean,
            "tf_default": self.tf_default,
            "iterations": self.iterations,
            "source": self.source,
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes | Mapping[str, Any]) -> FSModel:
        """A model from :meth:`to_json` text. A dict still works but is deprecated: use :meth:`from_dict`."""
        return cls.from_dict(saved_json(text, "FSModel", "a saved Fellegi-Sunter model"))

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> FSModel:
        """A model from :meth:`to_dict` output."""
        try:
            return cls(
                fields=[str(f) for f in obj["fields"]],
                m=[[float(x) for x in row] for row in obj["m"]],
                u=[[float(x) for x in row] for row in obj["u"]],
                prior=float(obj["prior"]),
                tf={str(k): {str(a): float(b) for a, b in v.items()} for k, v in obj.get("tf", {}).items()},
                tf_mean={str(k): float(v) for k, v in obj.get("tf_mean", {}).items()},
                tf_default={str(k): float(v) for k, v in obj.get("tf_default", {}).items()},
                iterations=int(obj.get("iterations", 0)),
                source=str(obj.get("source", "em")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValidationError(f"not a saved Fellegi-Sunter model: {exc}") from None


def fit_em(
    patterns: Mapping[tuple[int, ...], int],
    n_levels: Sequence[int],
    fields: Sequence[str],
    *,
    m_init: Sequence[Sequence[float]] | None = None,
    u_init: Sequence[Sequence[float]] | None = None,
    max_iter: int = 200,
    tol: float = 1e-7,
    prior_init: float = 0.1,
    prior_pairs: float = 50.0,
    max_prior: float = 0.5,
    fix_u: bool = False,
    fixed_m: Sequence[int] = (),
    oversampled: tuple[int, int, float] | None = None,
) -> FSModel:
    """Estimate m, u and the prior from comparison-vector counts by EM (no labels).

    ``max_prior`` caps the share of matches among the pairs. Without it EM can settle on a wrong but
    likelier split, such as "same name" against "different name", once namesakes fill the candidates.

    ``oversampled`` is ``(field, level, factor)`` when the pairs come from a sample in which the
    non-matches at that level are ``factor`` times as common as in a random sample of records of the same
    size (a sample of whole birthdays keeps every stranger born on a kept day): those non-matches count
    ``1 / factor`` each, so the model learned is the one of a random sample, whatever the input's size.
    """
    if not patterns and max_iter > 0:
        raise ConvergenceError("no candidate pairs to learn from: every record was blocked alone")
    k = len(n_levels)
    if m_init is not None:
        m = [_normalise(list(row)) for row in m_init]
    else:  # matches mostly agree: geometric decay from the exact level to "different"
        m = [_normalise([0.7 * (0.3**lvl) if lvl < n - 1 else 0.02 for lvl in range(n)]) for n in n_levels]
    if u_init is not None:
        u = [_normalise(list(row)) for row in u_init]
    else:
        u = [_normalise([0.05 / n] * (n - 1) + [0.95]) for n in n_levels]
    prior_init = min(prior_init, max_prior)
    prior = prior_init
    m0 = [list(row) for row in m]
    u0 = [list(row) for row in u]
    items = list(patterns.items())
    # per pattern: how much a non-match of it counts (and, as a log, how much likelier it is in the sample)
    if oversampled is not None:
        of, ol, factor = oversampled
        u_weight = [1.0 / factor if vec[of] == ol else 1.0 for vec, _ in items]
    else:
        u_weight = [1.0] * len(items)
    u_log = [-math.log(w) for w in u_weight]
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        m_acc = [[0.0] * n for n in n_levels]
        u_acc = [[0.0] * n for n in n_levels]
        total_g = 0.0
        total = 0.0
        for (vec, count), wu, lw in zip(items, u_weight, u_log, strict=True):
            lm = math.log(prior)
            lu = math.log(1.0 - prior) + lw
            for f in range(k):
                lvl = vec[f]
                if lvl >= 0:
                    lm += math.log(m[f][lvl])
                    lu += math.log(u[f][lvl])
            d = lu - lm
            g = 1.0 / (1.0 + math.exp(d)) if d < 700 else 0.0
            gm = g * count
            gu = (1.0 - g) * count * wu
            total_g += gm
            total += count if wu == 1.0 else gm + gu
            for f in range(k):
                lvl = vec[f]
                if lvl >= 0:
                    m_acc[f][lvl] += gm
                    u_acc[f][lvl] += gu
        new_prior = min(max((total_g + prior_pairs * prior_init) / (total + prior_pairs), 1e-9), max_prior)
        # MAP step: the starting values act as a weak Dirichlet prior worth `prior_pairs` pairs, which keeps
        # small inputs from learning extreme weights and vanishes on large ones
        new_m = [
            _normalise([x + prior_pairs * p for x, p in zip(r, r0, strict=True)])
            for r, r0 in zip(m_acc, m0, strict=True)
        ]
        for f in fixed_m:  # these fields keep their starting m (a guard against an implausible split)
            new_m[f] = list(m0[f])
        new_u = (
            u
            if fix_u
            else [
                _normalise([x + prior_pairs * p for x, p in zip(r, r0, strict=True)])
                for r, r0 in zip(u_acc, u0, strict=True)
            ]
        )
        # agreement is never likelier among non-matches than among matches: where the top level says
        # otherwise, the field cannot tell the classes apart, so both take the pooled distribution. This
        # keeps EM off the "namesakes against the rest" split that wins the likelihood on large inputs.
        for f in range(k):
            if not fix_u and f not in fixed_m and new_m[f][0] < new_u[f][0]:
                pooled = _normalise([a + b for a, b in zip(m_acc[f], u_acc[f], strict=True)])
                new_m[f] = list(pooled)
                new_u[f] = list(u0[f]) if u0[f][0] < pooled[0] else list(pooled)
        delta = abs(new_prior - prior) + max(
            abs(a - b)
            for r1, r2 in zip(new_m + new_u, m + u, strict=True)
            for a, b in zip(r1, r2, strict=True)
        )
        m, u, prior = new_m, new_u, new_prior
        if delta < tol:
            break
    logger.info("EM: %d iterations, prior %.4f over %d distinct comparison vectors", it, prior, len(items))
    return FSModel(list(fields), m, u, prior, iterations=it)


@attrs.frozen
class RuleModel:
    """Deterministic matching for users who want rules instead of a learned model.

    ``rules`` is a list of conditions; each maps a field name to the level label(s) it must reach
    (``{"phone": "exact"}``, ``{"family_name": "exact", "given_name": ["exact", "similar"]}``). A pair
    matches (probability 1) when every field of any one rule is at one of its levels, else 0.
    """

    rules: tuple[Mapping[str, tuple[str, ...]], ...]

    @classmethod
    def of(cls, rules: Sequence[Mapping[str, str | Sequence[str]]]) -> RuleModel:
        out = []
        if isinstance(rules, (str, bytes, Mapping)):
            raise ValidationError("rules: give a list of rules (mappings of field to levels)", field="rules")
        try:
            for rule in rules:
                out.append({k: (v,) if isinstance(v, str) else tuple(v) for k, v in rule.items()})
        except (TypeError, AttributeError):
            raise ValidationError(
                "rules: give a list of rules, each a mapping of field to a level or a list of levels",
                field="rules",
            ) from None
        if not out:
            raise ValidationError("rules: give at least one rule")
        return cls(tuple(out))

    def matches(self, labels: Mapping[str, str | None]) -> bool:
        return any(all(labels.get(f) in allowed for f, allowed in rule.items()) for rule in self.rules)


def saved_json(text: str | bytes | Mapping[str, Any], owner: str, what: str) -> Mapping[str, Any]:
    """The dict a ``<owner>.from_json`` reads: ``text`` parsed (not JSON: :class:`ValidationError` saying it
    is not ``what``), or a dict given in its place, accepted with a ``DeprecationWarning`` until 0.3."""
    if isinstance(text, Mapping):
        warnings.warn(
            f"{owner}.from_json(dict) is deprecated and will be removed in custdata 0.3: "
            f"use {owner}.from_dict",
            DeprecationWarning,
            stacklevel=3,  # past this function and from_json: the caller's line
        )
        return text
    try:
        data = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"not {what}: not valid JSON ({exc})") from None
    except RecursionError:
        raise ValidationError(f"not {what}: JSON nested too deeply") from None
    if not isinstance(data, Mapping):
        raise ValidationError(f"not {what}: expected a JSON object")
    return data
