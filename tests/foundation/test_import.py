"""`import custdata` is light: no optional extra and no heavy dependency is imported with it."""

from __future__ import annotations

import subprocess
import sys


def test_import_custdata_loads_no_extra() -> None:
    code = (
        "import sys, custdata\n"
        "heavy = ['numpy', 'pandas', 'scipy', 'click', 'tqdm', 'matplotlib', 'psycopg', 'dask', 'hypothesis',\n"
        "         'phonenumbers', 'email_validator', 'rapidfuzz', 'pypinyin']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == ""


def test_lazy_names_resolve() -> None:
    import custdata

    for name in custdata.__all__:
        assert getattr(custdata, name) is not None, name
    assert "normalize_phone" in dir(custdata)
