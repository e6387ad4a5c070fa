"""Event time at the edge of ingest: under the event clock (accelerated runs, replays) the first
device heard goes offline on silence like every other, and a death dated far ahead of the
receiver's clock is re-timed like any other message (docs/protocol.md, rules for receivers)."""

import orjson
from yizhan.server.application.clock import EventClock
from yizhan.server.application.ingest import Ingest

from tests.unit.fakes import T0, FakeClock, fleet_with

PAST = T0 - 30 * 86_400_000  # a run that starts a month before the wall clock


def status_lines(lines: list[str], device: str) -> list[str]:
    return [x for x in lines if x.startswith("device_status,") and f"device={device}," in x]


def test_the_first_device_heard_under_the_event_clock_goes_offline_after_three_intervals_of_silence() -> None:
    fleet = fleet_with("st-1")
    ingest = Ingest(fleet, EventClock())
    birth = {"state": "online", "ts": PAST, "boot": 1, "interval_s": 60}
    ingest.handle("yz/stations/st-1/door/status", orjson.dumps(birth))
    # the other devices keep talking: event time moves on while the door stays silent
    for n, minute in enumerate(range(1, 11)):
        body = {"ts": PAST + minute * 60_000, "seq": n, "boot": 1, "data": {"water_temp_c": 90}}
        ingest.handle("yz/stations/st-1/water/telemetry", orjson.dumps(body))
    batch = ingest.take_batch()
    batch.extend(ingest.tick())
    door = fleet.device("st-1", "door")
    assert door is not None and not door.online
    (online, offline) = status_lines(batch.lines, "door")
    assert 'reason="birth"' in online and 'reason="timeout"' in offline
    # offline at last-seen + 3 × interval_s, in event time
    assert offline.endswith(f" {(PAST + 180_000) * 1_000_000}")


def test_a_death_dated_far_in_the_future_is_stored_at_the_receive_time() -> None:
    fleet = fleet_with("st-1")
    clock = FakeClock(T0)
    ingest = Ingest(fleet, clock)
    ingest.handle("yz/stations/st-1/door/status", orjson.dumps({"state": "online", "ts": T0, "boot": 7}))
    clock.now = T0 + 1000
    skewed = {"state": "offline", "boot": 7, "ts": T0 + 3_600_000}  # an hour ahead: a wrong device clock
    ingest.handle("yz/stations/st-1/door/status", orjson.dumps(skewed))
    (_, offline) = status_lines(ingest.take_batch().lines, "door")
    assert 'reason="death"' in offline
    assert offline.endswith(f" {(T0 + 1000) * 1_000_000}")
    assert ingest.clock_skew == 1
