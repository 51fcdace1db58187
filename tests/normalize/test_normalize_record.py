"""Whole records: normalize() and normalize_many() — issues, error modes, processes, idempotence."""

from __future__ import annotations

import datetime as dt
import doctest
import importlib.util
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custdata import Customer, PhoneKind
from custdata.exceptions import ValidationError
from custdata.normalization import Issue, normalize, normalize_many
from custdata.normalization._strategies import messy_emails, messy_names, messy_phones

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def messy() -> Customer:
    return Customer.from_dict(
        {
            "id": "c1",
            "name": {"full": "  欧阳娜娜 女士"},
            "phones": [
                {"number": "手机：138 0013 8000", "primary": True},
                {"number": "+86 138-0013-8000", "verified_at": T0.isoformat()},
                {"number": "12345"},
            ],
            "emails": [{"address": "邮箱: Li.Na＠Example.COM"}, {"address": "bad"}],
            "addresses": ["北京朝阳区建国路88号", {"country": "Atlantis"}],
            "gender": "女",
            "company": " 某某（中国）有限公司 ",
        }
    )


def test_normalize_cleans_and_reports() -> None:
    r = normalize(messy())
    c = r.record
    assert (c.name.full, c.name.family, c.name.given) == ("欧阳娜娜", "欧阳", "娜娜")
    assert [p.number for p in c.phones] == ["+8613800138000", "12345"]
    first = c.phones[0]
    assert (first.kind, first.primary, first.verified_at) == (PhoneKind.MOBILE, True, T0)  # duplicates merged
    assert [e.address for e in c.emails] == ["Li.Na@example.com", "bad"]
    assert (c.addresses[0].province, c.addresses[0].district) == ("北京市", "朝阳区")
    assert (c.gender, c.company) == ("female", "某某(中国)有限公司")
    assert r.changed
    assert not r.ok
    assert [(i.field, i.value, i.reason) for i in r.issues] == [
        ("phones.2.number", "12345", "too_short"),
        ("emails.1.address", "bad", "no_at_sign"),
        ("addresses.1.country", "Atlantis", "unknown_country"),
    ]
    assert str(r.issues[0]) == "phones.2.number: invalid phone number '*****': too short"


def test_drop_invalid() -> None:
    r = normalize(messy(), drop_invalid=True)
    assert [p.number for p in r.record.phones] == ["+8613800138000"]
    assert [e.address for e in r.record.emails] == ["Li.Na@example.com"]
    assert len(r.record.addresses) == 1
    assert len(r.issues) == 3


def test_normalising_twice_equals_once() -> None:
    once = normalize(messy()).record
    twice = normalize(once)
    assert twice.record == once
    assert not twice.changed
    assert twice.record is once  # nothing to change: the same object back


def test_clean_record_is_valid_for_its_own_class() -> None:
    c = normalize(messy()).record
    assert Customer.from_dict(c.to_dict()) == c


def _batch(n: int) -> list[Customer]:
    out = []
    for i in range(n):
        phone = "13800138000" if i % 3 else "123"
        out.append(Customer(id=f"c{i}", name="张伟", phones=[phone], emails=[f"u{i}@Example.com"]))
    return out


def test_normalize_many_collect_skip_raise() -> None:
    batch = _batch(9)
    collected = list(normalize_many(batch, errors="collect"))
    assert [r.record.id for r in collected] == [c.id for c in batch]
    assert sum(1 for r in collected if not r.ok) == 3
    skipped = list(normalize_many(batch, errors="skip"))
    assert [r.record.id for r in skipped] == [c.id for c in batch if c.phones[0].number != "123"]
    with pytest.raises(ValidationError) as info:
        list(normalize_many(batch, errors="raise"))
    assert "customer 'c0'" in str(info.value)
    assert info.value.fields == ("phones.0.number",)
    with pytest.raises(ValueError, match="errors must be"):
        list(normalize_many(batch, errors="ignore"))  # type: ignore[arg-type]


def test_normalize_many_is_lazy() -> None:
    def endless() -> object:
        i = 0
        while True:
            yield Customer(id=str(i), phones=["13800138000"])
            i += 1

    it = normalize_many(endless())  # type: ignore[arg-type]
    assert next(it).record.phones[0].number == "+8613800138000"


def test_workers_give_the_same_results_in_order() -> None:
    clean = normalize(messy()).record
    batch = [*_batch(300), messy(), clean, Customer(id="empty")]
    for drop in (False, True):
        serial = list(normalize_many(batch, drop_invalid=drop, errors="collect"))
        parallel = list(normalize_many(batch, workers=2, chunk_size=37, drop_invalid=drop, errors="collect"))
        assert parallel == serial
        if not drop:
            assert parallel[-2].record is clean  # nothing changed: the caller's own object comes back
    assert list(normalize_many([], workers=2)) == []


def _generated(n: int, seed: int) -> list[Customer]:
    """Customers with every kind of value the record code handles: valid and invalid phones, e-mails,
    names and addresses, duplicates within a record, values repeated across records, names given in
    parts, kinds, flags and verification times."""
    rng = random.Random(seed)
    phones = ["13800138000", "138 0013 8000", "+86 138-0013-8000", "手机：139 1234 5678", "010-62345678转8001",
              "(650) 253-0000", "+1 650 253 0000", "12345", "abc", "+999 1234567", "10800138000", "",
              "１３８００１３８０００", "0086 13912345678"]  # fmt: skip
    emails = ["Zhang.Wei+shop@GMAIL.com", "li.na@example.com", "邮箱：Li.Na＠Example.COM。", "bad", "a@@b.com",
              "user@例子.中国", "x@localhost", "张伟 <zw@qq.com>", "postmaster@Example.com"]  # fmt: skip
    names = [{"full": "  欧阳娜娜 女士"}, {"full": "王伟先生"}, {"full": "dr. ZHANG wei"}, {"full": "Zhang, Wei"},
             {"family": "张", "given": "伟"}, {"family": " Lovelace ", "given": "ada"}, {"full": "123"}, {},
             {"full": "张伟"}]  # fmt: skip
    addresses = ["北京朝阳区建国路88号", {"country": "Atlantis"}, {"province": "广东", "city": "深圳"},
                 "1600 Amphitheatre Pkwy, Mountain View, CA 94043, USA"]  # fmt: skip
    out = []
    for i in range(n):
        k = rng.randrange(4)
        out.append(
            Customer.from_dict(
                {
                    "id": f"g{i}",
                    "name": rng.choice(names),
                    "phones": [
                        {
                            "number": rng.choice(phones) or f"1390000{i % 10000:04d}",
                            "kind": rng.choice(["other", "mobile", "home"]),
                            "primary": rng.random() < 0.3,
                            "verified_at": T0.isoformat() if rng.random() < 0.2 else None,
                        }
                        for _ in range(k)
                    ],
                    "emails": [
                        {"address": rng.choice(emails) if rng.random() < 0.7 else f"u{i}@Example.COM"}
                        for _ in range(rng.randrange(3))
                    ],
                    "addresses": [rng.choice(addresses) for _ in range(rng.randrange(2))],
                    "gender": rng.choice([None, "女", "M", " male "]),
                    "company": rng.choice([None, " 某某（中国）有限公司 "]),
                }
            )
        )
    return out


def test_workers_agree_with_one_process_on_generated_records() -> None:
    batch = _generated(1500, seed=7)
    batch += [normalize(c).record for c in batch[:200]]  # clean records come back unchanged
    for drop in (False, True):
        for errors in ("collect", "skip"):
            serial = list(normalize_many(batch, drop_invalid=drop, errors=errors))
            parallel = list(normalize_many(batch, workers=2, chunk_size=97, drop_invalid=drop, errors=errors))
            assert parallel == serial
            assert [r.issues for r in parallel] == [r.issues for r in serial]
    results = list(normalize_many(batch, errors="collect", workers=2, chunk_size=500))
    assert sum(1 for r in results if r.issues) > 100  # the batch exercises issues, changes and no changes
    assert sum(1 for r in results if r.changed) > 100
    assert sum(1 for r in results if not r.changed) > 10
    again = list(normalize_many([r.record for r in results], errors="collect", workers=2))
    assert [r.record for r in again] == [r.record for r in results]  # idempotent


def test_issue_str() -> None:
    assert str(Issue("phones.0.number", "1", "too_short")) == "phones.0.number: too_short"


@given(st.lists(messy_phones(), max_size=3), st.lists(messy_emails(), max_size=3), messy_names())
def test_messy_records_are_clean_and_idempotent(
    phones: list[tuple[str, str, str]], emails: list[tuple[str, str]], name: tuple[str, str, str | None]
) -> None:
    c = Customer(id="x", name=name[0], phones=[p[0] for p in phones], emails=[e[0] for e in emails])
    region = phones[0][1] if phones else "CN"
    r = normalize(c, region=region)
    # a national number is only valid in its own region; addresses and names here are always valid
    assert all(i.field.startswith("phones.") and i.field != "phones.0.number" for i in r.issues)
    assert r.record.name.full == name[1]
    again = normalize(r.record, region=region)
    assert again.record == r.record


def test_module_doctests() -> None:
    import custdata.normalization._address
    import custdata.normalization._date
    import custdata.normalization._email
    import custdata.normalization._name
    import custdata.normalization._phone
    import custdata.normalization._record
    import custdata.normalization._strategies

    modules = [
        custdata.normalization._address,
        custdata.normalization._date,
        custdata.normalization._email,
        custdata.normalization._name,
        custdata.normalization._phone,
        custdata.normalization._record,
        custdata.normalization._strategies,
    ]
    if (
        importlib.util.find_spec("pypinyin") is None
    ):  # the core-only session: the pinyin example needs the extra
        modules.remove(custdata.normalization._name)
    for module in modules:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
        assert result.attempted > 0, module.__name__


@pytest.mark.parametrize("workers", [None, 2])
def test_normalize_many_reports_an_item_that_is_not_a_customer_and_goes_on(workers: int | None) -> None:
    batch: list[Any] = [Customer(id="a", phones=["13800138000"]), None, Customer(id="b")]
    rs = list(normalize_many(batch, errors="collect", workers=workers, chunk_size=2))
    assert [r.record.id for r in (rs[0], rs[2])] == ["a", "b"]
    assert rs[1].record is None and [i.reason for i in rs[1].issues] == ["not_a_customer"]
    assert "customers[1]" in rs[1].issues[0].message
    assert [r.record.id for r in normalize_many(batch, errors="skip", workers=workers)] == ["a", "b"]
    with pytest.raises(ValidationError, match=r"customers\[1\]"):
        list(normalize_many(batch, workers=workers))


@pytest.mark.parametrize("bad", [None, 5, "c1"])
def test_normalize_refuses_what_is_not_a_customer(bad: Any) -> None:
    with pytest.raises(ValidationError) as info:
        normalize(bad)
    assert info.value.fields == ("customer",)


def test_normalize_many_refuses_an_absurd_number_of_workers() -> None:
    # Found by the sweep: workers=2**31-1 let an OverflowError out of the process pool.
    import custdata
    from custdata.exceptions import ValidationError

    with pytest.raises(ValidationError, match="workers"):
        list(custdata.normalize_many([], workers=2**31 - 1))
