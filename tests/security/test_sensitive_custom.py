"""Custom attributes marked sensitive in encrypted stores: ``open_store(..., sensitive_custom=[...])`` seals
them with the personal fields, the store remembers the set, a reopen naming another set is refused, and
``encrypt_store`` seals them in place (from plaintext, or more of them in an encrypted store, resumably).
None of their values reaches the SQLite file or its WAL, a backup or the history (in UTF-8, JSON ``\\u``
escapes or UTF-16), while a non-sensitive custom attribute stays readable; everything round-trips."""

from __future__ import annotations

import glob
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata
from custdata.exceptions import StoreError, ValidationError
from custdata.security import Keyring, encrypt_store, export_subject, key_usage, rotate
from custdata.storage import export, restore
from custdata.testing import json_values, storable_text

RING = Keyring.generate()
#: values of the sensitive attributes ("salary", "id_card"): none may reach a file
SECRETS = ["月薪九万八千", "987654321", "110101199003077777"]
NEW_SALARY = "涨到十二万"
#: a non-sensitive attribute's value: stays readable in the stored body
KEPT = "Kèpt-colour"


def url(path: Path | str) -> str:
    return "sqlite:///" + str(path)


def file_bytes(path: Path | str) -> bytes:
    """The database and its companions (WAL, shm) as they are now."""
    return b"".join(Path(f).read_bytes() for f in sorted(glob.glob(str(path) + "*")))


def forms(secret: str) -> list[bytes]:
    escaped = json.dumps(secret)[1:-1]
    # pg_dump's COPY text doubles each backslash of a JSON escape
    return [
        secret.encode(),
        secret.encode("utf-16-le"),
        escaped.encode(),
        escaped.replace("\\", "\\\\").encode(),
    ]


def leaked(secrets: list[str], data: bytes) -> list[str]:
    return [s for s in secrets if any(f in data for f in forms(s))]


def people() -> list[custdata.Customer]:
    return [
        custdata.Customer(
            id="a",
            phones=[custdata.Phone("+8613912345678")],
            custom={"salary": SECRETS[0], "id_card": SECRETS[2], "colour": KEPT},
        ),
        custdata.Customer(id="b", custom={"salary": SECRETS[1], "colour": "blue"}),
        custdata.Customer(id="c", custom={"colour": "green"}),  # no sensitive attribute at all
    ]


def fill(store: custdata.storage.Store) -> None:
    store.upsert_many(people())
    a = store.get("a")
    store.put(a.evolve(custom={**a.custom, "salary": NEW_SALARY}))  # history: old and new salary


def check_reads(store: custdata.storage.Store) -> None:
    a = store.get("a")
    assert a.custom == {"salary": NEW_SALARY, "id_card": SECRETS[2], "colour": KEPT}
    change = store.history("a")[-1].changes[0]
    assert (change.field, change.old["salary"], change.new["salary"]) == ("custom", SECRETS[0], NEW_SALARY)
    # filters over custom attributes run on the decrypted records: exact for sensitive ones too
    assert [c.id for c in store.scan(where=lambda c: c.custom.get("salary") == SECRETS[1])] == ["b"]
    assert [c.id for c in store.scan(where=lambda c: c.custom.get("colour") == KEPT)] == ["a"]


# ------------------------------------------------------------------------------------------ open_store
def test_the_store_remembers_its_set_and_refuses_another(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with custdata.open_store(url(path), keyring=RING, sensitive_custom=["salary", "id_card"]) as s:
        assert s.sensitive_custom == {"salary", "id_card"}  # type: ignore[attr-defined]
        fill(s)
    with custdata.open_store(url(path), keyring=RING) as s:  # keyring alone: the same set
        assert s.sensitive_custom == {"salary", "id_card"}  # type: ignore[attr-defined]
        s.put(custdata.Customer(id="d", custom={"salary": "5550001"}))
        check_reads(s)
        assert leaked(["5550001", *SECRETS, NEW_SALARY], file_bytes(path)) == []
    with custdata.open_store(url(path), keyring=RING, sensitive_custom=("id_card", "salary", "salary")) as s:
        assert s.get("d").custom["salary"] == "5550001"  # the same set, in any order, is fine
    for other in (["salary"], ["salary", "id_card", "iban"], []):
        with pytest.raises(ValidationError, match="seals the custom attributes") as info:
            custdata.open_store(url(path), keyring=RING, sensitive_custom=other)
        assert isinstance(info.value, ValueError) and info.value.errors[0].field == "sensitive_custom"


@pytest.mark.parametrize("scheme", ["memory", "sqlite"])
def test_bad_sensitive_custom_arguments(tmp_path: Path, scheme: str) -> None:
    where = "memory://" if scheme == "memory" else url(tmp_path / "x.db")
    with pytest.raises(ValidationError, match="keyring"):
        custdata.open_store(where, sensitive_custom=["salary"])  # sealing needs encryption
    for bad in ("salary", [1], ["ok", None], 5):
        with pytest.raises(ValidationError):
            custdata.open_store(where, keyring=RING, sensitive_custom=bad)  # type: ignore[arg-type]


def test_a_plugin_store_without_encryption_is_refused_clearly() -> None:
    from custdata.storage import register_store
    from custdata.storage._memory import MemoryStore

    class Plain(MemoryStore):
        use_keyring = None  # type: ignore[assignment]

    register_store("plainplug", lambda url, **kw: Plain(url), clobber=True)
    with pytest.raises(StoreError, match="keyring"):
        custdata.open_store("plainplug://", keyring=RING, sensitive_custom=["salary"])


# ------------------------------------------------------------------------------------------ leaks
def test_sqlite_file_wal_and_history_hold_no_sensitive_value(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with custdata.open_store(url(path), keyring=RING, sensitive_custom=["salary", "id_card"]) as s:
        fill(s)
        check_reads(s)
        raw = file_bytes(path)
        assert Path(str(path) + "-wal").exists()  # the WAL is part of what is searched
        assert leaked([*SECRETS, NEW_SALARY], raw) == []
        assert leaked([KEPT], raw) == [KEPT]  # a non-sensitive attribute stays readable in the body
        history = b"".join(
            r[0].encode() for r in s.query_sql("SELECT changes FROM cd_history WHERE changes IS NOT NULL")
        )
        assert b'"$enc"' in history and leaked([*SECRETS, NEW_SALARY], history) == []
        # raw SQL sees tokens, as an attacker would: the sensitive attribute is not there, the other is
        body = s.query_sql("SELECT body FROM cd_customers WHERE id = 'a'")[0][0]
        assert json.loads(body)["custom"] == {"colour": KEPT}
    assert leaked([*SECRETS, NEW_SALARY], file_bytes(path)) == []


def test_a_store_without_the_set_does_show_the_values(tmp_path: Path) -> None:
    """The search above finds what it looks for: without sensitive_custom the values are readable."""
    path = tmp_path / "s.db"
    with custdata.open_store(url(path), keyring=RING) as s:
        fill(s)
        assert sorted(leaked([*SECRETS, NEW_SALARY], file_bytes(path))) == sorted([*SECRETS, NEW_SALARY])


@pytest.fixture
def sealed(tmp_path: Path) -> Iterator[custdata.storage.Store]:
    with custdata.open_store(
        url(tmp_path / "s.db"), keyring=RING, sensitive_custom=["salary", "id_card"]
    ) as s:
        fill(s)
        yield s


def test_backups_keep_the_values_sealed_and_restore_keeps_the_set(
    sealed: custdata.storage.Store, tmp_path: Path
) -> None:
    backup = tmp_path / "b.jsonl"
    export(sealed, backup)
    raw = backup.read_bytes()
    assert leaked([*SECRETS, NEW_SALARY], raw) == [] and leaked([KEPT], raw) == [KEPT]
    assert json.loads(raw.splitlines()[0])["encrypted"]["sensitive_custom"] == ["id_card", "salary"]
    target = tmp_path / "t.db"
    with custdata.open_store(url(target), keyring=RING) as t:  # a new store, opened with the keyring alone
        counts = restore(t, backup, subject_keys=sealed)
        assert counts["customer"] == 3
        assert t.sensitive_custom == {"salary", "id_card"}  # type: ignore[attr-defined]
        check_reads(t)
        assert leaked([*SECRETS, NEW_SALARY], file_bytes(target)) == []
    with custdata.open_store(url(target), keyring=RING) as t:
        assert t.sensitive_custom == {"salary", "id_card"}  # type: ignore[attr-defined]
    with custdata.open_store("memory://", keyring=RING) as m:  # a memory store widens its set too
        restore(m, backup, subject_keys=sealed)
        assert m.sensitive_custom == {"salary", "id_card"}  # type: ignore[attr-defined]
        check_reads(m)
    with custdata.open_store("memory://") as plain:  # into a plaintext store on request: decrypted
        restore(plain, backup, subject_keys=sealed)
        check_reads(plain)


def test_restore_into_a_nonempty_store_that_seals_less_is_refused(
    sealed: custdata.storage.Store, tmp_path: Path
) -> None:
    backup = tmp_path / "b.jsonl"
    export(sealed, backup)
    with custdata.open_store(url(tmp_path / "t.db"), keyring=RING) as t:
        t.put(custdata.Customer(id="z"))
        with pytest.raises(ValidationError, match="does not seal"):
            restore(t, backup, subject_keys=sealed)


def test_rotation_export_subject_and_breach_report_cover_the_attributes(
    sealed: custdata.storage.Store,
) -> None:
    from custdata.security import breach_report

    doc = export_subject(sealed, "a")
    assert doc["record"]["custom"]["salary"] == NEW_SALARY  # decrypted for the subject
    text = json.dumps(doc, ensure_ascii=False)
    assert SECRETS[0] in text and SECRETS[2] in text  # the old salary, from the history
    exposure = sealed.key_exposure(RING.active_id)  # type: ignore[attr-defined]
    assert "custom" in exposure["a"] and "custom" in exposure["b"] and "custom" not in exposure.get("c", [])
    report = breach_report(sealed, key_id=RING.active_id)
    assert report.fields["custom"] == 2


def test_rotation_keeps_the_values_sealed(tmp_path: Path) -> None:
    ring = Keyring.generate()
    path = tmp_path / "r.db"
    with custdata.open_store(url(path), keyring=ring, sensitive_custom=["salary", "id_card"]) as s:
        fill(s)
        new = ring.add()
        ring.promote(new)
        assert rotate(s, page=2) == 3
        assert key_usage(s) == {new: 3}
        check_reads(s)
    with custdata.open_store(url(path), keyring=ring) as s:
        check_reads(s)
        assert leaked([*SECRETS, NEW_SALARY], file_bytes(path)) == []


# ------------------------------------------------------------------------------------------ encrypt_store
def fill_plain(path: Path) -> None:
    with custdata.open_store(url(path)) as s:
        fill(s)
        assert sorted(leaked([*SECRETS, NEW_SALARY], file_bytes(path))) == sorted([*SECRETS, NEW_SALARY])


def test_encrypt_store_seals_the_named_attributes(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    fill_plain(path)
    with custdata.open_store(url(path)) as s:
        assert encrypt_store(s, RING, page=2, sensitive_custom=["salary", "id_card"]) == 3
        check_reads(s)
        assert leaked([*SECRETS, NEW_SALARY], file_bytes(path)) == []
    with custdata.open_store(url(path), keyring=RING) as s:
        assert s.sensitive_custom == {"salary", "id_card"}  # type: ignore[attr-defined]
        check_reads(s)
        assert leaked([*SECRETS, NEW_SALARY], file_bytes(path)) == []


def test_an_encrypted_store_seals_more_attributes_in_place_resumably(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    with custdata.open_store(url(path), keyring=RING) as s:  # encrypted, no sensitive custom attribute
        fill(s)
        for i in range(10):
            s.put(custdata.Customer(id=f"m{i}", custom={"salary": f"80{i}0{i}0{i}"}))
    more = [f"80{i}0{i}0{i}" for i in range(10)]
    assert sorted(leaked([*SECRETS, NEW_SALARY, *more], file_bytes(path))) == sorted(
        [*SECRETS, NEW_SALARY, *more]
    )
    with custdata.open_store(url(path), keyring=RING) as s:
        done, n = s.encrypt_page(RING, 4, sensitive_custom=["salary", "id_card"])  # type: ignore[attr-defined]
        assert (done, n) == (False, 3)  # a, b and m0 hold a newly sensitive attribute; c does not
    with custdata.open_store(url(path), keyring=RING) as s:  # as if the run had been killed there
        with pytest.raises(StoreError, match="being encrypted in place"):
            s.get("a")  # no half-sealed answers
        with pytest.raises(ValidationError, match="part way"):
            encrypt_store(s, RING, sensitive_custom=["salary"])  # not another set in the middle
        assert encrypt_store(s, RING, page=4) == 9  # carries on with the recorded set
        assert s.sensitive_custom == {"salary", "id_card"}  # type: ignore[attr-defined]
        check_reads(s)
        assert s.get("m7").custom["salary"] == more[7]
        assert encrypt_store(s, RING, sensitive_custom=["salary", "id_card"]) == 0  # done already
    with custdata.open_store(url(path), keyring=RING) as s:
        assert s.sensitive_custom == {"salary", "id_card"}  # type: ignore[attr-defined]
        check_reads(s)
    assert leaked([*SECRETS, NEW_SALARY, *more], file_bytes(path)) == []


def test_an_attribute_once_sealed_stays_sealed(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    with custdata.open_store(url(path), keyring=RING, sensitive_custom=["salary", "id_card"]) as s:
        fill(s)
        with pytest.raises(ValidationError, match="stays sealed"):
            encrypt_store(s, RING, sensitive_custom=["salary"])
        with pytest.raises(ValidationError):
            encrypt_store(s, RING, sensitive_custom="salary")  # type: ignore[arg-type]


def test_cli_store_encrypt_sensitive_custom(tmp_path: Path) -> None:
    pytest.importorskip("click")
    from tests.security.test_security_cli import cli

    path = tmp_path / "p.db"
    fill_plain(path)
    keys = tmp_path / "keys.json"
    RING.save(keys)
    args = ["store", "encrypt", "--url", url(path), "--keyring", str(keys), "--sensitive-custom", "salary"]
    code, out, err = cli(*args)
    assert code == 0, err
    with custdata.open_store(url(path), keyring=RING) as s:
        assert s.sensitive_custom == {"salary"}  # type: ignore[attr-defined]
    assert leaked([SECRETS[0], SECRETS[1], NEW_SALARY], file_bytes(path)) == []
    assert leaked([SECRETS[2]], file_bytes(path)) == [SECRETS[2]]  # id_card not named yet
    code, out, err = cli(*args, "--sensitive-custom", "id_card")
    assert code == 0, err
    assert "id_card, salary" in out
    assert leaked([*SECRETS, NEW_SALARY], file_bytes(path)) == []
    code, out, err = cli(*args)  # fewer than the store seals: refused, nothing changed
    assert code != 0 and "stays sealed" in err


# ------------------------------------------------------------------------------------------ property
names = st.sampled_from(["salary", "id_card", "note", "", "薪水", "a.b"])
custom_maps = st.dictionaries(st.one_of(names, storable_text(max_size=6)), json_values(), max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=custom_maps, second=custom_maps, sensitive=st.frozensets(names, max_size=4))
def test_any_custom_mapping_round_trips_with_any_sensitive_set(
    tmp_path_factory: pytest.TempPathFactory, first: dict, second: dict, sensitive: frozenset[str]
) -> None:
    path = tmp_path_factory.mktemp("prop") / "p.db"
    for where in ("memory://", url(path)):
        with custdata.open_store(where, keyring=RING, sensitive_custom=sensitive) as s:
            c = s.put(custdata.Customer(id="x", custom=first))
            s.put(c.evolve(custom=second))
            got = s.get("x")
            assert got.custom == custdata.Customer(id="x", custom=second).custom
            changes = {ch.field: ch for ch in s.history("x")[-1].changes}
            if first != second:
                assert changes["custom"].old == dict(
                    custdata.Customer(id="x", custom=first).to_dict()["custom"]
                )
            cipher = s.cipher  # type: ignore[attr-defined]
            sealed = cipher.seal_body(got.to_dict())
            assert sensitive.isdisjoint(sealed.get("custom", {}))  # nothing sensitive left readable
            assert cipher.open_body(sealed) == got.to_dict()


SEAL_MORE = """
import os, signal, sys
import custdata
from custdata.security import Keyring, encrypt_store
ring = Keyring.load(sys.argv[2])
def progress(done):
    if done >= 40:
        os.kill(os.getpid(), signal.SIGKILL)
with custdata.open_store("sqlite:///" + sys.argv[1], keyring=ring) as s:
    encrypt_store(s, ring, progress=progress, page=40, sensitive_custom=["salary"])
"""


def test_a_killed_sealing_of_more_attributes_resumes_and_loses_nothing(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    path = tmp_path / "k.db"
    values = {f"c{i:04d}": f"工资{i:05d}号" for i in range(150)}
    with custdata.open_store(url(path), keyring=RING) as s:
        s.upsert_many(
            custdata.Customer(id=cid, custom={"salary": v, "colour": "red"}) for cid, v in values.items()
        )
        before = {c.id: c for c in s.scan()}
    RING.save(tmp_path / "keys.json")
    proc = subprocess.run(
        [sys.executable, "-c", SEAL_MORE, str(path), str(tmp_path / "keys.json")], check=False, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL
    with custdata.open_store(url(path), keyring=RING) as s:
        with pytest.raises(StoreError, match="being encrypted in place"):
            s.get("c0001")
        assert encrypt_store(s, RING, page=40) == 110  # the 40 sealed before the kill are not redone
        assert {c.id: c for c in s.scan()} == before
    assert leaked(list(values.values()), file_bytes(path)) == []


# ------------------------------------------------------------------------------------------ policy
def test_a_policy_hides_or_masks_custom_attributes_one_by_one(sealed: custdata.storage.Store) -> None:
    from custdata.security import Policy, StoreView

    policy = Policy(
        {
            "support": {
                "actions": ["read"],
                "fields": {"*": "full", "custom.salary": "hidden", "custom.id_card": "masked"},
            },
            "marketing": {
                "actions": ["read"],
                "fields": {"id": "full", "custom": "hidden", "custom.colour": "full"},
            },
            "plain": {"actions": ["read"], "fields": {"*": "full"}},
        }
    )
    assert policy.access("support", "custom.colour").value == "full"  # not named: as custom is
    assert policy.access("marketing", "custom.salary").value == "hidden"
    support = StoreView(sealed, policy, actor="amy", role="support")
    assert support.get("a")["custom"] == {"id_card": "***", "colour": KEPT}
    assert [r["custom"] for r in support.scan()] == [
        {"id_card": "***", "colour": KEPT},
        {"colour": "blue"},
        {"colour": "green"},
    ]
    shown = json.dumps(support.history("a"), ensure_ascii=False)
    assert leaked([*SECRETS, NEW_SALARY], shown.encode()) == [] and KEPT in shown
    marketing = StoreView(sealed, policy, actor="bo", role="marketing")
    assert marketing.get("a")["custom"] == {"colour": KEPT}
    assert "custom" not in StoreView(
        sealed, Policy({"x": {"actions": ["read"], "fields": {"id": "full"}}}), actor="c", role="x"
    ).get("a")
    plain = StoreView(sealed, policy, actor="cy", role="plain")  # no attribute named: custom as a whole
    assert plain.get("a")["custom"]["salary"] == NEW_SALARY
    assert any(SECRETS[0] in json.dumps(e, ensure_ascii=False) for e in plain.history("a"))


accesses = st.sampled_from(["full", "masked", "hidden"])


@given(
    custom=custom_maps,
    named=st.dictionaries(names, accesses, max_size=4),
    whole=accesses,
)
def test_custom_view_shows_each_attribute_as_its_access_says(custom: dict, named: dict, whole: str) -> None:
    from custdata.security import Policy

    fields = {"custom": whole, **{f"custom.{k}": v for k, v in named.items()}}
    policy = Policy({"r": {"actions": ["read"], "fields": fields}})
    shown = policy.apply("r", {"id": "x", "custom": custom}).get("custom")
    if not named and whole == "masked":  # no attribute named: the mapping masked as a whole
        assert shown == "***"
        return
    for name, value in custom.items():
        access = named.get(name, whole)
        if access == "full":
            assert shown[name] == value
        elif access == "masked":
            assert shown[name] == ("***" if value is not None else None)
        else:
            assert shown is None or name not in shown


@pytest.mark.parametrize("start", ["plaintext", "encrypted"])
def test_sealing_in_place_leaves_no_value_in_free_space(tmp_path: Path, start: str) -> None:
    """Bodies of many sizes, rewritten in place: the bytes they leave behind in their pages are zeroed
    (secure delete during encrypt_store) even where SQLite was built without secure delete on."""
    path = tmp_path / "f.db"
    values = [f"SECRET{i:05d}" + "y" * ((i % 7) * 40) for i in range(400)]
    with custdata.open_store(url(path), keyring=None if start == "plaintext" else RING) as s:
        s.upsert_many(
            custdata.Customer(id=f"c{i:04d}", custom={"salary": v, "colour": "x" * ((i % 5) * 50)})
            for i, v in enumerate(values)
        )
    with custdata.open_store(url(path), keyring=None if start == "plaintext" else RING) as s:
        s._raw("PRAGMA secure_delete=0")  # type: ignore[attr-defined]  # as on a build with it off
        encrypt_store(s, RING, sensitive_custom=["salary"], page=100)
        assert leaked([v[:11] for v in values], file_bytes(path)) == []
        assert s.get("c0399").custom["salary"] == values[399]
    assert leaked([v[:11] for v in values], file_bytes(path)) == []
