"""Tasmota (metering plugs and strips): SENSOR energy, STATE relays, LWT, power warnings, margins.

Topics follow the device's FullTopic (default `%prefix%/%topic%/`), prefixes `tele` and `stat`.
"""

from typing import Any

from yizhan.gateway.adapters import AdapterError, Reading, ReadingKind, parse_object
from yizhan.gateway.config import DeviceConfig

# MARGINS keys → protocol fault codes
MARGIN_FAULTS = {
    "PowerHigh": "overcurrent",
    "CurrentHigh": "overcurrent",
    "VoltageHigh": "overvoltage",
    "VoltageLow": "undervoltage",
}


class TasmotaAdapter:
    def __init__(self, device: DeviceConfig) -> None:
        self.device = device
        self._pattern = device.full_topic.replace("%topic%", device.topic or "").rstrip("/")

    def _topic(self, prefix: str, suffix: str) -> str:
        return f"{self._pattern.replace('%prefix%', prefix)}/{suffix}"

    def subscriptions(self) -> list[str]:
        return [self._topic("tele", "+"), self._topic("stat", "+")]

    def translate(self, topic: str, payload: bytes) -> list[Reading]:
        d = self.device.id
        if topic == self._topic("tele", "LWT"):
            text = payload.decode(errors="replace").strip()
            if text not in ("Online", "Offline"):
                raise AdapterError(f"LWT is {text[:20]!r}, not Online/Offline")
            return [Reading(d, ReadingKind.ONLINE if text == "Online" else ReadingKind.OFFLINE)]
        if topic == self._topic("tele", "SENSOR"):
            energy = parse_object(payload).get("ENERGY")
            if energy is None:
                return []
            if not isinstance(energy, dict):
                raise AdapterError("ENERGY is not an object")
            return [Reading(d, ReadingKind.DATA, _energy(energy))]
        if topic in (self._topic("tele", "STATE"), self._topic("stat", "RESULT")):
            relays = _relays(parse_object(payload))
            return [Reading(d, ReadingKind.RELAY, {"relay": n, "on": on}) for n, on in relays]
        if topic == self._topic("stat", "WARNING"):
            body = parse_object(payload)
            return (
                [Reading(d, ReadingKind.FAULT, {"code": "overcurrent"})] if "MaxPowerReached" in body else []
            )
        if topic == self._topic("tele", "MARGINS"):
            margins = parse_object(payload).get("MARGINS", {})
            if not isinstance(margins, dict):
                raise AdapterError("MARGINS is not an object")
            out = []
            for key, code in MARGIN_FAULTS.items():
                if key in margins:
                    kind = ReadingKind.FAULT if margins[key] == "ON" else ReadingKind.FAULT_CLEARED
                    out.append(Reading(d, kind, {"code": code}))
            return out
        return []


def _numbers(value: Any, key: str) -> list[float]:
    """A value that is a number or, on multi-channel devices, an array of numbers."""
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        raise AdapterError(f"ENERGY.{key} is not a number or an array of numbers")
    return [float(v) for v in values]


def _energy(energy: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if "Power" in energy:
        powers = _numbers(energy["Power"], "Power")
        data["power_w"] = sum(powers)
        if len(powers) > 1:
            data["outlets"] = [{"on": p > 0, "power_w": p} for p in powers]
    if "Voltage" in energy:
        volts = _numbers(energy["Voltage"], "Voltage")
        data["voltage_v"] = max(volts)
    if "Current" in energy:
        data["current_a"] = sum(_numbers(energy["Current"], "Current"))
    if "Total" in energy:
        data["energy_kwh_total"] = sum(_numbers(energy["Total"], "Total"))
    return data


def _relays(body: dict[str, Any]) -> list[tuple[int, bool]]:
    out = []
    for key, value in body.items():
        if key == "POWER" or (key.startswith("POWER") and key[5:].isdigit()):
            if value not in ("ON", "OFF"):
                raise AdapterError(f"{key} is {value!r}, not ON/OFF")
            out.append((int(key[5:] or 1), value == "ON"))
    return out
