"""Records meet the stores: whatever a record accepts, every backend keeps; a field added to the record's
description travels through every backend and file format with no other change.

(Owned by the records helper; it uses the storage suite's backend fixtures.)
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import custdata
import custdata.testing as cst
from custdata import Customer, Interaction, Transaction
from tests.storage.storage_backends import Backend

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


# --------------------------------------------------------------------------------------------- any record
@given(customer=cst.customers())
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_record_the_strategies_build_round_trips_through_the_store(
    backend: Backend, customer: Customer
) -> None:
    with backend.open() as store:
        store.upsert_many([customer])
        got = store.get(customer.id)
        assert got.evolve(version=customer.version) == customer
        assert any(c.id == customer.id for c in store.scan())  # a whole-store read never breaks
        store.put(got)  # an update (the history diff reads the stored body back)
        assert store.get(customer.id).evolve(version=customer.version) == customer


@given(t=cst.transactions(), i=cst.interactions())
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_activity_the_strategies_build_round_trips_through_the_store(
    backend: Backend, t: Transaction, i: Interaction
) -> None:
    with backend.open() as store:
        store.add_transactions([t])
        store.add_interactions([i])
        assert t in store.transactions(t.customer_id)
        assert i in store.interactions(i.customer_id)


# --------------------------------------------------------------------------------------------- nickname
SRC = Path(custdata.__file__).resolve().parent
ANCHOR = '    gender: str | None = attrs.field(default=None, converter=opt_text(synonyms=("sex", "性别")))\n'
NICKNAME = '    nickname: str | None = attrs.field(default=None, converter=opt_text(synonyms=("昵称",)))\n'

SCRIPT = textwrap.dedent(
    """
    import sys, tempfile
    import custdata
    from custdata import Customer, Interaction, Transaction
    from custdata.exceptions import ValidationError
    assert custdata.__file__.startswith(sys.argv[1]), custdata.__file__

    c = Customer(id="n1", name="王小明", nickname="小明", phones=["+8613800138000"])
    assert c.nickname == "小明" and c.to_dict()["nickname"] == "小明"
    assert Customer.from_dict(c.to_dict()) == c and Customer.from_json(c.to_json()) == c
    try:
        Customer(id="n2", nickname="a\\x00b")
        raise SystemExit("a NUL in the new field was accepted")
    except ValidationError as exc:
        assert "nickname" in exc.fields

    d = tempfile.mkdtemp()
    custdata.write_csv([c], d + "/c.csv")
    assert list(custdata.read_csv(d + "/c.csv")) == [c]
    custdata.write_jsonl([c], d + "/c.jsonl")
    assert list(custdata.read_jsonl(d + "/c.jsonl")) == [c]
    with open(d + "/s.csv", "w", encoding="utf-8") as fh:
        fh.write("id,昵称\\nn3,阿明\\n")
    assert [r.nickname for r in custdata.read_csv(d + "/s.csv")] == ["阿明"]

    with custdata.open_store(sys.argv[2]) as store:
        store.put(c)
        got = store.get("n1")
        assert got.nickname == "小明" and got.evolve(version=0) == c
        store.upsert_many([c.evolve(id="n4")])
        assert store.get("n4").nickname == "小明"
        store.put(got.evolve(nickname="阿明"))
        assert store.get("n1").nickname == "阿明"
        assert any(e.changes for e in store.history("n1"))
        assert {x.nickname for x in store.scan()} == {"阿明", "小明"}

    from hypothesis import HealthCheck, given, settings
    import custdata.testing as cst
    drawn = []
    @settings(max_examples=40, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(cst.customers())
    def draw(x):
        drawn.append(x.nickname)
    draw()
    assert any(v is not None for v in drawn), "the strategies do not draw the new field"
    print("OK")
    """
)


@pytest.fixture(scope="module")
def nickname_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of custdata whose Customer has one more line: a ``nickname`` text field."""
    root = tmp_path_factory.mktemp("nickname") / "src"
    shutil.copytree(SRC, root / "custdata", ignore=shutil.ignore_patterns("__pycache__"))
    records = root / "custdata" / "_records.py"
    before = records.read_text(encoding="utf-8")
    assert before.count(ANCHOR) == 1
    after = before.replace(ANCHOR, ANCHOR + NICKNAME)
    records.write_text(after, encoding="utf-8")
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == ["+" + NICKNAME.rstrip("\n")]  # the description, and nothing else
    return root


def test_a_new_field_needs_only_its_description(backend: Backend, nickname_tree: Path) -> None:
    url = backend.url
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(nickname_tree), url],
        env={"PYTHONPATH": str(nickname_tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), result.stdout + result.stderr
