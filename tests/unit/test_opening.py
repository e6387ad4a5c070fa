"""A station-day for auditors: reported and verified open time, compliance and flags (pure)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from yizhan.server.domain.opening import DayInput, DeviceHistory, device_online, opening_day
from yizhan.server.domain.schedule import WeeklySchedule

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 3, 2)
MIN = 60_000


def at(hh: int, mm: int = 0, day: date = DAY, tz: ZoneInfo = TZ) -> int:
    return int(datetime(day.year, day.month, day.day, hh, mm, tzinfo=tz).timestamp() * 1000)


def steady(start: int, end: int, every_s: int = 60) -> DeviceHistory:
    """A device born at `start` that reports every `every_s` until `end`."""
    return DeviceHistory([(start, every_s)], [], list(range(start, end, every_s * 1000)), every_s)


def day_with(claims, devices=None, door_opens=(), schedule="07:00-19:00", tz=TZ, day=DAY):
    devices = devices if devices is not None else {"water": steady(at(0, 0, day, tz), at(23, 59, day, tz))}
    return opening_day(
        DayInput(day, tz, WeeklySchedule.parse(schedule), sorted(claims), devices, sorted(door_opens))
    )


def test_a_station_open_on_time_with_devices_online_is_fully_compliant_and_unflagged():
    d = day_with([(at(6, 58), True), (at(19, 2), False)], door_opens=[at(12)])
    assert d.scheduled_s == 12 * 3600 and d.reported_open_s == d.verified_open_s == (12 * 60 + 4) * 60
    assert d.compliance == 1.0 and d.flags == {} and d.visits == 1


def test_late_opening_and_early_closing_are_flagged_in_minutes():
    d = day_with([(at(7, 40), True), (at(18, 0), False)], door_opens=[at(12)])
    assert d.flags == {"late_open": 40, "early_close": 60}
    assert d.compliance == round((10 * 60 + 20) / (12 * 60), 4)


def test_a_station_that_never_opened():
    d = day_with([(at(0, 0), False)])
    assert d.flags == {"not_opened": 12 * 60} and d.compliance == 0.0 and d.reported_open_s == 0


def test_claimed_open_with_every_device_offline_is_not_verified():
    messages = [*range(at(6), at(10), MIN), *range(at(10, 40), at(23), MIN)]
    water = DeviceHistory([(at(6), 60), (at(10, 40), 60)], [at(10)], messages, 60)
    d = day_with([(at(7), True), (at(19), False)], {"water": water}, door_opens=[at(12)])
    assert d.reported_open_s == 12 * 3600 and d.verified_open_s == 12 * 3600 - 40 * 60
    assert d.flags == {"open_devices_offline": 40}


def test_a_silent_device_goes_offline_three_intervals_after_its_last_message():
    h = DeviceHistory([(at(8), 60)], [], [at(8, 1), at(8, 2)], 60)
    assert device_online(h, at(23)) == [(at(8), at(8, 5))]


def test_after_a_death_only_a_birth_revives_a_device():
    messages = [*range(at(8), at(8, 30), MIN), at(8, 40), at(9, 1)]
    h = DeviceHistory([(at(8), 60), (at(9), 60)], [at(8, 30)], messages, 60)
    assert device_online(h, at(9, 2)) == [(at(8), at(8, 30)), (at(9), at(9, 2))]


def test_door_activity_while_closed_and_a_long_open_day_without_visits():
    d = day_with([(at(7), True), (at(19), False)], door_opens=[at(22)])
    assert d.flags == {"activity_while_closed": 1, "open_no_activity": 12 * 60}


def test_an_hour_without_any_message_while_open_is_a_data_gap():
    water = DeviceHistory(
        [(at(0), 60)], [], [t for t in range(at(0), at(23), MIN) if not at(9) < t < at(10, 30)]
    )
    d = day_with([(at(7), True), (at(19), False)], {"water": water}, door_opens=[at(12)])
    assert d.flags["data_gap"] == 90


def test_days_are_cut_in_the_station_time_zone():
    berlin = ZoneInfo("Europe/Berlin")
    claims = [(at(23, 0, DAY, berlin), True), (at(23, 30, DAY, berlin), False)]
    devices = {"water": steady(at(0, 0, DAY, berlin), at(23, 59, DAY, berlin))}
    assert day_with(claims, devices, tz=berlin).reported_open_s == 1800
    assert day_with(claims, devices, tz=TZ).reported_open_s == 0  # 06:00-06:30 Shanghai, the next day


def test_a_day_with_nothing_scheduled_is_compliant():
    d = day_with([], schedule={"sat": ["08:00-12:00"]})
    assert d.scheduled_s == 0 and d.compliance == 1.0 and d.flags == {}


def test_a_day_still_going_on_is_judged_only_up_to_now():
    claims = [(at(7), True)]
    devices = {"water": steady(at(0), at(9))}
    early = opening_day(
        DayInput(DAY, TZ, WeeklySchedule.parse("07:00-19:00"), claims, devices, [at(8)], 0, at(6))
    )
    assert early.flags == {} and early.compliance == 1.0 and early.scheduled_s == 12 * 3600
    morning = opening_day(
        DayInput(DAY, TZ, WeeklySchedule.parse("07:00-19:00"), claims, devices, [at(8)], 0, at(9))
    )
    assert morning.flags == {} and morning.reported_open_s == 2 * 3600 and morning.compliance == 1.0
