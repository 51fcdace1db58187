"""Deprecated: the module path ``custdata.dedupe`` (the package is now :mod:`custdata.matching`).

``custdata.dedupe`` is the function :func:`custdata.dedupe`. Until version 0.3 this module keeps
``import custdata.dedupe`` and ``from custdata.dedupe import X`` working with a ``DeprecationWarning``;
import the names from :mod:`custdata` (or :mod:`custdata.matching`) instead. See docs/design.md.
"""

from custdata import _deprecation, matching

_deprecation.alias_module(__name__, matching, "dedupe")
