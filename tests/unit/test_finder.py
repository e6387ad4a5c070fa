"""The public station finder (docs/contract.md § Public station finder) on the live fleet, in process:
open stations with coordinates, nearest first, with the services they can give now."""

import math

import pytest
from yizhan.protocol.payloads import Birth, Death
from yizhan.server.domain.finder import nearby, services_now
from yizhan.server.domain.fleet import Fleet

from tests.unit.fakes import T0, station_spec

pytestmark = pytest.mark.fast

HERE = (36.0671, 120.3826)
# along a meridian the great-circle distance is the Earth's radius (6,371 km) times the angle
METRES_PER_DEGREE_OF_LATITUDE = 6_371_000 * math.pi / 180  # 111,194.9 m
SERVICES = ["water", "heat_food", "rest", "toilet", "charging"]
EVERY_DEVICE = ("door", "water", "power", "speaker", "gw")


def place(
    fleet: Fleet,
    sid: str,
    north_deg: float | None,
    reported_open: bool = True,
    online: tuple[str, ...] = EVERY_DEVICE,
    services: list[str] = SERVICES,
) -> None:
    """A station `north_deg` degrees north of HERE (None: registered without coordinates), that
    says it is open or closed, with the devices `online` born."""
    where = {} if north_deg is None else {"lat": HERE[0] + north_deg, "lon": HERE[1]}
    fleet.register(sid, station_spec(services=services, **where))
    for boot, device in enumerate(online, 1):
        dev = fleet.device(sid, device)
        fleet.on_birth(dev, Birth(state="online", ts=T0, boot=boot), T0, T0)
    fleet.on_station_state(sid, reported_open, T0)


def found(fleet: Fleet, limit: int = 10) -> list[tuple[str, float]]:
    return [(n.live.id, n.distance_m) for n in nearby(list(fleet.stations.values()), *HERE, limit)]


def test_open_stations_come_nearest_first_with_their_great_circle_distance():
    fleet = Fleet()
    for sid, km in (("st-3km", 3), ("st-1km", 1), ("st-2km", 2)):
        place(fleet, sid, km * 1000 / METRES_PER_DEGREE_OF_LATITUDE)
    got = found(fleet)
    assert [sid for sid, _ in got] == ["st-1km", "st-2km", "st-3km"]
    assert [d for _, d in got] == pytest.approx([1000, 2000, 3000], abs=0.01)


def test_the_limit_keeps_the_nearest():
    fleet = Fleet()
    for i in range(1, 6):
        place(fleet, f"st-{i}", i / 100)
    assert [sid for sid, _ in found(fleet, limit=2)] == ["st-1", "st-2"]


def test_closed_dark_and_unplaced_stations_are_not_found():
    fleet = Fleet()
    place(fleet, "st-open", 0.02)
    place(fleet, "st-closed", 0.001, reported_open=False)  # its devices are online
    place(fleet, "st-dark", 0.001, online=())  # says open, but no device is online
    place(fleet, "st-gateway-only", 0.001, online=("gw",))  # the gateway alone does not make it open
    place(fleet, "st-nowhere", None)  # open, but nobody could find the way
    assert [sid for sid, _ in found(fleet)] == ["st-open"]


def test_a_station_whose_devices_died_drops_out_of_the_finder():
    fleet = Fleet()
    place(fleet, "st-1", 0.01, online=("water",))
    assert found(fleet)
    fleet.on_death(fleet.device("st-1", "water"), Death(state="offline", boot=1), T0 + 1000)
    assert found(fleet) == []


def live_with(online: tuple[str, ...] = EVERY_DEVICE, faulty: dict[str, str] | None = None, **kw):
    fleet = Fleet()
    place(fleet, "st-1", 0.01, online=online, **kw)
    for device, code in (faulty or {}).items():
        fleet.on_faults(fleet.device("st-1", device), frozenset({code}))
    return fleet.stations["st-1"]


@pytest.mark.parametrize(
    ("online", "faulty", "gone"),
    [
        (EVERY_DEVICE, {}, set()),
        (("door", "power", "speaker"), {}, {"water"}),  # water needs the dispenser
        (EVERY_DEVICE, {"water": "leak"}, {"water"}),  # online is not enough: free of faults too
        (("door", "water", "speaker"), {}, {"heat_food", "charging"}),  # both need the power strip
        (EVERY_DEVICE, {"power": "overcurrent"}, {"heat_food", "charging"}),
        (("water",), {}, {"heat_food", "charging"}),  # rest and toilet need only an open station
        (EVERY_DEVICE, {"door": "tamper", "speaker": "mic"}, set()),  # no service needs these two
    ],
)
def test_services_now_are_the_declared_ones_minus_those_whose_device_is_offline_or_faulty(
    online, faulty, gone
):
    assert services_now(live_with(online, faulty)) == [s for s in SERVICES if s not in gone]


def test_only_declared_services_are_offered_in_the_declared_order():
    assert services_now(live_with(services=["toilet", "water"])) == ["toilet", "water"]
    assert services_now(live_with(services=[])) == []


def test_a_cleared_fault_gives_the_service_back():
    fleet = Fleet()
    place(fleet, "st-1", 0.01)
    water = fleet.device("st-1", "water")
    fleet.on_faults(water, frozenset({"dry_boil"}))
    assert "water" not in services_now(fleet.stations["st-1"])
    fleet.on_faults(water, frozenset())  # the fault_cleared event, or telemetry with no faults
    assert "water" in services_now(fleet.stations["st-1"])
