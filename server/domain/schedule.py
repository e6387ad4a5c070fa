"""Declared opening hours: a weekly timetable of local-time ranges."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class ScheduleError(ValueError):
    """A schedule that cannot be read; the message names the day and the range."""


@dataclass(frozen=True)
class OpeningRange:
    """Seconds since local midnight, start inclusive, end exclusive (end may be 86400)."""

    start_s: int
    end_s: int


def parse_range(text: str) -> OpeningRange:
    if text.strip().lower() == "24h":
        return OpeningRange(0, 86400)
    m = _RANGE_RE.match(text.strip())
    if not m:
        raise ScheduleError(f"{text!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ScheduleError(f"{text!r} has an impossible time")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if end <= start:
        raise ScheduleError(f"{text!r} ends before it starts (split ranges that cross midnight)")
    return OpeningRange(start, end)


@dataclass(frozen=True)
class WeeklySchedule:
    days: tuple[tuple[OpeningRange, ...], ...]  # Monday first

    @classmethod
    def parse(cls, value: str | dict[str, list[str] | str] | None) -> "WeeklySchedule":
        """Read `"07:00-19:00"`, `"24h"`, or `{"mon": ["07:00-12:00", "13:00-19:00"], ...}`.

        A day missing from the mapping is closed.
        """
        if value is None:
            return cls(tuple(() for _ in DAYS))
        if isinstance(value, str):
            one = (parse_range(value),)
            return cls(tuple(one for _ in DAYS))
        unknown = set(value) - set(DAYS)
        if unknown:
            raise ScheduleError(f"unknown day {sorted(unknown)[0]!r}; use {', '.join(DAYS)}")
        days = []
        for day in DAYS:
            ranges = value.get(day, [])
            if isinstance(ranges, str):
                ranges = [ranges]
            try:
                parsed = sorted((parse_range(r) for r in ranges), key=lambda r: r.start_s)
            except ScheduleError as exc:
                raise ScheduleError(f"{day}: {exc}") from None
            for a, b in pairwise(parsed):
                if b.start_s < a.end_s:
                    raise ScheduleError(f"{day}: ranges overlap")
            days.append(tuple(parsed))
        return cls(tuple(days))

    def ranges_on(self, day: date) -> tuple[OpeningRange, ...]:
        return self.days[day.weekday()]

    def scheduled_seconds(self, day: date) -> int:
        return sum(r.end_s - r.start_s for r in self.ranges_on(day))


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The aware start and end of a local calendar day (23 or 25 hours across DST changes)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def scheduled_open_from(
    schedule: WeeklySchedule, tz: ZoneInfo, at_ms: int, horizon_days: int = 8
) -> int | None:
    """The first moment at or after `at_ms` inside the schedule (epoch ms), None if it never opens.

    `at_ms` itself when the station is scheduled open then.
    """
    local = datetime.fromtimestamp(at_ms / 1000, tz)
    day = local.date()
    for offset in range(horizon_days):
        d = day + timedelta(days=offset)
        midnight = datetime.combine(d, time(0), tzinfo=tz)
        for r in schedule.ranges_on(d):
            start = int((midnight + timedelta(seconds=r.start_s)).timestamp() * 1000)
            end = int((midnight + timedelta(seconds=r.end_s)).timestamp() * 1000)
            if end <= at_ms:
                continue
            return max(start, at_ms)
    return None
