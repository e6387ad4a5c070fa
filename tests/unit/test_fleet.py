"""Device online/offline and station open state, driven by time passed in (no clock, no I/O)."""

from yizhan.protocol.payloads import Birth, Death
from yizhan.server.domain.changes import DeviceStatusChanged, StationStatusChanged

from tests.unit.fakes import T0, fleet_with


def birth(boot: int, interval_s: int = 60) -> Birth:
    return Birth(state="online", ts=T0, type="door_sensor", boot=boot, interval_s=interval_s)


def test_a_birth_brings_a_device_online_and_its_matching_death_takes_it_offline():
    fleet = fleet_with("s1")
    door = fleet.device("s1", "door")
    changes = fleet.on_birth(door, birth(7), T0, T0)
    assert DeviceStatusChanged("s1", "door", True, "birth", T0) in changes
    changes = fleet.on_death(door, Death(state="offline", boot=7), T0 + 1000)
    assert DeviceStatusChanged("s1", "door", False, "death", T0 + 1000) in changes
    assert not door.online


def test_a_device_that_dies_with_an_old_boot_id_stays_online():
    fleet = fleet_with("s1")
    door = fleet.device("s1", "door")
    fleet.on_birth(door, birth(7), T0, T0)
    fleet.on_birth(door, birth(8), T0 + 5, T0 + 5)  # reconnected before the old will fired
    assert fleet.on_death(door, Death(state="offline", boot=7), T0 + 10) == []
    assert door.online


def test_silence_for_three_intervals_takes_a_device_offline_at_the_deadline():
    fleet = fleet_with("s1")
    door = fleet.device("s1", "door")
    fleet.on_birth(door, birth(1, interval_s=10), T0, T0)
    fleet.on_activity(door, T0 + 5_000, T0 + 5_000)
    assert fleet.expire_silent(T0 + 34_999) == []
    changes = fleet.expire_silent(T0 + 35_000)
    assert DeviceStatusChanged("s1", "door", False, "timeout", T0 + 35_000) in changes


def test_a_timed_out_device_comes_back_with_its_next_message_but_a_dead_one_needs_a_birth():
    fleet = fleet_with("s1")
    door, water = fleet.device("s1", "door"), fleet.device("s1", "water")
    fleet.on_birth(door, birth(1, 10), T0, T0)
    fleet.on_birth(water, birth(2, 10), T0, T0)
    fleet.expire_silent(T0 + 60_000)
    assert not door.online
    assert DeviceStatusChanged("s1", "door", True, "activity", T0 + 61_000) in fleet.on_activity(
        door, T0 + 61_000, T0 + 61_000
    )
    fleet.on_death(water, Death(state="offline", boot=2), T0 + 62_000)
    fleet.on_activity(water, T0 + 63_000, T0 + 63_000)  # a late message after the will
    assert not water.online


def test_a_station_is_open_when_it_says_so_and_a_device_other_than_the_gateway_is_online():
    fleet = fleet_with("s1")
    live = fleet.stations["s1"]
    gw = fleet.device("s1", "gw")
    fleet.on_birth(gw, birth(1), T0, T0)
    changes = fleet.on_station_state("s1", True, T0 + 1)
    assert changes == [StationStatusChanged("s1", True, False, 1, T0 + 1)]
    assert not live.is_open()
    fleet.on_birth(fleet.device("s1", "water"), birth(2), T0 + 2, T0 + 2)
    assert live.is_open() and live.devices_online() == 2


def test_an_older_station_claim_arriving_late_does_not_override_a_newer_one():
    fleet = fleet_with("s1")
    fleet.on_station_state("s1", True, T0 + 10)
    assert fleet.on_station_state("s1", False, T0 + 5) == []
    assert fleet.stations["s1"].reported_open


def test_re_registering_a_station_keeps_the_live_state_of_its_devices():
    fleet = fleet_with("s1")
    door = fleet.device("s1", "door")
    fleet.on_birth(door, birth(1), T0, T0)
    from tests.unit.fakes import station_spec

    fleet.register("s1", station_spec(district="laoshan"))
    assert fleet.device("s1", "door").online
    assert fleet.stations["s1"].spec.district == "laoshan"
