"""The plain SQLite store's sorted index write pinned to the general path.

``SQLiteStore._insert_new`` sets a chunk's lookup entries (phones, e-mails, external ids) aside in a
temporary table and writes them into ``cd_lookup`` once, sorted (before an update, when many are pending,
and at the end of ``upsert_many``). The general path (``SQLStore._insert_new``) writes them chunk by chunk
as they come. Both must leave the same rows in every table and give the same ``find`` answers, whatever
mix of new customers, updates, shared contacts and chunk boundaries a call has.
"""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
import custdata.testing as cst
from custdata.exceptions import ValidationError
from custdata.storage import _sql, _sqlite
from custdata.storage._sql import SQLStore

TABLES = {
    # stored_at and the history's "at" are the call's clock: left out (the two stores write at different times)
    "cd_customers": "id, version, deleted_at, keys, body",
    "cd_lookup": "kind, key, customer_id",
    "cd_history": "customer_id, version, action, source, changes",
}


def contents(store: custdata.Store) -> dict[str, list[tuple[object, ...]]]:
    return {t: sorted(store.query_sql(f"SELECT {cols} FROM {t}"), key=repr) for t, cols in TABLES.items()}


@st.composite
def calls(draw: st.DrawFn) -> list[list[custdata.Customer]]:
    """One to three upsert_many calls over customers sharing phones and e-mails (several customers under
    one index key), the later calls updating some of the earlier customers, each call possibly naming a
    customer twice (the last wins)."""
    phones = draw(st.lists(cst.phones(), min_size=1, max_size=4))
    emails = draw(st.lists(cst.emails(), min_size=1, max_size=4))
    people = st.builds(
        lambda c, ph, em: c.evolve(phones=ph, emails=em),
        cst.customers(),
        st.lists(st.sampled_from(phones), max_size=2, unique=True),
        st.lists(st.sampled_from(emails), max_size=2, unique=True),
    )
    first = draw(st.lists(people, min_size=1, max_size=10, unique_by=lambda c: c.id))
    out = [first]
    for _ in range(draw(st.integers(0, 2))):
        again = draw(st.lists(st.sampled_from(first), max_size=4, unique_by=lambda c: c.id))
        changed = [
            c.evolve(phones=draw(st.lists(st.sampled_from(phones), max_size=2, unique=True))) for c in again
        ]
        new = draw(st.lists(people, max_size=4, unique_by=lambda c: c.id))
        seen = {c.id for c in changed}
        out.append(changed + [c for c in new if c.id not in seen])
    # a customer repeated later in the same call: with small chunks, an update of one the call inserted
    for people in out:
        people += [
            c.evolve(emails=draw(st.lists(st.sampled_from(emails), max_size=2, unique=True)))
            for c in (draw(st.lists(st.sampled_from(list(people)), max_size=3)) if people else [])
        ]
    return out


@given(calls(), st.sampled_from([1, 3, 2000]), st.sampled_from([1, 4, 1_000_000]))
@settings(max_examples=60, deadline=None)
def test_sorted_index_write_stores_what_the_general_path_stores(batches, chunk, pending_max):
    got = {}
    for way in ("sorted", "general"):
        with (
            mock.patch.object(_sql, "CHUNK", chunk),
            mock.patch.object(_sqlite, "_PENDING_MAX", pending_max),
            custdata.open_store("sqlite://") as store,
        ):
            if way == "general":
                store._insert_new = lambda batch, at, src, s=store: SQLStore._insert_new(s, batch, at, src)
            for people in batches:
                store.upsert_many(people, source="test")
                if way == "sorted":  # nothing left pending once a call returns
                    assert store.query_sql("SELECT COUNT(*) FROM temp.cd_index_pending") == [(0,)]
            answers = []
            for people in batches:
                for c in people:
                    for p in c.phones:
                        answers.append(("phone", p.number, sorted(x.id for x in store.find(phone=p.number))))
                    for e in c.emails:
                        answers.append(
                            ("email", e.address, sorted(x.id for x in store.find(email=e.address)))
                        )
            got[way] = (contents(store), answers)
    assert got["sorted"] == got["general"]


def test_the_entries_set_aside_roll_back_with_a_failed_call():
    """A call that raises part way leaves neither its customers nor their pending index entries behind:
    the next call's sorted write does not bring them back."""
    first = custdata.Customer(id="a", phones=[custdata.Phone("+8613800000001")])
    with mock.patch.object(_sql, "CHUNK", 1), custdata.open_store("sqlite://") as store:
        with pytest.raises(ValidationError):
            store.upsert_many([first, {"id": "b", "phones": "not a list"}])
        assert store.query_sql("SELECT COUNT(*) FROM cd_lookup") == [(0,)]
        store.upsert_many([custdata.Customer(id="c", emails=[custdata.Email("x@example.com")])])
        assert store.query_sql("SELECT kind, customer_id FROM cd_lookup") == [("email", "c")]
        assert store.find(phone="+8613800000001") == []
