"""The ingest service over pure inputs: rejections by reason, clock skew, duplicates, points."""

from yizhan.server.application.ingest import Ingest

from tests.unit.fakes import T0, FakeClock, fleet_with, js


def make() -> tuple[Ingest, FakeClock]:
    clock = FakeClock()
    return Ingest(fleet_with("s1"), clock), clock


def test_valid_telemetry_becomes_one_point_with_deterministic_time_and_registry_district():
    ingest, _ = make()
    ok = ingest.handle(
        "yz/stations/s1/water/telemetry",
        js({"ts": T0, "seq": 5, "boot": 9, "data": {"dispensed_l_total": 1.5, "district": "fake"}}),
    )
    assert ok
    (line,) = [x for x in ingest.take_batch().lines if x.startswith("water_dispenser")]
    tags = "device=water,district=shinan,station=s1"
    assert line == f"water_dispenser,{tags} dispensed_l_total=1.5,seq=5i,boot=9i {T0}000005"


def test_each_rejection_reason_is_counted_and_the_next_good_message_still_goes_through():
    ingest, _ = make()
    good = js({"ts": T0, "seq": 1, "boot": 1, "event": "door", "data": {"open": True}})
    cases = {
        "bad_topic": ("yz/stations/S1/door/event", good),
        "too_large": ("yz/stations/s1/door/event", b"{" + b" " * 9000 + b"}"),
        "not_json": ("yz/stations/s1/door/event", b"\xff\xfe"),
        "bad_payload": ("yz/stations/s1/door/event", js({"ts": T0, "seq": "1", "boot": 1, "event": "door"})),
        "unregistered_station": ("yz/stations/nobody/door/event", good),
        "unregistered_device": ("yz/stations/s1/toaster/event", good),
    }
    for reason, (topic, payload) in cases.items():
        assert not ingest.handle(topic, payload)
        assert ingest.rejected[reason] == 1, reason
    assert not ingest.handle(None, good)  # topic not UTF-8
    assert ingest.rejected["bad_topic"] == 2
    assert ingest.handle("yz/stations/s1/door/event", good)
    assert any(x.startswith("events,") for x in ingest.take_batch().lines)
    assert {(s.station, s.device) for s in ingest.unregistered.values()} == {
        ("nobody", "door"),
        ("s1", "toaster"),
    }


def test_a_future_or_missing_ts_is_replaced_by_receive_time_and_flagged_and_duplicates_agree():
    ingest, clock = make()
    future = js({"ts": T0 + 10 * 60_000, "seq": 3, "boot": 1, "data": {"open": True}})
    ingest.handle("yz/stations/s1/door/telemetry", future)
    clock.now += 2000
    ingest.handle("yz/stations/s1/door/telemetry", future)  # the same message again
    lines = [x for x in ingest.take_batch().lines if x.startswith("door_sensor")]
    assert len(lines) == 2 and lines[0] == lines[1]
    assert "clock_skew=true" in lines[0] and lines[0].endswith(f" {T0}000003")
    assert ingest.clock_skew == 2


def test_faults_from_telemetry_and_from_events_reach_the_same_device_state():
    ingest, _ = make()
    ingest.handle(
        "yz/stations/s1/water/event",
        js({"ts": T0, "seq": 1, "boot": 1, "event": "fault", "data": {"code": "dry_boil"}}),
    )
    assert ingest.fleet.device("s1", "water").faults == {"dry_boil"}
    ingest.handle(
        "yz/stations/s1/water/telemetry", js({"ts": T0, "seq": 2, "boot": 1, "data": {"faults": []}})
    )
    assert ingest.fleet.device("s1", "water").faults == set()


def test_a_birth_writes_device_and_station_status():
    ingest, _ = make()
    ingest.handle("yz/stations/s1/door/status", js({"state": "online", "ts": T0, "boot": 4}), retained=True)
    lines = ingest.take_batch().lines
    birth = 'device_status,device=door,district=shinan,station=s1 online=true,reason="birth"'
    birth += ",interval_s=60i,boot=4i"
    assert f"{birth} {T0}000000" in lines
    assert any(
        x.startswith(
            "station_status,district=shinan,station=s1 reported_open=false,open=false,devices_online=1i"
        )
        for x in lines
    )
