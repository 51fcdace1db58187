"""Policy: role/action decisions, per-field access, masking of the visible record."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import custdata
from custdata.exceptions import AccessDenied, ValidationError
from custdata.security import Access, Action, Policy

ROLES = {
    "support": {
        "actions": ["read"],
        "fields": {
            "*": "full",
            "phones": "masked",
            "emails": "masked",
            "name": "masked",
            "birthday": "hidden",
            "addresses": "masked",
        },
    },
    "marketing": {"actions": ["read", "export"], "fields": {"id": "full", "tags": "full"}},
    "dpo": {"actions": ["read", "write", "export", "erase"], "fields": {"*": "full"}},
}
POLICY = Policy(ROLES)


@given(st.sampled_from([*ROLES, "intruder"]), st.sampled_from([a.value for a in Action]))
def test_allows_matches_the_table(role, action):
    expected = action in ROLES.get(role, {}).get("actions", [])
    assert POLICY.allows(role, action) is expected
    assert POLICY.allows(role, Action(action)) is expected
    if expected:
        POLICY.check(role, action)
    else:
        with pytest.raises(AccessDenied) as err:
            POLICY.check(role, action, record_id="c1")
        assert isinstance(err.value, PermissionError) and role in str(err.value)


def test_field_access_and_defaults():
    assert POLICY.access("support", "phones") is Access.MASKED
    assert POLICY.access("support", "tags") is Access.FULL
    assert POLICY.access("marketing", "phones") is Access.HIDDEN
    assert POLICY.access("nobody", "id") is Access.HIDDEN


def test_apply_masks_and_hides():
    c = custdata.Customer.from_dict(
        {
            "id": "c1",
            "name": {"full": "张三", "family": "张", "given": "三"},
            "phones": [{"number": "+8613812345678"}],
            "emails": [{"address": "zhang@example.com"}],
            "addresses": [{"city": "北京市", "street": "建国路 88 号"}],
            "birthday": "1990-01-02",
            "tags": ["vip"],
        }
    )
    view = POLICY.apply("support", c.to_dict())
    assert view["phones"][0]["number"] == "138****5678"
    assert view["emails"][0]["address"] == "z***@example.com"
    assert view["name"]["full"] == "张*"
    assert view["addresses"][0]["street"] == "***" and view["addresses"][0]["city"] == "北京市"
    assert "birthday" not in view and view["tags"] == ["vip"]
    text = str(view)
    for secret in ("13812345678", "zhang@", "建国路", "1990"):
        assert secret not in text
    assert set(POLICY.apply("marketing", c.to_dict())) == {"id", "tags"}
    assert POLICY.apply("dpo", c.to_dict()) == c.to_dict()
    with pytest.raises(AccessDenied):
        POLICY.apply("intruder", c.to_dict())


@pytest.mark.parametrize(
    "roles",
    [
        [],
        {"r": {"actions": ["fly"]}},
        {"r": {"fields": {"phones": "blurred"}}},
        {"r": {"colour": 1}},
        {"r": 3},
    ],
)
def test_bad_policies(roles):
    with pytest.raises(ValidationError):
        Policy(roles)
