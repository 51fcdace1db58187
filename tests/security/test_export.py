"""Policy-bound exports: the export action, per-field access, consent for marketing, audit entries."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import custdata
import custdata.testing as cst
from custdata import Customer
from custdata.exceptions import AccessDenied, ParseError, ValidationError
from custdata.security import (
    AuditLog,
    MemorySink,
    Policy,
    StoreSink,
    StoreView,
    contact_channel,
    export_customers,
    may_contact,
)
from custdata.testing._privacy import CHANNELS, PURPOSES
from tests.conftest import has

POLICY = Policy(
    {
        "marketer": {
            "actions": ["export"],
            "fields": {
                "name": "masked",
                "phones": "full",
                "tags": "full",
                "emails": "masked",
                "company": "full",
            },
        },
        "analyst": {"actions": ["read"], "fields": {"*": "full"}},
    }
)
NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


def people() -> list[Customer]:
    return [
        Customer.from_dict(
            {
                "id": "a",
                "name": "张三",
                "phones": ["+8613800000001"],
                "emails": ["zhang@example.com"],
                "tags": ["=cmd|' /C calc'!A0", "vip"],
                "birthday": "1990-01-02",
                "company": "=HYPERLINK(1)",
                "consents": {"marketing_sms": {"granted": True}},
            }
        ),
        Customer.from_dict(
            {"id": "b", "phones": ["+8613800000002"], "consents": {"marketing": {"granted": True}}}
        ),
        Customer.from_dict(
            {"id": "c", "phones": ["+8613800000003"], "consents": {"marketing_sms": {"granted": False}}}
        ),
        Customer.from_dict(
            {
                "id": "d",
                "phones": ["+8613800000004"],
                "consents": {"marketing_sms": {"granted": True, "expires": "2026-01-01T00:00:00+00:00"}},
            }
        ),
        Customer.from_dict({"id": "e", "consents": {"marketing_sms": {"granted": True}}}),
        Customer.from_dict({"id": "f"}),
    ]


@pytest.fixture
def setup() -> Any:
    store = custdata.open_store("memory://")
    store.upsert_many(people())
    log = AuditLog(MemorySink())
    view = StoreView(store, POLICY, actor="mia", role="marketer", audit=log, purpose="spring campaign")
    yield store, view, log
    store.close()


def test_a_marketing_csv_export(setup: Any, tmp_path: Path) -> None:
    _, view, log = setup
    path = tmp_path / "sms.csv"
    report = view.export(path, purpose="marketing", channel="sms", at=NOW)
    assert report.rows == 2 and report.consent == "marketing_sms"
    assert report.left_out == {"no_consent": 1, "withdrawn": 1, "expired": 1, "unreachable": 1}
    assert report.left_out_ids == {
        "no_consent": ("f",),
        "withdrawn": ("c",),
        "expired": ("d",),
        "unreachable": ("e",),
    }
    assert report.fields == ("company", "emails", "name", "phones", "tags")
    assert report.masked == ("emails", "name")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["a", "b"]
    assert set(rows[0]) == {"id", "name", "family_name", "given_name", "phones", "emails", "tags", "company"}
    assert rows[0]["name"] == "张*" and "zhang@" not in rows[0]["emails"]
    assert json.loads(rows[0]["phones"])[0]["number"] == "+8613800000001"
    assert rows[0]["company"] == "'=HYPERLINK(1)"  # never a live formula
    assert "1990" not in path.read_text(encoding="utf-8-sig")  # birthday hidden
    entries = list(log.entries())
    assert [(e["action"], e["record_id"]) for e in entries] == [
        ("export", "a"),
        ("export", "b"),
        ("export", None),
    ]
    assert entries[0]["fields"] == ["company", "emails", "name", "phones", "tags"]
    assert (
        entries[-1]["details"]["left_out"] == report.left_out and entries[-1]["purpose"] == "spring campaign"
    )
    assert log.verify()
    assert "2 customers" in str(report) and "4 left out" in str(report)


def test_a_denied_export_is_audited_and_writes_nothing(setup: Any, tmp_path: Path) -> None:
    store, _, log = setup
    analyst = StoreView(store, POLICY, actor="ann", role="analyst", audit=log)
    with pytest.raises(AccessDenied):
        export_customers(analyst, tmp_path / "all.csv")
    assert not (tmp_path / "all.csv").exists()
    assert [(e["action"], e["actor"]) for e in log.entries()] == [("denied:export", "ann")]


def test_jsonl_and_scan_options(setup: Any, tmp_path: Path) -> None:
    store, view, _ = setup
    report = export_customers(view, tmp_path / "vip.jsonl", scan={"tag": "vip"})
    lines = [json.loads(x) for x in (tmp_path / "vip.jsonl").read_text(encoding="utf-8").splitlines()]
    want = POLICY.shape("marketer", store.get("a").to_dict())
    want.pop("schema", None)
    assert lines == [want] and report.rows == 1 and report.left_out == {}


@pytest.mark.skipif(not has("pandas"), reason="the pandas extra is not installed")
def test_a_dataframe_export(setup: Any) -> None:
    _, view, _ = setup
    report = view.export(format="dataframe", purpose="marketing", channel="sms", at=NOW)
    assert list(report.frame["id"]) == ["a", "b"] and "birthday" not in report.frame.columns


def test_a_failed_write_leaves_no_file_and_no_export_entries(setup: Any, tmp_path: Path) -> None:
    _, view, log = setup
    with pytest.raises(ParseError):
        view.export(tmp_path / "missing" / "x.csv")
    assert [e for e in log.entries() if e["action"] == "export"] == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"path": None}, "path"),
        ({"path": "x.txt"}, "path"),
        ({"path": "x.csv", "format": "xml"}, "format"),
        ({"path": "x.csv", "format": "dataframe"}, "path"),
        ({"path": 3, "format": "csv"}, "path"),
        ({"path": "x.csv", "channel": "sms"}, "channel"),
        ({"path": "x.csv", "at": NOW}, "at"),
        ({"path": "x.csv", "purpose": ""}, "purpose"),
        ({"path": "x.csv", "scan": ["tag"]}, "scan"),
    ],
)
def test_bad_arguments(setup: Any, tmp_path: Path, kwargs: dict[str, Any], field: str) -> None:
    _, view, log = setup
    path = kwargs.pop("path")
    if isinstance(path, str):
        path = tmp_path / path
    with pytest.raises(ValidationError) as info:
        export_customers(view, path, **kwargs)
    assert info.value.errors[0].field == field
    assert list(log.entries()) == []


def test_not_a_view() -> None:
    with pytest.raises(ValidationError, match="StoreView"):
        export_customers(custdata.open_store("memory://"), "x.csv")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- property
accesses = st.sampled_from(["full", "masked", "hidden"])
role_fields = st.dictionaries(
    st.sampled_from(["*", "name", "phones", "emails", "birthday", "tags", "consents", "custom"]), accesses
)
contacts = st.fixed_dictionaries(
    {"consents": cst.consent_maps()},
    optional={
        "phones": st.just(["+8613800138000"]),
        "emails": st.just(["x@example.com"]),
        "name": st.just("李四"),
    },
)


@settings(max_examples=50)
@given(
    fields=role_fields,
    data=st.lists(contacts, max_size=8),
    purpose=st.none() | st.sampled_from(PURPOSES),
    channel=st.none() | st.sampled_from(CHANNELS),
)
def test_every_customer_is_exported_as_shaped_or_counted(
    tmp_path_factory: pytest.TempPathFactory,
    fields: dict[str, str],
    data: list[dict[str, Any]],
    purpose: str | None,
    channel: str | None,
) -> None:
    if purpose is None:
        channel = None
    policy = Policy({"r": {"actions": ["export"], "fields": fields}})
    path = tmp_path_factory.mktemp("x") / "out.jsonl"
    with custdata.open_store("memory://") as store:
        store.upsert_many([Customer.from_dict({"id": f"c{i}", **d}) for i, d in enumerate(data)])
        log = AuditLog(MemorySink())
        view = StoreView(store, policy, actor="x", role="r", audit=log)
        report = view.export(path, purpose=purpose, channel=channel, at=None if purpose is None else NOW)
        lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
        stored = list(store.scan())
        assert report.rows + report.left_out_total == len(stored)

        def allowed(c: Customer) -> bool:
            if purpose is None:
                return True
            if channel is None:
                return may_contact(c, purpose, at=NOW)
            return contact_channel(c, purpose, [channel], at=NOW)[0] is not None

        kept = [c for c in stored if allowed(c)]
        expected = []
        for c in kept:
            shaped = policy.shape("r", c.to_dict())
            shaped.pop("schema", None)
            expected.append(shaped)
        assert lines == expected
        hidden = {
            f for f in ("name", "phones", "emails", "birthday") if policy.access("r", f).value == "hidden"
        }
        assert not any(hidden & set(line) for line in lines)
        exported = [e["record_id"] for e in log.entries() if e["action"] == "export" and e["record_id"]]
        assert exported == [c.id for c in kept]


# --------------------------------------------------------------------------------------------- command line
def test_custdata_store_export_as(tmp_path: Path) -> None:
    from tests.security.test_retention_cli import cli

    url = "sqlite:///" + str(tmp_path / "s.db")
    with custdata.open_store(url) as s:
        s.upsert_many(people())
    roles = tmp_path / "roles.json"
    roles.write_text(
        json.dumps({"marketer": {"actions": ["export"], "fields": {"phones": "full", "name": "masked"}},
                    "support": {"actions": ["read"], "fields": {"*": "full"}}}),
        encoding="utf-8",
    )  # fmt: skip
    out = tmp_path / "sms.jsonl"
    base = ["store", "export-as", "--url", url, "--policy", str(roles), "--actor", "mia", "-o", str(out)]
    code, stdout, _ = cli(*base, "--role", "marketer", "--purpose", "marketing", "--channel", "sms",
                          "--as-of", "2026-06-01")  # fmt: skip
    assert code == 0 and "exported 2 customers" in stdout and "4 left out" in stdout
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"] and lines[0]["name"]["full"] == "张*"
    assert set(lines[0]) == {"id", "name", "phones"}
    code, _, err = cli(*base[:-2], "-o", str(tmp_path / "all.csv"), "--role", "support")
    assert code == 2 and err.startswith("custdata: ") and "may not export" in err
    assert not (tmp_path / "all.csv").exists()
    with custdata.open_store(url) as s:
        actions = [e["action"] for e in AuditLog(StoreSink(s)).entries()]
    assert actions == ["export", "export", "export", "denied:export"]
    code, _, err = cli(*base, "--role", "marketer", "--channel", "sms")
    assert code == 2 and "purpose" in err


def test_policy_files(tmp_path: Path) -> None:
    path = tmp_path / "roles.json"
    path.write_text('{"r": {"actions": ["export"], "fields": {"*": "masked"}}}', encoding="utf-8")
    assert Policy.load(path).allows("r", "export")
    for text, message in [("{", "not JSON"), ('{"r": {"actions": ["fly"]}}', "fly")]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValidationError, match=message):
            Policy.load(path)
    with pytest.raises(ValidationError, match="cannot be read"):
        Policy.load(tmp_path / "missing.json")
