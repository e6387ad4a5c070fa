"""Zigbee2MQTT devices: `<base>/<name>` JSON state and `<base>/<name>/availability`.

`contact: true` means the door is CLOSED. Keys may be missing or null. Availability is JSON
`{"state": "online"}` or, in older versions, the plain string `online`.
"""

from typing import Any

from yizhan.gateway.adapters import AdapterError, Reading, parse_object
from yizhan.gateway.config import DeviceConfig


class Zigbee2MqttAdapter:
    def __init__(self, device: DeviceConfig) -> None:
        self.device = device
        self._state = f"{device.base}/{device.name}"

    def subscriptions(self) -> list[str]:
        return [self._state, f"{self._state}/availability"]

    def translate(self, topic: str, payload: bytes) -> list[Reading]:
        d = self.device.id
        if topic == f"{self._state}/availability":
            state = payload.decode(errors="replace").strip()
            if state.startswith("{"):
                body = parse_object(payload)
                state = body.get("state") if isinstance(body.get("state"), str) else ""
            if state not in ("online", "offline"):
                raise AdapterError(f"availability is {state[:20]!r}")
            return [Reading(d, state)]
        if topic != self._state:
            return []
        body = parse_object(payload)
        data: dict[str, Any] = {}
        contact = body.get("contact")
        if isinstance(contact, bool):
            data["open"] = not contact
        battery = body.get("battery")
        if isinstance(battery, int | float) and not isinstance(battery, bool) and 0 <= battery <= 100:
            data["battery_pct"] = float(battery)
        for field, key in self.device.map.items():
            value = body.get(key)
            if value is not None and not isinstance(value, dict | list):
                data[field] = value
        out = [Reading(d, "data", data)] if data else []
        leak = body.get("water_leak")
        if isinstance(leak, bool):
            out.append(Reading(d, "fault" if leak else "fault_cleared", {"code": "leak"}))
        if body.get("battery_low") is True:
            out.append(Reading(d, "fault", {"code": "battery_low"}))
        elif body.get("battery_low") is False:
            out.append(Reading(d, "fault_cleared", {"code": "battery_low"}))
        if body.get("tamper") is True:
            out.append(Reading(d, "fault", {"code": "tamper"}))
        elif body.get("tamper") is False:
            out.append(Reading(d, "fault_cleared", {"code": "tamper"}))
        return out
