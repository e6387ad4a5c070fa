from datetime import date

import pytest
from yizhan.server.domain.schedule import ScheduleError, WeeklySchedule


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
