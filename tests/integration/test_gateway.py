"""The station gateway over two real mosquittos: the ecosystems' payloads on the station's local
broker come out as docs/protocol.md on the central one; malformed ones are skipped; an uplink outage
with a gateway restart in the middle loses nothing and doubles nothing."""

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.payloads import build_telemetry
from yizhan.protocol.topics import TopicKind, device_topic, state_topic

from tests.conftest import STATION_BODY, Publisher, ServerProc, wait_for
from tests.gateways import FIXTURES, GatewayProc
from yizhan.localstack import Broker

OUTAGE_S = 120  # a two-minute uplink outage


class Watcher:
    def __init__(self, broker: Broker, root: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{root}")
        ready = threading.Event()
        self.client.on_connect = lambda c, *a: c.subscribe(f"{root}/#", qos=1)
        self.client.on_subscribe = lambda *a: ready.set()
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload, bool(m.retain)))
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert ready.wait(10)

    def json(self, suffix: str) -> list[dict]:
        return [json.loads(p) for t, p, _ in list(self.messages) if t.endswith(suffix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def replay(device: Publisher, name: str) -> None:
    for m in yaml.safe_load((FIXTURES / name).read_text()):
        retained = m["topic"].endswith(("/LWT", "/availability", "/status"))
        device.publish(m["topic"], m["payload"].encode(), retain=retained)


def test_ecosystem_payloads_come_out_as_the_protocol_on_the_central_broker(
    tmp_path: Path, local: Broker, broker: Broker, gateways: list[GatewayProc]
) -> None:
    root = "yzgwa"
    watch = Watcher(broker, root)
    gw = GatewayProc.fixture_station(tmp_path, local, broker, root).start()
    gateways.append(gw)
    device = Publisher(local)
    try:
        wait_for(lambda: watch.json("/gateway/status"), what="the gateway's birth")
        for name in ("tasmota.yaml", "zigbee2mqtt.yaml", "esphome.yaml"):
            replay(device, name)
        native = build_telemetry(
            DeviceType.SMART_SPEAKER, ts=int(time.time() * 1000), seq=7, boot=42, data={"volume_pct": 40}
        )
        native_topic = device_topic("st-001", "speaker", TopicKind.TELEMETRY, root)
        device.publish(native_topic, native)
        device.publish("tele/tasmota_A1B2C3/SENSOR", b"{garbage")  # counted and skipped
        # readable, but no tank is 150 % full: the server would reject it, so the gateway says nothing
        device.publish("boiler-st1/sensor/tank_level/state", b"150")
        device.publish("tele/tasmota_A1B2C3/SENSOR", b'{"ENERGY":{"Power":1200,"Total":12.5}}')

        wait_for(
            lambda: any(t.get("data", {}).get("power_w") == 1200.0 for t in watch.json("power/telemetry")),
            what="the good SENSOR after the garbage",
        )
        births = {t.split("/")[3]: json.loads(p) for t, p, _ in watch.messages if t.endswith("/status")}
        assert {"power", "door", "water", "gateway"} <= set(births)
        assert births["water"]["type"] == "water_dispenser" and births["gateway"]["type"] == "gateway"
        power = watch.json("power/telemetry")
        assert power[0]["data"]["power_w"] == 850.0 and power[0]["data"]["energy_kwh_total"] == 12.345
        assert [e["data"] for e in watch.json("door/event")] == [{"open": True}]  # contact false = open
        faults = [
            (e["event"], e["data"]["code"]) for e in watch.json("/event") if e["event"].startswith("fault")
        ]
        assert ("fault", "leak") in faults and ("fault", "overcurrent") in faults
        water = {k: v for t in watch.json("water/telemetry") for k, v in t["data"].items()}
        assert water["water_temp_c"] == 93.4 and water["heater_on"] is True and "leak" in water["faults"]
        state = watch.json(state_topic("st-001", root))
        assert state[-1]["open"] is True and state[-1]["source"] == "staff"
        passed = [p for t, p, _ in watch.messages if t == native_topic]
        assert passed == [native]  # native devices pass through untouched
        seqs = [t["seq"] for t in watch.json("door/telemetry")]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert gw.alive() and "skipped tele/tasmota_A1B2C3/SENSOR" in gw.log.read_text()
        assert "refused data from boiler-st1/sensor/tank_level/state" in gw.log.read_text()
        assert all(t["data"].get("tank_level_pct") != 150 for t in watch.json("water/telemetry"))
        gw.stop()  # a clean shutdown: its death carries the boot of its birth, or the server ignores it
        deaths = wait_for(
            lambda: [m for m in watch.json("/gateway/status") if m["state"] == "offline"], what="its death"
        )
        assert deaths == [{"state": "offline", "boot": births["gateway"]["boot"]}]
    finally:
        device.close()
        watch.close()


def test_an_uplink_outage_with_a_gateway_restart_loses_and_doubles_nothing(
    tmp_path: Path, local: Broker, make_server: Callable[..., ServerProc], gateways: list[GatewayProc]
) -> None:
    central = Broker(tmp_path / "central-mosquitto").start()
    try:
        # the server's default per-station budget: the gateway's replay must pace itself under it
        server = make_server(start=False, YZ_STATION_MAX_RATE="50", YZ_STATION_BURST="500")
        server.broker = central
        server.start()
        body = dict(STATION_BODY, devices=[*STATION_BODY["devices"], {"id": "gateway", "type": "gateway"}])
        server.put_station("st-001", body)
        gw = GatewayProc.fixture_station(tmp_path, local, central, server.root).start()
        gateways.append(gw)
        # readings count from when the gateway listens (its local session keeps them from then on)
        wait_for(gw.listening, 20, what="the gateway listening")
        wait_for(
            lambda: server.get("/api/v1/stations/st-001").json()["devices_online"] >= 1, what="its birth"
        )
        device = Publisher(local, client_id="boiler-st1")
        device.publish("boiler-st1/status", b"online", retain=True)
        sent = 0

        def temperature() -> None:
            nonlocal sent
            device.publish("boiler-st1/sensor/water_temperature/state", f"{90 + sent % 10}.5".encode())
            sent += 1
            time.sleep(0.25)

        for _ in range(20):
            temperature()
        central.stop()
        outage = time.monotonic()
        restarted = False
        while time.monotonic() - outage < OUTAGE_S:
            temperature()
            if not restarted and time.monotonic() - outage >= OUTAGE_S / 2:
                restarted = True
                gw.stop()  # the gateway restarts during the outage: its spool is on disk
                gw.start()
        central.start()
        for _ in range(20):
            temperature()

        def stored() -> list[dict]:
            return server.query('SELECT "seq", "boot", "water_temp_c" FROM "water_dispenser"')

        try:
            rows = wait_for(
                lambda: len(r := stored()) >= sent and r, 90, interval_s=1, what=f"{sent} readings"
            )
        except AssertionError as exc:
            metrics = [x for x in server.get("/metrics").text.splitlines() if x.startswith("yz_messages")]
            seqs: dict[int, list[int]] = {}
            for r in stored():
                seqs.setdefault(r["boot"], []).append(r["seq"])
            gaps = {
                b: (min(v), max(v), len(v), sorted(set(range(max(v) + 1)) - set(v))) for b, v in seqs.items()
            }
            raise AssertionError(f"{exc}; stored {len(stored())}; {gaps}; {metrics}") from None
        assert len(rows) == sent  # every reading once: none lost, none doubled
        assert server.metric("yz_messages_rejected_total", reason="rate_limited") == 0
        by_boot: dict[int, list[int]] = {}
        for r in rows:  # in time order
            by_boot.setdefault(r["boot"], []).append(r["seq"])
        assert len(by_boot) >= 2, "the restarted gateway speaks with a new boot"
        for seqs in by_boot.values():
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        device.close()
    finally:
        central.stop()
