"""Without the mariadb extra, a mariadb:// or mysql:// URL names the extra to install (no server needed)."""

from __future__ import annotations

import sys

import pytest

import custdata
from custdata.exceptions import MissingExtraError


@pytest.mark.parametrize("url", ["mariadb://u@h/db", "mysql://u:pw@h:3306/db"])
def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setitem(sys.modules, "pymysql", None)  # import pymysql now fails
    monkeypatch.delitem(sys.modules, "custdata.storage._mariadb", raising=False)
    with pytest.raises(MissingExtraError, match=r"pip install 'custdata\[mariadb\]'") as info:
        custdata.open_store(url)
    assert info.value.extra == "mariadb" and "PyMySQL" in str(info.value) and "pw" not in str(info.value)
