"""One settings object for :func:`dedupe` and :func:`link`: every choice the matching makes, in one place."""

from __future__ import annotations

import enum
import warnings
from collections.abc import Iterable
from typing import Any

import attrs

from custdata.exceptions import ValidationError

__all__ = ["DEFAULT_THRESHOLD", "MatchSettings"]

DEFAULT_THRESHOLD = 0.9


class _Unset(enum.Enum):
    """Marks a keyword the caller did not give (``None`` is a value for some settings)."""

    UNSET = "unset"

    def __repr__(self) -> str:
        return "<from settings>"


UNSET = _Unset.UNSET


def _threshold(value: float) -> float:
    value = float(value)
    if not 0.0 < value <= 1.0:
        raise ValidationError(f"threshold must be a probability in (0, 1], got {value!r}")
    return value


def _passes(value: Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _positive(name: str) -> Any:
    def check(_inst: Any, _attr: Any, value: int | None) -> None:
        if value is not None and value < 1:
            raise ValidationError(f"{name} must be at least 1, got {value!r}")

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
    region: str | None = "CN"
    passes: tuple[str, ...] | None = attrs.field(default=None, converter=_passes)
    window: int = attrs.field(default=3, validator=_positive("window"))
    max_block_size: int = attrs.field(default=100, validator=_positive("max_block_size"))
    min_support: float = 0.5
    seed: int = 0
    workers: int | None = attrs.field(default=None, validator=_positive("workers"))
    fit_sample: int = attrs.field(default=100_000, validator=_positive("fit_sample"))

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    def _with(self, n_jobs: int | None = None, **given: Any) -> MatchSettings:
        """These settings with the keywords a caller gave (``UNSET`` ones left as they are); ``n_jobs`` is
        the deprecated spelling of ``workers``."""
        if n_jobs is not None:
            warnings.warn(
                "n_jobs= is deprecated; use workers= (the same number of processes)",
                DeprecationWarning,
                stacklevel=3,
            )
            if given.get("workers", UNSET) is UNSET:
                given["workers"] = n_jobs
        changes = {k: v for k, v in given.items() if v is not UNSET}
        return attrs.evolve(self, **changes) if changes else self
