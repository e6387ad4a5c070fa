"""The alert engine: rules, pending and clear periods, lifecycle, reminders and escalation."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from yizhan.protocol.payloads import Birth, Death
from yizhan.server.domain.alerts import AlertEngine, AlertError
from yizhan.server.domain.fleet import Fleet
from yizhan.server.domain.station import StationSpec

from tests.unit.fakes import station_spec

TZ = ZoneInfo("Asia/Shanghai")
S = 1000
MIN = 60 * S


def at(hhmm: str, day: int = 2) -> int:
    """Epoch ms of 2026-03-0<day> hh:mm Shanghai (a Monday when day=2)."""
    h, m = map(int, hhmm.split(":"))
    return int(datetime(2026, 3, day, h, m, tzinfo=TZ).timestamp() * 1000)


def make(spec: StationSpec | None = None, **kw) -> tuple[Fleet, AlertEngine]:
    fleet = Fleet()
    fleet.register("st-1", spec or station_spec())
    return fleet, AlertEngine(fleet, **kw)


def with_overrides(**alerts) -> StationSpec:
    return station_spec().model_copy(update={"alerts": StationSpec.model_validate(
        {"name": "x", "district": "d", "alerts": alerts}).alerts})  # fmt: skip


def kinds(transitions) -> list[tuple[str, str]]:
    return [(t.kind, t.alert.rule) for t in transitions]


def birth(fleet: Fleet, engine: AlertEngine, device: str, t: int, boot: int = 1):
    dev = fleet.device("st-1", device)
    fleet.on_birth(dev, Birth(state="online", boot=boot, ts=t), t, t)
    return engine.on_device_status(dev, t)


def death(fleet: Fleet, engine: AlertEngine, device: str, t: int, boot: int = 1):
    dev = fleet.device("st-1", device)
    fleet.on_death(dev, Death(state="offline", boot=boot, ts=t), t)
    return engine.on_device_status(dev, t)


def test_a_fault_fires_at_once_and_resolves_when_cleared():
    fleet, engine = make()
    water = fleet.device("st-1", "water")
    fired = engine.on_faults(water, frozenset({"dry_boil"}), at("10:00"))
    assert kinds(fired) == [("firing", "fault:dry_boil")]
    assert fired[0].alert.severity == "critical" and "饮水机" in fired[0].alert.message_zh
    assert "dry_boil" in fired[0].alert.message_en
    assert kinds(engine.on_faults(water, frozenset(), at("10:05"))) == [("resolved", "fault:dry_boil")]
    assert engine.open == {}


def test_the_same_fault_from_telemetry_and_from_an_event_is_one_alert():
    fleet, engine = make()
    water = fleet.device("st-1", "water")
    out = engine.on_fault_event(water, "leak", True, at("10:00"))
    out += engine.on_faults(water, frozenset({"leak"}), at("10:01"))
    out += engine.on_fault_event(water, "leak", True, at("10:02"))
    assert kinds(out) == [("firing", "fault:leak")]
    assert kinds(engine.on_faults(water, frozenset(), at("10:03"))) == [("resolved", "fault:leak")]
    assert engine.on_fault_event(water, "leak", False, at("10:04")) == []


def test_an_unknown_fault_takes_the_reported_severity_else_major():
    fleet, engine = make()
    power = fleet.device("st-1", "power")
    assert engine.on_fault_event(power, "fuse", True, 1, "critical")[0].alert.severity == "critical"
    assert engine.on_fault_event(power, "relay", True, 2)[0].alert.severity == "major"


def test_a_device_offline_during_opening_hours_fires_after_the_pending_period():
    fleet, engine = make()
    birth(fleet, engine, "water", at("09:00"))
    assert death(fleet, engine, "water", at("10:00")) == []
    assert engine.tick(at("10:01")) == []
    fired = engine.tick(at("10:02"))
    assert kinds(fired) == [("firing", "device_offline")] and fired[0].at_ms == at("10:02")
    assert birth(fleet, engine, "water", at("10:30"), boot=2) == []  # clear period: 60 s
    resolved = engine.tick(at("10:31"))
    assert kinds(resolved) == [("resolved", "device_offline")] and resolved[0].at_ms == at("10:30")


def test_a_device_dark_outside_the_schedule_alerts_only_if_still_dark_at_opening():
    fleet, engine = make()  # schedule 07:00-19:00
    birth(fleet, engine, "water", at("01:00"))
    birth(fleet, engine, "power", at("01:00"))
    death(fleet, engine, "water", at("02:00"))
    death(fleet, engine, "power", at("03:00"))
    birth(fleet, engine, "power", at("06:00"), boot=2)  # back before opening: nothing
    assert engine.tick(at("06:59")) == []
    fired = engine.tick(at("07:00"))
    assert [(t.kind, t.alert.device) for t in fired] == [("firing", "water")]


def test_a_short_outage_seen_only_after_the_fact_still_fires_and_resolves():
    """Late data: the condition was due and cleared between two ticks."""
    fleet, engine = make()
    birth(fleet, engine, "speaker", at("09:00"))
    death(fleet, engine, "speaker", at("10:00"))
    out = birth(fleet, engine, "speaker", at("10:10"), boot=2)
    assert kinds(out) == [("firing", "device_offline")] and out[0].at_ms == at("10:02")
    out = engine.tick(at("12:00"))
    assert kinds(out) == [("resolved", "device_offline")] and out[0].at_ms == at("10:10")


def test_a_flapping_device_gives_at_most_one_alert():
    fleet, engine = make(with_overrides(pending_s={"device_offline": 10}))
    birth(fleet, engine, "door", at("09:00"))
    out = []
    t = at("10:00")
    for i in range(15):  # 20 s offline, 20 s online, for 10 minutes
        out += death(fleet, engine, "door", t, boot=i)
        out += engine.tick(t + 10 * S)
        out += birth(fleet, engine, "door", t + 20 * S, boot=i + 1)
        out += engine.tick(t + 30 * S)
        t += 40 * S
    assert kinds(out) == [("firing", "device_offline")]
    assert kinds(engine.tick(t + 2 * MIN)) == [("resolved", "device_offline")]


def test_flapping_shorter_than_the_default_pending_period_gives_none():
    fleet, engine = make()
    birth(fleet, engine, "door", at("09:00"))
    out, t = [], at("10:00")
    for i in range(8):
        out += death(fleet, engine, "door", t, boot=i) + engine.tick(t + 10 * S)
        out += birth(fleet, engine, "door", t + 20 * S, boot=i + 1) + engine.tick(t + 30 * S)
        t += 40 * S
    assert out == []


def test_heater_on_with_cold_water_for_20_minutes():
    fleet, engine = make()
    water = fleet.device("st-1", "water")
    assert engine.on_telemetry(water, {"heater_on": True, "water_temp_c": 40.0}, at("10:00")) == []
    assert engine.on_telemetry(water, {"heater_on": True, "water_temp_c": 45.0}, at("10:10")) == []
    assert kinds(engine.tick(at("10:20"))) == [("firing", "water_cold")]
    engine.on_telemetry(water, {"heater_on": False, "water_temp_c": 45.0}, at("10:30"))
    assert kinds(engine.tick(at("10:32"))) == [("resolved", "water_cold")]


def test_mains_outside_198_to_242_volts_for_5_minutes_and_per_station_thresholds():
    fleet, engine = make(with_overrides(voltage_min_v=205))
    power = fleet.device("st-1", "power")
    engine.on_telemetry(power, {"voltage_v": 201.0}, at("10:00"))
    assert kinds(engine.tick(at("10:05"))) == [("firing", "mains_voltage")]
    engine.on_telemetry(power, {"voltage_v": 220.0}, at("10:06"))
    assert kinds(engine.tick(at("10:08"))) == [("resolved", "mains_voltage")]
    _, default = make()
    power = default.fleet.device("st-1", "power")
    default.on_telemetry(power, {"voltage_v": 201.0}, at("10:00"))
    assert default.tick(at("11:00")) == []


def test_low_battery_from_the_level_or_the_fault_code_is_one_alert():
    fleet, engine = make()
    door = fleet.device("st-1", "door")
    out = engine.on_telemetry(door, {"battery_pct": 12.0}, at("10:00"))
    out += engine.on_faults(door, frozenset({"battery_low"}), at("10:01"))
    assert kinds(out) == [("firing", "battery_low")]
    assert engine.on_telemetry(door, {"battery_pct": 90.0}, at("10:02")) == []  # the fault still says so
    assert kinds(engine.on_faults(door, frozenset(), at("10:03"))) == [("resolved", "battery_low")]


def test_a_station_reported_open_with_every_device_offline_for_10_minutes():
    fleet, engine = make()
    for d in ("door", "water", "power", "speaker", "gw"):
        birth(fleet, engine, d, at("08:00"))
    fleet.on_station_state("st-1", True, at("08:00"))
    for d in ("door", "water", "power", "speaker"):
        death(fleet, engine, d, at("09:00"))
    assert engine.on_station_status("st-1", at("09:00")) == []
    fired = [t for t in engine.tick(at("09:10")) if t.alert.rule == "station_dark"]
    assert (
        fired[0].kind == "firing" and fired[0].alert.device is None and fired[0].alert.severity == "critical"
    )
    birth(fleet, engine, "water", at("09:20"), boot=2)
    engine.on_station_status("st-1", at("09:20"))
    assert ("resolved", "station_dark") in kinds(engine.tick(at("09:22")))


def test_acknowledge_stops_reminders_and_escalation():
    fleet, engine = make(reminder_s=1800, escalation_s=3600)
    water = fleet.device("st-1", "water")
    alert = engine.on_faults(water, frozenset({"leak"}), at("10:00"))[0].alert
    assert engine.tick(at("10:29")) == []
    assert kinds(engine.tick(at("10:30"))) == [("reminder", "fault:leak")]
    assert [t.kind for t in engine.tick(at("11:00"))] == ["escalated", "reminder"]
    ack = engine.acknowledge(alert.id, "王师傅", "on my way", at("11:05"))
    assert ack[0].kind == "acknowledged" and ack[0].alert.acknowledged_by == "王师傅"
    assert engine.tick(at("13:00")) == []
    assert kinds(engine.on_faults(water, frozenset(), at("13:10"))) == [("resolved", "fault:leak")]


def test_resolved_by_hand_while_the_condition_holds_waits_for_it_to_clear_and_return():
    fleet, engine = make()
    water = fleet.device("st-1", "water")
    first = engine.on_faults(water, frozenset({"heater"}), at("10:00"))[0].alert
    assert engine.resolve(first.id, "李工", "replaced", at("10:10"))[0].alert.resolved_by == "李工"
    with pytest.raises(AlertError):
        engine.acknowledge(first.id, "x", None, at("10:11"))
    assert engine.on_faults(water, frozenset({"heater"}), at("10:12")) == []
    assert engine.on_faults(water, frozenset(), at("10:13")) == []
    again = engine.on_faults(water, frozenset({"heater"}), at("10:14"))
    assert kinds(again) == [("firing", "fault:heater")] and again[0].alert.id != first.id


def test_open_alerts_survive_a_restart_without_firing_again():
    fleet, engine = make()
    water = fleet.device("st-1", "water")
    fired = engine.on_faults(water, frozenset({"dry_boil"}), at("10:00"))[0].alert
    fleet2, engine2 = make(next_id=fired.id + 1)
    engine2.load([fired])
    water2 = fleet2.device("st-1", "water")
    assert water2.faults == {"dry_boil"}
    assert engine2.on_faults(water2, frozenset({"dry_boil"}), at("10:05")) == []
    out = engine2.on_fault_event(water2, "dry_boil", False, at("10:06"))
    assert kinds(out) == [("resolved", "fault:dry_boil")] and out[0].alert.id == fired.id


def test_disabled_rules_never_fire():
    fleet, engine = make(with_overrides(disabled=["fault"]))
    assert engine.on_faults(fleet.device("st-1", "water"), frozenset({"leak"}), at("10:00")) == []
