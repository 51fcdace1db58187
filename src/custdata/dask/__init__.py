"""Scale-out on Dask: read, normalise, dedupe and profile customers over a Dask cluster (``custdata[dask]``).

The same work as the single-machine functions, split into partitions that Dask schedules on its workers
(a :class:`distributed.Client` connected to any cluster, or Dask's local schedulers): the results equal
those of :func:`custdata.io.read_csv`, :func:`custdata.normalize_many` and :func:`custdata.dedupe` on the
same rows.
"""

from __future__ import annotations

try:
    import dask.bag  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a separate interpreter by the tests
    from custdata.exceptions import MissingExtraError

    raise MissingExtraError("dask", "custdata.dask", ["dask", "distributed"]) from exc

from custdata.dask._apply import predict, select_profiles
from custdata.dask._dedupe import DaskDedupeResult, dedupe
from custdata.dask._metrics import summarize
from custdata.dask._normalize import normalize
from custdata.dask._profiles import profiles
from custdata.dask._read import FileProblem, PartitionedRead, read_csv, read_jsonl, read_parquet

__all__ = [
    "DaskDedupeResult",
    "FileProblem",
    "PartitionedRead",
    "dedupe",
    "normalize",
    "predict",
    "profiles",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "select_profiles",
    "summarize",
]
