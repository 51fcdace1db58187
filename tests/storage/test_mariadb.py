"""The MariaDB store (``mariadb://``) on a real server started by the tests: the whole store contract,
plain and encrypted, and what MariaDB does differently (collations, reserved words, bulk paths, errors)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest

pytest.importorskip("pymysql", reason="the mariadb extra is not installed")

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import custdata
from custdata import Customer
from custdata.exceptions import SchemaVersionError, StoreError, ValidationError
from custdata.security import Keyring
from custdata.storage import Store
from custdata.storage._mariadb import _field, _new_customer_loads, _safe, _tsv, connect_args, translate
from custdata.storage._sql import SQLStore
from custdata.testing import customers
from custdata.testing.stores import PersistentStoreTests, SQLHookTests, StoreTests, cust
from tests.security.test_encrypted_store import NEW_PHONE, PEOPLE, forms, secrets_in
from tests.storage.mariadb_server import MariaDBServer

pytestmark = pytest.mark.mariadb


@pytest.fixture
def mariadb_url(mariadb_server: MariaDBServer) -> str:
    """An empty store database (one reused by the tests in turn, its rows deleted before each)."""
    return mariadb_server.emptied()


@pytest.fixture
def new_database(mariadb_server: MariaDBServer) -> Iterator[str]:
    """A database of its own (for tests that change the schema)."""
    url, drop = mariadb_server.database()
    yield url
    drop()


class TestMariaDBContract(StoreTests):
    @pytest.fixture
    def store(self, mariadb_url: str) -> Iterator[Store]:
        with custdata.open_store(mariadb_url) as s:
            yield s


class TestMariaDBEncryptedContract(StoreTests):
    @pytest.fixture
    def store(self, mariadb_url: str) -> Iterator[Store]:
        with custdata.open_store(mariadb_url, keyring=Keyring.generate()) as s:
            yield s


class TestMariaDBInsertContract(StoreTests):
    """The multi-row ``INSERT`` bulk path (``local_infile=false``, or a server refusing local loads) keeps
    the same contract as the default ``LOAD DATA LOCAL`` one."""

    @pytest.fixture
    def store(self, mariadb_server: MariaDBServer, mariadb_url: str) -> Iterator[Store]:
        with custdata.open_store(mariadb_url, local_infile=False) as s:
            assert not s._load  # type: ignore[attr-defined]
            yield s


class TestMariaDBPersistent(PersistentStoreTests, SQLHookTests):
    @pytest.fixture
    def store(self, mariadb_url: str) -> Iterator[Store]:
        with custdata.open_store(mariadb_url) as s:
            yield s

    @pytest.fixture
    def reopen(self, mariadb_url: str) -> Callable[[], Store]:
        return lambda: custdata.open_store(mariadb_url)


# ------------------------------------------------------------------------------------------ MariaDB itself
def test_ids_differing_in_case_or_trailing_space_stay_different(mariadb_url: str) -> None:
    ids = ["a", "A", "a ", "a  ", " a", "ä", "a\u0308", "é", "e\u0301"]
    with custdata.open_store(mariadb_url) as s:
        s.upsert_many([Customer(id=i, name={"full": f"n{n}"}) for n, i in enumerate(ids)])
        assert s.count() == len(ids)
        assert [c.id for c in s.scan()] == sorted(ids)  # bytewise, as SQLite and PostgreSQL
        for n, i in enumerate(ids):
            assert s.get(i).name is not None and s.get(i).name.full == f"n{n}"
        assert s.get_many(["a", "a "]).keys() == {"a", "a "}
        s.delete("a ")
        assert sorted(c.id for c in s.scan()) == sorted(set(ids) - {"a "})
        # lookup keys compare exactly too: e-mail local parts differing in case are different keys
        s.put(Customer(id="k1", external_ids={"crm": "X1"}))
        s.put(Customer(id="k2", external_ids={"crm": "x1"}))
        assert [c.id for c in s.find(external_id="X1")] == ["k1"]
        assert [c.id for c in s.find(external_id="X1 ")] == []


def test_chinese_names_and_emoji_round_trip(mariadb_url: str) -> None:
    c = Customer(
        id="客户-😀",
        name={"full": "张三丰 🐉", "family": "张", "given": "三丰"},
        tags=["VIP👑", "老客户"],
        emails=[{"address": "zhang@例子.中国"}],
    )
    with custdata.open_store(mariadb_url) as s:
        s.put(c)
        assert s.get("客户-😀").to_dict() == c.evolve(version=1).to_dict()
        assert [x.id for x in s.find(email="zhang@例子.中国")] == ["客户-😀"]
    with custdata.open_store(mariadb_url) as s:
        assert s.get("客户-😀").name == c.name


@pytest.mark.parametrize("local_infile", [False, True])
def test_an_id_longer_than_the_column_is_a_validation_error(mariadb_url: str, local_infile: bool) -> None:
    with custdata.open_store(mariadb_url, local_infile=local_infile) as s:
        s.put(Customer(id="x" * 255))
        with pytest.raises(ValidationError, match="255"):
            s.put(Customer(id="y" * 256))
        with pytest.raises(ValidationError):
            s.upsert_many([cust(1), Customer(id="z" * 300)])
        assert [c.id for c in s.scan()] == ["x" * 255]


def test_the_default_bulk_path_is_load_data_from_memory(mariadb_url: str) -> None:
    with custdata.open_store(mariadb_url) as s:
        assert s._load  # type: ignore[attr-defined]
        s.upsert_many([cust(i) for i in range(1, 50)])
        assert s.count() == 49


def test_a_file_the_server_asks_for_is_never_read(mariadb_url: str, tmp_path: Any) -> None:
    """However a server answers, the client sends only the buffer offered for custdata's own statement: a
    LOAD DATA LOCAL naming any other file (as a hostile server could request at any statement) is sent
    nothing, and the write stops with a StoreError."""
    secret = tmp_path / "secret.tsv"
    secret.write_text("stolen\tvalue\n", encoding="utf-8")
    with custdata.open_store(mariadb_url) as s:
        store: Any = s
        store._conn.raw.load_offer = (b"custdata-0", b"offered\tvalue\n")
        with pytest.raises(StoreError, match="did not offer"):
            store._exec(f"LOAD DATA LOCAL INFILE '{secret}' INTO TABLE cd_meta (`key`, value)")
        assert store._conn.raw.load_offer is None  # an offer serves one statement at most
        assert store._all("SELECT `key` FROM cd_meta WHERE `key` IN ('stolen', 'offered')") == []
        s.put(cust(1))  # the connection is still in step
        assert s.get("c1").version == 1


def test_a_server_refusing_local_loads_gets_multi_row_inserts(
    mariadb_server: MariaDBServer, mariadb_url: str
) -> None:
    conn: Any = mariadb_server.connect()
    with conn.cursor() as cur:
        cur.execute("SET GLOBAL local_infile = 0")
    try:
        with custdata.open_store(mariadb_url) as s:
            assert not s._load  # type: ignore[attr-defined]
            s.upsert_many([cust(i) for i in range(1, 30)])
            assert s.count() == 29
    finally:
        with conn.cursor() as cur:
            cur.execute("SET GLOBAL local_infile = 1")
        conn.close()


_cell = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(),
    st.sampled_from(["", "\\N", "\t", "a\\", "\r", "\0", "x\ny", '{"a":"\\u5ba2"}']),
)


@given(st.lists(st.lists(_cell, min_size=1, max_size=6), max_size=6))
def test_the_load_buffer_is_the_field_by_field_form(rows: list[list[Any]]) -> None:
    """The load buffer's fast path (a row checked once) pinned to escaping every field."""
    want = "".join("\t".join(_field(v) for v in row) + "\n" for row in rows)
    try:
        expected: bytes | None = want.encode("utf-8")
    except UnicodeEncodeError:
        expected = None
    if expected is None:
        with pytest.raises(UnicodeEncodeError):
            _tsv(rows)
    else:
        assert _tsv(rows) == expected


_plain = st.text(alphabet=st.sampled_from(["a", "客", "\\", "N", "+", "@"]), max_size=4)
#: text that is plain but for at most one character the load buffers must treat specially
_nasty = st.one_of(
    _plain,
    _plain,
    _plain,
    _plain,
    st.builds(
        "".join,
        st.tuples(_plain, st.sampled_from(["\t", "\n", "\r", "\0", "\x1e", "\x1f", "\ud800"]), _plain),
    ),
)


@attrs.frozen
class _Item:  # what the load buffers read of a customer: its id and version
    id: str
    version: int


@given(
    chunk=st.lists(
        st.tuples(
            st.builds(
                _Item, st.one_of(st.from_regex(r"c[0-9]{1,7}", fullmatch=True), _nasty), st.integers(0, 9)
            ),
            st.lists(st.tuples(st.sampled_from(["email", "phone", "external_id"]), _nasty), max_size=3),
            st.one_of(
                st.sampled_from(['{"schema":1,"id":"c1","name":{"full":"\\u5ba2"}}', "AAEC=="]), _nasty
            ),
        ),
        max_size=4,
    ),
    src=st.one_of(st.none(), _nasty),
)
@settings(max_examples=400)
def test_new_customer_load_buffers_are_those_of_the_general_rows(
    chunk: list[tuple[_Item, list[tuple[str, str]], str]], src: str | None
) -> None:
    """The new-customer fast path (buffers written straight from the prepared chunk) pinned to the
    general one: the rows ``SQLStore._rows`` builds, each table's buffer made by ``_tsv``. The fast path
    may decline (None: the general path runs) but never writes other bytes."""
    _same_loads_as_the_general_rows(chunk, src)


@pytest.mark.parametrize("bad", ["\t", "\n", "\r", "\0", "\x1e", "\x1f", "\\", "\\N", "\ud800"])
@pytest.mark.parametrize("where", ["id", "first key", "second key", "third key", "body", "source"])
def test_each_special_character_anywhere_in_a_new_customer_chunk(bad: str, where: str) -> None:
    """One special character in one place of an otherwise plain chunk (where the property test above
    rarely looks): still the general path's bytes, or the general path."""
    text = f"x{bad}y"
    keys = [("email", "a@example.com"), ("phone", "+8613800000001")]
    if where == "third key":
        keys.append(("external_id", text))
    elif where != "id" and where.endswith("key"):
        keys[where == "second key"] = (keys[where == "second key"][0], text)
    chunk = [
        (_Item(text if where == "id" else "c1", 0), keys, text if where == "body" else '{"a":1}'),
        (_Item("c2", 3), [("phone", "+8613800000002")], "{}"),
    ]
    _same_loads_as_the_general_rows(chunk, text if where == "source" else "import")


def _same_loads_as_the_general_rows(
    chunk: list[tuple[_Item, list[tuple[str, str]], str]], src: str | None
) -> None:
    at = "2026-01-02T03:04:05.000006"
    prepared = [(i, item, keys, body) for i, (item, keys, body) in enumerate(chunk)]
    rows = SQLStore._rows(None, prepared, {}, at, src, "raise", False, [])  # type: ignore[arg-type]
    try:
        want: list[bytes] | None = [_tsv(rows[0]), _tsv(rows[3]), _tsv(rows[4])]
    except UnicodeEncodeError:
        want = None
    try:
        fast = _new_customer_loads(prepared, at, src)
    except UnicodeEncodeError:
        assert want is None
        return
    if fast is None:
        return
    assert want is not None
    assert [fast[0].data, fast[3].data, fast[4].data] == want
    assert (len(fast[0]), fast[1], fast[2], len(fast[3]), len(fast[4])) == (
        len(rows[0]),
        rows[1],
        rows[2],
        len(rows[3]),
        len(rows[4]),
    )


def test_the_new_customer_fast_path_takes_usual_chunks() -> None:
    """It is not a path that always declines: ordinary customers (one phone, one e-mail) go through it."""
    c = Customer.from_dict(
        {"id": "c1", "phones": [{"number": "+8613800000001"}], "emails": [{"address": "a@example.com"}]}
    )
    prepared = [(0, c, [("email", "a@example.com"), ("phone", "+8613800000001")], '{"a":"\\u5ba2"}')]
    fast = _new_customer_loads(prepared, "2026-01-02T03:04:05.000006", None)
    assert fast is not None
    assert fast[0].data == (
        b"c1\t1\t2026-01-02T03:04:05.000006\t\\N\temail\x1fa@example.com\x1ephone\x1f+8613800000001"
        b'\t{"a":"\\\\u5ba2"}\n'
    )


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(customers(), min_size=1, max_size=8, unique_by=lambda c: c.id))
def test_load_data_path_stores_what_the_insert_path_stores(
    mariadb_server: MariaDBServer, batch: list[Customer]
) -> None:
    """The fast path (LOAD DATA LOCAL INFILE) pinned to the general one (multi-row INSERT): the same
    customers, lookup keys and history rows, byte for byte."""
    tables = []
    for local_infile in (False, True):
        url, drop = mariadb_server.database()
        try:
            with custdata.open_store(url, local_infile=local_infile) as s:
                s.upsert_many(batch)
                s.upsert_many([c.evolve(company="ACME 公司\t\\N\n") for c in batch])
                rows = {
                    t: s.query_sql(f"SELECT * FROM {t} ORDER BY 1, 2, 3")  # type: ignore[attr-defined]
                    for t in ("cd_lookup",)
                }
                rows["customers"] = s.query_sql(  # type: ignore[attr-defined]
                    "SELECT id, version, deleted_at, `keys`, body FROM cd_customers ORDER BY id"
                )
                rows["history"] = s.query_sql(  # type: ignore[attr-defined]
                    "SELECT customer_id, version, action, source, changes FROM cd_history ORDER BY 1, 2"
                )
                assert [c.to_dict() for c in s.get_many([c.id for c in batch]).values()] == [
                    c.evolve(company="ACME 公司\t\\N\n", version=c.version + 2).to_dict() for c in batch
                ]
            tables.append(rows)
        finally:
            drop()
    assert tables[0] == tables[1]


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["?", "%", "key", "keys", " ", "x", "ON CONFLICT", "'", '"', "`"]),
            st.text(max_size=4),
        ),
        max_size=12,
    )
)
def test_translate_leaves_quoted_text_alone(pieces: list[str]) -> None:
    """Whatever stands between quotes reaches the server unchanged (only % doubled, which PyMySQL's
    formatting undoes); outside quotes every ? becomes a %s placeholder."""
    literal = "".join(pieces).replace("'", "''")
    out = translate(f"SELECT '{literal}' AS k WHERE x = ?")
    assert out == f"SELECT '{literal.replace('%', '%%')}' AS k WHERE x = %s"


def test_translate_rewrites_the_shared_sql() -> None:
    assert translate("SELECT value FROM cd_meta WHERE key = 'key'") == (
        "SELECT value FROM cd_meta WHERE `key` = 'key'"
    )
    assert translate("SELECT l.key, keys FROM t WHERE a LIKE '%?'") == (
        "SELECT l.`key`, `keys` FROM t WHERE a LIKE '%%?'"
    )
    assert (
        translate(
            "INSERT INTO cd_meta (key, value) VALUES ('v', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        == "INSERT INTO cd_meta (`key`, value) VALUES ('v', %s) ON DUPLICATE KEY UPDATE value = VALUES(value)"
    )
    assert translate("INSERT INTO t (id) VALUES (?) ON CONFLICT (id) DO NOTHING") == (
        "INSERT INTO t (id) VALUES (%s) ON DUPLICATE KEY UPDATE id = id"
    )
    assert (
        translate(
            "INSERT INTO t (id, at) VALUES (?, ?) ON CONFLICT (id) WHERE id IS NOT NULL DO UPDATE SET at = excluded.at"
        )
        == "INSERT INTO t (id, at) VALUES (%s, %s) ON DUPLICATE KEY UPDATE at = VALUES(at)"
    )


def test_mariadb_refuses_a_newer_schema(new_database: str) -> None:
    with custdata.open_store(new_database) as s:
        s.put(cust(1))
        s._exec("UPDATE cd_meta SET value = '7' WHERE key = 'schema_version'")  # type: ignore[attr-defined]
    with pytest.raises(SchemaVersionError, match="7"):
        custdata.open_store(new_database)


def test_open_creates_the_database_unless_create_false(mariadb_server: MariaDBServer) -> None:
    url, drop = mariadb_server.database()
    drop()
    try:
        with pytest.raises(StoreError, match="does not exist"):
            custdata.open_store(url, create=False)
        with custdata.open_store(url) as s:
            s.put(cust(1))
        with custdata.open_store(url, create=False) as s:
            assert s.count() == 1
    finally:
        drop()


def test_connection_errors_hide_the_password(mariadb_server: MariaDBServer) -> None:
    base, _, query = mariadb_server.url.partition("?")
    url = base.replace("root@", "nobody:s3cret-pw@") + "?" + query
    with pytest.raises(StoreError) as info:
        custdata.open_store(url)
    assert "s3cret-pw" not in str(info.value) and "***" in str(info.value)
    assert _safe("mysql://u:p@h:3306/d?x=1") == "mysql://u:***@h:3306/d?x=1"
    with pytest.raises(ValidationError):
        custdata.open_store("mariadb://root@localhost/db", no_such_option=1)
    with pytest.raises(ValidationError):
        custdata.open_store("mariadb://root@localhost:99999/db")
    with pytest.raises(ValidationError, match="no database"):
        custdata.open_store("mariadb://root@localhost/")


def test_query_sql_cannot_change_anything(mariadb_url: str) -> None:
    with custdata.open_store(mariadb_url) as s:
        s.put(cust(1))
        for sql in (
            "DROP TABLE cd_customers",
            "CREATE TABLE x (a INT)",
            "TRUNCATE cd_customers",
            "SELECT id FROM cd_customers FOR UPDATE",
            "DELETE FROM cd_lookup",
        ):
            with pytest.raises(StoreError):
                s.query_sql(sql)  # type: ignore[attr-defined]
        assert s.get("c1").version == 1 and [c.id for c in s.find(phone="13800000001")] == ["c1"]
        s.put(s.get("c1").evolve(company="still writable"))


def test_segments_select_runs_in_python_on_mariadb(mariadb_url: str) -> None:
    import datetime as dt

    from custdata import Transaction
    from custdata.segments import Rule, select

    day = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with custdata.open_store(mariadb_url) as s:
        s.upsert_many([cust(i) for i in range(6)])
        s.add_transactions(
            [Transaction(customer_id=f"c{i}", at=day, amount=str(400 * i), currency="CNY") for i in range(6)]
        )
        got = select(s, Rule.parse("total_spend >= 1000"), as_of="2026-06-30")
        assert [c.id for c in got] == ["c3", "c4", "c5"]


def test_mysqldump_of_an_encrypted_store_holds_no_personal_data(mariadb_server: MariaDBServer) -> None:
    dump_tool = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    assert dump_tool is not None, "mariadb-dump comes with mariadb-client"
    url, drop = mariadb_server.database()
    try:
        with custdata.open_store(url, keyring=Keyring.generate()) as s:
            s.upsert_many([custdata.Customer.from_dict(p) for p in PEOPLE])
            s.put(s.get("p1").evolve(phones=[custdata.Phone(NEW_PHONE)]))
            assert [c.id for c in s.find(phone=NEW_PHONE)] == ["p1"]
        database = url.split("?")[0].rsplit("/", 1)[1]
        args = connect_args(mariadb_server.url)
        where = [f"--socket={args['unix_socket']}"] if "unix_socket" in args else [f"--host={args['host']}"]
        where += [f"--port={args['port']}"] if "port" in args else []
        dump = subprocess.run(
            [dump_tool, *where, "-uroot", "--no-create-info", "--skip-extended-insert", database],
            capture_output=True,
            timeout=120,
            check=True,
        ).stdout
        assert b"cd_customers" in dump and len(dump) > 2000
        for secret in secrets_in(PEOPLE):
            for form in forms(secret):
                assert form not in dump, f"{secret!r} in the dump"
    finally:
        drop()


def test_encrypt_in_place_and_rotate_on_mariadb(mariadb_url: str) -> None:
    from custdata.security import encrypt_store, key_usage, rotate

    ring = Keyring.generate()
    with custdata.open_store(mariadb_url) as s:
        s.upsert_many([custdata.Customer.from_dict(p) for p in PEOPLE])
        encrypt_store(s, ring, page=2)
    old = ring.active_id
    with custdata.open_store(mariadb_url, keyring=ring) as s:
        assert s.encrypted  # type: ignore[attr-defined]
        assert key_usage(s) == {old: len(PEOPLE)}
        ring.promote(ring.add())
        assert rotate(s, page=2) == len(PEOPLE)
        assert set(key_usage(s)) == {ring.active_id}
        assert [c.id for c in s.find(phone=PEOPLE[0]["phones"][0]["number"])] == [PEOPLE[0]["id"]]


def test_two_connections_keep_one_audit_chain(mariadb_url: str) -> None:
    import threading

    from custdata.security import AuditLog, StoreSink

    stores = [custdata.open_store(mariadb_url), custdata.open_store(mariadb_url)]
    try:
        logs = [AuditLog(StoreSink(s)) for s in stores]
        logs[0].record(actor="w", action="read", record_id="c0")  # the first entry: no row to lock yet

        def write(log: AuditLog, who: str) -> None:
            for i in range(25):
                log.record(actor=who, action="read", record_id=f"c{i}")

        threads = [threading.Thread(target=write, args=(log, f"w{n}")) for n, log in enumerate(logs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        verdict = logs[0].verify()
        assert verdict and verdict.entries == 51
    finally:
        for s in stores:
            s.close()


def test_retention_primitives_agree_with_sqlite(mariadb_url: str, tmp_path: Any) -> None:
    """The privacy module's SQL (activity times, rows before a cut-off, removing them) on MariaDB gives what
    it gives on SQLite for the same data."""
    import datetime as dt

    from custdata import Interaction, Transaction

    day = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    out = []
    for url in (mariadb_url, "sqlite:///" + str(tmp_path / "r.db")):
        with custdata.open_store(url) as s:
            s.upsert_many([cust(i) for i in range(4)])
            s.delete("c3")
            s.add_transactions(
                [
                    Transaction(customer_id=f"c{i}", at=day + dt.timedelta(days=i), amount="5")
                    for i in range(3)
                ]
            )
            s.add_interactions([Interaction(customer_id="c1", at=day, channel="phone")])
            times = s.activity_times(["c0", "c1", "c3", "nobody"])  # type: ignore[attr-defined]
            cut = day + dt.timedelta(days=1, hours=1)
            old = s.rows_before("transactions", cut)  # type: ignore[attr-defined]
            removed = s.remove_before("transactions", cut)  # type: ignore[attr-defined]
            out.append(
                (
                    {k: (v[1] is not None, v[2], v[3]) for k, v in times.items()},
                    [(cid, at) for cid, _, at in old],
                    removed,
                    len(s.transactions()),
                )
            )
    assert out[0] == out[1]
    assert out[0][2] == 2
