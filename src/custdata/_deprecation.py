"""Old module paths kept as deprecated aliases (``custdata.normalize``, ``custdata.dedupe``)."""

from __future__ import annotations

import sys
import types
import warnings
from typing import Any

__all__ = ["alias_module"]


class _DeprecatedModule(types.ModuleType):
    """A module that hands every name on to its target and, called, runs the target's function.

    ``import custdata.normalize`` rebinds the attribute ``custdata.normalize`` to the alias module; being
    callable keeps ``custdata.normalize(customer)`` working until the alias goes.
    """

    _target: types.ModuleType
    _function: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)

    def __dir__(self) -> list[str]:
        return sorted(vars(self._target)["__all__"])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._target, self._function)(*args, **kwargs)


def alias_module(name: str, target: types.ModuleType, function: str, *, removal: str = "0.3") -> None:
    """Make the module ``name``, being imported, a deprecated alias of ``target``.

    Warns (``DeprecationWarning``, pointing at the code that imports ``name``), forwards every name to
    ``target`` and calls ``target.<function>`` when the module itself is called.
    """
    module = sys.modules[name]
    warnings.warn(
        f"the module {name} is deprecated and will be removed in custdata {removal}: "
        f"{name} is the function; import names from custdata or {target.__name__}",
        DeprecationWarning,
        stacklevel=3,  # past this function and the alias module's body: the importing code
    )
    module.__class__ = _DeprecatedModule
    vars(module).update(__all__=list(vars(target)["__all__"]), _target=target, _function=function)


#: Renamed public names: (module, old name) → (new name, the version that removes the old one).
RENAMED: dict[tuple[str, str], tuple[str, str]] = {
    ("custdata", "Explanation"): ("MatchExplanation", "0.3"),
    ("custdata.matching", "Explanation"): ("MatchExplanation", "0.3"),
}


def renamed(module: str, name: str, namespace: dict[str, Any]) -> Any:
    """The value of a renamed name of ``module``, with a ``DeprecationWarning`` pointing at the caller;
    ``AttributeError`` when ``name`` was never a name of ``module``."""
    new = RENAMED.get((module, name))
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    warnings.warn(
        f"{module}.{name} is deprecated and will be removed in custdata {new[1]}: use {module}.{new[0]}",
        DeprecationWarning,
        stacklevel=3,
    )
    return namespace[new[0]] if new[0] in namespace else getattr(sys.modules[module], new[0])
