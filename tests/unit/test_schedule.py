"""Declared opening hours in the station body's form: the functions the audit, the alerts and the
timeline call (`ranges_on`, `scheduled_seconds`, `scheduled_open_from`)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from yizhan.server.domain.schedule import OpeningRange, ScheduleError, WeeklySchedule, scheduled_open_from


def test_one_range_applies_to_every_day_and_24h_is_the_whole_day():
    s = WeeklySchedule.parse("07:00-19:00")
    assert s.scheduled_seconds(date(2026, 3, 2)) == 12 * 3600
    assert WeeklySchedule.parse("24h").scheduled_seconds(date(2026, 3, 8)) == 86400


def test_days_may_have_several_ranges_and_missing_days_are_closed():
    s = WeeklySchedule.parse({"mon": ["07:00-11:00", "13:00-19:00"], "sat": "08:00-18:00"})
    assert s.scheduled_seconds(date(2026, 3, 2)) == 10 * 3600  # a Monday
    assert s.scheduled_seconds(date(2026, 3, 3)) == 0


@pytest.mark.parametrize(
    "bad",
    [
        "7-19",
        "19:00-07:00",
        "25:00-26:00",
        {"monday": ["07:00-19:00"]},
        {"mon": ["07:00-12:00", "11:00-13:00"]},
    ],
)
def test_unreadable_schedules_say_what_is_wrong(bad):
    with pytest.raises(ScheduleError):
        WeeklySchedule.parse(bad)


# --- the extended body forms: overnight ranges, seasons, holidays -------------------------------

SH = ZoneInfo("Asia/Shanghai")


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=SH).timestamp() * 1000)


def test_a_range_ending_the_next_day_gives_each_calendar_day_its_part():
    s = WeeklySchedule.parse({"fri": ["20:00-08:00+1"]})
    fri, sat, sun = date(2026, 3, 6), date(2026, 3, 7), date(2026, 3, 8)
    assert s.ranges_on(fri) == (OpeningRange(20 * 3600, 86400),)
    assert s.ranges_on(sat) == (OpeningRange(0, 8 * 3600),)
    assert s.ranges_on(sun) == ()
    assert s.scheduled_seconds(fri) == 4 * 3600 and s.scheduled_seconds(sat) == 8 * 3600
    every_night = WeeklySchedule.parse("20:00-08:00+1")
    assert every_night.ranges_on(sat) == (OpeningRange(0, 8 * 3600), OpeningRange(20 * 3600, 86400))
    assert every_night.scheduled_seconds(sat) == 12 * 3600


def test_seasons_take_their_dates_and_the_day_keys_the_rest_of_the_year():
    s = WeeklySchedule.parse(
        {
            "mon": ["09:00-17:00"],
            "seasons": [
                {"name": "夏季", "from": "05-01", "to": "09-30", "hours": "07:00-19:00"},
                {"name": "冬季", "from": "12-01", "to": "02-28", "hours": {"sat": ["10:00-12:00"]}},
            ],
        }
    )
    assert s.scheduled_seconds(date(2026, 7, 6)) == 12 * 3600  # a Monday in summer
    assert s.scheduled_seconds(date(2026, 10, 5)) == 8 * 3600  # a Monday in neither season
    assert s.scheduled_seconds(date(2026, 10, 6)) == 0  # a Tuesday in neither season
    assert s.scheduled_seconds(date(2027, 1, 4)) == 0  # a Monday in winter (wraps the new year)
    assert s.scheduled_seconds(date(2027, 1, 2)) == 2 * 3600  # a Saturday in winter


def test_holidays_are_closed_unless_holiday_hours_say_otherwise():
    closed = WeeklySchedule.parse({"mon": ["08:30-17:30"], "holidays": ["2026-10-05"]})
    assert (
        closed.scheduled_seconds(date(2026, 10, 5)) == 0
        and closed.scheduled_seconds(date(2026, 10, 12)) == 9 * 3600
    )
    short = WeeklySchedule.parse(
        {"mon": ["08:30-17:30"], "holidays": ["2026-10-05"], "holiday_hours": ["09:00-12:00"]}
    )
    assert short.scheduled_seconds(date(2026, 10, 5)) == 3 * 3600


def test_scheduled_open_from_sees_past_a_long_closure():
    summer_only = WeeklySchedule.parse(
        {"seasons": [{"name": "夏季", "from": "05-01", "to": "09-30", "hours": "08:00-18:00"}]}
    )
    assert scheduled_open_from(summer_only, SH, ms(2026, 11, 1, 12)) == ms(2027, 5, 1, 8)
    night = WeeklySchedule.parse({"fri": ["20:00-08:00+1"]})
    assert scheduled_open_from(night, SH, ms(2026, 3, 7, 7)) == ms(
        2026, 3, 7, 7
    )  # Saturday 07:00, still open
    assert scheduled_open_from(night, SH, ms(2026, 3, 7, 9)) == ms(2026, 3, 13, 20)
    assert scheduled_open_from(WeeklySchedule.parse(None), SH, ms(2026, 3, 7, 9)) is None


def test_todays_bodies_read_as_before():
    """The forms the API took before stay valid and mean the same."""
    week = {"mon": ["07:00-12:00", "13:00-19:00"], "tue": "07:00-19:00", "sat": "09:00-17:00"}
    s = WeeklySchedule.parse(week)
    assert s.ranges_on(date(2026, 3, 2)) == (
        OpeningRange(7 * 3600, 12 * 3600),
        OpeningRange(13 * 3600, 19 * 3600),
    )
    assert s.ranges_on(date(2026, 3, 4)) == () and s.holiday_ranges is None and s.seasons == ()


@pytest.mark.parametrize(
    "bad",
    [
        "20:00-08:00+2",
        "08:00-09:00+1",  # longer than a day
        {"seasons": [{"name": "夏", "from": "05-01", "to": "09-31", "hours": "08:00-18:00"}]},
        {"seasons": [{"from": "05-01", "to": "09-30", "hours": "x"}]},
        {"seasons": [{"from": "05-01", "to": "09-30"}, {"from": "09-01", "to": "10-31"}]},
        {"holidays": ["2026-13-01"]},
        {"holidays": "2026-10-01"},
        {"mon": 5},
    ],
)
def test_unreadable_extended_schedules_are_refused(bad):
    with pytest.raises(ScheduleError):
        WeeklySchedule.parse(bad)
