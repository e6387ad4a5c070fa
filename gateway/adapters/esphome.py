"""ESPHome nodes: `<node>/status` online/offline, `<node>/sensor/<name>/state` plain numbers,
`<node>/binary_sensor/<name>/state` and `<node>/switch/<name>/state` ON/OFF, mapped to protocol
fields by the device's `map` (field: entity name)."""

from yizhan.gateway.adapters import AdapterError, Reading, ReadingKind, parse_number, parse_on_off
from yizhan.gateway.config import DeviceConfig


class EsphomeAdapter:
    def __init__(self, device: DeviceConfig) -> None:
        self.device = device
        self._fields = {entity: field for field, entity in device.map.items()}

    def subscriptions(self) -> list[str]:
        node = self.device.node
        return [
            f"{node}/status",
            f"{node}/sensor/+/state",
            f"{node}/binary_sensor/+/state",
            f"{node}/switch/+/state",
        ]

    def translate(self, topic: str, payload: bytes) -> list[Reading]:
        d, node = self.device.id, self.device.node
        if topic == f"{node}/status":
            text = payload.decode(errors="replace").strip()
            if text not in ("online", "offline"):
                raise AdapterError(f"status is {text[:20]!r}, not online/offline")
            return [Reading(d, ReadingKind(text))]
        parts = topic.split("/")
        if len(parts) != 4 or parts[0] != node or parts[3] != "state":
            return []
        field = self._fields.get(parts[2])
        if field is None:
            return []  # an entity nobody mapped
        value = parse_number(payload) if parts[1] == "sensor" else parse_on_off(payload)
        return [Reading(d, ReadingKind.DATA, {field: value})]
