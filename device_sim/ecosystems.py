"""Simulated stations built from off-the-shelf parts: the power strip speaks Tasmota, the door
sensor Zigbee2MQTT, the boiler ESPHome (its leak sensor Zigbee2MQTT), the speaker docs/protocol.md.

The station's docs/protocol.md messages are re-spoken at the moment they are sent, in real time, as
those devices would: no timestamps (the gateway stamps what it hears), Tasmota's local `Time`,
and the native speaker stamped by its own clock. Staff open and close the station with relay 4
of the strip. A gateway config per station is written alongside (`gateway_config`).
"""

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from yizhan.device_sim.profiles import DEVICES
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.events import EventName
from yizhan.protocol.payloads import (
    Birth,
    build_birth,
    build_death,
    build_event,
    build_telemetry,
    decode_event,
    decode_station_state,
    decode_status,
    decode_telemetry,
)
from yizhan.protocol.topics import TopicError, TopicKind, parse_station_topic

STATE_RELAY = 4
MARGINS = {"overcurrent": "PowerHigh", "undervoltage": "VoltageLow"}
DOOR_FAULTS = ("battery_low", "tamper")

Message = tuple[str, bytes, bool]  # topic, payload, retain


def names(station: str) -> dict[str, str]:
    return {
        "tasmota": f"tasmota_{station}",
        "door": f"door_{station}",
        "leak": f"leak_{station}",
        "esphome": f"boiler-{station}",
    }


def with_gateway(body: dict) -> dict:
    """A station's registration body with its gateway as a device (it speaks for itself too)."""
    return {**body, "devices": [*body["devices"], {"id": "gateway", "type": DeviceType.GATEWAY}]}


def gateway_config(station: str, root: str, local_url: str, uplink: dict[str, Any], spool: str) -> dict:
    """The `yizhan gateway --config` body for one ecosystem station (plain strings: it is written
    as YAML, whose safe dumper takes no enums)."""
    n = names(station)
    types = {device: t.value for device, t in DEVICES}
    return {
        "station": station,
        "root": root,
        "local": {"url": local_url},
        "uplink": {"client_id": f"gateway-{station}", **uplink},
        "spool": {"path": spool},
        "state": {"device": "power", "relay": STATE_RELAY},
        "devices": [
            {"id": "power", "type": types["power"], "source": "tasmota", "topic": n["tasmota"]},
            {"id": "door", "type": types["door"], "source": "zigbee2mqtt", "name": n["door"]},
            {
                "id": "water",
                "type": types["water"],
                "source": "esphome",
                "node": n["esphome"],
                "map": {
                    "water_temp_c": "water_temperature",
                    "tank_level_pct": "tank_level",
                    "heater_on": "heater",
                    "dispensed_l_total": "dispensed_total",
                },
            },
            {"id": "water", "type": types["water"], "source": "zigbee2mqtt", "name": n["leak"]},
            {"id": "speaker", "type": types["speaker"], "source": "native"},
        ],
    }


class EcosystemVoices:
    """Re-speaks docs/protocol.md messages of simulated stations in their devices' own formats."""

    def __init__(self, root: str, timezone: str) -> None:
        self.root = root
        self.tz = ZoneInfo(timezone)
        self._power_online: dict[str, bool] = {}
        self._door: dict[str, dict[str, Any]] = {}  # last Zigbee2MQTT state per station

    def speak(self, topic: str, payload: bytes, retain: bool) -> list[Message]:
        try:
            t = parse_station_topic(topic, self.root)
        except TopicError:
            return [(topic, payload, retain)]
        n = names(t.station)
        if t.kind is TopicKind.STATE:
            if not self._power_online.get(t.station):
                return []  # the strip is unplugged: its relay tells nobody
            relay = {f"POWER{STATE_RELAY}": "ON" if decode_station_state(payload).open else "OFF"}
            return [(f"stat/{n['tasmota']}/RESULT", orjson.dumps(relay), False)]
        if t.device == "speaker":  # native: its own clock, now
            return [(topic, _restamped(t.kind, payload, int(time.time() * 1000)), retain)]
        if t.device == "power":
            return self._tasmota(t.station, t.kind, payload, n["tasmota"])
        if t.device == "door":
            return self._zigbee_door(t.station, t.kind, payload, n["door"])
        if t.device == "water":
            return self._esphome(t.kind, payload, n)
        return []

    def _tasmota(self, station: str, kind: TopicKind, payload: bytes, name: str) -> list[Message]:
        if kind is TopicKind.STATUS:
            online = isinstance(decode_status(payload), Birth)
            self._power_online[station] = online
            return [(f"tele/{name}/LWT", b"Online" if online else b"Offline", True)]
        local = datetime.now(self.tz).strftime("%Y-%m-%dT%H:%M:%S")
        if kind is TopicKind.TELEMETRY:
            d = decode_telemetry(payload, DeviceType.POWER_STRIP).data
            energy = {
                "Total": round(d.energy_kwh_total, 5),  # EnergyRes 5
                "Power": round(d.power_w),
                "Voltage": round(d.voltage_v),
                "Current": round(d.current_a, 3),
            }
            relays = {f"POWER{i + 1}": "ON" if o.on else "OFF" for i, o in enumerate(d.outlets)}
            return [
                (f"tele/{name}/SENSOR", orjson.dumps({"Time": local, "ENERGY": energy}), False),
                (f"tele/{name}/STATE", orjson.dumps({"Time": local, **relays}), False),
            ]
        event = decode_event(payload)
        if event.event in (EventName.FAULT, EventName.FAULT_CLEARED) and event.data.code in MARGINS:
            on = "ON" if event.event is EventName.FAULT else "OFF"
            margins = {"Time": local, "MARGINS": {MARGINS[event.data.code]: on}}
            return [(f"tele/{name}/MARGINS", orjson.dumps(margins), False)]
        return []

    def _zigbee_door(self, station: str, kind: TopicKind, payload: bytes, name: str) -> list[Message]:
        if kind is TopicKind.STATUS:
            state = {"state": decode_status(payload).state}
            return [(f"zigbee2mqtt/{name}/availability", orjson.dumps(state), True)]
        door = self._door.setdefault(station, {"contact": True, "linkquality": 120})
        if kind is TopicKind.TELEMETRY:
            d = decode_telemetry(payload, DeviceType.DOOR_SENSOR).data
            door.update(contact=not d.open, battery=round(d.battery_pct))
            door.update(battery_low="battery_low" in d.faults, tamper="tamper" in d.faults)
            return [(f"zigbee2mqtt/{name}", orjson.dumps(door), False)]
        event = decode_event(payload)
        if event.event is EventName.DOOR:
            door["contact"] = not event.data.open
        elif event.event in (EventName.FAULT, EventName.FAULT_CLEARED) and event.data.code in DOOR_FAULTS:
            door[event.data.code] = event.event is EventName.FAULT
        else:
            return []
        return [(f"zigbee2mqtt/{name}", orjson.dumps(door), False)]

    def _esphome(self, kind: TopicKind, payload: bytes, n: dict[str, str]) -> list[Message]:
        node = n["esphome"]
        if kind is TopicKind.STATUS:
            return [(f"{node}/status", decode_status(payload).state.encode(), True)]
        if kind is TopicKind.TELEMETRY:
            d = decode_telemetry(payload, DeviceType.WATER_DISPENSER).data
            return [
                (f"{node}/sensor/water_temperature/state", f"{d.water_temp_c:.1f}".encode(), False),
                (f"{node}/sensor/tank_level/state", f"{d.tank_level_pct:.1f}".encode(), False),
                (f"{node}/binary_sensor/heater/state", b"ON" if d.heater_on else b"OFF", False),
                (f"{node}/sensor/dispensed_total/state", f"{d.dispensed_l_total:.3f}".encode(), False),
            ]
        event = decode_event(payload)
        if event.event in (EventName.FAULT, EventName.FAULT_CLEARED) and event.data.code == "leak":
            leak = {"water_leak": event.event is EventName.FAULT, "battery": 90}
            return [(f"zigbee2mqtt/{n['leak']}", orjson.dumps(leak), False)]
        return []  # dispensing shows in the counter; other boiler faults have no entity here


def _restamped(kind: TopicKind, payload: bytes, now_ms: int) -> bytes:
    """A native device's message as its own clock stamps it now (one without `ts` stays without)."""
    if kind is TopicKind.TELEMETRY:
        m = decode_telemetry(payload, DeviceType.SMART_SPEAKER)
        return (
            payload
            if m.ts is None
            else build_telemetry(DeviceType.SMART_SPEAKER, **{**vars(m), "ts": now_ms})
        )
    if kind is TopicKind.EVENT:
        e = decode_event(payload)
        return payload if e.ts is None else build_event(**{**vars(e), "ts": now_ms})
    s = decode_status(payload)
    fields = {k: v for k, v in vars(s).items() if k != "state"}
    build = build_birth if isinstance(s, Birth) else build_death
    return payload if s.ts is None else build(**{**fields, "ts": now_ms})
