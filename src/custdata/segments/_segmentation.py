"""Named, ordered sets of segments: first match wins (or every match), sizes, overlaps and explanations."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from custdata.exceptions import RuleSyntaxError, ValidationError
from custdata.segments._rules import And, Not, Or, Predicate, Rule, _dump, _loads, as_of_of

__all__ = ["Explanation", "Segment", "Segmentation"]


@attrs.frozen
class Segment:
    """One named segment: a rule, and optionally a label to show and a description."""

    name: str
    rule: Rule
    label: str | None = None
    description: str | None = None

    def to_obj(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "rule": self.rule.to_obj()}
        if self.label is not None:
            d["label"] = self.label
        if self.description is not None:
            d["description"] = self.description
        return d


@attrs.frozen
class Explanation:
    """Why a profile is (or is not) in a segment: the segment, whether its rule matched, and the predicates
    that decided it (each with the profile's value), as ``(text of the predicate, value, result)``."""

    segment: str | None
    matched: bool
    decided_by: tuple[tuple[str, Any, bool], ...]
    skipped: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.segment is None:
            return "in no segment: " + "; ".join(self.skipped)
        why = " and ".join(f"{t} (value {v!r})" for t, v, _ in self.decided_by) or "its rule"
        return f"in {self.segment!r} because {why}"


def _decide(rule: Rule, profile: Any, today: dt.date) -> tuple[bool, list[tuple[str, Any, bool]]]:
    """The rule's result and the predicates that decided it (short-circuit order)."""
    from custdata.segments._rules import field_value

    if isinstance(rule, Predicate):
        result = rule._eval(profile, today)
        return result, [(str(rule), field_value(profile, rule.field), result)]
    if isinstance(rule, Not):
        result, why = _decide(rule.rule, profile, today)
        return not result, why
    if isinstance(rule, And):
        reasons: list[tuple[str, Any, bool]] = []
        for r in rule.rules:
            result, why = _decide(r, profile, today)
            if not result:
                return False, why  # the first false part decides
            reasons.extend(why)
        return True, reasons
    if isinstance(rule, Or):
        reasons = []
        for r in rule.rules:
            result, why = _decide(r, profile, today)
            if result:
                return True, why  # the first true part decides
            reasons.extend(why)
        return False, reasons
    return rule._eval(profile, today), []


class Segmentation:
    """An ordered set of named segments.

    ``assign(profile)`` gives the name of the first segment whose rule matches (``default`` when none does);
    with ``multi=True`` :meth:`labels` gives every matching segment.

    >>> from custdata.segments import F, Segmentation
    >>> seg = Segmentation([("vip", F.total_spend >= 5000), ("active", F.recency_days <= 90)],
    ...                    default="other")
    >>> seg.assign({"total_spend": 100, "recency_days": 10})
    'active'
    """

    def __init__(
        self,
        segments: Iterable[Segment | tuple[str, Rule] | tuple[str, Rule, str]] | Mapping[str, Rule],
        *,
        default: str | None = None,
        multi: bool = False,
    ) -> None:
        if isinstance(segments, (str, bytes)) or not isinstance(segments, Iterable):
            raise ValidationError(
                f"segments must be a list of (name, rule) or a mapping, got {type(segments).__name__}"
            )
        items = segments.items() if isinstance(segments, Mapping) else segments
        out: list[Segment] = []
        for s in items:
            if isinstance(s, Segment):
                seg = s
            elif isinstance(s, tuple) and len(s) in (2, 3):
                seg = Segment(s[0], s[1], s[2] if len(s) == 3 else None)
            else:
                raise ValidationError(f"a segment is a Segment or a (name, rule) pair, got {s!r}")
            if not isinstance(seg.name, str) or not seg.name:
                raise ValidationError(f"a segment needs a name, got {seg.name!r}")
            if not isinstance(seg.rule, Rule):
                raise ValidationError(f"segment {seg.name!r}: expected a rule, got {type(seg.rule).__name__}")
            out.append(seg)
        names = [s.name for s in out]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValidationError(f"segment names must be unique: {', '.join(dupes)} repeat")
        if default is not None and default in names:
            raise ValidationError(f"the default {default!r} is also a segment name")
        if default is not None and not isinstance(default, str):
            raise ValidationError(
                f"default must be a name (text), got {type(default).__name__}", field="default"
            )
        self.segments: tuple[Segment, ...] = tuple(out)
        self.default = default
        self.multi = multi

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.segments]

    def __len__(self) -> int:
        return len(self.segments)

    def __getitem__(self, name: str) -> Segment:
        for s in self.segments:
            if s.name == name:
                return s
        raise KeyError(name)

    # ---- evaluation
    def assign(self, profile: Any, *, as_of: dt.date | None = None) -> str | None:
        """The first matching segment's name, else ``default``."""
        for s in self.segments:
            if s.rule.matches(profile, as_of=as_of):
                return s.name
        return self.default

    def labels(self, profile: Any, *, as_of: dt.date | None = None) -> list[str]:
        """Every matching segment's name, in order (``[default]`` or ``[]`` when none)."""
        got = [s.name for s in self.segments if s.rule.matches(profile, as_of=as_of)]
        if not got and self.default is not None:
            return [self.default]
        return got

    def evaluate(self, profiles: Iterable[Any], *, as_of: dt.date | None = None) -> Iterator[tuple[Any, Any]]:
        """``(profile, segment)`` for each profile, lazily: a name (or None) when first match wins, the list
        of names with ``multi=True``."""
        for p in profiles:
            yield p, (self.labels(p, as_of=as_of) if self.multi else self.assign(p, as_of=as_of))

    def sizes(self, profiles: Iterable[Any], *, as_of: dt.date | None = None) -> dict[str | None, int]:
        """How many profiles fall in each segment (every segment listed, in order, then the default)."""
        counts: Counter[str | None] = Counter()
        for _, seg in self.evaluate(profiles, as_of=as_of):
            if isinstance(seg, list):
                counts.update(seg)
                if not seg:
                    counts[None] += 1
            else:
                counts[seg] += 1
        out: dict[str | None, int] = {s.name: counts.get(s.name, 0) for s in self.segments}
        if self.default is not None:
            out[self.default] = counts.get(self.default, 0)
        if counts.get(None):
            out[None] = counts[None]
        return out

    def overlaps(
        self, profiles: Iterable[Any], *, as_of: dt.date | None = None
    ) -> dict[tuple[str, str], int]:
        """For each pair of segments, how many profiles match both rules (ignoring the order)."""
        names = self.names
        out = {(a, b): 0 for i, a in enumerate(names) for b in names[i + 1 :]}
        for p in profiles:
            hit = [s.name for s in self.segments if s.rule.matches(p, as_of=as_of)]
            for i, a in enumerate(hit):
                for b in hit[i + 1 :]:
                    out[(a, b)] += 1
        return out

    def explain(self, profile: Any, *, as_of: dt.date | None = None) -> Explanation:
        """Which segment the profile is in and which predicates decided it; for the segments before it, why
        they did not match."""
        skipped: list[str] = []
        for s in self.segments:
            today = as_of_of(profile, as_of)
            result, why = _decide(s.rule, profile, today)
            if result:
                return Explanation(s.name, True, tuple(why), tuple(skipped))
            skipped.append(
                f"not {s.name!r}: " + " and ".join(f"{t} is false (value {v!r})" for t, v, _ in why)
            )
        return Explanation(self.default, False, (), tuple(skipped))

    # ---- forms
    def to_json(self) -> str:
        """JSON text: ``{"segments": [{"name", "rule", "label"?, "description"?}, ...], "default", "multi"}``
        (a rule in its JSON form)."""
        return _dump(
            {"segments": [s.to_obj() for s in self.segments], "default": self.default, "multi": self.multi}
        )

    @classmethod
    def from_json(cls, obj: str | bytes | Mapping[str, Any], *, schema: Any = None) -> Segmentation:
        """From :meth:`to_json`'s form; also a plain list of segments, or a ``{name: rule}`` object, where a
        rule is its JSON form or its text form."""
        data = _loads(obj) if isinstance(obj, (str, bytes)) else obj
        default = None
        multi = False
        if isinstance(data, Mapping) and "segments" in data:
            default = data.get("default")
            multi = bool(data.get("multi", False))
            items = data["segments"]
        elif isinstance(data, Mapping):
            items = [{"name": k, "rule": v} for k, v in data.items()]
        else:
            items = data
        if not isinstance(items, Sequence) or isinstance(items, (str, bytes)):
            raise RuleSyntaxError("segments JSON: expected a list of segments or a {name: rule} object")
        segs = []
        for i, it in enumerate(items):
            if not isinstance(it, Mapping) or "name" not in it or "rule" not in it:
                raise RuleSyntaxError(f"segments JSON: item {i} needs a 'name' and a 'rule'")
            raw = it["rule"]
            rule = (
                Rule.parse(raw, schema=schema) if isinstance(raw, str) else Rule.from_json(raw, schema=schema)
            )
            segs.append(Segment(str(it["name"]), rule, it.get("label"), it.get("description")))
        return cls(segs, default=default, multi=multi)

    def __repr__(self) -> str:
        return f"Segmentation({json.loads(self.to_json())!r})"
