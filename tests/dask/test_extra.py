"""custdata.dask without dask installed raises MissingExtraError with the install hint."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
sys.modules["dask"] = None  # as if dask were not installed
try:
    import custdata.dask
except ImportError as exc:
    from custdata.exceptions import MissingExtraError
    assert isinstance(exc, MissingExtraError), type(exc)
    print(exc)
else:
    raise SystemExit("imported without dask")
"""


def test_import_without_dask_names_the_extra() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert "pip install 'custdata[dask]'" in out.stdout
