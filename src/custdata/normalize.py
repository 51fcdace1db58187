"""Deprecated: the module path ``custdata.normalize`` (the package is now :mod:`custdata.normalization`).

``custdata.normalize`` is the function :func:`custdata.normalize`. Until version 0.3 this module keeps
``import custdata.normalize`` and ``from custdata.normalize import X`` working with a ``DeprecationWarning``;
import the names from :mod:`custdata` (or :mod:`custdata.normalization`) instead. See docs/design.md.
"""

from custdata import _deprecation, normalization

_deprecation.alias_module(__name__, normalization, "normalize")
