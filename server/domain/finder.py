"""The public station finder: open stations nearest first, with the services they can give now."""

import math
from dataclasses import dataclass

from yizhan.server.domain.fleet import StationLive

EARTH_RADIUS_M = 6_371_000.0
# a service needs its device online and free of faults; the others need only an open station
SERVICE_DEVICES = {"water": "water_dispenser", "heat_food": "power_strip", "charging": "power_strip"}


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def services_now(live: StationLive) -> list[str]:
    """The declared services the station can give right now."""
    working = {d.type for d in live.devices.values() if d.online and not d.faults}
    return [s for s in live.spec.services if SERVICE_DEVICES.get(s) in (None, *working)]


@dataclass(frozen=True)
class Nearby:
    live: StationLive
    distance_m: float


def nearby(stations: list[StationLive], lat: float, lon: float, limit: int) -> list[Nearby]:
    """Open stations with coordinates, nearest first."""
    found = [
        Nearby(s, distance_m(lat, lon, s.spec.lat, s.spec.lon))
        for s in stations
        if s.is_open() and s.spec.lat is not None and s.spec.lon is not None
    ]
    found.sort(key=lambda n: n.distance_m)
    return found[:limit]
