"""CRM import profiles: the headers of a CRM's standard contact export, mapped to custdata fields.

A profile is data (header → field, or None to drop a column) in a registry, so a user can add the
export of their own system with :func:`register_import_profile`. A reader given ``profile=`` matches the
profile's headers before the built-in synonyms; the caller's ``mapping=`` still wins, and a column that
neither knows is kept under ``custom``. Headers are compared as the synonyms are (case, spaces and
punctuation ignored). Only headers found in a public page are listed; docs/crm-profiles.md cites them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from custdata.exceptions import ValidationError
from custdata.io._flat import flat_column
from custdata.io._headers import SYNONYMS

__all__ = ["IMPORT_PROFILES", "profile_headers", "register_import_profile"]

_ZOHO = {
    # help.zoho.com "Standard Modules & Fields" (the Leads table; the Contacts module shares the labels)
    # and the Contacts module's field metadata (field_label "Contact Owner").
    "Contact Owner": "owner",
    "First Name": "given_name",
    "Last Name": "family_name",
    "Title": "title",
    "Phone": "phone",
    "Mobile": "mobile",
    "Fax": "fax",
    "Email": "email",
    "Lead Source": "channel",
    "Company": "company",
}
_HUBSPOT = {
    # knowledge.hubspot.com "Set up your import files": First name, Last name, Email; "[Object] owner".
    "First name": "given_name",
    "Last name": "family_name",
    "Email": "email",
    "Contact owner": "owner",
    # the default contact property labels listed for imports (third-party guide, see the docs page)
    "Email address": "email",
    "Phone number": "phone",
    "Mobile phone number": "mobile",
    "Job title": "title",
    "Company name": "company",
    "City": "city",
    "State/Region": "province",
    "Country/Region": "country",
    "Zip code": "postal_code",
    "Lifecycle stage": "lifecycle_stage",
}
_SALESFORCE = {
    # developer.salesforce.com field reference, Contact: field labels and API names
    "Contact ID": "external_ids.salesforce",
    "Id": "external_ids.salesforce",
    "First Name": "given_name",
    "FirstName": "given_name",
    "Last Name": "family_name",
    "LastName": "family_name",
    "Full Name": "name",
    "Business Phone": "work_phone",
    "Phone": "work_phone",
    "Business Fax": "fax",
    "Fax": "fax",
    "Home Phone": "home_phone",
    "HomePhone": "home_phone",
    "MobilePhone": "mobile",
    "Email": "email",
    "Birthdate": "birthday",
    "Title": "title",
    "Created Date": "created_at",
    "CreatedDate": "created_at",
    "Last Modified Date": "updated_at",
    "LastModifiedDate": "updated_at",
    # the Contact's mailing address (API names and labels)
    "MailingStreet": "street",
    "Mailing Street": "street",
    "MailingCity": "city",
    "Mailing City": "city",
    "MailingState": "province",
    "Mailing State": "province",
    "MailingPostalCode": "postal_code",
    "Mailing Postal Code": "postal_code",
    "MailingCountry": "country",
    "Mailing Country": "country",
}

_registry: dict[str, Mapping[str, str | None]] = {
    "zoho": MappingProxyType(_ZOHO),
    # No public page listing 纷享销客's contact export headers was found: the profile adds nothing to
    # the built-in Chinese synonyms (姓名, 手机, 邮箱, 负责人 …) until headers are registered.
    "fxiaoke": MappingProxyType({}),
    "hubspot": MappingProxyType(_HUBSPOT),
    "salesforce": MappingProxyType(_SALESFORCE),
}
#: The registered profiles (read-only view): name → header map.
IMPORT_PROFILES: Mapping[str, Mapping[str, str | None]] = MappingProxyType(_registry)

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def _check_map(headers: object, kind: str, field: str) -> dict[str, str | None]:
    if not isinstance(headers, Mapping):
        raise ValidationError(
            f"must be a mapping of header to field, got {type(headers).__name__}", field=field
        )
    known = set(SYNONYMS[kind].values())
    out: dict[str, str | None] = {}
    for h, f in headers.items():
        if not isinstance(h, str) or not h.strip():
            raise ValidationError("a header must be non-empty text", field=field)
        ok = isinstance(f, str) and (f in known or (kind == "customer" and flat_column(f)))
        if f is not None and not ok:
            raise ValidationError(f"header {h!r} maps to {f!r}, which is not a {kind} field", field=field)
        out[h] = f
    return out


def register_import_profile(name: str, headers: Mapping[str, str | None], *, replace: bool = False) -> None:
    """Add an import profile: ``headers`` maps a system's export headers to custdata fields (the names
    ``mapping=`` takes: ``"given_name"``, ``"mobile"``, ``"city"``, ``"external_ids.<system>"`` …, or
    None to drop the column). Readers then take ``profile=name``. An existing name needs
    ``replace=True``; a field that is not one raises :class:`~custdata.exceptions.ValidationError`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValidationError("a profile name is lower-case letters, digits, '_', '.' or '-'", field="name")
    if name in _registry and not replace:
        raise ValidationError(f"profile {name!r} exists; pass replace=True to replace it", field="name")
    _registry[name] = MappingProxyType(_check_map(headers, "customer", "headers"))


def profile_headers(profile: object, kind: str) -> Mapping[str, str | None] | None:
    """The header map a reader's ``profile=`` argument stands for (None: no profile)."""
    if profile is None:
        return None
    if isinstance(profile, str):
        try:
            found = _registry[profile]
        except KeyError:
            raise ValidationError(
                f"unknown profile {profile!r}; known: {', '.join(sorted(_registry))}", field="profile"
            ) from None
        return found if kind == "customer" else None
    return _check_map(profile, kind, "profile")
