"""Deprecated: the module path ``custdata.normalize`` (the package is now :mod:`custdata.normalization`).

``custdata.normalize`` is the function :func:`custdata.normalize`. Until version 0.3 this module keeps
``import custdata.normalize`` and ``from custdata.normalize import X`` working with a ``DeprecationWarning``;
import the names from :mod:`custdata` (or :mod:`custdata.normalization`) instead. See docs/design.md.
"""

from __future__ import annotations

import sys
import types
import warnings
from typing import Any

from custdata import normalization as _target

warnings.warn(
    "the module custdata.normalize is deprecated and will be removed in custdata 0.3: "
    "custdata.normalize is the function; import names from custdata or custdata.normalization",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = list(_target.__all__)


def __getattr__(name: str) -> Any:
    return getattr(_target, name)


def __dir__() -> list[str]:
    return sorted(__all__)


class _DeprecatedCallableModule(types.ModuleType):
    # `import custdata.normalize` rebinds the attribute custdata.normalize to this module; calling it
    # still runs the function, so old code keeps working until the module goes.
    def __call__(self, customer: Any, **options: Any) -> Any:
        return _target.normalize(customer, **options)


sys.modules[__name__].__class__ = _DeprecatedCallableModule
