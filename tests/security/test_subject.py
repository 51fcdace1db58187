"""Subject requests: export everything about one customer; erase it all, with an audit entry."""

from __future__ import annotations

import datetime as dt
import json

import pytest

import custdata
from custdata.exceptions import NotFoundError, ValidationError
from custdata.security import AuditLog, Keyring, MemorySink, erase_subject, export_subject

AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


@pytest.fixture(params=["memory", "encrypted-sqlite"])
def store(request, tmp_path):
    s = (
        custdata.open_store("memory://")
        if request.param == "memory"
        else custdata.open_store(f"sqlite:///{tmp_path}/s.db", keyring=Keyring.generate())
    )
    for cid in ("c1", "c2"):
        s.put(
            custdata.Customer.from_dict(
                {
                    "id": cid,
                    "name": {"full": "张三"},
                    "phones": [{"number": "+8613812345678"}],
                    "consents": {"marketing_sms": {"granted": True, "at": "2026-01-02T03:04:05+00:00"}},
                }
            )
        )
        s.put(s.get(cid).evolve(tags=["vip"]))
        s.add_transactions([custdata.Transaction(customer_id=cid, at=AT, amount="9.90")])
        s.add_interactions([custdata.Interaction(customer_id=cid, at=AT, kind="call")])
    yield s
    s.close()


def test_export_subject_holds_everything_about_one_person(store):
    log = AuditLog(MemorySink())
    log.record(actor="alice", action="read", record_id="c1", fields=["phones"])
    log.record(actor="alice", action="read", record_id="c2", fields=["phones"])
    doc = export_subject(store, "c1", audit=log)
    assert json.loads(json.dumps(doc)) == doc
    assert doc["record"]["phones"][0]["number"] == "+8613812345678"
    assert doc["consents"]["marketing_sms"]["granted"] is True
    assert [h["action"] for h in doc["history"]] == ["create", "update"]
    assert len(doc["transactions"]) == 1 and len(doc["interactions"]) == 1
    assert [e["record_id"] for e in doc["audit"]] == ["c1"]
    with pytest.raises(NotFoundError):
        export_subject(store, "nobody")


def test_erase_subject_removes_everything_and_is_audited(store):
    log = AuditLog(MemorySink())
    counts = erase_subject(store, "c1", actor="dpo", audit=log)
    assert counts == {"customer": 1, "history": 2, "transactions": 1, "interactions": 1}
    with pytest.raises(NotFoundError):
        store.get("c1", include_deleted=True)
    assert store.history("c1") == [] and store.transactions("c1") == [] and store.interactions("c1") == []
    assert store.find(phone="+8613812345678")[0].id == "c2"  # the other customer is untouched
    assert [e["action"] for e in log.entries()] == ["erase"] and log.verify()
    with pytest.raises(NotFoundError):
        erase_subject(store, "c1", actor="dpo")
    with pytest.raises(ValidationError):
        erase_subject(store, "c2", actor="")
