"""The fault catalog: known fault codes, the device type that raises them, default severity."""

from dataclasses import dataclass

SEVERITIES = ("info", "minor", "major", "critical")
UNKNOWN_FAULT_SEVERITY = "major"


@dataclass(frozen=True)
class FaultCode:
    code: str
    device_type: str
    meaning: str
    severity: str


CATALOG: dict[str, FaultCode] = {
    f.code: f
    for f in (
        FaultCode("dry_boil", "water_dispenser", "heater on with no water, protection tripped", "critical"),
        FaultCode("leak", "water_dispenser", "water on the floor", "critical"),
        FaultCode("heater", "water_dispenser", "heater does not heat", "major"),
        FaultCode("temp_sensor", "water_dispenser", "temperature sensor broken", "major"),
        FaultCode("tank_empty", "water_dispenser", "no supply water", "minor"),
        FaultCode("overcurrent", "power_strip", "over-current / over-power protection tripped", "critical"),
        FaultCode("overvoltage", "power_strip", "mains above range", "major"),
        FaultCode("undervoltage", "power_strip", "mains below range", "major"),
        FaultCode("battery_low", "door_sensor", "battery below 15 %", "minor"),
        FaultCode("tamper", "door_sensor", "sensor removed or forced", "major"),
        FaultCode("mic", "smart_speaker", "microphone fault", "minor"),
        FaultCode("audio", "smart_speaker", "audio fault", "minor"),
        FaultCode("network", "smart_speaker", "network fault", "minor"),
    )
}


def severity_of(code: str, reported: str | None = None) -> str:
    """The severity of a fault: the one reported with it, else the catalog's, else major."""
    if reported in SEVERITIES:
        return reported
    known = CATALOG.get(code)
    return known.severity if known else UNKNOWN_FAULT_SEVERITY
