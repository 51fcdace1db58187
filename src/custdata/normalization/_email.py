"""E-mail addresses, normalised with email-validator (no network unless asked) and keyed for matching.

``match_key`` folds what a mailbox provider itself ignores, so two spellings of one mailbox get one key.
The provider table (:data:`PROVIDERS`) lists only documented behaviour:

============================================  ===========  ============  ===============
domains                                        dots         ``+tag``      key domain
============================================  ===========  ============  ===============
gmail.com, googlemail.com                      ignored      dropped       gmail.com
outlook.com, hotmail.com, live.com, msn.com    significant  dropped       as written
icloud.com, me.com, mac.com                    significant  dropped       as written
proton.me, protonmail.com, pm.me               significant  dropped       as written
fastmail.com, fastmail.fm                      significant  dropped       as written
any other domain                               significant  kept          as written
============================================  ===========  ============  ===============

Every key is case-folded (no large provider delivers by case) and uses the ASCII (IDNA) form of the
domain, so ``user@例子.中国`` and ``user@xn--fsqu00a.xn--fiqs8s`` meet.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from typing import Any

import attrs
import email_validator

from custdata._mask import scrub, shown
from custdata._records import Email
from custdata.exceptions import InvalidEmailError

__all__ = ["EMAIL_REASONS", "PROVIDERS", "NormalizedEmail", "Provider", "normalize_email"]

log = logging.getLogger(__name__)

#: Every ``reason`` an :class:`InvalidEmailError` from :func:`normalize_email` can carry.
EMAIL_REASONS = (
    "empty",
    "no_at_sign",
    "bad_local_part",  # nothing, or characters not allowed, before the @
    "bad_domain",  # nothing, no dot, or characters not allowed, after the @
    "reserved_domain",  # localhost, *.local, *.test, *.invalid …
    "too_long",
    "undeliverable",  # only with check_deliverability=True
    "invalid",
)


@attrs.frozen
class Provider:
    """How a mailbox provider reads the local part: ``ignore_dots``, ``strip_plus`` and ``canonical``
    (the domain used in the key for all of the provider's domains, or None to keep the domain)."""

    ignore_dots: bool = False
    strip_plus: bool = False
    canonical: str | None = None


_GMAIL = Provider(ignore_dots=True, strip_plus=True, canonical="gmail.com")
_PLUS = Provider(strip_plus=True)

#: domain -> provider rules used by ``match_key`` (see the table in this module's docstring).
PROVIDERS: dict[str, Provider] = {
    "gmail.com": _GMAIL,
    "googlemail.com": _GMAIL,
    **dict.fromkeys(("outlook.com", "hotmail.com", "live.com", "msn.com"), _PLUS),
    **dict.fromkeys(("icloud.com", "me.com", "mac.com"), _PLUS),
    **dict.fromkeys(("proton.me", "protonmail.com", "pm.me"), _PLUS),
    **dict.fromkeys(("fastmail.com", "fastmail.fm"), _PLUS),
}

_LABEL = re.compile(r"^\s*(?:电子邮箱|电子邮件|邮箱|邮件|e-?mail|mail)\s*[:：]\s*", re.IGNORECASE)
_ANGLE = re.compile(r"<([^<>]*)>")
_TRAILING = "。，；;,.、"


def _rfc_caseless() -> tuple[str, ...]:
    try:
        from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
    except ImportError:  # pragma: no cover - an older or newer layout
        return ()
    return tuple(CASE_INSENSITIVE_MAILBOX_NAMES)


# Plain ASCII addresses that email-validator accepts unchanged except for a lower-cased domain (checked
# against email-validator itself in the tests); anything else goes through email-validator.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL_RE = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN = re.compile(rf"({_ATEXT}(?:\.{_ATEXT})*)@((?:{_LABEL_RE}\.)+[A-Za-z]{{2,63}})")
_SPECIAL = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
_SPECIAL_TLDS = frozenset(d for d in _SPECIAL if "." not in d)
# RFC 2142 role names, which email-validator lower-cases (its own list, where it can be imported)
_CASELESS = frozenset(_rfc_caseless()) | {
    "abuse", "postmaster", "hostmaster", "webmaster", "noc", "security", "info", "marketing", "sales",
    "support", "www", "uucp", "usenet", "news", "ftp",
}  # fmt: skip


def _fast(t: str) -> NormalizedEmail | None:
    if len(t) > 254 or not t.isascii():
        return None
    m = _PLAIN.fullmatch(t)
    if m is None:
        return None
    local, domain = m.group(1), m.group(2).lower()
    if len(local) > 64 or len(domain) > 253 or "--" in domain or local.lower() in _CASELESS:
        return None
    if domain.rpartition(".")[2] in _SPECIAL_TLDS or (
        len(_SPECIAL_TLDS) != len(_SPECIAL) and any(domain.endswith("." + d) for d in _SPECIAL)
    ):
        return None
    address = f"{local}@{domain}"
    return NormalizedEmail(address, address, local, domain, match_key(local, domain))


@attrs.frozen
class NormalizedEmail:
    """A valid e-mail address.

    ``address`` is email-validator's normalised form (domain lower-cased; an internationalised domain
    stays in Unicode, ``user@例子.中国``); ``ascii_address`` the all-ASCII form for SMTP
    (``user@xn--fsqu00a.xn--fiqs8s``; None when the local part itself is not ASCII); ``local`` and
    ``domain`` the two halves of ``address``; ``match_key`` the provider-folded key for matching.

    >>> e = normalize_email(" Zhang.Wei+shop@GMAIL.com ")
    >>> e.address, e.match_key
    ('Zhang.Wei+shop@gmail.com', 'zhangwei@gmail.com')
    """

    address: str
    ascii_address: str | None
    local: str
    domain: str
    match_key: str

    def to_email(self, **changes: Any) -> Email:
        """An :class:`~custdata.Email` record holding :attr:`address`; ``changes`` set other fields."""
        return Email(address=self.address, **changes)


def match_key(local: str, ascii_domain: str) -> str:
    """The matching key of a (valid) local part and ASCII domain, with the provider rules applied.

    >>> match_key("J.Doe+news", "googlemail.com")
    'jdoe@gmail.com'
    """
    domain = ascii_domain.lower()
    key = local.casefold()
    rules = PROVIDERS.get(domain)
    if rules is not None:
        if rules.strip_plus and "+" in key:
            key = key.split("+", 1)[0] or key
        if rules.ignore_dots:
            key = key.replace(".", "") or key
        if rules.canonical:
            domain = rules.canonical
    return f"{key}@{domain}"


def _reason(exc: Exception, text: str) -> str:
    if isinstance(exc, email_validator.EmailUndeliverableError):
        return "undeliverable"
    msg = str(exc).lower()
    if "must have an @-sign" in msg:
        return "no_at_sign"
    if "special-use" in msg or "reserved" in msg:
        return "reserved_domain"
    if "too long" in msg:
        return "too_long"
    if "two periods in a row" in msg:
        return "bad_local_part" if ".." in text.rpartition("@")[0] else "bad_domain"
    if "before the @-sign" in msg or "local part" in msg:
        return "bad_local_part"
    if "after the @-sign" in msg or "domain" in msg or "period" in msg:
        return "bad_domain"
    return "invalid"


def _clean(text: str) -> str:
    if text.isascii() and "<" not in text and ":" not in text:
        t = text.strip()
        return t.rstrip(_TRAILING).rstrip() if t[-1:] in _TRAILING else t
    t = unicodedata.normalize("NFKC", text).strip()
    m = _LABEL.match(t)
    if m:
        t = t[m.end() :]
    m = _ANGLE.search(t)
    if m:
        t = m.group(1)
    t = t.strip()
    if t[:7].lower() == "mailto:":
        t = t[7:].split("?", 1)[0]
    return t.strip().rstrip(_TRAILING).strip()


@functools.lru_cache(maxsize=65536)
def _normalize_cached(text: str, deliverability: bool) -> NormalizedEmail | InvalidEmailError:
    try:
        return _normalize(text, deliverability)
    except InvalidEmailError as exc:
        return exc.with_traceback(None)  # cached: keep no frames alive


def _normalize(text: str, deliverability: bool) -> NormalizedEmail:
    t = _clean(text)
    if not t:
        raise InvalidEmailError(text, "empty")
    if "@" not in t:
        raise InvalidEmailError(text, "no_at_sign")
    fast = _fast(t)
    if fast is not None:
        return fast
    try:
        info = email_validator.validate_email(t, check_deliverability=deliverability)
    except email_validator.EmailNotValidError as exc:
        raise InvalidEmailError(text, _reason(exc, t), detail=str(exc)) from None
    except Exception as exc:  # DNS failures and the like: never let a library error escape
        log.debug("email-validator failed on %s: %s", shown(text, "email"), scrub(repr(exc), t, "email"))
        raise InvalidEmailError(text, "invalid", detail=str(exc)) from None
    local, domain = info.local_part, info.domain
    return NormalizedEmail(
        address=info.normalized,
        ascii_address=info.ascii_email,
        local=local,
        domain=domain,
        match_key=match_key(local, info.ascii_domain),
    )


def normalize_email(text: str, *, check_deliverability: bool = False) -> NormalizedEmail:
    """Validate and normalise an e-mail address as people type it.

    Full-width characters (``＠``), labels (``邮箱：``, ``Email:``), ``mailto:``, a display name with the
    address in angle brackets and a trailing full stop are cleaned away first. No network is used
    unless ``check_deliverability=True`` (a DNS look-up of the domain's mail servers). Results are
    cached (bounded LRU).

    >>> normalize_email("邮箱：Li.Na＠Example.COM。").address
    'Li.Na@example.com'
    >>> normalize_email("user@例子.中国").ascii_address
    'user@xn--fsqu00a.xn--fiqs8s'
    >>> normalize_email("a@@b.com")
    Traceback (most recent call last):
      ...
    custdata.exceptions.InvalidEmailError: invalid e-mail address 'a***@b.com': ...

    Raises :class:`~custdata.exceptions.InvalidEmailError` (``reason`` from :data:`EMAIL_REASONS`).
    """
    if not isinstance(text, str):
        raise InvalidEmailError(text, "invalid", f"expected text, got {type(text).__name__}")
    result = _normalize_cached(text, bool(check_deliverability))
    if isinstance(result, InvalidEmailError):
        raise result._again()
    return result
