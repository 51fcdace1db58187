"""``custdata store …`` commands and the storage step of ``custdata demo``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("click")

from custdata import Customer, Interaction, Transaction, open_store, read_csv, write_csv, write_jsonl
from custdata.cli._common import DemoContext
from custdata.cli._main import run
from custdata.cli._store import demo


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        run(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def _customers(n: int) -> list[Customer]:
    return [
        Customer.from_dict(
            {
                "id": f"c{i}",
                "name": {"full": f"客户{i}"},
                "phones": [{"number": f"+86138{i:08d}"}],
                "emails": [{"address": f"user{i}@example.com"}],
                "external_ids": {"erp": f"E{i}"},
            }
        )
        for i in range(n)
    ]


def test_import_find_export_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "c.csv"
    write_csv(_customers(30), src)
    url = f"sqlite:///{tmp_path / 's.db'}"
    code, out, _ = _run(capsys, "store", "import", str(src), "--url", url)
    assert code == 0 and "30 customers added" in out
    code, out, _ = _run(capsys, "store", "find", "--url", url, "--phone", "138 0000 0012")
    assert code == 0 and out.startswith("c12\t客户12\t+8613800000012")
    code, out, _ = _run(capsys, "store", "find", "--url", url, "--email", "USER7@example.com")
    assert out.split("\t")[0] == "c7"
    code, out, _ = _run(capsys, "store", "find", "--url", url, "--external-id", "erp:E3")
    assert out.split("\t")[0] == "c3"
    code, out, _ = _run(capsys, "store", "find", "--url", url, "--phone", "+8613999999999")
    assert code == 1 and "no customer found" in out

    backup = tmp_path / "b.jsonl"
    code, out, _ = _run(capsys, "store", "export", "--url", url, "-o", str(backup))
    assert code == 0 and "30 customers, 30 history entries" in out
    url2 = f"sqlite:///{tmp_path / 's2.db'}"
    code, out, _ = _run(capsys, "store", "restore", str(backup), "--url", url2)
    assert code == 0
    code, out, _ = _run(capsys, "store", "count", "--url", url2)
    assert out.strip() == "30"
    records = tmp_path / "r.csv"
    code, out, _ = _run(capsys, "store", "export", "--url", url2, "-o", str(records), "--records")
    assert code == 0
    assert [c.id for c in read_csv(records)] == sorted(f"c{i}" for i in range(30))
    code, out, _ = _run(capsys, "store", "history", "c3", "--url", url2)
    assert "create" in out and "phones" in out


def test_import_transactions_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    txns = tmp_path / "t.jsonl"
    at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    write_jsonl([Transaction(customer_id="c1", at=at, amount=Decimal("9.5"))], txns)
    code, out, _ = _run(capsys, "store", "import", str(txns), "--url", url, "--kind", "transaction")
    assert code == 0 and "1 transactions" in out
    code, _, err = _run(capsys, "store", "find", "--url", url)
    assert code == 2 and err.startswith("custdata: give --phone")
    code, _, err = _run(capsys, "store", "count", "--url", "nosuch://x")
    assert code == 2 and "sqlite://" in err and len(err.strip().splitlines()) == 1
    code, _, err = _run(capsys, "store", "export", "--url", url, "-o", str(tmp_path / "x.csv"))
    assert code == 2 and ".jsonl" in err
    code, _, err = _run(capsys, "store", "restore", str(txns), "--url", url)
    assert code == 2 and "not empty" in err


def test_demo_step_writes_and_reads_back(tmp_path: Path) -> None:
    lines: list[str] = []
    at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    ctx = DemoContext(
        customers=_customers(20),
        transactions=[Transaction(customer_id="c1", at=at, amount="3")],
        interactions=[Interaction(customer_id="c2", at=at)],
        workdir=tmp_path,
        echo=lines.append,
    )
    demo(ctx)
    text = "\n".join(lines)
    assert "wrote 20 customers" in text
    assert "reopened: 20 customers, 1 transactions, 1 interactions" in text
    assert "find(phone='+8613800000000') -> c0" in text
    with open_store(str(ctx.results["store_url"])) as s:
        assert s.get("c0").version == 2
        assert s.count() == 20


def test_read_only_commands_never_create_a_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "nothere.db"
    for args in (
        ("store", "find", "--url", f"sqlite:///{db}", "--phone", "13800138000"),
        ("store", "count", "--url", f"sqlite:///{db}"),
        ("store", "history", "c1", "--url", f"sqlite:///{db}"),
        ("store", "export", "--url", f"sqlite:///{db}", "-o", str(tmp_path / "b.jsonl")),
    ):
        code, _, err = _run(capsys, *args)
        assert code == 2, args
        assert "no store" in err and len(err.strip().splitlines()) == 1, err
        assert not db.exists(), args
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_user_mistakes_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "c.csv"
    write_csv(_customers(2), src)
    notdb = tmp_path / "notes.db"
    notdb.write_bytes(b"not a database" * 300)
    for args, expect in (
        (("validate", str(src), "--encoding", "nosuch"), "no such text encoding"),
        (
            ("convert", str(src), str(tmp_path / "o.csv"), "--out-encoding", "klingon"),
            "no such text encoding",
        ),
        (("store", "count", "--url", f"sqlite:///{notdb}"), "not a SQLite database"),
        (("store", "count", "--url", f"sqlite:///{tmp_path}/s.db?timeout=abc"), "timeout"),
        (("store", "count", "--url", "memory://?foo=1"), "foo"),
        (("store", "import", str(src), "--url", f"sqlite:///{tmp_path}"), "folder"),
        (("store", "history", "\udcff", "--url", "memory://"), "customer_id"),
    ):
        code, _, err = _run(capsys, *args)
        assert code == 2, (args, err)
        assert expect in err and "internal error" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err
