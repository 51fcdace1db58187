"""The example plug-in of docs/storage.md (dict_store.py), registered through the registry and tested with
the same contract classes as the built-in backends: what a plug-in author does with their own store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from custdata.storage import Store, open_store, register_store
from custdata.testing.stores import StoreTests

register_store("dict", "tests.storage.dict_store:open_dict_store", clobber=True)


class TestDictStore(StoreTests):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        with open_store("dict://test") as s:
            yield s
