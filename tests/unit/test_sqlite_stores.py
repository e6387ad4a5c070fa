"""The SQLite stores on their common base: schema migrations applied once, in order, in one
transaction and recorded in `PRAGMA user_version`; a reopen changes nothing; a file from a newer
release or with foreign tables is refused untouched; every store locks, runs WAL with durable
commits, and keeps what it is given. Temporary directories only."""

import sqlite3
import threading
from dataclasses import fields, replace
from pathlib import Path

import pytest
from yizhan.server.adapters.sqlite.alert_store import _ALERT_COLUMNS, AlertStore
from yizhan.server.adapters.sqlite.audit_store import GENESIS, AuditStore
from yizhan.server.adapters.sqlite.base import SchemaError, SchemaTooNew, SqliteStore, schema_of
from yizhan.server.adapters.sqlite.registry import Registry
from yizhan.server.adapters.sqlite.spool import Spool
from yizhan.server.adapters.sqlite.user_store import UserError, UserStore
from yizhan.server.application.ingest import UnregisteredSender
from yizhan.server.domain.alerts import Alert, AlertTransition
from yizhan.server.domain.routing import CrewSpec, Delivery, Silence
from yizhan.server.domain.station import StationSpec

from tests.conftest import STATION_BODY

pytestmark = pytest.mark.fast

T0 = 1_793_667_600_000
STORES: list[tuple[type[SqliteStore], str]] = [
    (Registry, "registry.sqlite"),
    (AlertStore, "alerts.sqlite"),
    (AuditStore, "audit.sqlite"),
    (UserStore, "users.sqlite"),
    (Spool, "spool.sqlite"),
]


class Counter(SqliteStore):
    """A store whose steps leave traces: a step run twice would show as two rows."""

    MIGRATIONS = (
        ("CREATE TABLE IF NOT EXISTS steps (n INTEGER NOT NULL)", "INSERT INTO steps VALUES (1)"),
        ("ALTER TABLE steps ADD COLUMN note TEXT", "INSERT INTO steps VALUES (2, 'two')"),
    )

    def steps(self) -> list[int]:
        with self._use() as db:
            return [n for (n,) in db.execute("SELECT n FROM steps ORDER BY rowid")]


class CounterV1(Counter):
    MIGRATIONS = Counter.MIGRATIONS[:1]


class CounterV3Broken(Counter):
    MIGRATIONS = (
        *Counter.MIGRATIONS,
        ("CREATE TABLE three (x)", "INSERT INTO steps VALUES (3, 'three')", "INSERT INTO nowhere VALUES (1)"),
    )


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


# --- migrations ------------------------------------------------------------------------------


def test_a_new_file_gets_every_step_once_in_order_and_its_version(tmp_path: Path) -> None:
    store = Counter(tmp_path / "c.sqlite")
    assert store.schema_version == 2
    assert store.steps() == [1, 2]
    store.close()
    assert user_version(tmp_path / "c.sqlite") == 2


def test_a_reopen_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    Counter(path).close()
    before = path.read_bytes()
    again = Counter(path)
    assert again.steps() == [1, 2] and again.schema_version == 2
    again.close()
    assert path.read_bytes() == before  # not one page written


def test_an_older_file_gets_only_the_steps_it_lacks(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    old = CounterV1(path)
    assert old.schema_version == 1 and old.steps() == [1]
    old.close()
    new = Counter(path)
    assert new.schema_version == 2
    assert new.steps() == [1, 2]
    new.close()


def test_a_failing_step_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    Counter(path).close()
    with pytest.raises(sqlite3.OperationalError, match="nowhere"):
        CounterV3Broken(path)
    assert user_version(path) == 2
    db = sqlite3.connect(path)
    tables = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    rows = db.execute("SELECT count(*) FROM steps").fetchone()[0]
    db.close()
    assert "three" not in tables and rows == 2  # one transaction: none of step 3 stayed


@pytest.mark.parametrize(("cls", "name"), STORES)
def test_a_file_newer_than_the_code_is_refused_untouched(
    tmp_path: Path, cls: type[SqliteStore], name: str
) -> None:
    path = tmp_path / name
    cls(path).close()
    known = len(cls.MIGRATIONS)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {known + 3}")
    db.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNew) as refused:
        cls(path)
    message = str(refused.value)
    assert str(path) in message
    assert f"schema version {known + 3}" in message and f"up to {known}" in message
    assert "newer release" in message
    assert path.read_bytes() == before


def test_an_unversioned_file_with_other_tables_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL)")  # not version 1's
    db.close()
    with pytest.raises(SchemaError, match=r"users\.sqlite.*not those of schema version 1; differing: users"):
        UserStore(path)
    assert user_version(path) == 0


@pytest.mark.parametrize(("cls", "name"), STORES)
def test_version_1_on_an_unversioned_file_of_the_same_tables_adopts_it(
    tmp_path: Path, cls: type[SqliteStore], name: str
) -> None:
    """What 5d3a35b left: version 1's tables and user_version 0 (tests/integration/test_data_upgrade.py
    does it with the real files of that release)."""
    path = tmp_path / name
    db = sqlite3.connect(path, isolation_level=None)
    for statement in cls.MIGRATIONS[0]:
        db.execute(statement)
    db.close()
    store = cls(path)
    assert store.schema_version == len(cls.MIGRATIONS) >= 1
    store.close()


@pytest.mark.parametrize(("cls", "name"), STORES)
def test_every_store_runs_wal_with_full_sync_and_its_schema(
    tmp_path: Path, cls: type[SqliteStore], name: str
) -> None:
    store = cls(tmp_path / name)
    with store._use() as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL, as in 5d3a35b
        tables = set(schema_of(db))
    store.close()
    expected = {
        Registry: {"stations", "unregistered"},
        AlertStore: {"alerts", "alert_history", "crews", "silences", "outbox"},
        AuditStore: {"chain", "progress", "dirty"},
        UserStore: {"users"},
        Spool: {"batches"},
    }[cls]
    assert tables == expected


def test_the_alerts_columns_are_the_alert_fields() -> None:
    """The alerts table is written out, no longer derived from `Alert`: a new field needs a migration."""
    assert tuple(f.name for f in fields(Alert)) == _ALERT_COLUMNS


# --- the lock and the thread helper -------------------------------------------------------------


def test_threads_share_a_store_safely(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry.sqlite")
    spool = Spool(tmp_path / "spool.sqlite")
    spec = StationSpec.model_validate(STATION_BODY)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(40):
                registry.put_station(f"st-{n}-{i}", spec)
                registry.stations()
                spool.append(b"m f=1 1\n", 1)
                spool.pending_lines()
        except BaseException as exc:  # any failure in a thread is the finding
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(registry.stations()) == 240 and spool.pending_lines() == 240
    registry.close()
    spool.close()


async def test_in_thread_runs_a_store_method_off_the_loop(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.sqlite")
    await spool.in_thread(spool.append, b"m f=1 1\nm f=2 2\n", 2)
    assert await spool.in_thread(spool.pending_lines) == 2
    spool.close()


# --- round trips ------------------------------------------------------------------------------


def test_registry_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "registry.sqlite"
    registry = Registry(path)
    spec = StationSpec.model_validate(STATION_BODY)
    registry.save_unregistered(
        [
            UnregisteredSender("st-1", "door", "unregistered_station", T0, T0 + 5, 3),
            UnregisteredSender("st-9", None, "unregistered_station", T0, T0 + 9, 1),
        ]
    )
    assert registry.put_station("st-1", spec) is True
    assert registry.put_station("st-1", spec) is False
    registry.put_stations({"st-2": spec.model_copy(update={"district": "shibei"})})
    registry.close()

    registry = Registry(path)
    assert registry.stations() == {"st-1": spec, "st-2": spec.model_copy(update={"district": "shibei"})}
    # registering st-1 took it off the list; st-9 sent without a device
    assert registry.unregistered() == [
        UnregisteredSender("st-9", None, "unregistered_station", T0, T0 + 9, 1)
    ]
    registry.close()


def test_alert_store_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "alerts.sqlite"
    store = AlertStore(path)
    alert = Alert(
        1, "st-1", "shinan", "water", "water_dispenser", "fault:leak", "critical", "firing", T0,
        "漏水（leak）", "water on the floor (leak)",
    )  # fmt: skip
    hook = Delivery("webhook", "crew-1", "http://127.0.0.1:9/hook")
    mqtt = Delivery("mqtt", "yz/alerts/shinan/st-1")
    store.record([(AlertTransition("firing", alert, T0), [hook, mqtt], None, [b"a", b"b"])], T0)
    acked = replace(
        alert, state="acknowledged", acknowledged_at_ms=T0 + 1, acknowledged_by="cai", escalated=True
    )
    store.record([(AlertTransition("acknowledged", acked, T0 + 1, "cai", "on my way"), [], None, [])], T0 + 1)
    assert store.put_crew("crew-1", CrewSpec(name="一队", districts=["shinan"], secret="s")) is True
    assert store.put_crew("crew-1", CrewSpec(name="一队", districts=["shinan", "shibei"])) is False
    silence = store.add_silence(Silence(0, "st-1", None, None, T0, T0 + 1000, "otto", None))
    assert silence.id == 1
    assert store.end_silence(1, T0 + 10) is True and store.end_silence(9, T0) is False
    due = store.due_deliveries(T0)
    assert [(r.channel, r.target, r.body) for r in due] == [
        ("webhook", "crew-1", b"a"),
        ("mqtt", "yz/alerts/shinan/st-1", b"b"),
    ]
    store.delivered(due[1].id, T0 + 2)
    store.failed(due[0].id, "ConnectError", T0 + 30_000, T0 + 2)
    store.close()

    store = AlertStore(path)
    assert store.max_alert_id() == 1
    assert store.alert(1) == acked and store.open_alerts() == [acked]
    assert store.alerts(state="acknowledged", districts=frozenset({"shinan"})) == [acked]
    assert store.alerts(districts=frozenset({"shibei"})) == []
    assert store.alerts_fired_between(T0, T0 + 1) == [acked]
    assert store.history(1) == [
        {"kind": "firing", "at_ms": T0, "by": None, "note": None, "silence_id": None},
        {"kind": "acknowledged", "at_ms": T0 + 1, "by": "cai", "note": "on my way", "silence_id": None},
    ]
    assert [(d["channel"], d["state"], d["attempts"]) for d in store.deliveries(1)] == [
        ("webhook", "pending", 1),
        ("mqtt", "delivered", 1),
    ]
    assert store.due_deliveries(T0 + 29_999) == []
    assert [r.id for r in store.due_deliveries(T0 + 30_000)] == [due[0].id]
    assert store.crews() == {"crew-1": CrewSpec(name="一队", districts=["shinan", "shibei"])}
    assert store.silences() == [Silence(1, "st-1", None, None, T0, T0 + 10, "otto", None)]
    store.close()


def test_audit_store_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    store = AuditStore(path)
    assert store.head() == {"seq": 0, "hash": GENESIS}
    day = {"station": "st-1", "date": "2026-11-01", "visits": 3}
    assert store.seal("st-1", "2026-11-01", day, T0) == dict(day, version=1)
    assert store.seal("st-1", "2026-11-01", day, T0) is None  # the same figures: nothing new
    assert store.seal("st-1", "2026-11-01", dict(day, visits=4), T0)["version"] == 2
    store.set_progress_many([("st-1", "2026-11-01"), ("st-2", "2026-11-01")])
    store.set_progress("st-1", "2026-11-02")
    store.mark_dirty([("st-1", "2026-11-01"), ("st-2", "2026-10-31")])
    store.clean("st-2", "2026-10-31")
    head = store.head()
    store.close()

    store = AuditStore(path)
    assert store.verify() == (2, None)
    assert store.head() == head and head["seq"] == 2
    assert store.latest("st-1", "2026-11-01", "2026-11-01") == {
        ("st-1", "2026-11-01"): dict(day, visits=4, version=2, chain_seq=2)
    }
    assert store.progress() == {"st-1": "2026-11-02", "st-2": "2026-11-01"}
    assert store.dirty() == [("st-1", "2026-11-01")]
    store.close()


def test_user_store_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "users.sqlite"
    users = UserStore(path)
    assert users.any() is False
    ann = users.add("ann", "admin", frozenset())
    cai = users.add("cai", "crew", frozenset({"shinan", "shibei"}))
    with pytest.raises(UserError, match="exists"):
        users.add("ann", "operator", frozenset())
    new_cai = users.rotate("cai")
    users.add("otto", "operator", frozenset())
    users.remove("otto")
    with pytest.raises(UserError, match="does not exist"):
        users.remove("otto")
    users.close()

    users = UserStore(path)
    assert users.any() is True
    assert [(p.name, p.role, p.districts) for p in users.users()] == [
        ("ann", "admin", frozenset()),
        ("cai", "crew", frozenset({"shinan", "shibei"})),
    ]
    assert users.by_token(ann) is not None and users.by_token(ann).name == "ann"
    assert users.by_token(cai) is None and users.by_token(new_cai).name == "cai"
    users.close()


def test_spool_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite"
    spool = Spool(path)
    assert spool.oldest() is None and spool.pending_lines() == 0
    spool.append(b"a f=1 1\n", 1)
    spool.append(b"b f=1 1\nb f=2 2\n", 2)
    spool.close()

    spool = Spool(path)
    assert spool.pending_lines() == 3
    first = spool.oldest()
    assert first == (1, b"a f=1 1\n")
    spool.remove(first[0])
    assert spool.oldest() == (2, b"b f=1 1\nb f=2 2\n") and spool.pending_lines() == 2
    spool.close()
