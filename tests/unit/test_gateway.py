"""Gateway adapters and the speaker of record, on the ecosystems' own payloads (pure)."""

from pathlib import Path

import orjson
import pytest
import yaml
from yizhan.gateway.adapters import AdapterError, Reading
from yizhan.gateway.adapters.esphome import EsphomeAdapter
from yizhan.gateway.adapters.tasmota import TasmotaAdapter
from yizhan.gateway.adapters.zigbee2mqtt import Zigbee2MqttAdapter
from yizhan.gateway.config import GatewayConfig
from yizhan.gateway.speaker import Speaker

pytestmark = pytest.mark.fast

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gateway"
STATION = yaml.safe_load((FIXTURES / "station.yaml").read_text())
CONFIG = GatewayConfig.model_validate(dict(STATION, uplink={"url": "mqtt://central:1883"}))


def fixture(name: str) -> list[tuple[str, bytes]]:
    return [(m["topic"], m["payload"].encode()) for m in yaml.safe_load((FIXTURES / name).read_text())]


def readings(adapter, name: str) -> list[Reading]:
    return [r for topic, payload in fixture(name) for r in adapter.translate(topic, payload)]


def test_tasmota_energy_relays_lwt_and_protection_become_protocol_fields():
    got = readings(TasmotaAdapter(CONFIG.devices[0]), "tasmota.yaml")
    assert got[0] == Reading("power", "online")
    assert got[1].data == {
        "power_w": 850.0,
        "voltage_v": 221.0,
        "current_a": 3.846,
        "energy_kwh_total": 12.345,
    }
    multi = got[2].data
    assert multi["power_w"] == 858.0 and multi["energy_kwh_total"] == pytest.approx(1.801)
    assert multi["outlets"] == [{"on": True, "power_w": 850.0}, {"on": True, "power_w": 8.0}]
    relays = [(r.data["relay"], r.data["on"]) for r in got if r.kind == "relay"]
    assert relays == [(1, True), (2, True), (3, False), (4, True)]
    assert [(r.kind, r.data["code"]) for r in got if r.kind.startswith("fault")] == [
        ("fault", "overcurrent"),
        ("fault", "undervoltage"),
    ]


def test_tasmota_full_topic_is_configurable():
    device = CONFIG.devices[0].model_copy(update={"full_topic": "site/%topic%/%prefix%/"})
    adapter = TasmotaAdapter(device)
    assert adapter.subscriptions() == ["site/tasmota_A1B2C3/tele/+", "site/tasmota_A1B2C3/stat/+"]
    assert adapter.translate("site/tasmota_A1B2C3/tele/LWT", b"Offline") == [Reading("power", "offline")]


def test_zigbee2mqtt_contact_true_means_closed_and_nulls_are_ignored():
    got = readings(Zigbee2MqttAdapter(CONFIG.devices[1]), "zigbee2mqtt.yaml")
    assert got[0] == Reading("door", "online")
    assert got[1].data == {"open": False, "battery_pct": 91.0} and got[2].data["open"] is True
    assert got[3:] == []  # nulls only: nothing to say (the leak sensor's topics are not this adapter's)
    leak = readings(Zigbee2MqttAdapter(CONFIG.devices[3]), "zigbee2mqtt.yaml")
    assert Reading("water", "online") in leak  # the legacy plain-string availability
    assert Reading("water", "fault", {"code": "leak"}) in leak


def test_esphome_states_are_mapped_to_fields():
    got = readings(EsphomeAdapter(CONFIG.devices[2]), "esphome.yaml")
    assert got == [
        Reading("water", "online"),
        Reading("water", "data", {"water_temp_c": 93.4}),
        Reading("water", "data", {"heater_on": True}),
        Reading("water", "data", {"tank_level_pct": 76.0}),
    ]


@pytest.mark.parametrize(
    ("adapter", "topic", "payload"),
    [
        (TasmotaAdapter(CONFIG.devices[0]), "tele/tasmota_A1B2C3/SENSOR", b"{not json"),
        (TasmotaAdapter(CONFIG.devices[0]), "tele/tasmota_A1B2C3/SENSOR", b'{"ENERGY":{"Power":"lots"}}'),
        (TasmotaAdapter(CONFIG.devices[0]), "tele/tasmota_A1B2C3/LWT", b"Maybe"),
        (Zigbee2MqttAdapter(CONFIG.devices[1]), "zigbee2mqtt/door_main", b"[1,2]"),
        (EsphomeAdapter(CONFIG.devices[2]), "boiler-st1/sensor/water_temperature/state", b"nan"),
        (EsphomeAdapter(CONFIG.devices[2]), "boiler-st1/binary_sensor/heater/state", b"MAYBE"),
    ],
)
def test_unreadable_local_payloads_raise_a_clear_error(adapter, topic, payload):
    with pytest.raises(AdapterError):
        adapter.translate(topic, payload)


def test_the_speaker_gives_births_seq_door_events_faults_and_the_station_state():
    s = Speaker(CONFIG, started_ms=1000)
    out = s.hear(Reading("door", "data", {"open": False}), 10_000)
    birth = orjson.loads(out[0].payload)
    assert out[0].topic == "yz/stations/st-001/door/status" and out[0].retain
    assert birth["state"] == "online" and birth["type"] == "door_sensor" and birth["boot"] == 1001
    assert orjson.loads(out[1].payload)["seq"] == 0
    out = s.hear(Reading("door", "data", {"open": True}), 11_000)
    assert [o.topic.rsplit("/", 1)[1] for o in out] == ["event", "telemetry"]
    assert orjson.loads(out[0].payload) == {
        "ts": 11_000,
        "seq": 1,
        "boot": 1001,
        "event": "door",
        "data": {"open": True},
    }
    assert s.hear(Reading("door", "data", {"open": True}), 11_500, retained=True)[0].topic.endswith(
        "telemetry"
    )
    # the water dispenser's first word: its birth, then the fault as an event, then its fault list
    out = s.hear(Reading("water", "fault", {"code": "leak"}), 12_000)
    assert [o.topic.removeprefix("yz/stations/st-001/") for o in out] == [
        "water/status",
        "water/event",
        "water/telemetry",
    ]
    fault = orjson.loads(out[1].payload)
    assert (fault["event"], fault["data"], fault["ts"]) == ("fault", {"code": "leak"}, 12_000)
    assert orjson.loads(out[-1].payload)["data"]["faults"] == ["leak"]
    state = s.hear(Reading("power", "relay", {"relay": 4, "on": True}), 13_000)
    assert state[-1].topic == "yz/stations/st-001/state" and orjson.loads(state[-1].payload)["open"] is True
    assert s.hear(Reading("power", "relay", {"relay": 4, "on": True}), 13_500) == []
    assert s.hear(Reading("power", "relay", {"relay": 1, "on": False}), 13_600) == []


def test_the_speaker_repeats_last_known_values_and_declares_silent_devices_offline():
    s = Speaker(CONFIG, started_ms=0)
    s.hear(Reading("water", "data", {"water_temp_c": 90.0}), 0)
    beat = s.tick(60_000)
    assert len(beat) == 1 and orjson.loads(beat[0].payload)["data"]["water_temp_c"] == 90.0
    death = s.tick(3 * 60_000 + 1)  # esphome: silent for 3 × interval
    assert orjson.loads(death[0].payload) == {"state": "offline", "boot": 1, "ts": 180_001}
