"""A record and its flat cells: the dict a row of cells gives (reading), the cells of a record (writing)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from custdata._records import (
    Channel,
    Customer,
    EmailKind,
    Interaction,
    InteractionKind,
    LifecycleStage,
    PhoneKind,
    Transaction,
)
from custdata.exceptions import FieldError, InvalidEmailError, InvalidPhoneError, ValidationError
from custdata.io._cells import (
    CHANNEL_WORDS,
    KIND_WORDS,
    PHONE_SPLIT,
    SPLIT,
    STAGE_WORDS,
    json_cell,
    list_cell,
    loads,
    parse_amount,
    parse_birthday,
    parse_number,
    parse_when,
    word,
)
from custdata.io._flat import FLAT_PREFIX, parse_flat
from custdata.io._headers import COLUMNS, CUSTOMER_COLUMNS

__all__ = ["activity_dict", "activity_row", "contact_problems", "customer_dict", "customer_row"]

_PHONE_COLUMNS = {
    "phone": PhoneKind.OTHER,
    "mobile": PhoneKind.MOBILE,
    "home_phone": PhoneKind.HOME,
    "work_phone": PhoneKind.WORK,
    "fax": PhoneKind.FAX,
}
_EMAIL_COLUMNS = {"email": EmailKind.OTHER, "work_email": EmailKind.WORK}
_ADDRESS_COLUMNS = {"country", "province", "city", "district", "street", "postal_code", "address"}


_CHECKERS: tuple[Callable[[str], Any], Callable[[str], tuple[str, str | None]]] | None = None


def _checkers() -> tuple[Callable[[str], Any], Callable[[str], tuple[str, str | None]]]:
    """The normalisers the contact check uses, imported on first use (they load phonenumbers)."""
    global _CHECKERS
    from custdata.normalization import normalize_email
    from custdata.normalization._phone import phone_text

    _CHECKERS = (normalize_email, phone_text)
    return _CHECKERS


def _check_contacts(
    phones: list[Any], emails: list[Any], custom: dict[str, Any], problems: list[FieldError]
) -> None:
    """Report phones and e-mails that cannot be one (``abc-def``, ``电话待补``, ``wang#qq.com``); keep the
    remark written around a number (``13800138000（微信同号）``) aside in ``custom["phone_note"]``.
    The reasons name no value (they end up in exception messages)."""
    normalize_email, phone_text = _CHECKERS or _checkers()
    notes: list[str] = []
    for i, item in enumerate(phones):
        text = item.get("number") if isinstance(item, dict) else item
        if not isinstance(text, str):
            continue  # the record reports it
        try:
            number, note = phone_text(text)
        except InvalidPhoneError as exc:
            problems.append(FieldError(f"phones.{i}.number", f"not a phone number ({exc.reason})"))
            continue
        if note is not None:
            notes.append(note)
            phones[i] = {**item, "number": number} if isinstance(item, dict) else number
    for i, item in enumerate(emails):
        text = item.get("address") if isinstance(item, dict) else item
        if not isinstance(text, str):
            continue
        try:
            normalize_email(text)
        except InvalidEmailError as exc:
            problems.append(FieldError(f"emails.{i}.address", f"not an e-mail address ({exc.reason})"))
    if notes:
        custom.setdefault("phone_note", "; ".join(notes))


def contact_problems(c: Customer) -> list[FieldError]:
    """The phones and e-mails of a record that cannot be one (as :func:`customer_dict` reports them)."""
    problems: list[FieldError] = []
    if c.phones or c.emails:
        phones: list[Any] = [p.number for p in c.phones]
        _check_contacts(phones, [e.address for e in c.emails], {}, problems)
    return problems


def customer_dict(
    cells: Mapping[str, str], custom: dict[str, Any], tz: dt.tzinfo, check_contacts: bool = True
) -> dict[str, Any]:
    """The ``from_dict`` form of a row's cells (field → text); ``custom`` gets the unknown columns."""
    d: dict[str, Any] = {}
    problems: list[FieldError] = []
    name: dict[str, str] = {}
    phones: list[Any] = []
    emails: list[Any] = []
    address: dict[str, str] = {}
    flat: dict[str, str] = {}
    for field, raw in cells.items():
        try:
            if field[0] == FLAT_PREFIX:
                flat[field[1:]] = raw
            elif field == "name":
                name["full"] = raw
            elif field == "family_name":
                name["family"] = raw
            elif field == "given_name":
                name["given"] = raw
            elif field in ("phones", "emails", "addresses"):
                v = json_cell(raw, None) if raw.startswith("[") else None
                items: list[Any] = v if isinstance(v, list) else [x for x in PHONE_SPLIT.split(raw) if x]
                if field == "phones":
                    phones.extend(items)
                elif field == "emails":
                    emails.extend(items)
                else:
                    d["addresses"] = items
            elif field in _PHONE_COLUMNS:
                phones.extend(
                    {"number": n, "kind": _PHONE_COLUMNS[field].value}
                    for n in PHONE_SPLIT.split(raw.strip())
                    if n
                )
            elif field in _EMAIL_COLUMNS:
                emails.extend(
                    {"address": e, "kind": _EMAIL_COLUMNS[field].value} for e in SPLIT.split(raw.strip()) if e
                )
            elif field in _ADDRESS_COLUMNS:
                address["raw" if field == "address" else field] = raw
            elif field == "birthday":
                d["birthday"] = parse_birthday(raw)
            elif field == "tags":
                d["tags"] = list_cell(raw)
            elif field == "channel":
                v = word(raw, CHANNEL_WORDS)
                if v in Channel._value2member_map_:
                    d["channel"] = v
                else:  # keep what the file said, losslessly
                    d["channel"] = "other"
                    custom.setdefault("channel_raw", raw)
            elif field == "lifecycle_stage":
                v = word(raw, STAGE_WORDS)
                if v in LifecycleStage._value2member_map_:
                    d["lifecycle_stage"] = v
                else:
                    d["lifecycle_stage"] = "other"
                    custom.setdefault("lifecycle_stage_raw", raw)
            elif field in ("consents", "external_ids", "custom"):
                v = loads(raw)
                if field == "custom" and isinstance(v, dict):
                    custom.update(v)
                else:
                    d[field] = v
            elif field in ("created_at", "updated_at"):
                d[field] = parse_when(raw, tz)
            elif field == "version":
                d["version"] = int(raw.strip())
            else:
                d[field] = raw
        except (ValueError, ValidationError) as exc:
            problems.append(FieldError(field, str(exc)))
    if flat:
        fd: dict[str, Any] = {}
        try:
            parse_flat(flat, fd, custom)
        except ValueError as exc:
            problems.append(FieldError("", str(exc)))
        phones[:0] = fd.pop("phones", [])
        emails[:0] = fd.pop("emails", [])
        if "addresses" in fd:
            d["addresses"] = fd.pop("addresses") + d.get("addresses", [])
        d.update(fd)
    if check_contacts and (phones or emails):
        _check_contacts(phones, emails, custom, problems)
    if problems:
        raise ValidationError(problems)
    if name:
        d["name"] = name
    if phones:
        d["phones"] = phones
    if emails:
        d["emails"] = emails
    if address:
        d["addresses"] = [address, *d.get("addresses", [])]
    if custom:
        d["custom"] = custom
    return d


def activity_dict(kind: str, cells: Mapping[str, str], tz: dt.tzinfo) -> dict[str, Any]:
    d: dict[str, Any] = {}
    problems: list[FieldError] = []
    for field, raw in cells.items():
        try:
            if field == "at":
                d["at"] = parse_when(raw, tz)
            elif field == "amount":
                d["amount"] = parse_amount(raw)
            elif field == "items":
                d["items"] = loads(raw)
            elif field in ("satisfaction", "nps"):
                d[field] = parse_number(raw)
            elif field == "kind":
                v = word(raw, KIND_WORDS)
                d["kind"] = v if v in InteractionKind._value2member_map_ else raw
            else:
                d[field] = raw
        except ValueError as exc:
            problems.append(FieldError(field, str(exc)))
    if problems:
        raise ValidationError(problems)
    return d


_SIMPLE_ITEM = re.compile(r"[^\s;,，；、|/\[]([^;,，；、|/]*[^\s;,，；、|/])?")


def _simple_list(values: list[str]) -> bool:
    return all(_SIMPLE_ITEM.fullmatch(v) for v in values)


def _dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def _contact_cell(items: list[dict[str, Any]], key: str) -> str:
    if not items:
        return ""
    plain = [i[key] for i in items]
    defaults = all(i["kind"] == "other" and not i["primary"] and i["verified_at"] is None for i in items)
    if defaults and _simple_list(plain):
        return "; ".join(plain)
    return _dumps(items)


def customer_row(c: Customer) -> list[str]:
    """The CSV cells of a customer (without the formula guard)."""
    d = c.to_dict()
    tags = d["tags"]
    cells: dict[str, Any] = {
        **d,
        "name": d["name"]["full"],
        "family_name": d["name"]["family"],
        "given_name": d["name"]["given"],
        "phones": _contact_cell(d["phones"], "number"),
        "emails": _contact_cell(d["emails"], "address"),
        "addresses": _dumps(d["addresses"]) if d["addresses"] else "",
        "tags": ("; ".join(tags) if _simple_list(tags) else _dumps(tags)) if tags else "",
        "consents": _dumps(d["consents"]) if d["consents"] else "",
        "external_ids": _dumps(d["external_ids"]) if d["external_ids"] else "",
        "custom": _dumps(d["custom"]) if d["custom"] else "",
        "version": str(d["version"]),
    }
    return ["" if cells[k] is None else str(cells[k]) for k in CUSTOMER_COLUMNS]


def activity_row(r: Transaction | Interaction) -> list[str]:
    d = r.to_dict()
    if "items" in d:
        d["items"] = _dumps(d["items"]) if d["items"] else ""
    return ["" if d[k] is None else str(d[k]) for k in COLUMNS[type(r)]]
