"""StoreView: a policy enforced on every store method, with audit entries for allowed and refused calls."""

from __future__ import annotations

import pytest

import custdata
from custdata.exceptions import AccessDenied
from custdata.security import AuditLog, Keyring, MemorySink, Policy, StoreView

POLICY = Policy(
    {
        "support": {"actions": ["read"], "fields": {"*": "full", "phones": "masked", "birthday": "hidden"}},
        "dpo": {"actions": ["read", "write", "erase"], "fields": {"*": "full"}},
    }
)
C1 = {
    "id": "c1",
    "name": {"full": "张三"},
    "phones": [{"number": "+8613812345678"}],
    "birthday": "1990-01-02",
}


@pytest.fixture(params=["memory", "encrypted-sqlite"])
def store(request, tmp_path):
    if request.param == "memory":
        s = custdata.open_store("memory://")
    else:
        s = custdata.open_store(f"sqlite:///{tmp_path}/v.db", keyring=Keyring.generate())
    s.put(custdata.Customer.from_dict(C1))
    c = s.get("c1")
    s.put(c.evolve(phones=[custdata.Phone("+8613900001111")], birthday=None))
    yield s
    s.close()


def test_reads_are_shaped_and_audited(store):
    log = AuditLog(MemorySink())
    view = StoreView(store, POLICY, actor="alice", role="support", audit=log, purpose="ticket 7")
    got = view.get("c1")
    assert got["phones"][0]["number"] == "139****1111" and "birthday" not in got
    assert [x["id"] for x in view.find(phone="+8613900001111")] == ["c1"]
    assert [x["id"] for x in view.scan()] == ["c1"]
    changes = {f: (o, n) for f, o, n in view.history("c1")[-1]["changes"]}
    assert "birthday" not in changes
    old, new = changes["phones"]
    assert old[0]["number"] == "138****5678" and new[0]["number"] == "139****1111"
    entries = list(log.entries())
    assert [e["action"] for e in entries] == ["read", "find", "scan", "history"]
    assert all(e["actor"] == "alice" and e["purpose"] == "ticket 7" for e in entries)
    assert "phones" in entries[0]["fields"] and "birthday" not in entries[0]["fields"]
    assert log.verify()
    text = str(entries) + str(got)
    assert "13900001111" not in text and "13812345678" not in text


def test_refused_actions_are_audited_and_raise(store):
    log = AuditLog(MemorySink())
    view = StoreView(store, POLICY, actor="alice", role="support", audit=log)
    with pytest.raises(AccessDenied):
        view.put(custdata.Customer(id="c2"))
    with pytest.raises(AccessDenied):
        view.delete("c1")
    assert [e["action"] for e in log.entries()] == ["denied:write", "denied:erase"]
    assert store.count() == 1
    stranger = StoreView(store, POLICY, actor="eve", role="nobody", audit=log)
    with pytest.raises(AccessDenied):
        stranger.get("c1")


def test_writes_and_erasure_with_the_right_role(store):
    log = AuditLog(MemorySink())
    view = StoreView(store, POLICY, actor="dana", role="dpo", audit=log)
    assert view.put(custdata.Customer(id="c2"))["version"] == 1
    view.delete("c2")
    view.purge("c2")
    assert [e["action"] for e in log.entries()] == ["write", "erase", "purge"]
    assert view.get("c1")["phones"][0]["number"] == "+8613900001111"
