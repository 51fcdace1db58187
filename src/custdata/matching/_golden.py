"""Golden records: merge a cluster of duplicates into one trusted record, with provenance.

Single-valued fields are chosen by a survivorship rule per field; contact points (phones, e-mails),
addresses, tags, external ids, consents and custom attributes are unions, so merging never loses a phone,
an e-mail or an external id. Every value remembers the record it came from.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs
from rapidfuzz.distance.JaroWinkler import similarity as _jw

from custdata._records import Customer, Email, MonthDay, Phone
from custdata.exceptions import ValidationError
from custdata.matching._features import fold
from custdata.normalization import normalize_email, normalize_phone

__all__ = ["BUILTIN_RULES", "DEFAULT_RULES", "GoldenRecord", "Rules", "golden_record", "source_priority"]

C = TypeVar("C")

Candidate = tuple[Any, Customer]
RuleFn = Callable[[Sequence[Candidate]], Any]
Rules = Mapping[str, "str | RuleFn"]

SCALAR_FIELDS = ("name", "birthday", "gender", "company", "title", "channel", "lifecycle_stage", "owner")

_EPOCH = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def _when(c: Customer) -> dt.datetime:
    t = c.updated_at or c.created_at
    if t is None:
        return _EPOCH
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _size(v: Any) -> int:
    if isinstance(v, dt.date):
        return 3  # year, month and day: more complete than a birthday without a year
    if isinstance(v, MonthDay):
        return 2
    if hasattr(v, "to_dict"):
        return sum(1 for x in v.to_dict().values() if x not in (None, "", [], {}))
    return 1


def _length(v: Any) -> int:
    if hasattr(v, "to_dict"):
        return sum(len(str(x)) for x in v.to_dict().values() if x not in (None, "", [], {}))
    return len(str(v))


def most_recent(cands: Sequence[Candidate]) -> Any:
    """The value of the most recently updated record."""
    return max(enumerate(cands), key=lambda kc: (_when(kc[1][1]), -kc[0]))[1][0]


def most_complete(cands: Sequence[Candidate]) -> Any:
    """The value with the most parts filled in (then the longest, then the most recent)."""
    return max(
        enumerate(cands), key=lambda kc: (_size(kc[1][0]), _length(kc[1][0]), _when(kc[1][1]), -kc[0])
    )[1][0]


def most_frequent(cands: Sequence[Candidate]) -> Any:
    """The value most records agree on (ties: the most recent)."""
    counts = Counter(repr(v) for v, _ in cands)
    return max(enumerate(cands), key=lambda kc: (counts[repr(kc[1][0])], _when(kc[1][1]), -kc[0]))[1][0]


def longest(cands: Sequence[Candidate]) -> Any:
    """The longest value (ties: the most recent)."""
    return max(enumerate(cands), key=lambda kc: (_length(kc[1][0]), _when(kc[1][1]), -kc[0]))[1][0]


def source_priority(order: Sequence[str], *, source: str = "channel", then: str = "most_recent") -> RuleFn:
    """A rule taking the value from the most trusted source first.

    ``order`` lists sources, most trusted first; a record's source is its ``source`` attribute (``channel``
    by default, or a key of ``custom``). Sources not listed rank last; ties fall to the ``then`` rule.
    """
    if isinstance(order, str) or not isinstance(order, Iterable):
        raise ValidationError(
            f"order must be a list of source names, got {type(order).__name__}", field="order"
        )
    order = list(order)
    if not all(isinstance(s, str) for s in order):
        raise ValidationError("order must list source names (text)", field="order")
    if not isinstance(source, str):
        raise ValidationError(f"source must be a field name, got {type(source).__name__}", field="source")
    if not isinstance(then, str) or then not in BUILTIN_RULES:
        raise ValidationError(f"then must be one of {sorted(BUILTIN_RULES)}, got {then!r}", field="then")
    rank = {s: k for k, s in enumerate(order)}
    fallback = BUILTIN_RULES[then]

    def src(c: Customer) -> str:
        v = getattr(c, source, None) if source in attrs.fields_dict(Customer) else c.custom.get(source)
        return str(getattr(v, "value", v)) if v is not None else ""

    def rule(cands: Sequence[Candidate]) -> Any:
        best = min(rank.get(src(c), len(rank)) for _, c in cands)
        return fallback([vc for vc in cands if rank.get(src(vc[1]), len(rank)) == best])

    rule.__name__ = f"source_priority({list(order)})"
    return rule


BUILTIN_RULES: dict[str, RuleFn] = {
    "most_recent": most_recent,
    "most_complete": most_complete,
    "most_frequent": most_frequent,
    "longest": longest,
}

DEFAULT_RULES: dict[str, str] = {
    "name": "most_complete",
    "birthday": "most_complete",
    "gender": "most_frequent",
    "company": "most_recent",
    "title": "most_recent",
    "channel": "most_frequent",
    "lifecycle_stage": "most_recent",
    "owner": "most_recent",
}


@attrs.frozen
class GoldenRecord:
    """A merged customer: ``record`` (its id is the cluster id), the ``sources`` merged and ``provenance``:
    for each single-valued field the source record id (and under ``"rules"`` the rule that chose it), and
    for each phone, e-mail, address, tag, external id, consent and custom attribute the ids of the records
    that held it."""

    record: Customer
    sources: tuple[str, ...]
    provenance: Mapping[str, Any]

    @property
    def id(self) -> str:
        return self.record.id


def _phone_key(p: Phone) -> str:
    try:
        return normalize_phone(p.number).e164
    except ValidationError:
        return "".join(ch for ch in p.number if ch.isdigit() or ch == "+")


def _email_key(e: Email) -> str:
    try:
        return normalize_email(e.address).match_key
    except ValidationError:
        return e.address.strip().casefold()


def _address_key(a: Any) -> str:
    return "|".join(fold(str(x)) for x in a.to_dict().values() if x)


def _resolve(rule: str | RuleFn, field: str) -> RuleFn:
    if callable(rule):
        return rule
    try:
        return BUILTIN_RULES[rule]
    except KeyError:
        raise ValidationError(
            f"golden record rule for {field!r}: unknown rule {rule!r}; choose from "
            f"{sorted(BUILTIN_RULES)} or pass a callable"
        ) from None


def golden_record(
    members: Sequence[Customer], *, rules: Rules | None = None, cluster_id: str | None = None
) -> GoldenRecord:
    """Merge ``members`` (the records of one cluster) into one :class:`GoldenRecord`.

    ``rules`` maps a single-valued field (``name``, ``birthday``, ``gender``, ``company``, ``title``,
    ``channel``, ``lifecycle_stage``, ``owner``, ``addresses`` for the first address) to a rule:
    ``"most_recent"``, ``"most_complete"``, ``"most_frequent"``, ``"longest"``, :func:`source_priority`,
    or any callable taking ``[(value, record), ...]`` (the non-empty values) and returning the value to keep.
    """
    if isinstance(members, (str, bytes)) or not isinstance(members, Iterable):
        raise ValidationError(
            f"members must be Customer records, got {type(members).__name__}", field="members"
        )
    members = list(members)
    if not members:
        raise ValidationError("golden_record needs at least one record", field="members")
    for i, m in enumerate(members):  # one cluster: a handful of records
        if not isinstance(m, Customer):
            raise ValidationError(f"is a {type(m).__name__}, not a Customer", field=f"members[{i}]")
    if rules is not None and not isinstance(rules, Mapping):
        raise ValidationError(
            f"rules must be a mapping of field to rule, got {type(rules).__name__}", field="rules"
        )
    if cluster_id is not None and not isinstance(cluster_id, str):
        raise ValidationError(
            f"cluster_id must be text or None, got {type(cluster_id).__name__}", field="cluster_id"
        )
    chosen_rules: dict[str, str | RuleFn] = {**DEFAULT_RULES, "addresses": "most_complete", **(rules or {})}
    unknown = set(chosen_rules) - {*SCALAR_FIELDS, "addresses"}
    if unknown:
        raise ValidationError(
            f"golden record rules: no single-valued field {sorted(map(repr, unknown))[0]}", field="rules"
        )
    prov: dict[str, Any] = {}
    out: dict[str, Any] = {}
    chosen_by: dict[str, str] = {}
    for field in SCALAR_FIELDS:
        cands = [(getattr(c, field), c) for c in members if getattr(c, field)]
        if field == "name":
            cands = _agreeing_names(cands)
        if not cands:
            continue
        rule = chosen_rules[field]
        value = _resolve(rule, field)(cands)
        out[field] = value
        src = next((c.id for v, c in cands if v == value), None)
        prov[field] = src if src is not None else "rule"
        chosen_by[field] = rule if isinstance(rule, str) else getattr(rule, "__name__", "callable")

    # addresses: the rule picks the first; every distinct address is kept after it
    addr_cands = [(a, c) for c in members for a in c.addresses]
    addresses: list[Any] = []
    addr_prov: dict[str, list[str]] = {}
    if addr_cands:
        first = _resolve(chosen_rules["addresses"], "addresses")(addr_cands)
        seen: dict[str, int] = {}
        for a, c in [(first, None), *addr_cands]:
            key = _address_key(a)
            if key not in seen:
                seen[key] = len(addresses)
                addresses.append(a)
                addr_prov[key] = []
            if c is not None and c.id not in addr_prov[key]:
                addr_prov[key].append(c.id)
        prov["addresses"] = [addr_prov[_address_key(a)] for a in addresses]

    newest_first = sorted(members, key=_when, reverse=True)

    phones, phone_prov = _first_of_each(newest_first, lambda c: c.phones, _phone_key, lambda p: p.number)
    emails, email_prov = _first_of_each(newest_first, lambda c: c.emails, _email_key, lambda e: e.address)
    # exactly one primary phone and e-mail: the newest record's primary, else the first
    plist = _one_primary(phones)
    elist = _one_primary(emails)
    prov["phones"] = phone_prov
    prov["emails"] = email_prov

    tags: dict[str, list[str]] = {}
    for c in members:
        for t in sorted(c.tags):
            tags.setdefault(t, []).append(c.id)
    prov["tags"] = tags

    ext: dict[str, str] = {}
    ext_prov: dict[str, list[str]] = {}
    custom: dict[str, Any] = {}
    custom_prov: dict[str, str] = {}
    for c in newest_first:
        for system, value in sorted(c.external_ids.items()):
            if system not in ext:
                ext[system] = value
                ext_prov[f"{system}={value}"] = [c.id]
            elif ext[system] == value:
                ext_prov[f"{system}={value}"].append(c.id)
            else:  # a second id in the same system: kept, never lost
                alt = f"{system}#{sum(1 for k in ext if k.split('#')[0] == system) + 1}"
                if value not in {v for k, v in ext.items() if k.split("#")[0] == system}:
                    ext[alt] = value
                    ext_prov[f"{alt}={value}"] = [c.id]
                else:
                    k2 = next(k for k, v in ext.items() if k.split("#")[0] == system and v == value)
                    ext_prov[f"{k2}={value}"].append(c.id)
        for k, v in c.custom.items():
            if k not in custom:
                custom[k] = v
                custom_prov[k] = c.id
    prov["external_ids"] = ext_prov
    prov["custom"] = custom_prov

    consents: dict[str, Any] = {}
    consent_prov: dict[str, str] = {}
    for c in members:
        for purpose, consent in c.consents.items():
            old = consents.get(purpose)
            at = consent.at or _EPOCH
            if old is None or at > (old.at or _EPOCH):
                consents[purpose] = consent
                consent_prov[purpose] = c.id
    prov["consents"] = consent_prov
    prov["rules"] = chosen_by

    created = [c.created_at for c in members if c.created_at]
    updated = [c.updated_at for c in members if c.updated_at]
    record = Customer(
        id=cluster_id or min(c.id for c in members),
        phones=tuple(plist),
        emails=tuple(elist),
        addresses=tuple(addresses),
        tags=frozenset(tags),
        external_ids=ext,
        custom=custom,
        consents=consents,
        created_at=min(created, key=_aware) if created else None,
        updated_at=max(updated, key=_aware) if updated else None,
        **out,
    )
    return GoldenRecord(record, tuple(sorted(c.id for c in members)), prov)


def _agreeing_names(cands: list[Candidate]) -> list[Candidate]:
    """The names whose given name agrees with the rest: when most records share one given name (folded),
    a record whose given name is not like it (a family member merged by mistake) never gives the name."""
    givens = [fold(n.given or "") for n, _ in cands]
    counts = Counter(g for g in givens if g)
    if len(counts) < 2:
        return cands
    top, n = counts.most_common(1)[0]
    if n * 2 <= sum(counts.values()):
        return cands
    keep = [
        (n_, c)
        for (n_, c), g in zip(cands, givens, strict=True)
        if not g or g == top or g.startswith(top) or top.startswith(g) or _jw(g, top) >= 0.85
    ]
    return keep or cands


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def _first_of_each(
    newest_first: Sequence[Customer],
    items: Callable[[Customer], Iterable[C]],
    key: Callable[[C], str],
    label: Callable[[C], str],
) -> tuple[list[C], dict[str, list[str]]]:
    """The first item (newest record first) of each distinct ``key``, and for each kept item's ``label`` the
    ids of the records holding that key (the phones and the e-mails of a golden record)."""
    kept: dict[str, C] = {}
    prov: dict[str, list[str]] = {}
    for c in newest_first:
        for item in items(c):
            k = key(item)
            if k not in kept:
                kept[k] = item
                prov[label(item)] = []
            prov[label(kept[k])].append(c.id)
    return list(kept.values()), prov


def _one_primary(items: list[Any]) -> list[Any]:
    if not items:
        return items
    k = next((n for n, x in enumerate(items) if x.primary), 0)
    return [attrs.evolve(x, primary=(n == k)) for n, x in enumerate(items)]
