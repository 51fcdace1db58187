"""Personal data stays out of exception messages, RowProblem values, warnings and logs unless
``set_debug_pii(True)`` (or ``CUSTDATA_DEBUG_PII=1``) asks for full values."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import custdata
from custdata import Customer, Email, PersonName, Phone, normalize_email, normalize_name, normalize_phone
from custdata._mask import debug_pii, field_kind, mask_field, shown
from custdata.exceptions import InvalidEmailError, InvalidPhoneError, ValidationError
from custdata.security import mask_email, mask_phone, set_debug_pii

# Known personal values, each broken so that some error path sees it.
PHONE = "+86 138 1234 56789 0"  # too long
PHONE_DIGITS = "138123456789"
PHONE_LETTERS = "1381234567x"
EMAIL = "zhang.san@@example.com"
EMAIL_LOCAL = "zhang.san"
EMAIL_SPACE = "Zhang <wang.wu.secret@exa mple.com>"
EMAIL_SPACE_LOCAL = "wang.wu.secret"
NAME = "Zhang3 Sanfeng"
SECRETS = [PHONE, PHONE_DIGITS, "1381234567", EMAIL, EMAIL_LOCAL, EMAIL_SPACE_LOCAL, "Sanfeng"]


@pytest.fixture(autouse=True)
def _masked() -> Iterator[None]:
    before = set_debug_pii(False)
    yield
    set_debug_pii(None)
    assert isinstance(before, bool)
    assert debug_pii() is False  # the tests run without CUSTDATA_DEBUG_PII


def _leaks(texts: list[str]) -> list[str]:
    return [f"{s!r} in {t!r}" for t in texts for s in SECRETS if s in t]


def _messages_of_every_error_path(tmp_path: Path) -> list[str]:
    """Run every error path that sees a phone, an e-mail address or a name; collect what they say."""
    out: list[str] = []

    def catch(f: Callable[[], object]) -> None:
        try:
            f()
        except Exception as exc:
            out.extend([str(exc), repr(exc)])

    for _ in range(2):  # the second time through the normalisers' caches
        catch(lambda: normalize_phone(PHONE))
        catch(lambda: normalize_phone(PHONE_LETTERS))
        catch(lambda: normalize_phone("13812345678", region=None))
        catch(lambda: normalize_email(EMAIL))
        catch(lambda: normalize_email(EMAIL_SPACE))
        catch(lambda: normalize_email("zhang.san.example.com"))
        catch(lambda: normalize_name(NAME))
    bad = Customer(
        id="c1", name=PersonName(full=NAME), phones=(Phone(PHONE),), emails=(Email(EMAIL), Email(EMAIL_SPACE))
    )
    for result in custdata.normalize_many([bad], errors="collect"):
        out.extend(str(i) for i in result.issues)
        out.extend(i.message for i in result.issues)
    catch(lambda: list(custdata.normalize_many([bad], errors="raise")))
    catch(lambda: Customer.from_dict({"id": "c1", "phones": [{"number": PHONE, "kind": "pager"}]}))
    # io: a CSV with the broken values, read with problems collected and raised
    csv = tmp_path / "people.csv"
    csv.write_text(
        f'id,name,phone,email,street\nc1,{NAME},{PHONE},{EMAIL},"{NAME} Road 1"\n', encoding="utf-8"
    )
    reader = custdata.read_csv(csv, errors="collect")
    list(reader)
    out.extend(repr(p) for p in reader.problems)
    out.extend(str(p) for p in reader.problems)
    catch(lambda: list(custdata.read_csv(csv)))
    jsonl = tmp_path / "people.jsonl"
    row = json.dumps({"id": "c1", "name": 5, "phones": [{"number": PHONE, "kind": "x"}]})
    jsonl.write_text(row + "\n", encoding="utf-8")
    catch(lambda: list(custdata.read_jsonl(jsonl)))
    return out


def test_no_error_path_shows_personal_data(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="custdata"), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        texts = _messages_of_every_error_path(tmp_path)
    texts += [r.getMessage() for r in caplog.records] + [str(w.message) for w in seen]
    assert len(texts) > 20
    assert _leaks(texts) == []
    joined = "\n".join(texts)
    assert repr(mask_phone(PHONE)) in joined  # the masked values are there to go by
    assert repr(mask_email(EMAIL)) in joined


def test_debugging_opt_in_shows_full_values(tmp_path: Path) -> None:
    set_debug_pii(True)
    joined = "\n".join(_messages_of_every_error_path(tmp_path))
    for secret in (PHONE, PHONE_LETTERS, EMAIL, EMAIL_SPACE_LOCAL, NAME):
        assert secret in joined


def test_environment_variable_opts_in(monkeypatch: pytest.MonkeyPatch) -> None:
    set_debug_pii(None)
    monkeypatch.setenv("CUSTDATA_DEBUG_PII", "1")
    with pytest.raises(InvalidPhoneError, match="1381234567x"):
        normalize_phone(PHONE_LETTERS)
    monkeypatch.setenv("CUSTDATA_DEBUG_PII", "0")
    with pytest.raises(InvalidPhoneError) as info:
        normalize_phone(PHONE_LETTERS)
    assert PHONE_LETTERS not in str(info.value)
    assert info.value.value == PHONE_LETTERS  # the program still has the value


def test_set_debug_pii_returns_the_previous_setting_and_checks_its_argument() -> None:
    assert set_debug_pii(True) is False
    assert set_debug_pii(False) is True
    with pytest.raises(ValidationError):
        set_debug_pii("yes")  # type: ignore[arg-type]


def test_row_problem_values_are_masked_by_field() -> None:
    p = custdata.RowProblem(2, "phones.0.number", "too long", PHONE)
    assert p.value == mask_phone(PHONE)
    assert custdata.RowProblem(2, "work_email", "bad", EMAIL).value == mask_email(EMAIL)
    assert custdata.RowProblem(2, "name", "bad", NAME).value == "Z***** S******"
    assert custdata.RowProblem(2, "street", "bad", "科苑路 15 号").value == "科***"
    assert custdata.RowProblem(2, "gender", "bad", "robot").value == "robot"  # not personal: as is
    set_debug_pii(True)
    assert custdata.RowProblem(2, "phones.0.number", "too long", PHONE).value == PHONE


def test_field_kinds() -> None:
    kinds = {
        f: field_kind(f)
        for f in [
            "phones.0.number",
            "mobile",
            "home_phone",
            "emails.1.address",
            "work_email",
            "name",
            "family_name",
            "name.full",
            "addresses.0.street",
            "city",
            "birthday",
            "tags",
        ]
    }
    assert kinds == {
        "phones.0.number": "phone", "mobile": "phone", "home_phone": "phone", "emails.1.address": "email",
        "work_email": "email", "name": "name", "family_name": "name", "name.full": "name",
        "addresses.0.street": "address", "city": "address", "birthday": None, "tags": None,
    }  # fmt: skip


@given(st.text(alphabet="0123456789", min_size=8, max_size=16), st.sampled_from("q!?%Z"))
def test_any_broken_phone_stays_out_of_the_message(digits: str, junk: str) -> None:
    set_debug_pii(False)
    with pytest.raises(ValidationError) as info:
        normalize_phone(digits + junk + digits[:3])
    assert digits not in str(info.value)


@given(
    st.from_regex(r"[a-z]{2,12}\.[a-z]{2,12}", fullmatch=True),
    st.sampled_from(["@@x.com", "@a b.com", "@-x.com"]),
)
def test_any_broken_email_keeps_its_local_part_out_of_the_message(local: str, tail: str) -> None:
    set_debug_pii(False)
    with pytest.raises(InvalidEmailError) as info:
        normalize_email(local + tail)
    assert local not in str(info.value)


@given(st.text(max_size=30), st.sampled_from(["phone", "email", "name", "address"]))
def test_masks_never_raise_and_never_show_long_text_whole(text: str, kind: str) -> None:
    set_debug_pii(False)
    s = shown(text, kind)
    assert s.startswith(("'", '"'))
    field = {"phone": "mobile", "email": "email", "name": "name", "address": "street"}[kind]
    masked = mask_field(field, text)
    assert isinstance(masked, str)
    if len(text.strip()) >= 12 and kind != "phone":
        assert text.strip() not in masked
