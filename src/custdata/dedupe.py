"""Deprecated: the module path ``custdata.dedupe`` (the package is now :mod:`custdata.matching`).

``custdata.dedupe`` is the function :func:`custdata.dedupe`. Until version 0.3 this module keeps
``import custdata.dedupe`` and ``from custdata.dedupe import X`` working with a ``DeprecationWarning``;
import the names from :mod:`custdata` (or :mod:`custdata.matching`) instead. See docs/design.md.
"""

from __future__ import annotations

import sys
import types
import warnings
from typing import Any

from custdata import matching as _target

warnings.warn(
    "the module custdata.dedupe is deprecated and will be removed in custdata 0.3: "
    "custdata.dedupe is the function; import names from custdata or custdata.matching",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = list(_target.__all__)


def __getattr__(name: str) -> Any:
    return getattr(_target, name)


def __dir__() -> list[str]:
    return sorted(__all__)


class _DeprecatedCallableModule(types.ModuleType):
    # `import custdata.dedupe` rebinds the attribute custdata.dedupe to this module; calling it still
    # runs the function, so old code keeps working until the module goes.
    def __call__(self, records: Any, **options: Any) -> Any:
        return _target.dedupe(records, **options)


sys.modules[__name__].__class__ = _DeprecatedCallableModule
