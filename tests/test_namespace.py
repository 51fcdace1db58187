"""The shape of the public namespace: functions are functions, capability packages are namespaces, and the
old module paths `custdata.normalize` / `custdata.dedupe` still work with a DeprecationWarning."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

import custdata


def _fresh(code: str) -> str:
    """Run `code` in a new interpreter (so no earlier import has bound the names) and return its stdout."""
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_flat_names_are_functions_and_packages_are_modules() -> None:
    assert isinstance(custdata.normalize, types.FunctionType)
    assert isinstance(custdata.dedupe, types.FunctionType)
    assert isinstance(importlib.import_module("custdata.normalization"), types.ModuleType)
    assert isinstance(importlib.import_module("custdata.matching"), types.ModuleType)
    assert not callable(custdata.normalization)
    assert not callable(custdata.matching)


def test_importing_the_namespaces_does_not_rebind_the_functions() -> None:
    out = _fresh(
        "import custdata.normalization, custdata.matching, custdata, types;"
        "print(type(custdata.normalize) is types.FunctionType, type(custdata.dedupe) is types.FunctionType)"
    )
    assert out == "True True"


def test_every_name_in_all_resolves() -> None:
    for name in custdata.__all__:
        assert getattr(custdata, name) is not None, name
    assert sorted(custdata.__all__) == sorted(set(custdata.__all__))


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("NormalizeResult", "custdata.normalization"),
        ("NormalizedName", "custdata.normalization"),
        ("NormalizedPhone", "custdata.normalization"),
        ("NormalizedEmail", "custdata.normalization"),
        ("Issue", "custdata.normalization"),
        ("DedupeResult", "custdata.matching"),
        ("LinkResult", "custdata.matching"),
        ("ScoredPair", "custdata.matching"),
        ("GoldenRecord", "custdata.matching"),
        ("Match", "custdata.matching"),
        ("MatchExplanation", "custdata.matching"),
        ("UpsertResult", "custdata.storage"),
        ("UpsertProblem", "custdata.storage"),
    ],
)
def test_result_types_are_exported_flat(name: str, module: str) -> None:
    assert name in custdata.__all__
    assert getattr(custdata, name) is getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(
    ("old", "new", "name", "function"),
    [
        ("custdata.normalize", "custdata.normalization", "PHONE_REASONS", "normalize"),
        ("custdata.dedupe", "custdata.matching", "golden_record", "dedupe"),
    ],
)
def test_old_module_paths_warn_and_forward(old: str, new: str, name: str, function: str) -> None:
    sys.modules.pop(old, None)
    try:
        with pytest.warns(DeprecationWarning, match=f"{old} is deprecated"):
            shim = importlib.import_module(old)
        target = importlib.import_module(new)
        assert getattr(shim, name) is getattr(target, name)
        assert sorted(shim.__all__) == sorted(target.__all__)
        with pytest.raises(AttributeError):
            _ = shim.no_such_name
    finally:
        sys.modules.pop(old, None)
        # the import bound the module over the function; put the function back for the other tests
        setattr(custdata, function, getattr(importlib.import_module(new), function))


def test_old_import_forms_keep_working_in_a_fresh_interpreter() -> None:
    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    from custdata.dedupe import dedupe as d\n"
        "    import custdata.normalize\n"
        "import custdata\n"
        "c = custdata.Customer(id='a', name='张伟', phones=['13800138000'])\n"
        "print(sorted({x.category.__name__ for x in w}), type(custdata.normalize(c)).__name__,"
        " d is custdata.matching.dedupe)\n"
    )
    assert _fresh(code) == "['DeprecationWarning'] NormalizeResult True"


def test_deprecation_points_at_the_importer() -> None:
    sys.modules.pop("custdata.normalize", None)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(compile("import custdata.normalize", "<user code>", "exec"), {})
        assert [w.filename for w in caught if w.category is DeprecationWarning] == ["<user code>"]
    finally:
        sys.modules.pop("custdata.normalize", None)
        custdata.normalize = importlib.import_module("custdata.normalization").normalize


def _bulk_operations() -> list[object]:
    from custdata.io import read_csv, read_jsonl
    from custdata.storage import Store

    out: list[object] = [read_csv, read_jsonl, custdata.normalize_many, Store.upsert_many]
    if importlib.util.find_spec("pandas") is not None:
        from custdata.pandas import from_dataframe

        out.append(from_dataframe)
    for url in ("memory://",):
        with custdata.open_store(url) as store:
            out.append(type(store).upsert_many)
    return out


def test_one_errors_type_and_one_default_for_every_bulk_operation() -> None:
    from typing import get_args

    from custdata._bulk import DEFAULT_ERRORS, ERRORS

    assert get_args(custdata.Errors) == ERRORS
    for fn in _bulk_operations():
        parameter = inspect.signature(fn).parameters["errors"]  # type: ignore[arg-type]
        assert parameter.default == DEFAULT_ERRORS, fn


@pytest.mark.parametrize("bad", ["ignore", "RAISE", None, 1])
def test_every_bulk_operation_refuses_an_unknown_errors_value(bad: object, tmp_path: Path) -> None:
    from custdata.exceptions import ValidationError

    path = tmp_path / "empty.csv"
    custdata.write_csv([], path)
    calls = [
        lambda: list(custdata.read_csv(path, errors=bad)),
        lambda: list(custdata.read_jsonl(path, errors=bad)),
        lambda: list(custdata.normalize_many([], errors=bad)),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match="errors must be"):
            call()
    with custdata.open_store("memory://") as store, pytest.raises(ValidationError, match="errors must be"):
        store.upsert_many([], errors=bad)


def test_every_test_folder_is_a_package() -> None:
    """Shared helpers import by their full name (tests.storage.storage_backends): every folder is a package."""
    root = Path(__file__).parent
    folders = [p for p in root.rglob("*") if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))]
    assert folders
    assert [str(p.relative_to(root)) for p in folders if not (p / "__init__.py").exists()] == []


def test_every_file_reader_and_writer_is_flat_and_lazy() -> None:
    """read_*/write_* of custdata.io are the flat names (Parquet and Excel as CSV and JSON Lines), and
    `import custdata` imports none of their engines."""
    io = importlib.import_module("custdata.io")
    names = [n for n in io.__all__ if n.startswith(("read_", "write_"))]
    assert {"read_parquet", "write_parquet", "read_excel", "write_excel"} <= set(names)
    for name in names:
        assert name in custdata.__all__, name
        assert getattr(custdata, name) is getattr(io, name), name
    out = _fresh("import sys, custdata; print(sorted({'pyarrow', 'openpyxl'} & set(sys.modules)))")
    assert out == "[]"
