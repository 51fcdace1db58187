"""The whole custdata error tree.

Every error custdata raises on purpose is a :class:`CustdataError`. The leaves also subclass the
builtin that fits, so ``except ValueError`` keeps working in code that does not know custdata::

    CustdataError (Exception)
    ├── ValidationError (ValueError)        a record field is invalid; ``.errors`` lists every field
    │   ├── InvalidPhoneError               a phone number cannot be normalised; ``.reason``
    │   ├── InvalidEmailError               an e-mail address cannot be normalised; ``.reason``
    │   ├── InvalidNameError                a person's name cannot be normalised
    │   ├── InvalidAddressError             an address cannot be normalised
    │   └── InvalidDateError                a date cannot be parsed
    ├── ParseError (ValueError)             a file cannot be read (bad encoding, bad row); ``.row``
    ├── SchemaVersionError (ValueError)     stored data was written by an unknown schema version
    ├── RuleSyntaxError (ValueError)        bad rule text; ``.position`` points at the token
    ├── DecryptionError (ValueError)        ciphertext is tampered with or bound to another record
    ├── ConvergenceError (RuntimeError)     a model fit did not converge
    ├── ConcurrencyError (RuntimeError)     a stale write (optimistic concurrency)
    ├── StoreError (RuntimeError)           a storage backend failed
    │   └── UnknownStoreError (ValueError)  no backend for a URL scheme
    ├── NotFoundError (KeyError)            no such record
    ├── AccessDenied (PermissionError)      a policy refuses an action
    ├── KeyProviderError (RuntimeError)     a key provider (e.g. AWS KMS) failed
    └── MissingExtraError (ImportError)     an optional extra is not installed

    CustdataWarning (UserWarning)           a result was computed, but read this first
    ├── BoundaryFitWarning                  a model fit ended on a boundary of its parameter space
    └── RowsLeftOutWarning                  rows were left out of a computation; ``.count``

Third-party exceptions (phonenumbers, email-validator, sqlite3, psycopg, scipy …) are mapped into this
tree at the boundary where custdata calls them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from custdata._mask import scrub, shown

__all__ = [
    "AccessDenied",
    "BoundaryFitWarning",
    "ConcurrencyError",
    "ConvergenceError",
    "CustdataError",
    "CustdataWarning",
    "DecryptionError",
    "FieldError",
    "InvalidAddressError",
    "InvalidDateError",
    "InvalidEmailError",
    "InvalidNameError",
    "InvalidPhoneError",
    "KeyProviderError",
    "MissingExtraError",
    "NotFoundError",
    "ParseError",
    "RowsLeftOutWarning",
    "RuleSyntaxError",
    "SchemaVersionError",
    "StoreError",
    "UnknownStoreError",
    "ValidationError",
]


class CustdataError(Exception):
    """Base class of every error custdata raises on purpose."""


@attrs.frozen
class FieldError:
    """One problem with one field: ``field`` is a dotted path such as ``phones.0.number``."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}" if self.field else self.reason


class ValidationError(CustdataError, ValueError):
    """A value is invalid. ``errors`` lists every failing field, not only the first."""

    def __init__(self, errors: str | Iterable[FieldError], *, field: str = "") -> None:
        if isinstance(errors, str):
            errs: tuple[FieldError, ...] = (FieldError(field, errors),)
        else:
            errs = tuple(errors)
        self.errors: tuple[FieldError, ...] = errs
        super().__init__("; ".join(str(e) for e in errs))

    @property
    def fields(self) -> tuple[str, ...]:
        """The names of the failing fields."""
        return tuple(e.field for e in self.errors)


class _ReasonError(ValidationError):
    """A normaliser's error: ``value`` is the input, ``reason`` a short machine-readable code.

    The message shows the value masked (``'138****5678'``) unless ``custdata.security.set_debug_pii(True)``
    or ``CUSTDATA_DEBUG_PII=1``; ``value`` keeps the input itself for the program. ``detail`` is what
    follows the value in the message (the reason in words by default); ``message`` replaces the whole
    message (it must not carry the value).
    """

    what = "value"
    kind = ""  # the mask kind for the value (see custdata._mask.shown)

    def __init__(
        self,
        value: object,
        reason: str,
        message: str | None = None,
        *,
        field: str = "",
        detail: str | None = None,
    ) -> None:
        self.value = value
        self.reason = reason
        self.detail = detail
        self._message = message
        said = scrub(detail, value, self.kind) if detail else reason.replace("_", " ")
        text = message or f"invalid {self.what} {shown(value, self.kind)}: {said}"
        super().__init__(text, field=field)

    def _again(self) -> _ReasonError:
        """A fresh copy of a cached error, its message shown as the debugging setting says now."""
        field = self.errors[0].field if self.errors else ""
        return type(self)(self.value, self.reason, self._message, field=field, detail=self.detail)


class InvalidPhoneError(_ReasonError):
    """A phone number cannot be normalised. ``reason``: e.g. ``too_short``, ``not_a_number``."""

    what = "phone number"
    kind = "phone"


class InvalidEmailError(_ReasonError):
    """An e-mail address cannot be normalised. ``reason``: e.g. ``no_at_sign``, ``bad_domain``."""

    what = "e-mail address"
    kind = "email"


class InvalidNameError(_ReasonError):
    """A person's name cannot be normalised (empty, or no letters at all)."""

    what = "name"
    kind = "name"


class InvalidAddressError(_ReasonError):
    """An address cannot be normalised (e.g. an unknown country)."""

    what = "address"
    kind = "address"


class InvalidDateError(_ReasonError):
    """A date cannot be parsed, or is ambiguous without a stated order."""

    what = "date"


class ParseError(CustdataError, ValueError):
    """A file or a row of it cannot be read. ``path`` and ``row`` (1-based, header is row 1) when known."""

    def __init__(self, message: str, *, path: str | None = None, row: int | None = None) -> None:
        self.path = path
        self.row = row
        where = ", ".join(x for x in (path and str(path), row and f"row {row}") if x)
        super().__init__(f"{where}: {message}" if where else message)


class SchemaVersionError(CustdataError, ValueError):
    """Stored or serialised data carries a schema version this custdata cannot read."""


class RuleSyntaxError(CustdataError, ValueError):
    """Rule text that does not parse. ``position`` is the 0-based offset of the bad token."""

    def __init__(self, message: str, *, text: str = "", position: int | None = None) -> None:
        self.text = text
        self.position = position
        if text and position is not None:
            message = f"{message}\n  {text}\n  {' ' * position}^"
        super().__init__(message)


class DecryptionError(CustdataError, ValueError):
    """Ciphertext cannot be decrypted: tampered with, bound to another record or field, or no key."""


class ConvergenceError(CustdataError, RuntimeError):
    """A model fit did not converge. The message says what to try."""


class ConcurrencyError(CustdataError, RuntimeError):
    """A write was based on a stale version of a record; nothing was changed."""


class StoreError(CustdataError, RuntimeError):
    """A storage backend failed (I/O, database error, corrupt data)."""


class UnknownStoreError(StoreError, ValueError):
    """No storage backend is registered for a URL scheme."""


class NotFoundError(CustdataError, KeyError):
    """No record with the given id."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else ""


class AccessDenied(CustdataError, PermissionError):
    """A policy refuses the action."""


class KeyProviderError(CustdataError, RuntimeError):
    """A key provider (a KMS) failed for a reason other than a refused key or a damaged wrapped key."""


class MissingExtraError(CustdataError, ImportError):
    """An optional extra is not installed. The message names the ``pip install`` command."""

    def __init__(self, extra: str, what: str, packages: Sequence[str] = ()) -> None:
        self.extra = extra
        pkgs = f" ({', '.join(packages)})" if packages else ""
        super().__init__(f"{what} needs the '{extra}' extra{pkgs}: pip install 'custdata[{extra}]'")


class CustdataWarning(UserWarning):
    """Base class of the warnings custdata issues: a result was computed, but the caller should know
    something about it (filter them with ``warnings.filterwarnings("error", category=CustdataWarning)``
    to make them errors)."""


class BoundaryFitWarning(CustdataWarning):
    """A model fit ended on a boundary of its parameter space (a parameter running off to infinity or
    pinned at a bound). The predictions are those of the limiting model; the message says which."""


class RowsLeftOutWarning(CustdataWarning):
    """Rows were left out of a computation (for example transactions dated after the observation end or
    in the future); ``.count`` says how many."""

    def __init__(self, message: str, count: int) -> None:
        super().__init__(message)
        self.count = count
