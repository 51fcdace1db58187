"""One settings object for :func:`dedupe` and :func:`link`: every choice the matching makes, in one place."""

from __future__ import annotations

import enum
import warnings
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import attrs

from custdata.exceptions import ValidationError

__all__ = [
    "DEFAULT_THRESHOLD",
    "MatchSettings",
    "check_entry",
    "number",
    "probability",
    "region_arg",
    "resolve_settings",
]

DEFAULT_THRESHOLD = 0.9


class _Unset(enum.Enum):
    """Marks a keyword the caller did not give (``None`` is a value for some settings)."""

    UNSET = "unset"

    def __repr__(self) -> str:
        return "<from settings>"


UNSET = _Unset.UNSET


def number(value: object, name: str) -> float:
    """A numeric setting (int, float or Decimal, not bool) as a float; ``ValidationError`` naming it
    otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValidationError(f"{name} must be a number, got {type(value).__name__}", field=name)
    try:
        return float(value)
    except OverflowError:
        raise ValidationError(f"{name} is too large", field=name) from None


def probability(value: object, name: str = "threshold") -> float:
    """A threshold: a number in (0, 1]."""
    f = number(value, name)
    if not 0.0 < f <= 1.0:
        raise ValidationError(f"{name} must be a probability in (0, 1], got {value!r}", field=name)
    return f


def _threshold(value: float) -> float:
    return probability(value)


def _min_support(value: float) -> float:
    f = number(value, "min_support")
    if not 0.0 <= f <= 1.0:
        raise ValidationError(f"min_support must be in [0, 1], got {value!r}", field="min_support")
    return f


def region_arg(value: object) -> str | None:
    """A default phone region: text or None."""
    if value is not None and not isinstance(value, str):
        raise ValidationError(
            f"region must be a region code or None, got {type(value).__name__}", field="region"
        )
    return value


def _passes(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    try:
        out = tuple(value)
    except TypeError:
        raise ValidationError(
            f"passes must be pass names or None, got {type(value).__name__}", field="passes"
        ) from None
    if not all(isinstance(p, str) for p in out):
        raise ValidationError("passes must be pass names (text)", field="passes")
    return out


def _seed(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"seed must be an int, got {type(value).__name__}", field="seed")
    return value


def _positive(name: str) -> Any:
    def check(_inst: Any, _attr: Any, value: int | None) -> None:
        if value is None and name == "workers":
            return
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{name} must be a whole number, got {type(value).__name__}", field=name)
        if value < 1:
            raise ValidationError(f"{name} must be at least 1, got {value!r}", field=name)
        if name == "workers" and value > 1024:
            # a pool that size is a mistake: it would reserve memory per process before any work
            raise ValidationError(f"workers must be at most 1024, got {value!r}", field=name)

    return check


@attrs.frozen(kw_only=True)
class MatchSettings:
    """The settings of :func:`custdata.dedupe` and :func:`custdata.link`.

    ``threshold``: the match probability at or above which a pair is accepted. ``region``: the default
    region for phone numbers written without a country code. ``passes``: the blocking passes (None: all of
    :data:`DEFAULT_PASSES` and :data:`SORTED_PASSES`). ``window``: neighbours compared in a sorted pass.
    ``max_block_size``: a larger block is compared between sort neighbours only. ``min_support``: two
    groups join in clustering only when their cross pairs average at least this probability. ``seed``: the
    random sampling. ``workers``: processes (None: one per core for large inputs, on Linux).
    ``fit_sample``: above this many records the model is learned on a birthday sample of about this size.

    Pass one to either function (``dedupe(records, settings=s)``) or give the same names as keywords; a
    result's ``settings`` says what was used. ``attrs.evolve(s, threshold=0.95)`` changes one.
    """

    threshold: float = attrs.field(default=DEFAULT_THRESHOLD, converter=_threshold)
    region: str | None = attrs.field(default="CN", converter=region_arg)
    passes: tuple[str, ...] | None = attrs.field(default=None, converter=_passes)
    window: int = attrs.field(default=3, validator=_positive("window"))
    max_block_size: int = attrs.field(default=100, validator=_positive("max_block_size"))
    min_support: float = attrs.field(default=0.5, converter=_min_support)
    seed: int = attrs.field(default=0, converter=_seed)
    workers: int | None = attrs.field(default=None, validator=_positive("workers"))
    fit_sample: int = attrs.field(default=100_000, validator=_positive("fit_sample"))

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def _with(self, **given: Any) -> MatchSettings:
        """These settings with the keywords a caller gave (``UNSET`` ones left as they are)."""
        changes = {k: v for k, v in given.items() if v is not UNSET}
        return attrs.evolve(self, **changes) if changes else self


def resolve_settings(
    settings: object,
    matcher: object,
    progress: object = None,
    *,
    n_jobs: object = None,
    **given: Any,
) -> MatchSettings:
    """The settings an entry point (:func:`dedupe`, :func:`link`, :func:`dedupe_store`, the Dask
    ``dedupe``) runs with: ``settings`` (or the defaults) with the keywords its caller gave on top
    (``UNSET`` ones left as they are), the region of a given ``matcher`` winning. The argument types are
    checked first. ``n_jobs`` is the deprecated spelling of ``workers``; its DeprecationWarning points at
    the caller of the entry point, so call this directly from the public function."""
    from custdata.matching._matcher import Matcher  # here: the matcher module imports this one

    check_entry(settings, matcher, progress, Matcher)
    if n_jobs is not None:
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int):
            raise ValidationError(
                f"n_jobs must be a whole number, got {type(n_jobs).__name__}", field="n_jobs"
            )
        warnings.warn(
            "n_jobs= is deprecated; use workers= (the same number of processes)",
            DeprecationWarning,
            stacklevel=3,  # this function, the entry point, its caller
        )
        if given.get("workers", UNSET) is UNSET:
            given["workers"] = n_jobs
    s = (settings if isinstance(settings, MatchSettings) else MatchSettings())._with(**given)
    if isinstance(matcher, Matcher):
        s = attrs.evolve(s, region=matcher.region)
    return s


def check_entry(settings: object, matcher: object, progress: object, matcher_type: type) -> None:
    """The arguments :func:`dedupe` and :func:`link` share besides the settings (their types only)."""
    if settings is not None and not isinstance(settings, MatchSettings):
        raise ValidationError(
            f"settings must be a MatchSettings or None, got {type(settings).__name__}", field="settings"
        )
    if matcher is not None and not isinstance(matcher, matcher_type):
        raise ValidationError(
            f"matcher must be a Matcher or None, got {type(matcher).__name__}", field="matcher"
        )
    if progress is not None and not callable(progress):
        raise ValidationError(
            f"progress must be callable or None, got {type(progress).__name__}", field="progress"
        )
