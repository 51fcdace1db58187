"""URL schemes → backends: the built-in ones, and plug-ins from the ``custdata.stores`` entry-point group.

A plug-in package declares, in its ``pyproject.toml``::

    [project.entry-points."custdata.stores"]
    redis = "custdata_redis:open_store"

where ``open_store(url, **options)`` returns an object that satisfies :class:`custdata.storage.Store`.
:func:`register_store` does the same at run time (handy in tests and notebooks).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit

from custdata.exceptions import MissingExtraError, StoreError, UnknownStoreError
from custdata.storage._protocol import Store

__all__ = ["StoreFactory", "known_schemes", "open_store", "register_store"]

log = logging.getLogger(__name__)

StoreFactory = Callable[..., Store]

#: scheme -> "module:function", imported on first use; plus the extra a backend needs, if any.
_BUILTIN: dict[str, str] = {
    "memory": "custdata.storage._memory:open_memory",
    "sqlite": "custdata.storage._sqlite:open_sqlite",
    "postgresql": "custdata.storage._postgres:open_postgres",
    "postgres": "custdata.storage._postgres:open_postgres",
}
_EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "postgresql": ("postgres", ("psycopg",)),
    "postgres": ("postgres", ("psycopg",)),
}
_registered: dict[str, StoreFactory] = {}


def register_store(scheme: str, factory: StoreFactory) -> None:
    """Make ``open_store("scheme://...")`` call ``factory(url, **options)``; replaces an earlier one."""
    _registered[scheme.lower()] = factory


def _plugins() -> dict[str, Any]:
    try:
        return {ep.name.lower(): ep for ep in entry_points(group="custdata.stores")}
    except Exception as exc:  # a broken installed distribution must not break open_store
        log.warning("could not read the custdata.stores entry points: %s", exc)
        return {}


def known_schemes() -> list[str]:
    """Every URL scheme open_store understands: built-in, registered and installed plug-ins."""
    return sorted(set(_BUILTIN) | set(_registered) | set(_plugins()))


def _factory(scheme: str) -> StoreFactory:
    if scheme in _registered:
        return _registered[scheme]
    if scheme in _BUILTIN:
        module, _, name = _BUILTIN[scheme].partition(":")
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            extra = _EXTRAS.get(scheme)
            if extra is not None and exc.name is not None and exc.name.split(".")[0] in extra[1]:
                raise MissingExtraError(extra[0], f"the {scheme}:// store", extra[1]) from exc
            raise
        factory: StoreFactory = getattr(mod, name)
        return factory
    plugin = _plugins().get(scheme)
    if plugin is not None:
        loaded: StoreFactory = plugin.load()
        return loaded
    by_extra: dict[str, list[str]] = {}
    for s, (e, _) in sorted(_EXTRAS.items(), reverse=True):
        by_extra.setdefault(e, []).append(f"{s}://")
    hints = "; ".join(f"{' and '.join(ss)} need pip install 'custdata[{e}]'" for e, ss in by_extra.items())
    raise UnknownStoreError(
        f"no storage backend for the URL scheme {scheme!r}; known schemes: "
        f"{', '.join(s + '://' for s in known_schemes())} ({hints}); third-party backends register in the "
        "'custdata.stores' entry-point group"
    )


def open_store(url: str, *, keyring: object | None = None, **options: Any) -> Store:
    """Open the store at ``url``: ``memory://``, ``sqlite:///path.db``, ``postgresql://user@host/db`` or
    a plug-in's scheme. ``options`` go to the backend (see each backend's ``open_*`` function).

    >>> store = open_store("memory://")
    >>> store.count()
    0
    >>> store.close()
    """
    if not isinstance(url, str) or "://" not in url:
        raise UnknownStoreError(
            f"not a store URL: {url!r}; use e.g. 'sqlite:///customers.db' or 'memory://' "
            f"(known schemes: {', '.join(known_schemes())})"
        )
    if keyring is not None:
        raise StoreError(
            "encryption at rest (keyring=) is not available yet in this custdata version; "
            "open the store without a keyring"
        )
    scheme = urlsplit(url).scheme.lower() or url.split("://", 1)[0].lower()
    store = _factory(scheme)(url, **options)
    log.debug("opened %r", store)
    return store
