"""CRM import profiles (issue 23): each system's contact export headers map to custdata fields through
read_csv and read_excel, unknown columns stay under custom, mapping= still wins, users add their own."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custdata import read_csv, read_excel
from custdata.exceptions import ValidationError
from custdata.io import IMPORT_PROFILES, register_import_profile
from custdata.io._headers import SYNONYMS
from custdata.io._profiles import _registry


def _csv(path: Path, header: list[str], *rows: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_salesforce_contact_export(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "sf.csv",
        [
            "Contact ID",
            "First Name",
            "Last Name",
            "Mobile",
            "Business Phone",
            "Email",
            "Mailing City",
            "Mailing Postal Code",
            "Birthdate",
            "Department",
        ],
        [
            "0035g00000AbCdE",
            "Ada",
            "Lovelace",
            "+44 7400 123456",
            "+44 20 7946 0000",
            "ada@example.org",
            "London",
            "W1A 1AA",
            "1815-12-10",
            "Analytics",
        ],
    )
    [c] = read_csv(path, profile="salesforce")
    assert c.external_ids["salesforce"] == "0035g00000AbCdE"
    assert (c.name.given, c.name.family) == ("Ada", "Lovelace")
    assert [(p.number, p.kind.value) for p in c.phones] == [
        ("+44 7400 123456", "mobile"),
        ("+44 20 7946 0000", "work"),
    ]
    assert c.addresses[0].city == "London" and c.addresses[0].postal_code == "W1A 1AA"
    assert c.custom == {"Department": "Analytics"}  # unknown columns are kept


def test_hubspot_and_zoho_exports(tmp_path: Path) -> None:
    hub = _csv(
        tmp_path / "hub.csv",
        [
            "First name",
            "Last name",
            "Email",
            "Mobile phone number",
            "Contact owner",
            "Lifecycle stage",
            "Lead status",
        ],
        ["Grace", "Hopper", "grace@example.org", "+1 202 555 0143", "sales@example.org", "Customer", "Open"],
    )
    [h] = read_csv(hub, profile="hubspot")
    assert (h.name.given, h.owner, h.lifecycle_stage.value) == ("Grace", "sales@example.org", "customer")
    assert h.phones[0].kind.value == "mobile" and h.custom == {"Lead status": "Open"}
    zoho = _csv(
        tmp_path / "zoho.csv",
        ["Contact Owner", "First Name", "Last Name", "Mobile", "Email", "Lead Source", "Skype ID"],
        ["王经理", "三", "张", "13800138000", "zs@example.com", "展会", "zs.skype"],
    )
    [z] = read_csv(zoho, profile="zoho")
    assert (z.owner, z.name.given, z.name.family, z.channel.value) == ("王经理", "三", "张", "expo")
    assert z.custom == {"Skype ID": "zs.skype"}


def test_fxiaoke_reads_through_the_chinese_synonyms(tmp_path: Path) -> None:
    path = _csv(
        tmp_path / "fx.csv", ["姓名", "手机", "负责人", "客户名称"], ["张三", "13800138000", "李四", "某公司"]
    )
    [c] = read_csv(path, profile="fxiaoke")
    assert (c.name.full, c.owner, c.phones[0].number) == ("张三", "李四", "13800138000")


def test_mapping_wins_over_the_profile_and_none_drops(tmp_path: Path) -> None:
    path = _csv(tmp_path / "sf.csv", ["Contact ID", "Email", "Department"], ["003x", "a@example.org", "x"])
    [c] = read_csv(path, profile="salesforce", mapping={"Contact ID": "id", "Department": None})
    assert c.id == "003x" and c.external_ids == {} and c.custom == {}


def test_profiles_in_read_excel(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["Salesforce contacts"])
    wb.active.append(["Contact ID", "First Name", "Last Name", "MobilePhone"])
    wb.active.append(["003y", "Ada", "Lovelace", "+44 7400 123456"])
    wb.save(tmp_path / "sf.xlsx")
    [c] = read_excel(tmp_path / "sf.xlsx", profile="salesforce")  # the header row is found by the profile
    assert c.external_ids["salesforce"] == "003y" and c.name.given == "Ada"


def test_register_your_own_profile(tmp_path: Path) -> None:
    try:
        register_import_profile("myshop", {"Kundennr": "id", "Handy": "mobile", "intern": None})
        assert "myshop" in IMPORT_PROFILES
        path = _csv(
            tmp_path / "k.csv", ["Kundennr", "Handy", "intern", "Notiz"], ["k1", "+49 151 1234567", "x", "y"]
        )
        [c] = read_csv(path, profile="myshop")
        assert (c.id, c.phones[0].number, c.custom) == ("k1", "+49 151 1234567", {"Notiz": "y"})
        with pytest.raises(ValidationError, match="replace=True"):
            register_import_profile("myshop", {})
        register_import_profile("myshop", {"Kundennr": "id"}, replace=True)
    finally:
        _registry.pop("myshop", None)
    with pytest.raises(ValidationError, match="not a customer field"):
        register_import_profile("bad", {"X": "shoe_size"})
    with pytest.raises(ValidationError, match="profile name"):
        register_import_profile("Bad Name", {})
    with pytest.raises(ValidationError, match="unknown profile"):
        read_csv(tmp_path / "k.csv", profile="nope")
    with pytest.raises(ValidationError, match="mapping"):
        read_csv(tmp_path / "k.csv", profile=42)  # type: ignore[arg-type]


def test_every_shipped_profile_maps_to_fields_readers_know() -> None:
    known = set(SYNONYMS["customer"].values())
    for name, headers in IMPORT_PROFILES.items():
        for header, field in headers.items():
            assert field is None or field in known or field.startswith("external_ids."), (name, header)


@settings(max_examples=30, deadline=None)
@given(
    profile=st.sampled_from(sorted(IMPORT_PROFILES)),
    data=st.data(),
)
def test_property_a_profile_header_reads_into_its_field(
    tmp_path_factory: pytest.TempPathFactory, profile: str, data: st.DataObject
) -> None:
    """Any shipped header, with the case and spacing a user's export may have, lands in the same field
    as the profile says, through CSV and through a workbook."""
    headers = IMPORT_PROFILES[profile]
    if not headers:
        return
    header = data.draw(
        st.sampled_from(
            sorted(
                h
                for h, f in headers.items()
                if f in ("given_name", "family_name", "title", "company", "owner", "city")
            )
        )
    )
    variant = data.draw(st.sampled_from([header, header.upper(), header.lower(), f" {header} "]))
    tmp = tmp_path_factory.mktemp("p")
    path = _csv(tmp / "x.csv", ["会员号", variant], ["a", "Value"])
    [c] = read_csv(path, profile=profile)
    [x] = read_excel(_to_xlsx(path), profile=profile)
    assert c == x
    field = headers[header]
    got = {
        "given_name": c.name.given,
        "family_name": c.name.family,
        "title": c.title,
        "company": c.company,
        "owner": c.owner,
        "city": c.addresses[0].city if c.addresses else None,
    }[field]
    assert got == "Value"


def _to_xlsx(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh):
            wb.active.append(row)
    out = path.with_suffix(".xlsx")
    wb.save(out)
    return out
