"""The flat CSV layout of customers: one column per phone, e-mail, address part, consent, external id and
custom attribute, as a spreadsheet user expects, and read back exactly.

Columns: ``id``, ``name``, ``family_name``, ``given_name``; per phone ``phone_1``, ``phone_1_kind`` (and
``phone_1_primary``, ``phone_1_verified_at`` when some record needs them); the same for ``email_N``;
``address_1_country`` … ``address_1_raw`` (the parts some record has); the scalar fields; per consent
``consents.<purpose>`` (``true``/``false``) and ``consents.<purpose>.at`` (``.source``, ``.expires``);
``external_ids.<system>``; each custom attribute under its
own name (text) or as ``custom.<name>`` (a JSON value, or a name that would read as another column);
``created_at``, ``updated_at``, ``version``. The columns are the union over the records written.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from custdata._fields import fields_of
from custdata._records import Customer
from custdata.io._cells import loads
from custdata.io._guard import guard
from custdata.io._headers import CUSTOMER_SYNONYMS, header_key

__all__ = ["CUSTOM_KEY", "FLAT_PREFIX", "flat_column", "flat_header", "flat_row", "flat_values", "parse_flat"]

_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    # group: (the key of its main column, its detail keys in column order)
    "phone": ("number", ("kind", "primary", "verified_at")),
    "email": ("address", ("kind", "primary", "verified_at")),
    "address": ("", ("country", "province", "city", "district", "street", "postal_code", "raw")),
}
_LISTS = {"phone": "phones", "email": "emails", "address": "addresses"}
_CONSENT_KEYS = ("at", "source", "expires")
_DEFAULTS = {"kind": "other", "primary": False, "verified_at": None}
_BOOLS = frozenset({"primary"})
_FLAT = re.compile(
    r"(phone|email)_(\d{1,4})(?:_(kind|primary|verified_at))?"
    r"|(address)_(\d{1,4})_(country|province|city|district|street|postal_code|raw)"
)
_HEAD = ("id", "name", "family_name", "given_name")
_TAIL = ("created_at", "updated_at", "version")
#: The other fields are a column each, by name, in the record's order (from its field description, so a
#: field added to Customer is written without a change here).
_OWN = frozenset(
    {"id", "name", "phones", "emails", "addresses", "consents", "external_ids", "custom", *_TAIL}
)
_MIDDLE = tuple(f.name for f in fields_of(Customer) if f.name not in _OWN)
#: The marker a reader puts before a flat column's header in its field name.
FLAT_PREFIX = "#"
#: How a custom attribute's row key starts, until the layout names its column.
CUSTOM_KEY = "\x00custom\x00"
_SIMPLE_ITEM = re.compile(r"[^\s;,，；、|/\[]([^;,，；、|/]*[^\s;,，；、|/])?")


def flat_column(header: str) -> bool:
    """Whether a header is one of the flat layout's own columns (``phone_2_kind``, ``custom.vip`` …)."""
    return _FLAT.fullmatch(header) is not None or header.startswith(("custom.", "external_ids.", "consents."))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def flat_row(c: Customer) -> dict[str, Any]:
    """The non-empty cells of a customer by column (custom values not yet formatted)."""
    d = c.to_dict()
    row: dict[str, Any] = {"id": d["id"]}
    name = d["name"]
    if name["full"] is not None:
        row["name"] = name["full"]
    if name["family"] is not None:
        row["family_name"] = name["family"]
    if name["given"] is not None:
        row["given_name"] = name["given"]
    for group in ("phone", "email"):
        main, details = _GROUPS[group]
        for i, item in enumerate(d[_LISTS[group]], 1):
            row[f"{group}_{i}"] = item[main]
            row[f"{group}_{i}_kind"] = item["kind"]
            for key in details[1:]:
                if item[key] != _DEFAULTS[key]:
                    row[f"{group}_{i}_{key}"] = _text(item[key])
    if any(all(v is None for v in a.values()) for a in d["addresses"]):
        row["addresses"] = _dumps(d["addresses"])  # an empty address has no cells: JSON keeps it
    else:
        for i, item in enumerate(d["addresses"], 1):
            for key in _GROUPS["address"][1]:
                if item.get(key) is not None:
                    row[f"address_{i}_{key}"] = item[key]
    for key in _MIDDLE:
        value = d[key]
        if key == "tags":
            if value:
                row["tags"] = (
                    "; ".join(value) if all(_SIMPLE_ITEM.fullmatch(t) for t in value) else _dumps(value)
                )
        elif value is not None:
            row[key] = value
    for purpose, consent in d["consents"].items():
        row[f"consents.{purpose}"] = _text(consent["granted"])
        for key in _CONSENT_KEYS:
            if consent[key] is not None:
                row[f"consents.{purpose}.{key}"] = consent[key]
    for system, ext in d["external_ids"].items():
        row[f"external_ids.{system}"] = ext
    for key, value in d["custom"].items():
        row[CUSTOM_KEY + key] = value
    for key in _TAIL:
        if d[key] is not None:
            row[key] = str(d[key])
    return row


def _bare(key: str) -> bool:
    """Whether a custom attribute can be a column of its own name and still read back as custom."""
    return (
        bool(key)
        and key == key.strip()
        and not key.startswith("\ufeff")
        and header_key(key) not in CUSTOMER_SYNONYMS
        and header_key(key) != ""
        and not flat_column(key)
        and guard(key) == key  # "=cmd" as a header would be a formula: it goes as "custom.=cmd"
    )


def flat_header(keys: Iterable[str], text_custom: Mapping[str, bool]) -> tuple[list[str], dict[str, str]]:
    """The columns for the union of row keys, in layout order, and each custom row key's column."""
    present = set(keys)
    groups: dict[str, list[tuple[int, int, str]]] = {g: [] for g in _GROUPS}
    externals: list[str] = []
    consents: list[str] = []
    custom: dict[str, str] = {}
    for k in present:
        if k.startswith(CUSTOM_KEY):
            name = k[len(CUSTOM_KEY) :]
            custom[k] = name if text_custom.get(k, False) and _bare(name) else f"custom.{name}"
        elif k.startswith("external_ids."):
            externals.append(k)
        elif k.startswith("consents."):
            consents.append(k)
        else:
            m = _FLAT.fullmatch(k)
            if m:
                group = m.group(1) or m.group(4)
                index = int(m.group(2) or m.group(5))
                key = m.group(3) or m.group(6) or ""
                order = _GROUPS[group][1].index(key) + 1 if key else 0
                groups[group].append((index, order, k))
    header = [k for k in _HEAD if k in present]
    for g in ("phone", "email", "address"):
        header += [k for _, _, k in sorted(groups[g])]
    if "addresses" in present:
        header.append("addresses")
    header += [k for k in _MIDDLE if k in present]
    header += sorted(consents)
    header += sorted(externals)
    header += sorted(custom.values(), key=lambda h: (h.startswith("custom."), h))
    header += [k for k in _TAIL if k in present]
    return header, custom


def flat_values(row: Mapping[str, Any], custom: Mapping[str, str]) -> dict[str, str]:
    """A row's cells by column name."""
    out: dict[str, str] = {}
    for k, v in row.items():
        if k.startswith(CUSTOM_KEY):
            col = custom[k]
            out[col] = _dumps(v) if col.startswith("custom.") else v
        else:
            out[k] = v if isinstance(v, str) else _text(v)
    return out


def parse_flat(cells: Mapping[str, str], d: dict[str, Any], custom: dict[str, Any]) -> None:
    """Put a row's flat cells (column → text) into ``d`` (the ``from_dict`` form) and ``custom``.
    Raises ValueError for a cell that cannot be read (a bad ``true``/``false`` or JSON value)."""
    items: dict[str, dict[int, dict[str, Any]]] = {g: {} for g in _GROUPS}
    consents: dict[str, dict[str, Any]] = {}
    for header, raw in cells.items():
        if header.startswith("custom."):
            custom[header[len("custom.") :]] = loads(raw)
            continue
        if header.startswith("external_ids."):
            d.setdefault("external_ids", {})[header[len("external_ids.") :]] = raw
            continue
        if header.startswith("consents."):
            purpose, _, key = header[len("consents.") :].rpartition(".")
            if key in _CONSENT_KEYS and purpose:
                consents.setdefault(purpose, {})[key] = raw
            else:
                consents.setdefault(purpose + "." + key if purpose else key, {})["granted"] = _bool(
                    header, raw
                )
            continue
        group, index, key = _slot(header)
        items[group].setdefault(index, {})[key] = _bool(header, raw) if key in _BOOLS else raw
    for group, by_index in items.items():
        if by_index:
            d[_LISTS[group]] = [by_index[i] for i in sorted(by_index)]
    if consents:
        d["consents"] = consents


@functools.lru_cache(maxsize=4096)
def _slot(header: str) -> tuple[str, int, str]:
    """(group, index, key) of a numbered column: ``phone_2_kind`` → ``("phone", 2, "kind")``."""
    m = _FLAT.fullmatch(header)
    if m is None:  # pragma: no cover - the reader only passes flat columns
        raise ValueError(f"not a flat column: {header!r}")
    group = m.group(1) or m.group(4)
    return group, int(m.group(2) or m.group(5)), m.group(3) or m.group(6) or _GROUPS[group][0]


def _bool(header: str, raw: str) -> bool:
    t = raw.strip().lower()
    if t not in ("true", "false"):
        raise ValueError(f"{header}: expected true or false")
    return t == "true"
