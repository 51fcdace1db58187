"""The fitted matcher: comparisons + model + threshold, savable to JSON and picklable."""

from __future__ import annotations

import json
import logging
import math
import os
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from custdata._records import Customer
from custdata.exceptions import ValidationError
from custdata.io._atomic import atomic_write
from custdata.matching._blocking import plan_blocks
from custdata.matching._compare import (
    DEFAULT_FIELDS,
    DIFFERENT,
    GIVEN_DIFFERENT,
    MISSING,
    ONE_PART,
    FieldComparison,
    compare_pair,
    field_by_name,
    missing_label,
)
from custdata.matching._features import Features, features_of
from custdata.matching._model import VETO_WEIGHT, FSModel, RuleModel, fit_em, probability_of, saved_json
from custdata.matching._pairs import ScoredPairs
from custdata.matching._settings import DEFAULT_THRESHOLD, number, probability, region_arg

__all__ = ["DEFAULT_THRESHOLD", "FieldExplanation", "Match", "MatchExplanation", "Matcher"]

logger = logging.getLogger(__name__)

FORMAT = "custdata.matcher/3"
_VETO_FIELDS = (
    "given_name",
    "family_name",
    "birthday",
    "phone",
    "email",
    "external_id",
    "street",
    "postal_code",
)
# fewer levels: /1 no shared phone line, scrambled name, close date; /2 no name initial and swap levels
_OLD_FORMATS = ("custdata.matcher/1", "custdata.matcher/2")
_TF_MIN_COUNT = 2


@attrs.frozen
class FieldExplanation:
    """How one field of a pair compared and what it contributed (in bits: log2 of the likelihood ratio)."""

    field: str
    level: str  # the level's label, or "missing"
    value_a: str
    value_b: str
    weight: float
    tf_adjustment: float = 0.0
    m: float | None = None
    u: float | None = None


@attrs.frozen
class MatchExplanation:
    """Why a pair scored as it did: the prior, each field's contribution and the total."""

    id_a: str
    id_b: str
    prior_weight: float
    fields: tuple[FieldExplanation, ...]
    weight: float
    probability: float
    threshold: float

    @property
    def is_match(self) -> bool:
        return self.probability >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def __str__(self) -> str:
        lines = [
            f"{self.id_a} vs {self.id_b}: match probability {self.probability:.4f} "
            f"(weight {self.weight:+.2f} bits, threshold {self.threshold})",
            f"  {'prior':<13} {'':<26} {self.prior_weight:+7.2f}",
        ]
        for f in self.fields:
            tf = f" (tf {f.tf_adjustment:+.2f})" if f.tf_adjustment else ""
            vals = f"{f.value_a!r} / {f.value_b!r}"
            lines.append(f"  {f.field:<13} {f.level:<26} {f.weight + f.tf_adjustment:+7.2f}{tf}  {vals}")
        return "\n".join(lines)


@attrs.frozen(order=True)
class Match:
    """A known record that matches a query record, best first."""

    sort_key: float = attrs.field(repr=False)
    record_id: str = attrs.field(order=False)
    probability: float = attrs.field(order=False)
    weight: float = attrs.field(order=False)


_VALUE_OF: dict[str, Callable[[Features], str]] = {
    "given_name": lambda f: f.given,
    "family_name": lambda f: f.family,
    "birthday": lambda f: f.dob,
    "phone": lambda f: " ".join(f.phones),
    "email": lambda f: " ".join(f.emails),
    "external_id": lambda f: " ".join(f"{k}={v}" for k, v in f.ext),
    "street": lambda f: f.street,
    "city": lambda f: f.city,
    "postal_code": lambda f: f.postcode,
    "province": lambda f: f.province,
    "gender": lambda f: f.gender,
    "company": lambda f: f.company,
    "custom": lambda f: " ".join(f"{k}={v}" for k, v in f.custom),
}


class Matcher:
    """Scores pairs of customers: comparisons, a fitted model and the acceptance threshold.

    Fit once on your records (no labels needed), optionally :meth:`refine` with labelled pairs, save it
    with :meth:`save` / :meth:`to_json`, and answer "is this customer already known?" with :meth:`match`.
    A Matcher is picklable, so it can be shipped to worker processes.
    """

    def __init__(
        self,
        model: FSModel | RuleModel,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        region: str | None = "CN",
        fields: Sequence[FieldComparison] | None = None,
        min_support: float = 0.5,
    ) -> None:
        if not isinstance(model, (FSModel, RuleModel)):
            raise ValidationError(f"model must be a fitted model, got {type(model).__name__}", field="model")
        self.model = model
        self.threshold = probability(threshold)
        self.region = region_arg(region)
        if fields is not None and (
            isinstance(fields, (str, bytes))
            or not all(isinstance(f, FieldComparison) for f in _items(fields))
        ):
            raise ValidationError("fields must be FieldComparison values or None", field="fields")
        self.fields: tuple[FieldComparison, ...] = tuple(fields) if fields is not None else DEFAULT_FIELDS
        self.min_support = number(min_support, "min_support")
        self._prepare()

    def _prepare(self) -> None:
        self._default = self.fields == DEFAULT_FIELDS
        if self._default:
            self.fields = DEFAULT_FIELDS
        if isinstance(self.model, FSModel):
            if self.model.fields != [f.name for f in self.fields]:
                raise ValidationError(
                    f"model fields {self.model.fields} do not match the comparisons "
                    f"{[f.name for f in self.fields]}"
                )
            self._weights = self.model.level_weights()
        else:
            self._weights = [[0.0] * len(f.levels) for f in self.fields]
        names = [f.name for f in self.fields]
        self._veto_at = (
            tuple(names.index(n) for n in _VETO_FIELDS)
            if isinstance(self.model, FSModel) and set(_VETO_FIELDS) <= set(names)
            else None
        )
        self._tf_index = [
            (k, f)
            for k, f in enumerate(self.fields)
            if isinstance(self.model, FSModel) and f.name in self.model.tf
        ]

    def __getstate__(self) -> dict[str, Any]:
        return self.to_dict()

    def __setstate__(self, state: dict[str, Any]) -> None:
        other = Matcher.from_dict(state)
        self.__dict__.update(other.__dict__)

    def __repr__(self) -> str:
        kind = "rules" if isinstance(self.model, RuleModel) else "fellegi-sunter"
        return f"Matcher({kind}, fields={[f.name for f in self.fields]}, threshold={self.threshold})"

    # -- fitting -----------------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        records: Iterable[Customer],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        region: str | None = "CN",
        rules: Sequence[Mapping[str, str | Sequence[str]]] | None = None,
        passes: Iterable[str] | None = None,
        window: int = 3,
        max_block_size: int = 100,
        min_support: float = 0.5,
        seed: int = 0,
    ) -> Matcher:
        """Learn the model from ``records`` without labels (EM over the blocked candidate pairs)."""
        feats = [features_of(c, region=region) for c in records]
        plan = plan_blocks(feats, passes=passes, window=window, max_block_size=max_block_size)
        scored, _ = ScoredPairs.block_and_compare(feats, plan, DEFAULT_FIELDS)
        return cls._fit_from(
            feats, scored, threshold=threshold, region=region, rules=rules, min_support=min_support, seed=seed
        )

    @classmethod
    def _fit_from(
        cls,
        feats: Sequence[Features],
        scored: ScoredPairs,
        *,
        threshold: float,
        region: str | None,
        rules: Sequence[Mapping[str, str | Sequence[str]]] | None,
        min_support: float,
        seed: int,
        side: Sequence[int] | None = None,
        fix_u: bool = False,
        birthday_sample: int = 1,
    ) -> Matcher:
        """The matcher learned from the compared pairs ``scored`` of ``feats`` (by ``rules`` when given); when
        no pair was compared, the unfitted starting values (:meth:`_empty`).

        ``birthday_sample`` is ``k`` when ``feats`` are the records born on one in ``k`` birthdays: every
        stranger sharing a kept birthday is in the sample, ``k`` times as many as in a random sample of
        records, so those pairs count ``1 / k`` as non-matches. Without this the weight of a shared birthday
        (and the prior) would fall as the input grows."""
        if rules is not None or not scored.patterns:
            return cls._empty(threshold=threshold, region=region, rules=rules, min_support=min_support)
        return cls._fit_counts(
            feats,
            scored.fit_counts(),
            threshold=threshold,
            region=region,
            min_support=min_support,
            seed=seed,
            side=side,
            fix_u=fix_u,
            birthday_sample=birthday_sample,
        )

    @classmethod
    def _fit_counts(
        cls,
        feats: Sequence[Features],
        counts: Mapping[tuple[int, ...], int],
        *,
        threshold: float,
        region: str | None,
        min_support: float,
        seed: int,
        side: Sequence[int] | None = None,
        fix_u: bool = False,
        birthday_sample: int = 1,
    ) -> Matcher:
        """The matcher learned by EM from ``counts`` (comparison pattern: number of pairs, at least one) of
        the pairs compared among ``feats`` (see :meth:`_fit_from`)."""
        fields = DEFAULT_FIELDS
        u_init = _random_u(feats, fields, seed=seed, side=side)
        dob = [f.name for f in fields].index("birthday")

        def fit(fixed_m: Sequence[int] = ()) -> FSModel:
            return fit_em(
                counts,
                [len(f.levels) for f in fields],
                [f.name for f in fields],
                m_init=[f.m_default or [1.0] * len(f.levels) for f in fields],
                u_init=u_init,
                # a record has a duplicate or two, not hundreds: matches are at most ~2 pairs per record
                max_prior=min(0.5, 2.0 * _matchable(feats, side) / max(1, sum(counts.values()))),
                fix_u=fix_u,
                fixed_m=fixed_m,
                oversampled=(dob, 0, float(birthday_sample)) if birthday_sample > 1 else None,
            )

        model = fit()
        if model.m[dob][-1] > 0.5:
            # "matches" whose birthdays mostly differ are namesakes: EM took the "same name" split. Learn
            # again with the birthday's m held at the built-in guess (a person's records mostly agree on it)
            logger.info("EM split on names, not persons (birthdays of matches mostly differ); refitting")
            model = fit((dob,))
        if _degenerate(model, counts):
            # every candidate pair compares alike (say, many identical copies of one record): EM has no two
            # groups to tell apart and ends with m = u, weight 0 on every level, so that nothing would ever
            # match. The built-in guesses know that agreeing on everything means the same person.
            logger.warning(
                "dedupe: the model could not be learned (%d distinct comparison patterns, no split found); "
                "using the built-in m and u guesses",
                len(counts),
            )
            model = _guesses(fields)
            model.source = "built-in guesses (EM found no split between matches and non-matches)"
        _add_term_frequencies(model, feats, fields)
        return cls(model, threshold=threshold, region=region, min_support=min_support)

    @classmethod
    def _empty(
        cls,
        *,
        threshold: float,
        region: str | None,
        rules: Sequence[Mapping[str, str | Sequence[str]]] | None,
        min_support: float,
    ) -> Matcher:
        """A matcher for input too small to learn from: the EM starting values, unfitted."""
        if rules is not None:
            return cls(RuleModel.of(rules), threshold=threshold, region=region, min_support=min_support)
        model = _guesses(DEFAULT_FIELDS)
        model.source = "built-in guesses (no candidate pairs to learn from)"
        return cls(model, threshold=threshold, region=region, min_support=min_support)

    def refine(
        self, labelled: Iterable[tuple[Customer, Customer, bool]], *, strength: float = 1.0
    ) -> Matcher:
        """A new Matcher whose m (from pairs labelled True) and u (from pairs labelled False) are blended
        with the unsupervised ones; ``strength`` weighs each labelled pair against the EM estimate."""
        if not isinstance(self.model, FSModel):
            raise ValidationError("refine needs a Fellegi-Sunter matcher, not rules")
        m_acc = [[0.0] * len(f.levels) for f in self.fields]
        u_acc = [[0.0] * len(f.levels) for f in self.fields]
        n_pos = n_neg = 0
        for a, b, is_match in labelled:
            vec = compare_pair(
                self.fields, features_of(a, region=self.region), features_of(b, region=self.region)
            )
            acc = m_acc if is_match else u_acc
            n_pos += bool(is_match)
            n_neg += not is_match
            for k, lvl in enumerate(vec):
                if lvl != MISSING:
                    acc[k][lvl] += 1.0
        base = self.model

        def blend(old: list[list[float]], acc: list[list[float]], n: int) -> list[list[float]]:
            prior_n = 20.0 / max(strength, 1e-9)  # the EM estimate counts as this many pairs
            out = []
            for row, counts in zip(old, acc, strict=True):
                tot = sum(counts)
                out.append([(p * prior_n + c) / (prior_n + tot) for p, c in zip(row, counts, strict=True)])
            return out

        model = FSModel(
            list(base.fields),
            blend(base.m, m_acc, n_pos),
            blend(base.u, u_acc, n_neg),
            base.prior,
            dict(base.tf),
            dict(base.tf_mean),
            dict(base.tf_default),
            base.iterations,
        )
        return Matcher(
            model,
            threshold=self.threshold,
            region=self.region,
            fields=self.fields,
            min_support=self.min_support,
        )

    # -- scoring -----------------------------------------------------------------------------------------

    def features(self, record: Customer) -> Features:
        return features_of(record, region=self.region)

    def _pattern_weight(self, vec: Sequence[int]) -> float:
        if isinstance(self.model, RuleModel):
            labels = {
                f.name: (f.levels[lvl] if lvl != MISSING else None)
                for f, lvl in zip(self.fields, vec, strict=True)
            }
            return 60.0 if self.model.matches(labels) else -60.0
        w = self.model.prior_weight
        weights = self._weights
        for k, lvl in enumerate(vec):
            if lvl != MISSING:
                w += weights[k][lvl]
        return w

    def _vetoed(self, vec: Sequence[int]) -> str:
        """Why a pair is two people whatever else it shares, or "" when it is not vetoed.

        ``given_name_and_birthday_differ``: both clearly different (scrambled letters, a birthday a typo or a
        few weeks away do not count). ``names_differ`` and ``family_name_and_birthday_differ``: two of given
        name, family name and birthday clearly different while no phone or postcode is the same and no street
        similar. None applies when the e-mail is the same or an external id is within one typo."""
        at = self._veto_at
        if at is None:
            return ""
        given, family, dob, phone, email, ext, street, postcode = (vec[k] for k in at)
        if email == 0 or ext in (0, 1):
            return ""
        # a swap of given and family names is one level of given_name (family_name missing): never vetoed; a
        # name of one part in the other's other slot says nothing of the given name: vetoed with the birthday
        if given in (GIVEN_DIFFERENT, ONE_PART) and dob == 5:
            return "given_name_and_birthday_differ"
        if phone == 0 or street in (0, 1, 2) or postcode == 0:
            return ""
        if given == GIVEN_DIFFERENT and family == DIFFERENT:
            return "names_differ"
        if family == DIFFERENT and dob == 5:
            return "family_name_and_birthday_differ"
        return ""

    def _tf(self, vec: Sequence[int], a: Features, b: Features) -> float:
        model = self.model
        if not self._tf_index or not isinstance(model, FSModel):
            return 0.0
        adj = 0.0
        for k, fc in self._tf_index:
            if vec[k] in fc.tf_levels:
                adj += _tf_of(model, fc, a, b)
        return adj

    def _score_features(self, a: Features, b: Features) -> tuple[float, float]:
        vec = compare_pair(self.fields, a, b)
        w = self._pattern_weight(vec) + self._tf(vec, a, b)
        if self._vetoed(vec):
            w = min(w, VETO_WEIGHT)
        return w, probability_of(w)

    def score(self, a: Customer, b: Customer) -> float:
        """The match probability of two customers."""
        return self._score_features(self.features(a), self.features(b))[1]

    def explain(self, a: Customer | Features, b: Customer | Features) -> MatchExplanation:
        """Per-field comparison levels and weight contributions for a pair."""
        fa = a if isinstance(a, Features) else self.features(a)
        fb = b if isinstance(b, Features) else self.features(b)
        vec = compare_pair(self.fields, fa, fb)
        rows = []
        model = self.model
        for k, (fc, lvl) in enumerate(zip(self.fields, vec, strict=True)):
            getter = _VALUE_OF.get(fc.name)
            va, vb = (getter(fa), getter(fb)) if getter else ("", "")
            if lvl == MISSING:
                rows.append(FieldExplanation(fc.name, missing_label(self.fields, vec, k), va, vb, 0.0))
                continue
            tf = (
                _tf_of(model, fc, fa, fb)
                if isinstance(model, FSModel) and lvl in fc.tf_levels and fc.tf and fc.name in model.tf
                else 0.0
            )
            rows.append(
                FieldExplanation(
                    fc.name,
                    fc.levels[lvl],
                    va,
                    vb,
                    self._weights[k][lvl],
                    tf,
                    model.m[k][lvl] if isinstance(model, FSModel) else None,
                    model.u[k][lvl] if isinstance(model, FSModel) else None,
                )
            )
        prior = model.prior_weight if isinstance(model, FSModel) else 0.0
        w, p = self._score_features(fa, fb)
        veto = self._vetoed(vec)
        if veto:
            unvetoed = prior + sum(r.weight + r.tf_adjustment for r in rows)
            rows.append(FieldExplanation("veto", veto, "", "", w - unvetoed))
        return MatchExplanation(fa.id, fb.id, prior, tuple(rows), w, p, self.threshold)

    # -- incremental matching ----------------------------------------------------------------------------

    def match(
        self,
        record: Customer,
        candidates_or_store: Iterable[Customer] | Any,
        *,
        threshold: float | None = None,
        limit: int | None = 10,
    ) -> list[Match]:
        """Known customers that match ``record``, best first.

        ``candidates_or_store`` is either the candidate records themselves or a store: anything with
        ``find(*, phone=, email=, external_id=)`` (the :class:`custdata.storage.Store` protocol), which is
        asked through its indexes for every phone, e-mail and external id of ``record``, and, when it keeps
        a block index (:func:`custdata.matching.update_block_index`; encrypted stores too), for the
        customers sharing one of ``record``'s other blocking keys.
        """
        cut = self.threshold if threshold is None else threshold
        fa = self.features(record)
        if hasattr(candidates_or_store, "find") and callable(candidates_or_store.find):
            candidates = self._from_store(record, fa, candidates_or_store)
            from custdata.matching._store import block_candidates

            candidates.extend(block_candidates(fa, candidates_or_store, region=self.region))
        else:
            candidates = list(candidates_or_store)
        out = []
        seen: set[str] = set()
        for c in candidates:
            if c.id == record.id or c.id in seen:
                continue
            seen.add(c.id)
            w, p = self._score_features(fa, self.features(c))
            if p >= cut:
                out.append(Match(-w, c.id, p, w))
        out.sort()
        return out[:limit] if limit is not None else out

    @staticmethod
    def _from_store(record: Customer, fa: Features, store: Any) -> list[Customer]:
        found: list[Customer] = []
        for phone in {*fa.phones, *(p.number for p in record.phones)}:
            found.extend(store.find(phone=phone))
        for email in {*(e.address for e in record.emails)}:
            found.extend(store.find(email=email))
        for system, value in record.external_ids.items():
            found.extend(store.find(external_id=(system, value)))
        return found

    # -- persistence -------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` gives back a matcher with identical scores."""
        model: dict[str, Any]
        if isinstance(self.model, FSModel):
            model = {"kind": "fellegi-sunter", **self.model.to_dict()}
        else:
            model = {"kind": "rules", "rules": [{k: list(v) for k, v in r.items()} for r in self.model.rules]}
        return {
            "format": FORMAT,
            "threshold": self.threshold,
            "region": self.region,
            "min_support": self.min_support,
            "fields": [f.name for f in self.fields],
            "model": model,
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text; :meth:`from_json` gives back a matcher with identical scores."""
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Matcher:
        """A matcher from :meth:`to_dict` output."""
        if isinstance(data, Mapping) and data.get("format") in _OLD_FORMATS:
            raise ValidationError(
                f"this matcher was saved by an older custdata ({data['format']}); its comparison levels "
                "have changed since: fit it again"
            )
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValidationError(f"not a saved custdata matcher (expected format {FORMAT!r})")
        try:
            fields = [field_by_name(str(n)) for n in data["fields"]]
            spec = data["model"]
            model: FSModel | RuleModel
            model = RuleModel.of(spec["rules"]) if spec.get("kind") == "rules" else FSModel.from_dict(spec)
            return cls(
                model,
                threshold=float(data["threshold"]),
                region=data.get("region"),
                fields=fields,
                min_support=float(data.get("min_support", 0.5)),
            )
        except KeyError as exc:
            raise ValidationError(f"saved matcher is missing {exc}") from None

    @classmethod
    def from_json(cls, text: str | bytes | Mapping[str, Any]) -> Matcher:
        """A matcher from :meth:`to_json` text (a dict still works, deprecated: use :meth:`from_dict`)."""
        return cls.from_dict(saved_json(text, "Matcher", "a saved custdata matcher"))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json` to a file (atomically: the old file stays on any error)."""
        with atomic_write(path, encoding="utf-8") as fh:
            fh.write(self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Matcher:
        """Read a matcher written by :meth:`save`."""
        with open(path, "rb") as fh:
            return cls.from_json(fh.read())


def _guesses(fields: Sequence[FieldComparison]) -> FSModel:
    """The model of the built-in m and u guesses, unfitted."""
    return fit_em(
        {},
        [len(f.levels) for f in fields],
        [f.name for f in fields],
        m_init=[f.m_default or [1.0] * len(f.levels) for f in fields],
        u_init=[f.u_default or [1.0] * len(f.levels) for f in fields],
        max_iter=0,
    )


def _degenerate(model: FSModel, counts: Mapping[tuple[int, ...], int]) -> bool:
    """EM found no split: one distinct comparison pattern, or m equal to u on every field."""
    if len(counts) < 2:
        return True
    return all(
        max(abs(a - b) for a, b in zip(m, u, strict=True)) < 1e-3
        for m, u in zip(model.m, model.u, strict=True)
    )


def _matchable(feats: Sequence[Features], side: Sequence[int] | None) -> int:
    if side is None:
        return len(feats)
    left = sum(1 for x in side if x == 0)
    return min(left, len(feats) - left)


def _random_u(
    feats: Sequence[Features],
    fields: Sequence[FieldComparison],
    *,
    seed: int,
    side: Sequence[int] | None,
    n: int = 4000,
) -> list[list[float]]:
    """Level frequencies among random pairs (almost all non-matches): the starting u for EM."""
    rng = random.Random(seed)
    # the built-in guesses count as `prior` random pairs, the sampled pairs add to them
    prior = 200.0
    acc = [[prior * x for x in f.u_default] if f.u_default else [1.0] * len(f.levels) for f in fields]
    size = len(feats)
    if size < 2:
        return acc
    if side is None:
        possible = size * (size - 1) // 2
    else:
        on_left = sum(1 for x in side if x == 0)
        possible = on_left * (size - on_left)
    n = min(n, possible)  # tiny inputs: no pair counted over and over
    for _ in range(n):
        i, j = rng.randrange(size), rng.randrange(size)
        if i == j or (side is not None and side[i] == side[j]):
            continue
        for k, lvl in enumerate(compare_pair(fields, feats[i], feats[j])):
            if lvl != MISSING:
                acc[k][lvl] += 1.0
    return acc


def _add_term_frequencies(
    model: FSModel, feats: Sequence[Features], fields: Sequence[FieldComparison]
) -> None:
    for fc in fields:
        if not fc.tf:
            continue
        counts: dict[str, int] = {}
        for f in feats:
            for v in fc.tf_keys(f):
                counts[v] = counts.get(v, 0) + 1
        total = sum(counts.values())
        if total == 0:
            continue
        # mean frequency of the value two agreeing random records share: sum p^3 / sum p^2
        p2 = sum((c / total) ** 2 for c in counts.values())
        p3 = sum((c / total) ** 3 for c in counts.values())
        model.tf[fc.name] = {v: c / total for v, c in counts.items() if c >= _TF_MIN_COUNT}
        model.tf_default[fc.name] = 1.0 / total
        model.tf_mean[fc.name] = p3 / p2 if p2 > 0 else 0.0
        if not math.isfinite(model.tf_mean[fc.name]) or model.tf_mean[fc.name] <= 0:
            del model.tf[fc.name]


def _tf_of(model: FSModel, fc: FieldComparison, a: Features, b: Features) -> float:
    """The term-frequency adjustment of an exact agreement: of the value the two records share, the most
    common one when they share several (a shared household line weighs less than a personal mobile)."""
    shared = fc.shared_keys(a, b)
    if not shared:
        return 0.0
    return min(model.tf_adjustment(fc.name, v) for v in shared)


def _items(value: object) -> tuple[object, ...]:
    try:
        return tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValidationError(
            f"fields must be FieldComparison values, got {type(value).__name__}", field="fields"
        ) from None
