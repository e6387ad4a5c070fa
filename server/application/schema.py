"""The InfluxDB schema, declared once: measurements, their tags and fields (docs/contract.md "InfluxDB").

Ingest writes by it, the queries read by it, and tests/unit/test_influx_schema.py holds it to the
contract's schema table.
"""

from dataclasses import dataclass
from enum import StrEnum


class Measurement(StrEnum):
    DOOR_SENSOR = "door_sensor"
    WATER_DISPENSER = "water_dispenser"
    POWER_STRIP = "power_strip"
    SMART_SPEAKER = "smart_speaker"
    GATEWAY = "gateway"
    OTHER = "other"  # telemetry of a device type the server does not know
    EVENTS = "events"
    STATION_STATE = "station_state"
    DEVICE_STATUS = "device_status"
    STATION_STATUS = "station_status"
    ALERTS = "alerts"


# one point per accepted telemetry message, by the device's registered type
TELEMETRY = (
    Measurement.DOOR_SENSOR,
    Measurement.WATER_DISPENSER,
    Measurement.POWER_STRIP,
    Measurement.SMART_SPEAKER,
    Measurement.GATEWAY,
    Measurement.OTHER,
)


@dataclass(frozen=True)
class Shape:
    """What a point of a measurement carries: tags always present, tags present when they apply,
    and the fields that are not the payload's own data."""

    tags: tuple[str, ...]
    optional_tags: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    optional_fields: tuple[str, ...] = ()


_TELEMETRY_SHAPE = Shape(("station", "device", "district"), ("type",), ("seq", "boot"), ("clock_skew",))

SCHEMA: dict[Measurement, Shape] = {
    **dict.fromkeys(TELEMETRY, _TELEMETRY_SHAPE),
    Measurement.EVENTS: Shape(
        ("station", "device", "district", "type", "event"), (), ("seq", "boot"), ("clock_skew",)
    ),
    Measurement.STATION_STATE: Shape(("station", "district"), ("source",), ("open",), ("seq", "clock_skew")),
    Measurement.DEVICE_STATUS: Shape(
        ("station", "device", "district"), (), ("online", "reason"), ("boot", "interval_s")
    ),
    Measurement.STATION_STATUS: Shape(
        ("station", "district"), (), ("reported_open", "open", "devices_online")
    ),
    Measurement.ALERTS: Shape(
        ("station", "district", "rule", "severity"),
        ("device",),
        ("state", "alert_id", "message", "message_en"),
        ("by",),
    ),
}


def influxql_list(measurements: tuple[Measurement, ...]) -> str:
    """Several measurements for one InfluxQL FROM clause."""
    return ",".join(f'"{m}"' for m in measurements)
