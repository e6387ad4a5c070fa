"""Opening hours as stations keep them (开放时间 in the clerk's words), read into the station body's
`schedule`, written back in the clerk's words, and seen by the audit and the alerts through the
domain functions they call."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yizhan.server.domain.opening import DayInput, opening_day, scheduled_intervals
from yizhan.server.domain.schedule import ScheduleError, describe, parse_clerk_hours, scheduled_open_from
from yizhan.server.domain.station import StationSpec

SH = ZoneInfo("Asia/Shanghai")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=SH).timestamp() * 1000)


def test_a_station_open_weekdays_has_nothing_scheduled_on_sunday_and_nine_hours_on_monday():
    spec = StationSpec(
        name="邮政驿站", district="zhongshan", schedule=parse_clerk_hours("周一至周五 8:30-17:30").value
    )
    sunday, monday = date(2026, 3, 8), date(2026, 3, 9)
    schedule = spec.weekly_schedule()
    # what the audit computes a day from (server/domain/opening.py)
    assert opening_day(DayInput(sunday, SH, schedule, [], {}, [])).scheduled_s == 0
    assert opening_day(DayInput(monday, SH, schedule, [], {}, [])).scheduled_s == 9 * 3600
    assert scheduled_intervals(schedule, monday, SH) == [(ms(2026, 3, 9, 8, 30), ms(2026, 3, 9, 17, 30))]
    # a device dark on Saturday evening alerts on Monday at opening (server/domain/alerts.py)
    assert scheduled_open_from(schedule, SH, ms(2026, 3, 7, 18)) == ms(2026, 3, 9, 8, 30)


FORMS = [
    ("8:30-17:30", "08:30-17:30"),
    ("8：00～18：00", "08:00-18:00"),
    ("7:00—19:00", "07:00-19:00"),
    ("8.30-17.30", "08:30-17:30"),
    ("早8点-晚6点", "08:00-18:00"),
    ("早八点至晚六点", "08:00-18:00"),
    ("上午8点至下午5点半", "08:00-17:30"),
    ("全天24小时", "24h"),
    ("24小时", "24h"),
    ("7×24小时", "24h"),
    ("全天", "24h"),
    ("20:00-次日8:00", "20:00-08:00+1"),
    ("晚8点-次日早8点", "20:00-08:00+1"),
    ("周一至周五 8:30-17:30", {d: ["08:30-17:30"] for d in WEEKDAYS}),
    ("工作日 8:30-17:30", {d: ["08:30-17:30"] for d in WEEKDAYS}),
    ("周一至周六 8:00-18:00", {d: ["08:00-18:00"] for d in (*WEEKDAYS, "sat")}),
    (
        "周一至周五8:30-17:30，周六9:00-12:00（周日休息）",
        {**{d: ["08:30-17:30"] for d in WEEKDAYS}, "sat": ["09:00-12:00"]},
    ),
    (
        "周一至周五 8:30-17:30 周六、周日 9:00-17:00",
        {**{d: ["08:30-17:30"] for d in WEEKDAYS}, "sat": ["09:00-17:00"], "sun": ["09:00-17:00"]},
    ),
    ("8:30-17:30（周日休息）", {d: ["08:30-17:30"] for d in (*WEEKDAYS, "sat")}),
    ("8:30-17:30（周一至周五）", {d: ["08:30-17:30"] for d in WEEKDAYS}),
    ("周一、三、五 9:00-17:00", {"mon": ["09:00-17:00"], "wed": ["09:00-17:00"], "fri": ["09:00-17:00"]}),
    ("除周一外每天 9:00-17:00", {d: ["09:00-17:00"] for d in ("tue", "wed", "thu", "fri", "sat", "sun")}),
    (
        "8:00-11:30，13:30-17:30",
        {d: ["08:00-11:30", "13:30-17:30"] for d in (*WEEKDAYS, "sat", "sun")},
    ),
    (
        "周一至周五：上午8:00-11:30，下午13:30-17:30",
        {d: ["08:00-11:30", "13:30-17:30"] for d in WEEKDAYS},
    ),
    (
        "夏季（5月1日-9月30日）7:00-19:00；冬季（10月1日-4月30日）8:00-18:00",
        {
            "seasons": [
                {"name": "夏季", "from": "05-01", "to": "09-30", "hours": "07:00-19:00"},
                {"name": "冬季", "from": "10-01", "to": "04-30", "hours": "08:00-18:00"},
            ]
        },
    ),
    (
        "5月-9月 7:00-19:00，10月-次年4月 8:00-18:00",
        {
            "seasons": [
                {"name": "", "from": "05-01", "to": "09-30", "hours": "07:00-19:00"},
                {"name": "", "from": "10-01", "to": "04-30", "hours": "08:00-18:00"},
            ]
        },
    ),
    (
        "冬季（11月1日-3月31日）不开放；其余日期 8:00-18:00",
        {
            **{d: ["08:00-18:00"] for d in (*WEEKDAYS, "sat", "sun")},
            "seasons": [{"name": "冬季", "from": "11-01", "to": "03-31", "hours": {}}],
        },
    ),
    (
        "8:30-17:30，周末及节假日休息",
        {**{d: ["08:30-17:30"] for d in WEEKDAYS}, "holidays": [], "holiday_hours": []},
    ),
    ("每天 8:00-18:00，节假日照常开放", "08:00-18:00"),
]


@pytest.mark.parametrize(("text", "schedule"), FORMS)
def test_clerk_forms_read_into_the_body_and_back(text, schedule):
    got = parse_clerk_hours(text).value
    assert got == schedule
    StationSpec(name="站", district="d", schedule=got)  # the body takes it
    assert parse_clerk_hours(describe(got)).value == got  # the clerk's words read back the same


def test_written_back_in_the_clerks_words():
    assert describe(parse_clerk_hours("周一至周五8:30-17:30，周六9:00-12:00（周日休息）").value) == (
        "周一至周五 8:30-17:30；周六 9:00-12:00；周日休息"
    )
    assert describe("24h") == "全天24小时"
    assert describe("20:00-08:00+1") == "每天 20:00-次日8:00"
    assert describe({"mon": ["07:00-12:00", "13:00-19:00"], "sat": "09:00-17:00"}) == (
        "周一 7:00-12:00，13:00-19:00；周六 9:00-17:00；周二至周五、周日休息"
    )
    assert describe(
        parse_clerk_hours("夏季（5月1日-9月30日）7:00-19:00；冬季（10月1日-4月30日）8:00-18:00").value
    ) == ("夏季（5月1日-9月30日）每天 7:00-19:00；冬季（10月1日-4月30日）每天 8:00-18:00")
    assert describe({"mon": ["08:30-17:30"], "holidays": ["2026-10-01"]}) == (
        "周一 8:30-17:30；周二至周日休息；节假日休息"
    )
    assert describe(None) == "未登记开放时间"


def test_readings_that_may_not_be_meant_are_said():
    summer = parse_clerk_hours("夏季7:00-19:00，冬季8:00-18:00")
    assert summer.value["seasons"][0]["from"] == "05-01" and summer.value["seasons"][1]["to"] == "04-30"
    assert any("没写起止日期" in w for w in summer.warnings)
    lazy = parse_clerk_hours("8:00-6:00")
    assert lazy.value == "08:00-18:00" and "8:00-18:00" in lazy.warnings[0]
    night = parse_clerk_hours("22:00-6:00")
    assert night.value == "22:00-06:00+1" and "跨夜" in night.notes[0]
    holiday = parse_clerk_hours("工作日 8:30-17:30，节假日休息")
    assert holiday.value["holiday_hours"] == [] and "schedule.holidays" in holiday.warnings[0]
    remark = parse_clerk_hours("8:00-18:00（春节期间休息）")
    assert remark.value == "08:00-18:00" and remark.remarks == ["春节期间休息"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("随时", "随时"),
        ("早上开门", "早上开门"),
        ("周一至周五", "没有写几点"),
        ("8:00-", "结束时间"),
        ("8:00-12:00，11:00-13:00", "重叠"),
        ("春季 8:00-18:00", "起止日期"),
        ("9:00-9:00", "9:00-9:00"),
    ],
)
def test_words_that_cannot_be_read_without_guessing_are_refused_quoting_them(text, says):
    with pytest.raises(ScheduleError, match=says):
        parse_clerk_hours(text)


PIECES = ["周一至周五", "周六", "周日", "、", "工作日", "周末", "每天", "全天", "节假日", "其余日期",
          "夏季", "（5月1日-9月30日）", "冬季", "休息", "照常开放", "24小时", "8:30-17:30", "9:00-12:00",
          "20:00-次日8:00", "早8点-晚6点", "22:00-6:00", "（", "）", "，", "；", " ", "除周一外", "周六日",
          "-", "8:00", "随时"]  # fmt: skip


@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join))
@settings(max_examples=300, deadline=None)
def test_any_words_read_to_a_valid_schedule_or_say_why_not(text):
    """The import catches ScheduleError only: nothing else may escape, and what is read is a body
    the API takes and that reads back the same from the clerk's words."""
    try:
        got = parse_clerk_hours(text).value
    except ScheduleError:
        return
    StationSpec(name="站", district="d", schedule=got)
    assert parse_clerk_hours(describe(got)).value == got
