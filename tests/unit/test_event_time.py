"""Event time at the edge of ingest: under the event clock (accelerated runs, replays) the first
device heard goes offline on silence like every other, and a death dated far ahead of the
receiver's clock is re-timed like any other message (docs/protocol.md, rules for receivers)."""

import orjson
from yizhan.server.application.clock import EventClock
from yizhan.server.application.ingest import Ingest
from yizhan.server.domain.alerts import AlertEngine

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


def replay(stream: list[tuple[str, bytes]], wall_ticks_every: int) -> list[tuple[str, str, int]]:
    """The stream through ingest under the event clock, with the wall clock's timer firing after
    every `wall_ticks_every` messages (as it would at whatever speed the run goes)."""
    fleet = fleet_with("st-1")
    ingest = Ingest(fleet, EventClock(), alerts=AlertEngine(fleet, reminder_s=1800, escalation_s=3600))
    out = []
    for n, (topic, payload) in enumerate(stream):
        ingest.handle(topic, payload)
        if n % wall_ticks_every == 0:
            out += ingest.tick().transitions
    out += ingest.take_batch().transitions
    return [(str(t.kind), t.alert.rule, t.at_ms) for t in out]


def test_a_replay_under_the_event_clock_gives_the_same_alerts_reminders_and_escalations_every_time() -> None:
    leak = {"ts": PAST, "seq": 0, "boot": 1, "event": "fault", "data": {"code": "leak"}}
    stream = [("yz/stations/st-1/water/event", orjson.dumps(leak))]
    for n in range(1, 200):  # 3 h 20 min of telemetry, one message a minute
        body = {"ts": PAST + n * 60_000, "seq": n, "boot": 1, "data": {"water_temp_c": 90}}
        stream.append(("yz/stations/st-1/water/telemetry", orjson.dumps(body)))
    runs = [replay(stream, every) for every in (1, 7, 50, 1000)]
    assert runs[0] == runs[1] == runs[2] == runs[3]
    reminders = [at for kind, _, at in runs[0] if kind == "reminder"]
    assert reminders == [PAST + k * 1_800_000 for k in range(1, 7)]  # every 30 min while unacknowledged
    assert [at for kind, _, at in runs[0] if kind == "escalated"] == [PAST + 3_600_000]


def test_a_timeout_found_late_leaves_the_newest_status_point_equal_to_the_live_state() -> (
    None
):
    fleet = fleet_with("st-1")
    clock = FakeClock(T0)
    ingest = Ingest(fleet, clock)
    for device in ("door", "water"):
        birth = {"state": "online", "ts": T0, "boot": 1, "interval_s": 60}
        ingest.handle(f"yz/stations/st-1/{device}/status", orjson.dumps(birth))
    water = {"ts": T0 + 170_000, "seq": 1, "boot": 1, "data": {"water_temp_c": 90}}
    clock.now = T0 + 170_000
    ingest.handle("yz/stations/st-1/water/telemetry", orjson.dumps(water))
    clock.now = T0 + 190_000  # the station opens after the door's deadline (T0 + 180 s), before a tick
    ingest.handle("yz/stations/st-1/state", orjson.dumps({"ts": T0 + 190_000, "seq": 1, "open": True}))
    clock.now = T0 + 200_000
    batch = ingest.take_batch()
    batch.extend(ingest.tick())  # finds the door silent since its deadline, earlier than the opening
    points = sorted(
        (int(line.rsplit(" ", 1)[1]), line) for line in batch.lines if line.startswith("station_status,")
    )
    newest = points[-1][1]
    live = fleet.stations["st-1"]
    assert f"devices_online={live.devices_online()}i" in newest and live.devices_online() == 1
    assert f"open={str(live.is_open()).lower()}" in newest
