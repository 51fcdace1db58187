"""DataFrame interop (the ``pandas`` extra): records to and from a :class:`pandas.DataFrame`.

The columns are the ones :func:`custdata.write_csv` writes, with typed columns where pandas has a type:
timestamps (UTC), amounts and scores as numbers, ``version`` as an integer. ``from_dataframe`` reads them
back, and also accepts any DataFrame whose headers ``read_csv`` would understand (姓名, phone, 金额 …).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Iterator
from typing import Any

from custdata.exceptions import MissingExtraError

try:
    import pandas as pd
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtraError("pandas", "custdata.pandas", ["pandas"]) from exc

from custdata._records import Customer
from custdata.exceptions import ValidationError
from custdata.io import Errors, Kind, RecordReader, RowProblem, from_rows, to_rows
from custdata.io._headers import COLUMNS
from custdata.io._problems import check_errors, handle, record_class

__all__ = ["from_dataframe", "to_dataframe"]

_TIMES = ("at", "created_at", "updated_at")
_FLOATS = ("amount", "satisfaction")


def to_dataframe(records: Iterable[Any], *, kind: Kind | None = None) -> pd.DataFrame:
    """A DataFrame with one row per record (customers, transactions or interactions).

    >>> import custdata, custdata.pandas as cpd
    >>> df = cpd.to_dataframe([custdata.Customer(id="c1", name="张三")])
    >>> df.loc[0, "name"]
    '张三'
    """
    rows = list(to_rows(records))
    cls = record_class(kind) if kind else Customer
    columns = list(rows[0]) if rows else COLUMNS[cls]
    df: pd.DataFrame = pd.DataFrame(rows, columns=columns).replace("", None)
    for col in _TIMES:
        if col in df.columns:
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
    for col in _FLOATS:
        if col in df.columns:
            df[col] = pd.to_numeric(df[col])
    if "nps" in df.columns:
        df["nps"] = pd.to_numeric(df["nps"]).astype("Int64")
    if "version" in df.columns:
        df["version"] = pd.to_numeric(df["version"]).astype("int64")
    return df


def _cell(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().isoformat()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if value is pd.NA:
        return None
    return value if isinstance(value, str) else str(value)


def from_dataframe(
    df: pd.DataFrame,
    *,
    kind: Kind = "customer",
    default_tz: str | dt.tzinfo | None = None,
    errors: Errors = "raise",
) -> RecordReader[Any]:
    """Records from a DataFrame, as an iterator with ``.problems`` like :func:`custdata.read_csv`.

    Row numbers in problems count like a spreadsheet (the first data row is row 2).
    """
    check_errors(errors)
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"from_dataframe takes a pandas DataFrame, got {type(df).__name__}", field="df")
    reader: RecordReader[Any] = RecordReader(iter(()), None, None)
    columns = [str(c) for c in df.columns]

    def rows() -> Iterator[Any]:
        for i, values in enumerate(df.itertuples(index=False, name=None), start=2):
            reader.rows += 1
            row = {c: _cell(v) for c, v in zip(columns, values, strict=True)}
            try:
                yield from from_rows([row], kind=kind, default_tz=default_tz)
            except ValidationError as exc:
                problems = [RowProblem(i, e.field, e.reason) for e in exc.errors]
                handle(reader, problems, errors, "DataFrame")

    reader._rows = rows()
    return reader
