"""security.breach_report: customers and field kinds exposed by a key, a principal or a time window."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import custdata
from custdata.exceptions import ValidationError
from custdata.security import AuditLog, Keyring, Policy, StoreView, breach_report


def customers(lo: int, hi: int) -> list[custdata.Customer]:
    return [
        custdata.Customer(
            id=f"c{i:03d}",
            name=custdata.PersonName(full=f"Name {i}"),
            phones=[custdata.Phone(f"+86138{i:08d}")],
            emails=[custdata.Email(f"p{i}@example.com")] if i % 2 else [],
        )
        for i in range(lo, hi)
    ]


def test_a_leaked_key_exposes_the_customers_it_encrypts(tmp_path: Path) -> None:
    ring = Keyring.generate()
    old = ring.active_id
    url = f"sqlite:///{tmp_path / 's.db'}"
    with custdata.open_store(url, keyring=ring) as s:
        s.upsert_many(customers(0, 10))
        new = ring.add()
        ring.promote(new)
        s.upsert_many(customers(10, 14))  # under the new key
        c3 = s.get("c003")
        s.put(c3.evolve(phones=[custdata.Phone("+8613900000003")]))  # still under c003's own data key
        old_report = breach_report(s, key_id=old)
        new_report = breach_report(s, key_id=new)
    # each customer's data is under a key of its own, wrapped by the key active when it was made: the
    # old key opens the keys of c000-c009 (c003's later change included), the new one those of c010-c013
    assert old_report.customers == tuple(f"c{i:03d}" for i in range(10))
    assert old_report.fields == {"name": 10, "phones": 10, "emails": 5}
    assert new_report.customers == ("c010", "c011", "c012", "c013")
    assert new_report.fields == {"name": 4, "phones": 4, "emails": 2}
    assert json.loads(json.dumps(new_report.to_dict()))["customers"] == 4
    assert "4 customers exposed" in str(new_report)
    with custdata.open_store(url, keyring=ring) as s:
        assert breach_report(s, key_id="nope").customers == ()


def test_a_principal_and_a_window_from_the_audit_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    log = AuditLog(tmp_path / "audit.jsonl")
    policy = Policy(
        {
            "support": {"actions": ["read", "write"], "fields": {"*": "full"}},
            "analyst": {"actions": ["read"], "fields": {"*": "full", "phones": "hidden"}},
        }
    )
    with custdata.open_store(url) as s:
        s.upsert_many(customers(0, 6))
        bob = StoreView(s, policy, actor="bob", role="support", audit=log)
        eve = StoreView(s, policy, actor="eve", role="analyst", audit=log)
        bob.get("c001")
        middle = dt.datetime.now(dt.timezone.utc)
        eve.get("c002")
        list(eve.find(phone="+8613800000004"))
        bob.put(s.get("c005").evolve(tags=["x"]))  # a write exposes nothing
    by_eve = breach_report(audit=log, principal="eve")
    assert by_eve.customers == ("c002", "c004") and by_eve.entries == 2
    assert "phones" not in by_eve.fields and by_eve.fields["name"] == 2
    by_bob = breach_report(audit=log, principal="bob")
    assert by_bob.customers == ("c001",) and by_bob.fields["phones"] == 1
    late = breach_report(audit=log, since=middle)
    assert late.customers == ("c002", "c004")
    early = breach_report(audit=log, until=middle.isoformat())
    assert early.customers == ("c001",)
    assert breach_report(audit=log, principal="bob", since=middle).customers == ()


def test_breach_report_refuses_unclear_questions(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    with pytest.raises(ValidationError):
        breach_report(audit=log)  # no criterion
    with pytest.raises(ValidationError):
        breach_report(audit=log, key_id="k", principal="eve")  # both kinds at once
    with pytest.raises(ValidationError):
        breach_report(principal="eve")  # no audit log
    with pytest.raises(ValidationError):
        breach_report(audit=log, since="yesterday")
    with custdata.open_store("memory://") as s, pytest.raises(ValidationError):
        breach_report(s, key_id="k")
