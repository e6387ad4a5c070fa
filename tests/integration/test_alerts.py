"""Alerts over real MQTT: every rule fires and resolves, and the crew hears of it by a signed
webhook, on the MQTT alert topic and on the SSE stream."""

import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.alerting_peers import MqttAlertWatcher, SseClient, WebhookReceiver
from tests.conftest import STATION_BODY, Publisher, ServerProc, shared_server, wait_for
from yizhan.localstack import Broker, Influx

SECRET = "s3cret-王"
FAST = {"pending_s": {"device_offline": 1, "water_cold": 1, "mains_voltage": 1, "station_dark": 1},
        "clear_s": {"device_offline": 0, "water_cold": 0, "mains_voltage": 0, "station_dark": 0}}  # fmt: skip


def now() -> int:
    return int(time.time() * 1000)


def birth(boot: int, interval_s: int = 60) -> dict:
    return {"state": "online", "ts": now(), "type": "x", "boot": boot, "interval_s": interval_s}


class AlertRig:
    """One server with a crew's webhook, an MQTT alert subscriber and an SSE client attached."""

    def __init__(self, server: ServerProc, broker: Broker) -> None:
        self.server = server
        self.hook = WebhookReceiver()
        crew = {"name": "市南维修一组", "districts": ["shinan"], "webhook_url": self.hook.url("/crew"),
                "secret": SECRET}  # fmt: skip
        assert httpx.put(f"{server.url}/api/v1/crews/crew-1", json=crew).status_code == 201
        ops = {"name": "市南区总工会", "districts": ["shinan"], "webhook_url": self.hook.url("/ops"),
               "role": "operators"}  # fmt: skip
        assert httpx.put(f"{server.url}/api/v1/crews/ops", json=ops).status_code == 201
        self.mqtt = MqttAlertWatcher(broker, server.root)
        self.sse = SseClient(f"{server.url}/api/v1/alerts/stream").start()
        self.device = Publisher(broker)
        self.seq: dict[tuple[str, str], int] = {}

    def station(self, sid: str, **alerts: Any) -> str:
        body = dict(STATION_BODY, schedule="24h", alerts=dict(FAST, **alerts))
        assert self.server.put_station(sid, body).status_code in (200, 201)
        return sid

    def send(self, sid: str, device: str, kind: str, payload: dict, retain: bool = False) -> None:
        if kind in ("telemetry", "event"):
            n = self.seq.get((sid, device), 0)
            self.seq[(sid, device)] = n + 1
            payload = {"ts": now(), "seq": n, "boot": 1, **payload}
        self.device.publish(
            self.server.topic(sid, device if kind != "state" else None, kind), payload, retain
        )

    def alerts(self, sid: str) -> list[dict]:
        return self.server.get("/api/v1/alerts", station=sid).json()

    def wait_state(self, sid: str, rule: str, state: str) -> dict:
        def found() -> dict | None:
            return next((a for a in self.alerts(sid) if a["rule"] == rule and a["state"] == state), None)

        return wait_for(found, 15, what=f"{sid} {rule} {state}")

    def close(self) -> None:
        self.sse.stop()
        self.mqtt.close()
        self.device.close()
        self.hook.stop()


@pytest.fixture(scope="module")
def rig(broker: Broker, influx: Influx, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertRig]:
    tmp = tmp_path_factory.mktemp("alerts")
    server = shared_server(broker, influx, tmp, "alerts")
    r = AlertRig(server, broker)
    yield r
    r.close()
    server.stop()


def drive_fault_event(r: AlertRig, sid: str) -> str:
    r.send(sid, "water", "event", {"event": "fault", "data": {"code": "dry_boil"}})
    r.wait_state(sid, "fault:dry_boil", "firing")
    r.send(sid, "water", "event", {"event": "fault_cleared", "data": {"code": "dry_boil"}})
    return "fault:dry_boil"


def drive_fault_telemetry(r: AlertRig, sid: str) -> str:
    r.send(sid, "power", "telemetry", {"data": {"voltage_v": 220.0, "faults": ["overcurrent"]}})
    r.wait_state(sid, "fault:overcurrent", "firing")
    r.send(sid, "power", "telemetry", {"data": {"voltage_v": 220.0, "faults": []}})
    return "fault:overcurrent"


def drive_offline_by_death(r: AlertRig, sid: str) -> str:
    r.send(sid, "speaker", "status", birth(5), retain=True)
    r.send(sid, "speaker", "status", {"state": "offline", "boot": 5}, retain=True)
    r.wait_state(sid, "device_offline", "firing")
    r.send(sid, "speaker", "status", birth(6), retain=True)
    return "device_offline"


def drive_offline_by_silence(r: AlertRig, sid: str) -> str:
    r.send(sid, "door", "status", birth(1, interval_s=1), retain=True)
    r.send(sid, "door", "telemetry", {"data": {"open": False}})
    r.wait_state(sid, "device_offline", "firing")  # 3 s of silence, then 1 s pending
    r.send(sid, "door", "telemetry", {"data": {"open": False}})
    return "device_offline"


def drive_water_cold(r: AlertRig, sid: str) -> str:
    r.send(sid, "water", "telemetry", {"data": {"heater_on": True, "water_temp_c": 41.5}})
    r.wait_state(sid, "water_cold", "firing")
    r.send(sid, "water", "telemetry", {"data": {"heater_on": True, "water_temp_c": 96.0}})
    return "water_cold"


def drive_mains_voltage(r: AlertRig, sid: str) -> str:
    r.send(sid, "power", "telemetry", {"data": {"voltage_v": 251.0}})
    r.wait_state(sid, "mains_voltage", "firing")
    r.send(sid, "power", "telemetry", {"data": {"voltage_v": 221.0}})
    return "mains_voltage"


def drive_battery_low(r: AlertRig, sid: str) -> str:
    r.send(sid, "door", "telemetry", {"data": {"battery_pct": 9.0}})
    r.wait_state(sid, "battery_low", "firing")
    r.send(sid, "door", "telemetry", {"data": {"battery_pct": 100.0}})
    return "battery_low"


def drive_station_dark(r: AlertRig, sid: str) -> str:
    r.send(sid, None, "state", {"ts": now(), "seq": 1, "open": True, "source": "staff"}, retain=True)
    for d in ("door", "water", "power", "speaker"):
        r.send(sid, d, "status", birth(1), retain=True)
    for d in ("door", "water", "power", "speaker"):
        r.send(sid, d, "status", {"state": "offline", "boot": 1}, retain=True)
    r.wait_state(sid, "station_dark", "firing")
    r.send(sid, "water", "status", birth(2), retain=True)
    return "station_dark"


RULES = [
    drive_fault_event,
    drive_fault_telemetry,
    drive_offline_by_death,
    drive_offline_by_silence,
    drive_water_cold,
    drive_mains_voltage,
    drive_battery_low,
    drive_station_dark,
]


@pytest.mark.parametrize("drive", RULES, ids=[d.__name__[6:] for d in RULES])
def test_every_rule_fires_resolves_and_reaches_the_crew_three_ways(rig: AlertRig, drive) -> None:
    sid = rig.station(f"st-{drive.__name__[6:].replace('_', '-')}")
    rule = drive(rig, sid)
    resolved = rig.wait_state(sid, rule, "resolved")
    assert resolved["resolved_by"] == "auto" and resolved["district"] == "shinan"
    assert sid in resolved["message"]["zh"] and sid in resolved["message"]["en"]
    aid = resolved["id"]

    def crew_kinds() -> list[str]:
        return [b["kind"] for b in rig.hook.bodies("/crew") if b["alert"]["id"] == aid]

    wait_for(lambda: crew_kinds() == ["firing", "resolved"], what="webhook firing then resolved")
    posts = [r for r in rig.hook.received if r.path == "/crew" and r.json()["alert"]["id"] == aid]
    for post in posts:
        want = "sha256=" + hmac.new(SECRET.encode(), post.body, hashlib.sha256).hexdigest()
        assert post.headers["X-Yizhan-Signature"] == want
        assert post.json()["alert"]["rule"] == rule and post.json()["alert"]["station"] == sid

    def mqtt_kinds() -> list[str]:
        return [p["kind"] for t, p in rig.mqtt.messages if p["alert"]["id"] == aid]

    wait_for(lambda: mqtt_kinds() == ["firing", "resolved"], what="MQTT firing then resolved")
    topics = {t for t, p in rig.mqtt.messages if p["alert"]["id"] == aid}
    assert topics == {f"{rig.server.root}/alerts/shinan/{sid}"}

    def sse_kinds() -> list[str]:
        return [e["kind"] for e in rig.sse.events if e["alert"]["id"] == aid]

    wait_for(lambda: sse_kinds() == ["firing", "resolved"], what="SSE firing then resolved")

    q = f'SELECT "state", "alert_id" FROM "alerts" WHERE "station" = \'{sid}\' AND "rule" = \'{rule}\''
    rows = wait_for(lambda: len(r := rig.server.query(q)) == 2 and r, what="alert transitions in InfluxDB")
    assert [r["state"] for r in rows] == ["firing", "resolved"] and {r["alert_id"] for r in rows} == {aid}


def test_a_fault_reported_by_telemetry_and_by_event_is_one_alert(rig: AlertRig) -> None:
    sid = rig.station("st-both")
    rig.send(sid, "water", "event", {"event": "fault", "data": {"code": "leak"}})
    rig.send(sid, "water", "telemetry", {"data": {"faults": ["leak"]}})
    rig.send(sid, "water", "event", {"event": "fault", "data": {"code": "leak"}})
    rig.wait_state(sid, "fault:leak", "firing")
    rig.send(sid, "water", "telemetry", {"data": {"faults": []}})
    rig.wait_state(sid, "fault:leak", "resolved")
    assert len(rig.alerts(sid)) == 1


def test_acknowledge_and_resolve_by_hand_with_who_and_a_note(rig: AlertRig) -> None:
    sid = rig.station("st-manual")
    rig.send(sid, "power", "event", {"event": "fault", "data": {"code": "undervoltage"}})
    alert = rig.wait_state(sid, "fault:undervoltage", "firing")
    url = f"{rig.server.url}/api/v1/alerts/{alert['id']}"
    acked = httpx.post(f"{url}/ack", json={"by": "王师傅", "note": "在路上"}).json()
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "王师傅"
    done = httpx.post(f"{url}/resolve", json={"by": "王师傅", "note": "换了插座"}).json()
    assert done["state"] == "resolved" and done["resolved_by"] == "王师傅" and done["note"] == "换了插座"
    again = httpx.post(f"{url}/ack", json={"by": "x"})
    assert again.status_code == 409 and "not open" in again.json()["detail"]
    assert httpx.post(f"{rig.server.url}/api/v1/alerts/999999/ack", json={"by": "x"}).status_code == 404
    assert httpx.post(f"{url}/ack", json={"note": "no by"}).status_code == 422
    full = httpx.get(url).json()
    assert [h["kind"] for h in full["history"]] == ["firing", "acknowledged", "resolved"]
    assert full["history"][1]["note"] == "在路上"
    wait_for(lambda: all(d["state"] == "delivered" for d in httpx.get(url).json()["deliveries"]), what="sent")
    crew = [b["kind"] for b in rig.hook.bodies("/crew") if b["alert"]["id"] == alert["id"]]
    assert crew == ["firing", "acknowledged", "resolved"]


def test_crews_are_listed_without_their_secret_and_bad_bodies_are_refused(rig: AlertRig) -> None:
    crew = httpx.get(f"{rig.server.url}/api/v1/crews/crew-1").json()
    assert crew["has_secret"] is True and "secret" not in crew and crew["districts"] == ["shinan"]
    bad = httpx.put(f"{rig.server.url}/api/v1/crews/c2", json={"name": "x", "districts": ["Bad District"]})
    assert bad.status_code == 422 and "districts" in bad.text
    assert httpx.get(f"{rig.server.url}/api/v1/crews/nobody").status_code == 404


def test_a_silenced_station_raises_alerts_but_notifies_nobody(rig: AlertRig) -> None:
    sid = rig.station("st-silenced")
    ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    made = httpx.post(
        f"{rig.server.url}/api/v1/silences",
        json={"station": sid, "ends_at": ends, "by": "调度", "note": "计划检修"},
    )
    assert made.status_code == 201, made.text
    rig.send(sid, "water", "event", {"event": "fault", "data": {"code": "tank_empty"}})
    alert = rig.wait_state(sid, "fault:tank_empty", "firing")
    time.sleep(1.0)
    assert not [b for b in rig.hook.bodies() if b["alert"]["id"] == alert["id"]]
    assert not [p for _, p in rig.mqtt.messages if p["alert"]["id"] == alert["id"]]
    sse = wait_for(lambda: [e for e in rig.sse.events if e["alert"]["id"] == alert["id"]], what="SSE")
    assert sse[0]["silenced_by"] == made.json()["id"]
    past = {"station": sid, "ends_at": "2020-01-01T00:00:00Z", "by": "x"}
    assert httpx.post(f"{rig.server.url}/api/v1/silences", json=past).status_code == 422
    assert (
        httpx.post(f"{rig.server.url}/api/v1/silences", json={"ends_at": ends, "by": "x"}).status_code == 422
    )
