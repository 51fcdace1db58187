"""``custdata keys|audit|subject …`` and ``custdata store encrypt``, through click's CliRunner and the
real entry point (one-line errors, exit 2 for user errors)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

pytest.importorskip("click")

import click
from click.testing import CliRunner

import custdata
from custdata.cli._main import run
from custdata.security import AuditLog, Keyring


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def entry(ctx: click.Context) -> None:
    run(list(ctx.args))


def cli(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(entry, list(args), input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def fill(url: str, n: int, keyring: Keyring | None = None) -> None:
    with custdata.open_store(url, keyring=keyring) as s:
        s.upsert_many(
            custdata.Customer(
                id=f"c{i:03d}",
                name=custdata.PersonName(full=f"Name{i:03d} Secret"),
                phones=[custdata.Phone(f"+86138{i:08d}")],
            )
            for i in range(n)
        )


def test_keys_generate_status_rotate(tmp_path: Path) -> None:
    ring_path = tmp_path / "keys.json"
    code, out, _ = cli("keys", "generate", str(ring_path))
    assert code == 0 and "active key" in out
    assert ring_path.stat().st_mode & 0o777 == 0o600
    code, _, err = cli("keys", "generate", str(ring_path))
    assert code == 2 and "exists already" in err and len(err.strip().splitlines()) == 1
    first = Keyring.load(ring_path).active_id
    url = f"sqlite:///{tmp_path / 's.db'}"
    fill(url, 12, Keyring.load(ring_path))
    code, out, _ = cli("keys", "status", "--keyring", str(ring_path), "--url", url)
    assert code == 0 and out.split() == [first, "active", out.split()[2], "12", "values"]
    code, out, _ = cli("keys", "rotate", "--keyring", str(ring_path), "--url", url)
    assert code == 0 and "re-encrypted 12 stored values" in out
    ring = Keyring.load(ring_path)
    assert ring.active_id != first and ring.state(first).value == "decrypt-only"
    code, out, _ = cli("keys", "status", "--keyring", str(ring_path), "--url", url)
    lines = {ln.split("\t")[0]: ln.split("\t") for ln in out.splitlines()}
    assert lines[first][3] == "0 values" and lines[ring.active_id][3] == "12 values"
    with custdata.open_store(url, keyring=ring) as s:
        assert s.get("c003").phones[0].number == "+8613800000003"


def test_keys_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    code, _, err = cli("keys", "status", "--keyring", str(tmp_path / "nope.json"))
    assert code == 2 and err.startswith("custdata: ") and "no such keyring file" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    code, _, err = cli("keys", "status", "--keyring", str(bad))
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = cli("keys", "status")
    assert code == 2 and "--keyring" in err


def test_store_encrypt_migrates_in_place_and_says_when_done(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    url = f"sqlite:///{db}"
    fill(url, 30)
    ring_path = tmp_path / "keys.json"
    assert cli("keys", "generate", str(ring_path))[0] == 0
    code, out, _ = cli("store", "encrypt", "--url", url, "--keyring", str(ring_path), "--page", "7")
    assert code == 0 and "encrypted 30 customers" in out
    code, out, _ = cli("store", "encrypt", "--url", url, "--keyring", str(ring_path))
    assert code == 0 and "encrypted already" in out
    con = sqlite3.connect(db)
    bodies = " ".join(b for (b,) in con.execute("SELECT body FROM cd_customers"))
    con.close()
    assert "Secret" not in bodies and "+86138" not in bodies
    with custdata.open_store(url, keyring=Keyring.load(ring_path)) as s:
        assert [c.id for c in s.find(phone="+8613800000004")] == ["c004"]
    other = tmp_path / "other.json"
    cli("keys", "generate", str(other))
    code, _, err = cli("store", "encrypt", "--url", "memory://", "--keyring", str(other))
    assert code == 2 and err.startswith("custdata: ")


def test_audit_verify(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(5):
        log.record(actor="alice", action="read", record_id=f"c{i}", fields=["phones"], purpose="support")
    code, out, _ = cli("audit", "verify", str(path))
    assert code == 0 and "intact (5 entries)" in out
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("alice", "mallory")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, _ = cli("audit", "verify", str(path))
    assert code == 1 and "line 3" in out
    code, _, err = cli("audit", "verify", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no such audit log" in err


def test_subject_export_and_erase(tmp_path: Path) -> None:
    ring_path = tmp_path / "keys.json"
    cli("keys", "generate", str(ring_path))
    url = f"sqlite:///{tmp_path / 's.db'}"
    fill(url, 4, Keyring.load(ring_path))
    audit = tmp_path / "audit.jsonl"
    code, out, _ = cli("subject", "export", "c002", "--url", url, "--keyring", str(ring_path))
    assert code == 0
    doc = json.loads(out)
    assert doc["customer_id"] == "c002" and doc["record"]["phones"][0]["number"] == "+8613800000002"
    target = tmp_path / "c002.json"
    code, _, _ = cli(
        "subject", "export", "c002", "--url", url, "--keyring", str(ring_path), "-o", str(target)
    )
    assert code == 0 and json.loads(target.read_text(encoding="utf-8"))["customer_id"] == "c002"
    assert target.stat().st_mode & 0o777 == 0o600
    args = ["subject", "erase", "c002", "--url", url, "--keyring", str(ring_path), "--actor", "dpo"]
    code, _, _ = cli(*args, "--audit", str(audit), input="n\n")
    assert code == 1  # not confirmed: aborted, nothing erased
    with custdata.open_store(url, keyring=Keyring.load(ring_path)) as s:
        assert s.get("c002").id == "c002"
    code, out, _ = cli(*args, "--audit", str(audit), "--yes")
    assert code == 0 and out.startswith("erased 1 customer")
    assert [e["action"] for e in AuditLog(audit).entries()] == ["erase"]
    code, _, err = cli(*args, "--yes")
    assert code == 2 and "c002" in err and len(err.strip().splitlines()) == 1
    code, _, err = cli("subject", "export", "c001", "--url", url)  # encrypted store, no keyring
    assert code == 2 and "keyring" in err


def test_breach_report_command(tmp_path: Path) -> None:
    ring_path = tmp_path / "keys.json"
    cli("keys", "generate", str(ring_path))
    ring = Keyring.load(ring_path)
    url = f"sqlite:///{tmp_path / 's.db'}"
    fill(url, 3, ring)
    code, out, _ = cli("breach-report", "--key-id", ring.active_id, "--url", url, "--keyring", str(ring_path))
    assert code == 0 and json.loads(out)["customer_ids"] == ["c000", "c001", "c002"]
    log = AuditLog(tmp_path / "a.jsonl")
    log.record(actor="eve", action="read", record_id="c001", fields=["phones"])
    code, out, _ = cli("breach-report", "--audit", str(tmp_path / "a.jsonl"), "--principal", "eve")
    assert code == 0 and json.loads(out)["fields"] == {"phones": 1}
    code, _, err = cli("breach-report", "--key-id", "k")
    assert code == 2 and "--url" in err
    code, _, err = cli("breach-report", "--audit", str(tmp_path / "a.jsonl"), "--since", "soon")
    assert code == 2 and err.startswith("custdata: ")


def test_store_restore_of_an_encrypted_backup_leaves_erased_customers_out(tmp_path: Path) -> None:
    ring_path = tmp_path / "keys.json"
    assert cli("keys", "generate", str(ring_path))[0] == 0
    live = f"sqlite:///{tmp_path / 'live.db'}"
    fill(live, 3, Keyring.load(ring_path))
    backup = tmp_path / "monday.jsonl"
    code, _, err = cli("store", "export", "--url", live, "--keyring", str(ring_path), "-o", str(backup))
    assert code == 0, err
    assert b"Secret" not in backup.read_bytes()
    code, _, _ = cli(
        "subject", "erase", "c001", "--url", live, "--keyring", str(ring_path), "--actor", "dpo", "--yes"
    )
    assert code == 0
    # without the keys the backup cannot be read: one line, exit 2
    code, _, err = cli("store", "restore", str(backup), "--url", f"sqlite:///{tmp_path / 'a.db'}")
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("custdata: ")
    code, _, err = cli(
        "store",
        "restore",
        str(backup),
        "--url",
        f"sqlite:///{tmp_path / 'a2.db'}",
        "--keyring",
        str(ring_path),
    )
    assert code == 2 and "--subject-keys" in err and len(err.strip().splitlines()) == 1
    # --subject-keys needs the keyring to open the live store
    code, _, err = cli(
        "store", "restore", str(backup), "--url", f"sqlite:///{tmp_path / 'b.db'}", "--subject-keys", live
    )
    assert code == 2 and "--keyring" in err and len(err.strip().splitlines()) == 1
    # a wrong keyring: one line, exit 2, nothing restored
    wrong = tmp_path / "wrong.json"
    Keyring.generate().save(wrong)
    target = tmp_path / "c.db"
    args = ("store", "restore", str(backup), "--url", f"sqlite:///{target}", "--subject-keys", live)
    code, _, err = cli(*args, "--keyring", str(wrong))
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("custdata: ")
    assert "Traceback" not in err and "Secret" not in err
    # the right keyring: c001, erased since the backup, is left out and counted
    target = tmp_path / "d.db"
    args = ("store", "restore", str(backup), "--url", f"sqlite:///{target}", "--subject-keys", live)
    code, out, err = cli(*args, "--keyring", str(ring_path))
    assert code == 0, err
    assert "2 customers" in out and "1 erased customers left out" in out
    with custdata.open_store(f"sqlite:///{target}", keyring=Keyring.load(ring_path)) as s:
        assert sorted(c.id for c in s.scan()) == ["c000", "c002"]
        assert s.get("c000").name.full == "Name000 Secret"
    # the restored store is encrypted under the keyring too: its file holds no name in the clear
    assert b"Secret" not in target.read_bytes()
