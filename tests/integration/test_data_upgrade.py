"""Upgrading a data directory: the files the release at main 5d3a35b wrote (tests/fixtures/data-5d3a35b,
made with that release's own stores by its make_fixture.py) open with today's stores as schema
version 1 and keep every station, alert, crew, silence, user, spool batch and sealed day; the audit
command finds the chain intact; a server started on them serves them; a file from a newer release
is refused with a message naming it.

The expected values are written out here from what the old release wrote (see the fixture's
README.md), not read back through the new code."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from yizhan.server.adapters.sqlite.alert_store import AlertStore
from yizhan.server.adapters.sqlite.audit_store import AuditStore
from yizhan.server.adapters.sqlite.base import SchemaTooNew, SqliteStore, schema_of
from yizhan.server.adapters.sqlite.registry import Registry
from yizhan.server.adapters.sqlite.spool import Spool
from yizhan.server.adapters.sqlite.user_store import UserStore
from yizhan.server.application.ingest import UnregisteredSender
from yizhan.server.domain.routing import Silence

from tests.conftest import REPO, ServerProc, wait_for
from yizhan.localstack import Broker, Influx

FIXTURE = REPO / "tests" / "fixtures" / "data-5d3a35b"
TOKENS = json.loads((FIXTURE / "tokens.json").read_text())
T0 = 1_793_667_600_000  # 2026-11-03 09:00 Asia/Shanghai
MIN = 60_000
HEAD = "6b71aa5918feb2da5d303c9b0ba5d4f9d78f13ac62595ba29eadeb836f783426"
FILES: dict[str, type[SqliteStore]] = {
    "registry.sqlite": Registry,
    "alerts.sqlite": AlertStore,
    "audit.sqlite": AuditStore,
    "users.sqlite": UserStore,
    "spool.sqlite": Spool,
}
STATIONS = {"st-0001", "st-0002", "gw-0001"}
# alert id -> (station, rule, state), as the old release stored them
ALERTS = {
    4: ("st-0001", "fault:leak", "resolved"),
    3: ("gw-0001", "battery_low", "firing"),
    2: ("st-0002", "water_cold", "firing"),
    1: ("st-0001", "fault:overcurrent", "resolved"),
}


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A copy of the fixture: opening upgrades the files in place."""
    out = tmp_path / "data"
    out.mkdir()
    for name in FILES:
        shutil.copy2(FIXTURE / name, out / name)
    return out


@pytest.mark.fast
def test_the_fixture_is_as_the_old_release_left_it() -> None:
    for name in FILES:
        assert user_version(FIXTURE / name) == 0, f"{name}: unversioned, as 5d3a35b wrote it"
        assert not (FIXTURE / f"{name}-wal").exists() and not (FIXTURE / f"{name}-shm").exists()


@pytest.mark.fast
@pytest.mark.parametrize("name", FILES)
def test_each_file_opens_as_version_1_with_the_schema_of_a_new_one(
    data_dir: Path, tmp_path: Path, name: str
) -> None:
    cls = FILES[name]
    store = cls(data_dir / name)
    assert store.schema_version >= 1
    with store._use() as db:
        upgraded = schema_of(db)
    store.close()
    assert user_version(data_dir / name) == len(cls.MIGRATIONS) >= 1
    fresh = cls(tmp_path / f"fresh-{name}")
    with fresh._use() as db:
        assert upgraded == schema_of(db), "version 1 is the schema 5d3a35b created, column for column"
    fresh.close()
    before = (data_dir / name).read_bytes()
    cls(data_dir / name).close()
    assert (data_dir / name).read_bytes() == before, "a second opening changes nothing"


@pytest.mark.fast
def test_the_registry_keeps_its_stations_and_unregistered_senders(data_dir: Path) -> None:
    registry = Registry(data_dir / "registry.sqlite")
    stations = registry.stations()
    unregistered = registry.unregistered()
    registry.close()
    assert set(stations) == STATIONS
    st1, st2, gw1 = stations["st-0001"], stations["st-0002"], stations["gw-0001"]
    assert (st1.name, st1.district, st1.schedule) == ("市南区香港中路驿站", "shinan", "07:00-19:00")
    assert st1.services == ["water", "heat_food", "rest", "toilet", "charging"]
    assert st1.contact is not None and (st1.contact.name, st1.contact.phone) == ("张三", "0532-80000000")
    assert [(d.id, d.type) for d in st1.devices] == [
        ("door", "door_sensor"),
        ("water", "water_dispenser"),
        ("power", "power_strip"),
        ("speaker", "smart_speaker"),
    ]
    assert st1.alerts is not None and st1.alerts.water_min_temp_c == 55.0
    assert st1.alerts.pending_s == {"device_offline": 300}
    assert st2.schedule == {"mon": ["07:00-12:00", "13:00-19:00"], "tue": "07:00-19:00", "sat": "09:00-17:00"}
    assert (st2.district, st2.note, st2.timezone) == ("shibei", "社区服务中心一楼", None)
    assert (gw1.district, gw1.schedule) == ("laoshan", "24h")
    assert [d.type for d in gw1.devices] == ["gateway", "door_sensor", "power_strip"]
    assert unregistered == [
        UnregisteredSender("st-0001", "fridge", "unregistered_device", T0 - 60 * MIN, T0 - 2 * MIN, 4),
        UnregisteredSender("st-9001", None, "unregistered_station", T0 - 90 * MIN, T0 - 5 * MIN, 17),
    ]


@pytest.mark.fast
def test_the_alert_store_keeps_alerts_history_outbox_crews_and_silences(data_dir: Path) -> None:
    store = AlertStore(data_dir / "alerts.sqlite")
    try:
        assert store.max_alert_id() == 4
        assert {a.id: (a.station, a.rule, a.state) for a in store.alerts()} == ALERTS
        assert [a.id for a in store.alerts()] == [4, 3, 2, 1]
        assert sorted(a.id for a in store.open_alerts()) == [2, 3]
        assert [a.id for a in store.alerts(districts=frozenset({"shinan"}))] == [4, 1]
        one = store.alert(1)
        assert one is not None
        assert (one.acknowledged_by, one.acknowledged_at_ms, one.note) == ("cai", T0 + 10 * MIN, "在路上")
        assert (one.resolved_by, one.resolved_at_ms, one.severity) == ("auto", T0 + 40 * MIN, "critical")
        two = store.alert(2)
        assert two is not None and (two.reminders, two.escalated, two.fired_at_ms) == (2, True, T0 + 20 * MIN)
        assert "heater on, water below 60.0 °C" in two.message_en
        four = store.alert(4)
        assert four is not None and (four.resolved_by, four.note) == ("ann", "误报，传感器进水")
        assert [a.id for a in store.alerts_fired_between(T0, T0 + 30 * MIN)] == [1, 2, 3]

        assert store.history(1) == [
            {"kind": "firing", "at_ms": T0, "by": None, "note": None, "silence_id": None},
            {
                "kind": "acknowledged",
                "at_ms": T0 + 10 * MIN,
                "by": "cai",
                "note": "在路上",
                "silence_id": None,
            },
            {"kind": "resolved", "at_ms": T0 + 40 * MIN, "by": "auto", "note": None, "silence_id": None},
        ]
        assert [h["kind"] for h in store.history(2)] == ["firing", "reminder", "escalated", "reminder"]
        assert store.history(3) == [
            {"kind": "firing", "at_ms": T0 + 5 * MIN, "by": None, "note": None, "silence_id": 1}
        ]

        deliveries = {a: store.deliveries(a) for a in ALERTS}
        assert sum(len(d) for d in deliveries.values()) == 13 and deliveries[3] == []
        assert {d["state"] for d in deliveries[1]} == {"delivered"}
        pending = [
            (d["id"], d["target"], d["attempts"])
            for a in ALERTS
            for d in deliveries[a]
            if d["state"] == "pending"
        ]
        assert sorted(pending) == [(8, "ops", 1), (10, "crew-shinan", 1), (12, "crew-shinan", 0)]
        # per target the oldest pending delivery, once its retry time has come
        assert store.due_deliveries(T0 + 100 * MIN) == []
        due = store.due_deliveries(T0 + 101 * MIN)
        assert sorted((r.id, r.channel, r.url) for r in due) == [
            (8, "webhook", "http://127.0.0.1:9/hooks/ops"),
            (10, "webhook", "http://127.0.0.1:9/hooks/shinan"),
        ]
        body = json.loads(next(r.body for r in due if r.id == 10))
        assert (body["kind"], body["alert"]["id"], body["alert"]["rule"]) == ("firing", 4, "fault:leak")

        crews = store.crews()
        assert sorted(crews) == ["crew-shibei", "crew-shinan", "ops"]
        assert crews["crew-shinan"].secret == "s3cret-shinan"
        assert str(crews["crew-shinan"].webhook_url) == "http://127.0.0.1:9/hooks/shinan"
        assert crews["crew-shibei"].webhook_url is None and crews["crew-shibei"].districts == [
            "shibei",
            "licang",
        ]
        assert (crews["ops"].role, crews["ops"].districts) == ("operators", ["*"])
        assert store.silences() == [
            Silence(
                1, None, "laoshan", "battery_low", T0 - 60 * MIN, T0 + 7 * 24 * 60 * MIN, "otto", "换电池"
            ),
            Silence(2, "st-0002", None, None, T0 - 120 * MIN, T0 - 30 * MIN, "otto", "检修"),
        ]
    finally:
        store.close()


@pytest.mark.fast
def test_the_audit_store_keeps_its_chain_progress_and_dirty_days(data_dir: Path) -> None:
    audit = AuditStore(data_dir / "audit.sqlite")
    try:
        assert audit.verify() == (8, None)
        assert audit.head() == {"seq": 8, "hash": HEAD}
        days = audit.latest(None, "2026-11-01", "2026-11-02")
        assert sorted(days) == sorted((s, d) for s in STATIONS for d in ("2026-11-01", "2026-11-02"))
        newest = days[("st-0001", "2026-11-01")]
        assert (newest["version"], newest["chain_seq"], newest["verified_open_s"], newest["visits"]) == (
            3,
            8,
            42600,
            41,
        )
        assert days[("gw-0001", "2026-11-02")]["version"] == 1
        assert audit.progress() == dict.fromkeys(STATIONS, "2026-11-03")
        assert audit.dirty() == [("st-0002", "2026-11-02")]
    finally:
        audit.close()


@pytest.mark.fast
def test_the_user_store_keeps_its_users_and_their_tokens(data_dir: Path) -> None:
    users = UserStore(data_dir / "users.sqlite")
    try:
        assert [(p.name, p.role, p.districts) for p in users.users()] == [
            ("ann", "admin", frozenset()),
            ("aud", "auditor", frozenset()),
            ("cai", "crew", frozenset({"shinan"})),
            ("otto", "operator", frozenset()),
        ]
        ann = users.by_token(TOKENS["ann"]["token"])
        assert ann is not None and (ann.name, ann.role) == ("ann", "admin")
        cai = users.by_token(TOKENS["cai"]["token"])
        assert cai is not None and (cai.role, cai.districts) == ("crew", frozenset({"shinan"}))
        assert users.by_token("yz_" + "x" * 43) is None
    finally:
        users.close()


@pytest.mark.fast
def test_the_spool_keeps_its_batch(data_dir: Path) -> None:
    spool = Spool(data_dir / "spool.sqlite")
    try:
        assert spool.pending_lines() == 3
        oldest = spool.oldest()
        assert oldest is not None and oldest[0] == 2
        lines = oldest[1].decode().splitlines()
        assert [line.split(",", 1)[0] for line in lines] == ["water_dispenser", "power_strip", "door_sensor"]
        assert "water_temp_c=92.5" in lines[0] and lines[0].endswith(" 1793667600000000041")
    finally:
        spool.close()


def test_audit_verify_finds_the_old_chain_intact(data_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "yizhan", "audit", "verify"],
        env={**os.environ, "YZ_DATA_DIR": str(data_dir)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"chain intact, 8 sealed station-days, head #8 {HEAD}" in done.stdout
    assert user_version(data_dir / "audit.sqlite") == 1


def test_a_server_serves_the_old_data(data_dir: Path, broker: Broker, influx: Influx) -> None:
    db = f"upgrade{os.getpid()}"
    httpx.post(f"{influx.url}/query", params={"q": f'CREATE DATABASE "{db}"'}, timeout=10).raise_for_status()
    server = ServerProc(broker, influx, data_dir, root=f"yzup{os.getpid()}", db=db)
    server.start()
    try:
        ann = {"Authorization": f"Bearer {TOKENS['ann']['token']}"}
        cai = {"Authorization": f"Bearer {TOKENS['cai']['token']}"}
        assert httpx.get(f"{server.url}/api/v1/stations", timeout=30).status_code == 401  # users exist

        stations = httpx.get(f"{server.url}/api/v1/stations", headers=ann, timeout=30)
        assert stations.status_code == 200, stations.text
        assert {s["id"]: s["district"] for s in stations.json()} == {
            "st-0001": "shinan",
            "st-0002": "shibei",
            "gw-0001": "laoshan",
        }
        alerts = httpx.get(f"{server.url}/api/v1/alerts", headers=ann, timeout=30)
        assert alerts.status_code == 200, alerts.text
        assert {a["id"]: (a["station"], a["rule"], a["state"]) for a in alerts.json()} == ALERTS
        mine = httpx.get(f"{server.url}/api/v1/alerts", headers=cai, timeout=30).json()
        assert [a["id"] for a in mine] == [4, 1]  # the crew sees its district only
        one = httpx.get(f"{server.url}/api/v1/alerts/1", headers=ann, timeout=30).json()
        assert [(h["kind"], h["by"]) for h in one["history"]] == [
            ("firing", None),
            ("acknowledged", "cai"),
            ("resolved", "auto"),
        ]
        assert {(d["channel"], d["state"]) for d in one["deliveries"]} == {
            ("webhook", "delivered"),
            ("mqtt", "delivered"),
        }
        # the spooled batch reaches InfluxDB once the server runs
        rows = wait_for(
            lambda: server.query('SELECT "water_temp_c" FROM "water_dispenser"'), 30, what="the spooled batch"
        )
        assert [r["water_temp_c"] for r in rows] == [92.5]
    finally:
        server.stop()
    for name, cls in FILES.items():
        assert user_version(data_dir / name) == len(cls.MIGRATIONS), name


@pytest.mark.fast
@pytest.mark.parametrize("name", FILES)
def test_a_file_from_a_newer_release_is_refused_by_name(data_dir: Path, name: str) -> None:
    cls = FILES[name]
    path = data_dir / name
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(SchemaTooNew) as refused:
        cls(path)
    message = str(refused.value)
    assert str(path) in message and "schema version 99" in message
    assert f"up to {len(cls.MIGRATIONS)}" in message
    assert user_version(path) == 99


def test_audit_verify_refuses_a_newer_chain_with_the_file_and_versions(data_dir: Path) -> None:
    path = data_dir / "audit.sqlite"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 7")
    db.close()
    done = subprocess.run(
        [sys.executable, "-m", "yizhan", "audit", "verify"],
        env={**os.environ, "YZ_DATA_DIR": str(data_dir)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    known = len(AuditStore.MIGRATIONS)
    assert f"{path}: schema version 7 is newer than this yizhan knows (up to {known})" in done.stderr
