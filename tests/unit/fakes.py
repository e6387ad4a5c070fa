"""Fakes for unit tests of pure logic."""

import orjson
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


def station_spec(district: str = "shinan", devices: tuple[tuple[str, str], ...] | None = None) -> StationSpec:
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
        }
    )


def fleet_with(*station_ids: str) -> Fleet:
    fleet = Fleet()
    for sid in station_ids:
        fleet.register(sid, station_spec())
    return fleet


def js(value: object) -> bytes:
    return orjson.dumps(value)
