"""``custdata store retention``: a dry run lists, a run removes and audits, mistakes are one line, exit 2."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("click")

import click
from click.testing import CliRunner

import custdata
from custdata.cli._main import run
from custdata.security import AuditLog, Keyring, StoreSink


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def entry(ctx: click.Context) -> None:
    run(list(ctx.args))


def cli(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(entry, list(args), input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def make(url: str, keyring: Keyring | None = None) -> None:
    old = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    with custdata.open_store(url, keyring=keyring) as s:
        s.upsert_many(
            [
                custdata.Customer(id="old", created_at=old, phones=["+8613800000001"]),
                custdata.Customer(id="recent", created_at=old),
            ]
        )
        s.add_transactions(
            [
                custdata.Transaction(customer_id="old", at=old, amount=Decimal(5)),
                custdata.Transaction(customer_id="recent", at=old, amount=Decimal(5), id="t-old"),
                custdata.Transaction(
                    customer_id="recent",
                    at=dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc),
                    amount=Decimal(5),
                ),
            ]
        )


@pytest.mark.parametrize("encrypted", [False, True])
def test_dry_run_then_run(tmp_path: Path, encrypted: bool) -> None:
    url = "sqlite:///" + str(tmp_path / "s.db")
    ring = Keyring.generate() if encrypted else None
    extra: list[str] = []
    if ring is not None:
        ring.save(tmp_path / "keys.json")
        extra = ["--keyring", str(tmp_path / "keys.json")]
    make(url, ring)
    args = [
        "store",
        "retention",
        "--url",
        url,
        *extra,
        "--inactive-days",
        "365",
        "--transactions-days",
        "1000",
    ]
    code, out, _ = cli(*args, "--as-of", "2026-07-01", "--dry-run", "--json")
    assert code == 0
    plan = json.loads(out)
    assert plan["dry_run"] and plan["inactive_customers"] == ["old"]
    assert plan["transactions"] == [
        {"customer_id": "recent", "id": "t-old", "at": "2020-01-01T00:00:00+00:00"}
    ]
    code, out, _ = cli(*args, "--as-of", "2026-07-01", "--dry-run")
    assert code == 0 and "would remove 1 inactive" in out and "nothing was removed" in out
    with custdata.open_store(url, keyring=ring) as s:
        assert s.count() == 2 and len(s.transactions()) == 3
    code, _, err = cli(*args, "--as-of", "2026-07-01", input="n\n")
    assert code == 1 and "aborted" in err
    code, out, _ = cli(*args, "--as-of", "2026-07-01", "--yes")
    assert code == 0 and "removed 1 inactive" in out
    with custdata.open_store(url, keyring=ring) as s:
        assert [c.id for c in s.scan()] == ["recent"]
        assert [t.at.year for t in s.transactions()] == [2026]
        log = AuditLog(StoreSink(s))
        assert log.verify()
        assert [e["action"] for e in log.entries()] == ["purge", "retention", "retention"]


def test_a_policy_file_and_a_jsonl_audit_log(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "s.db")
    make(url)
    (tmp_path / "p.json").write_text('{"transactions": 1000}', encoding="utf-8")
    audit = tmp_path / "audit.jsonl"
    code, out, _ = cli(
        "store", "retention", "--url", url, "--policy", str(tmp_path / "p.json"), "--as-of", "2026-07-01",
        "--audit", str(audit), "--yes",
    )  # fmt: skip
    assert code == 0 and "2 transactions" in out
    log = AuditLog(audit)
    assert log.verify() and [e["details"]["removed"] for e in log.entries()] == [2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no retention rule"),
        (["--history-days", "1", "--policy", "p.json"], "not both"),
        (["--policy", "missing.json"], "no such policy file"),
        (["--history-days", "1", "--as-of", "yesterday"], "not an ISO 8601"),
        (["--history-days", "1", "--as-of", "2026-07-01T00:00:00"], "offset"),
        (["--history-days", "1", "--keyring", "nope.json"], "no such keyring"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    url = "sqlite:///" + str(tmp_path / "s.db")
    make(url)
    (tmp_path / "p.json").write_text("{}", encoding="utf-8")
    fixed = [str(tmp_path / a) if a.endswith(".json") else a for a in args]
    code, _, err = cli("store", "retention", "--url", url, *fixed, "--dry-run")
    assert code == 2 and err.startswith("custdata: ") and message in err and err.count("\n") == 1


def test_a_missing_store_is_not_created(tmp_path: Path) -> None:
    url = "sqlite:///" + str(tmp_path / "none.db")
    code, _, err = cli("store", "retention", "--url", url, "--history-days", "1", "--dry-run")
    assert code == 2 and err.startswith("custdata: ") and not (tmp_path / "none.db").exists()
