"""E-mail addresses: cleaning, provider rules in match keys, reasons, and the fast path vs email-validator."""

from __future__ import annotations

import email_validator
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from custdata import Email, EmailKind
from custdata.exceptions import CustdataError, InvalidEmailError
from custdata.normalization import EMAIL_REASONS, NormalizedEmail, normalize_email
from custdata.normalization._email import _fast, match_key
from custdata.normalization._strategies import messy_emails

MESSY = [
    ("  Zhang.Wei+shop@GMAIL.com ", "Zhang.Wei+shop@gmail.com", "zhangwei@gmail.com"),
    ("zhangwei@googlemail.com", "zhangwei@googlemail.com", "zhangwei@gmail.com"),
    ("Z.H.A.N.G.wei@gmail.com", "Z.H.A.N.G.wei@gmail.com", "zhangwei@gmail.com"),
    ("邮箱：Li.Na＠Example.COM。", "Li.Na@example.com", "li.na@example.com"),
    ("Email: li.na@example.com", "li.na@example.com", "li.na@example.com"),
    ("张伟 <ZW@QQ.com>", "ZW@qq.com", "zw@qq.com"),
    ("mailto:x@y.cn?subject=hi", "x@y.cn", "x@y.cn"),
    ("a.b+news@outlook.com", "a.b+news@outlook.com", "a.b@outlook.com"),
    ("a.b+news@example.com", "a.b+news@example.com", "a.b+news@example.com"),
    ("user@例子.中国", "user@例子.中国", "user@xn--fsqu00a.xn--fiqs8s"),
    ("user@xn--fsqu00a.xn--fiqs8s", "user@例子.中国", "user@xn--fsqu00a.xn--fiqs8s"),
    ("用户@例子.中国", "用户@例子.中国", "用户@xn--fsqu00a.xn--fiqs8s"),
    ("Postmaster@Example.com", "postmaster@example.com", "postmaster@example.com"),
]


@pytest.mark.parametrize(("text", "address", "key"), MESSY)
def test_messy_addresses(text: str, address: str, key: str) -> None:
    e = normalize_email(text)
    assert e.address == address
    assert e.match_key == key
    assert normalize_email(e.address) == e  # normalising twice equals once


def test_parts_and_ascii_form() -> None:
    e = normalize_email("user@例子.中国")
    assert (e.local, e.domain, e.ascii_address) == ("user", "例子.中国", "user@xn--fsqu00a.xn--fiqs8s")
    assert normalize_email("用户@例子.中国").ascii_address is None


def test_provider_rules_only_where_the_provider_applies_them() -> None:
    assert normalize_email("a.b@example.com").match_key != normalize_email("ab@example.com").match_key
    assert normalize_email("a.b@outlook.com").match_key != normalize_email("ab@outlook.com").match_key
    assert normalize_email("a.b@gmail.com").match_key == normalize_email("AB@googlemail.com").match_key
    assert match_key("+tag", "gmail.com") == "+tag@gmail.com"  # nothing before the +: keep it


def test_to_email() -> None:
    assert normalize_email("A@B.COM").to_email(kind="work") == Email("A@b.com", kind=EmailKind.WORK)


BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("邮箱：", "empty"),
    ("no-at-sign", "no_at_sign"),
    ("a@b", "bad_domain"),
    ("a@@b.com", "bad_domain"),
    ("a@", "bad_domain"),
    ("@b.com", "bad_local_part"),
    ("a b@c.com", "bad_local_part"),
    ("a..b@c.com", "bad_local_part"),
    ("a@-b.com", "bad_domain"),
    ("x@localhost", "bad_domain"),
    ("x@foo.test", "reserved_domain"),
    ("x@" + "a" * 250 + ".com", "too_long"),
]


@pytest.mark.parametrize(("text", "reason"), BAD)
def test_bad_addresses_say_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidEmailError) as info:
        normalize_email(text)
    assert info.value.reason == reason
    assert info.value.reason in EMAIL_REASONS
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, CustdataError)


def _email_or_error(text: str) -> NormalizedEmail | InvalidEmailError:
    try:
        return normalize_email(text)
    except InvalidEmailError as exc:
        return exc


@given(st.text())
@example("\x00@a.com")
@example("a@\u0301.com")
@example('"quoted"@example.com')
@example("a@[127.0.0.1]")
def test_any_text_gives_an_address_or_an_invalid_email_error(text: str) -> None:
    e = _email_or_error(text)
    if isinstance(e, InvalidEmailError):
        assert e.reason in EMAIL_REASONS
    else:
        assert "@" in e.address
        assert _email_or_error(e.address) == e


@given(messy_emails())
def test_messy_valid_addresses(case: tuple[str, str]) -> None:
    text, address = case
    e = normalize_email(text)
    assert e.address.casefold() == address.casefold()
    assert normalize_email(e.address) == e


_ATOMS = st.text("abcXYZ019.+-_'!#~@", min_size=1, max_size=10)
_HOSTS = st.text("abcXYZ019.-", min_size=1, max_size=12)


@given(_ATOMS, _HOSTS, st.sampled_from(["com", "cn", "Org", "c", "co1", "test", "local", "x1y"]))
@example("postmaster", "example", "com")
@example("a", "ab--cd", "com")
@example("a", "x" * 64, "com")
@example("a" * 70, "example", "com")
def test_fast_path_agrees_with_email_validator(local: str, host: str, tld: str) -> None:
    text = f"{local}@{host}.{tld}"
    fast = _fast(text)
    if fast is None:
        return  # left to email-validator itself
    info = email_validator.validate_email(text, check_deliverability=False)
    assert fast.address == info.normalized
    assert fast.ascii_address == info.ascii_email
    assert (fast.local, fast.domain) == (info.local_part, info.domain)
