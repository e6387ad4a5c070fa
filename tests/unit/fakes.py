"""Fakes for unit tests of pure logic."""

from typing import Any

import orjson
from yizhan.server.domain.alerts import Alert, AlertTransition
from yizhan.server.domain.fleet import Fleet
from yizhan.server.domain.station import StationSpec

T0 = 1_772_400_000_000  # 2026-03-02 05:20 UTC


class FakeClock:
    def __init__(self, now_ms: int = T0) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    def observe(self, ts_ms: int) -> None:
        pass

    def is_set(self) -> bool:
        return True


def station_spec(
    district: str = "shinan", devices: tuple[tuple[str, str], ...] | None = None, **body: Any
) -> StationSpec:
    """A registered station; `body` adds or replaces keys of the station body (lat, lon, services…)."""
    devices = devices or (
        ("door", "door_sensor"),
        ("water", "water_dispenser"),
        ("power", "power_strip"),
        ("speaker", "smart_speaker"),
        ("gw", "gateway"),
    )
    return StationSpec.model_validate(
        {
            "name": "测试驿站",
            "district": district,
            "schedule": "07:00-19:00",
            "devices": [{"id": d, "type": t} for d, t in devices],
            **body,
        }
    )


def fleet_with(*station_ids: str) -> Fleet:
    fleet = Fleet()
    for sid in station_ids:
        fleet.register(sid, station_spec())
    return fleet


def js(value: object) -> bytes:
    return orjson.dumps(value)


def alert_transition(
    kind: str = "firing",
    *,
    alert_id: int = 1,
    station: str = "st-1",
    district: str = "shinan",
    device: str | None = "water",
    rule: str = "fault:leak",
    at_ms: int = T0,
) -> AlertTransition:
    """One transition of an alert, as the alert engine hands it on to be stored and routed."""
    alert = Alert(
        id=alert_id,
        station=station,
        district=district,
        device=device,
        device_type="water_dispenser" if device == "water" else None,
        rule=rule,
        severity="critical",
        state="firing" if kind in ("firing", "reminder", "escalated") else kind,
        fired_at_ms=at_ms,
        message_zh="漏水（leak）",
        message_en="water on the floor (leak)",
    )
    return AlertTransition(kind, alert, at_ms)
