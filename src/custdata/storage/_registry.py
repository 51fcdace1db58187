"""URL schemes → stores: one table of (factory, install hint), filled by custdata, by :func:`register_store`
and by plug-ins in the ``custdata.stores`` entry-point group.

A plug-in package declares, in its ``pyproject.toml``::

    [project.entry-points."custdata.stores"]
    redis = "custdata_redis:open_store"

where ``open_store(url, **options)`` (a function or a class) returns an object that satisfies
:class:`custdata.storage.Store`. :func:`register_store` does the same at run time (handy in tests and
notebooks); it refuses to replace a scheme that is taken unless ``clobber=True``. A factory given as
``"module:name"`` text is imported on first use, so a registered backend costs nothing until it is opened.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from typing import Any
from urllib.parse import urlsplit

from custdata.exceptions import (
    CustdataError,
    MissingExtraError,
    StoreError,
    UnknownStoreError,
    ValidationError,
)
from custdata.storage import _args
from custdata.storage._protocol import Store

__all__ = ["StoreFactory", "known_schemes", "open_store", "register_store"]

log = logging.getLogger(__name__)

#: A function or class that opens a store: ``factory(url, **options)``.
StoreFactory = Callable[..., Store]

#: scheme -> (the factory, or "module:name" imported on first use; what to install when its import fails:
#: a pip requirement, e.g. "custdata[postgres]"). The only table of stores.
_STORES: dict[str, tuple[StoreFactory | str, str | None]] = {
    "memory": ("custdata.storage._memory:open_memory", None),
    "sqlite": ("custdata.storage._sqlite:open_sqlite", None),
    "postgresql": ("custdata.storage._postgres:open_postgres", "custdata[postgres]"),
    "postgres": ("custdata.storage._postgres:open_postgres", "custdata[postgres]"),
    "mariadb": ("custdata.storage._mariadb:open_mariadb", "custdata[mariadb]"),
    "mysql": ("custdata.storage._mariadb:open_mariadb", "custdata[mariadb]"),
}
_BUILTIN = frozenset(_STORES)

_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*")


def _scheme(scheme: object) -> str:
    name = _args.text("scheme", scheme).lower()
    if not _SCHEME.fullmatch(name):
        raise ValidationError(
            f"not a URL scheme: {scheme!r} (a letter, then letters, digits, '+', '.' or '-')", field="scheme"
        )
    return name


def register_store(
    scheme: str, factory: StoreFactory | str, *, clobber: bool = False, hint: str | None = None
) -> None:
    """Make ``open_store("scheme://...")`` call ``factory(url, **options)``.

    ``factory`` is a function or class, or ``"module:name"`` to import on first use; ``hint`` is the pip
    requirement to suggest when that import fails. A scheme already in the table (built in, registered, or
    from an installed plug-in) is refused with a ValidationError unless ``clobber=True``.
    """
    name = _scheme(scheme)
    if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
        raise ValidationError("factory must be a callable or 'module:name' text", field="factory")
    if hint is not None:
        _args.text("hint", hint)
    _args.flag("clobber", clobber)
    _load_plugins()
    if name in _STORES and not clobber:
        raise ValidationError(
            f"the store scheme {name!r} is already registered; pass clobber=True to replace it",
            field="scheme",
        )
    _STORES[name] = (factory, hint)


_plugins_loaded: list[bool] = []


def _load_plugins() -> None:
    """Put the installed ``custdata.stores`` entry points in the table (once; never over a built-in)."""
    if _plugins_loaded:
        return
    _plugins_loaded.append(True)
    try:
        found = list(entry_points(group="custdata.stores"))
    except Exception as exc:  # a broken installed distribution must not break open_store
        log.warning("could not read the custdata.stores entry points: %s", exc)
        return
    for ep in found:
        name = ep.name.lower()
        if name in _BUILTIN:
            log.warning("ignoring the plug-in %s for the built-in scheme %s://", ep.value, name)
            continue
        _STORES.setdefault(name, (ep.value, ep.dist.name if ep.dist is not None else None))


def _reload_plugins() -> None:
    """Read the entry points again (after installing a plug-in at run time, and in tests)."""
    _plugins_loaded.clear()
    _load_plugins()


def known_schemes() -> list[str]:
    """Every URL scheme open_store understands: built-in, registered and installed plug-ins."""
    _reload_plugins()
    return sorted(_STORES)


def _resolve(scheme: str, target: StoreFactory | str, hint: str | None) -> StoreFactory:
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    try:
        mod = importlib.import_module(module.strip())
        found: Any = mod
        for part in name.strip().split("."):
            found = getattr(found, part)
        factory: StoreFactory = found
    except ImportError as exc:
        if hint is not None and hint.startswith("custdata["):
            extra = hint[len("custdata[") : -1]
            packages = {"postgres": ["psycopg"], "mariadb": ["PyMySQL"]}.get(extra, [])
            raise MissingExtraError(extra, f"the {scheme}:// store", packages) from exc
        raise StoreError(
            f"the {scheme}:// store cannot be imported ({exc})"
            + (f"; install it: pip install '{hint}'" if hint else "")
        ) from exc
    except AttributeError:
        raise StoreError(f"the {scheme}:// store names {target!r}, which does not exist") from None
    return factory


def _factory(scheme: str) -> StoreFactory:
    entry = _STORES.get(scheme)
    if entry is None:
        _reload_plugins()
        entry = _STORES.get(scheme)
    if entry is not None:
        return _resolve(scheme, *entry)
    hints = sorted({h for _, h in _STORES.values() if h})
    raise UnknownStoreError(
        f"no storage backend for the URL scheme {scheme!r}; known schemes: "
        f"{', '.join(s + '://' for s in sorted(_STORES))} (PostgreSQL needs pip install "
        f"'custdata[postgres]'{''.join(f', {h}' for h in hints if h != 'custdata[postgres]')}); "
        "third-party backends register in the 'custdata.stores' entry-point group"
    )


def open_store(
    url: str,
    *,
    create: bool = True,
    keyring: object | None = None,
    sensitive_custom: Iterable[str] | None = None,
    **options: Any,
) -> Store:
    """Open the store at ``url``: ``memory://``, ``sqlite:///path.db``, ``postgresql://user@host/db``,
    ``mariadb://user@host/db`` (also ``mysql://``) or a plug-in's scheme. ``create=False`` opens an existing
    store only (it never creates a file, a schema or tables). ``options`` go to the backend (see each
    backend's ``open_*`` function); an unknown one is a ValidationError.

    ``keyring=`` encrypts personal fields at rest (docs/security.md); ``sensitive_custom=`` names custom
    attributes sealed with them. A new store records the set; reopened with ``keyring=`` alone, it keeps
    sealing the same attributes. Naming another set for an encrypted store is a ValidationError
    (``security.encrypt_store(store, keyring, sensitive_custom=...)`` seals more in place).

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
    _args.flag("create", create)
    names = _args.sensitive_names(sensitive_custom)
    if names is not None and keyring is None:
        raise ValidationError(
            "sealing custom attributes needs encryption at rest: give keyring= too", field="sensitive_custom"
        )
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError as exc:
        raise ValidationError(f"not a valid store URL: {exc}", field="url") from None
    scheme = scheme or url.split("://", 1)[0].lower()
    factory = _factory(scheme)
    if not create:
        options["create"] = False  # only when asked, so a plug-in without the option keeps working
    try:
        store = factory(url, **options)
    except CustdataError:
        raise
    except Exception as exc:
        if scheme in _BUILTIN:
            raise  # a bug of ours: never hidden
        # the plug-in boundary: a third-party backend's own exception becomes a StoreError naming it
        raise StoreError(f"the {scheme}:// store failed to open: {type(exc).__name__}: {exc}") from exc
    use_keyring = getattr(store, "use_keyring", None)
    if callable(use_keyring):
        try:
            # an encrypted store needs its keyring; a new one with a keyring encrypts
            use_keyring(keyring) if names is None else use_keyring(keyring, sensitive_custom=names)
        except BaseException:
            store.close()
            raise
    elif keyring is not None:
        store.close()
        raise StoreError(
            "encryption at rest (keyring=) is available for memory://, sqlite://, postgresql:// and "
            f"mariadb:// stores, not {scheme}://"
        )
    log.debug("opened %r", store)
    return store
