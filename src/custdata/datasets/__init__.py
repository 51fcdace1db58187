"""Public reference data sets shipped with custdata, as typed records with their truth.

- :func:`load_cdnow_transactions`, :func:`load_cdnow_summary`: the CDNOW purchases and their published
  summary (Fader, Hardie & Lee 2005), for the metrics and CLV models.
- :func:`load_febrl` (data sets 1 to 3) and :func:`load_febrl4` (two files to link): synthetic person
  records with errors and the true duplicates, for dedupe and linkage.
- :func:`load_fake_1000`, :func:`load_historical_50k`: splink's harder entity-resolution sets.

Each loader's docstring gives the source, the licence (MIT or BSD; the texts ship beside the data) and what
to cite. Files are read when a loader is called, never on import; :func:`data_path` gives a file's path
for other tools.
"""

from custdata.datasets._load import (
    DATA_FILES,
    DedupeDataset,
    LinkDataset,
    data_path,
    load_cdnow_summary,
    load_cdnow_transactions,
    load_fake_1000,
    load_febrl,
    load_febrl4,
    load_historical_50k,
)

__all__ = [
    "DATA_FILES",
    "DedupeDataset",
    "LinkDataset",
    "data_path",
    "load_cdnow_summary",
    "load_cdnow_transactions",
    "load_fake_1000",
    "load_febrl",
    "load_febrl4",
    "load_historical_50k",
]
