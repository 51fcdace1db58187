"""open_store: URL schemes, run-time registration, entry-point plug-ins, and clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import custdata
from custdata.exceptions import CustdataError, MissingExtraError, StoreError, UnknownStoreError
from custdata.storage import Store, known_schemes, open_store, register_store
from custdata.storage._memory import MemoryStore


def test_unknown_scheme_lists_the_known_ones_and_the_extra() -> None:
    with pytest.raises(UnknownStoreError) as info:
        open_store("nosuch://x")
    msg = str(info.value)
    for scheme in ("memory://", "sqlite://", "postgresql://"):
        assert scheme in msg
    assert "pip install 'custdata[postgres]'" in msg
    assert "custdata.stores" in msg
    assert isinstance(info.value, ValueError) and isinstance(info.value, CustdataError)


def test_not_a_url() -> None:
    with pytest.raises(UnknownStoreError, match="not a store URL"):
        open_store("customers.db")


def test_top_level_names() -> None:
    assert custdata.open_store is open_store
    assert custdata.Store is Store
    assert {"memory", "sqlite", "postgresql"} <= set(known_schemes())


def test_a_keyring_that_is_not_one_is_refused() -> None:
    from custdata.exceptions import ValidationError

    with pytest.raises(ValidationError, match="Keyring"):
        open_store("memory://", keyring=object())


def test_register_store_at_run_time() -> None:
    made: list[str] = []

    def factory(url: str, **options: object) -> Store:
        made.append(url)
        return MemoryStore(url)

    register_store("runtimetest", factory, clobber=True)
    with open_store("runtimetest://one") as s:
        assert isinstance(s, Store)
        assert s.url == "runtimetest://one"
    assert made == ["runtimetest://one"]
    assert "runtimetest" in known_schemes()


def test_entry_point_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A distribution that declares a ``custdata.stores`` entry point (a real dist-info on sys.path)."""
    pkg = tmp_path / "cd_vault_store.py"
    pkg.write_text(
        "from custdata.storage._memory import MemoryStore\n"
        "def open_vault(url, **options):\n"
        "    return MemoryStore(url, **options)\n",
        encoding="utf-8",
    )
    info = tmp_path / "cd_vault_store-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cd-vault-store\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[custdata.stores]\nvault = cd_vault_store:open_vault\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "vault" in known_schemes()
    with open_store("vault://x", region="US") as s:
        s.put(custdata.Customer(id="v1", phones=[custdata.Phone(number="(202) 555-0143")]))
        assert [c.id for c in s.find(phone="+12025550143")] == ["v1"]


def test_postgres_without_the_extra_names_the_pip_command() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "import custdata\n"
        "try:\n"
        "    custdata.open_store('postgresql://localhost/x')\n"
        "except custdata.exceptions.MissingExtraError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'custdata[postgres]'" in out
    assert issubclass(MissingExtraError, ImportError)


def test_postgres_connection_failure_is_a_store_error() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError, match="cannot connect") as info:
        open_store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2")
    assert "secret" not in str(info.value)
