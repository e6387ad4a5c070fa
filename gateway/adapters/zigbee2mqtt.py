"""Zigbee2MQTT devices: `<base>/<name>` JSON state and `<base>/<name>/availability`.

`contact: true` means the door is CLOSED. Keys may be missing or null. Availability is JSON
`{"state": "online"}` or, in older versions, the plain string `online`.
"""

from typing import Any

from yizhan.gateway.adapters import AdapterError, Reading, ReadingKind, parse_object
from yizhan.gateway.config import DeviceConfig

# boolean keys → protocol fault codes
FLAG_FAULTS = {"water_leak": "leak", "battery_low": "battery_low", "tamper": "tamper"}


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
            return [Reading(d, ReadingKind(state))]
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
        out = [Reading(d, ReadingKind.DATA, data)] if data else []
        for (
            key,
            code,
        ) in FLAG_FAULTS.items():  # true raises the fault, false clears it, anything else says nothing
            flag = body.get(key)
            if isinstance(flag, bool):
                out.append(
                    Reading(d, ReadingKind.FAULT if flag else ReadingKind.FAULT_CLEARED, {"code": code})
                )
        return out
