"""Declared opening hours: a weekly timetable of local-time ranges, with seasons, public holidays and
ranges that end the next day; read from the station body or from a clerk's words, and written back
in the clerk's words.

The station body's `schedule` (docs/contract.md, "Stations"):

- `"07:00-19:00"` (every day), `"24h"`, or `{"mon": ["07:00-12:00", "13:00-19:00"], …}` (a day left
  out is closed) — as before;
- a range may end the next day: `"20:00-08:00+1"` (it belongs to the day it starts on);
- the mapping may also hold `"seasons"`: `[{"name": "夏季", "from": "05-01", "to": "09-30",
  "hours": <any weekly form above>}, …]` (yearly, `to` may be before `from` to wrap the new
  year; the day keys are the hours outside every season), `"holidays"`: `["2026-10-01", …]`
  (public holidays of this station) and `"holiday_hours"`: ranges on those dates (default `[]`,
  closed).
"""

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_S = 86400
_RANGE_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})(\+1)?$")
_MONTH_DAY_RE = re.compile(r"^(\d{2})-(\d{2})$")
EXTRA_KEYS = ("seasons", "holidays", "holiday_hours")
MAX_HOLIDAYS = 1000
MAX_SEASONS = 12


class ScheduleError(ValueError):
    """A schedule that cannot be read; the message names the day and the range."""


@dataclass(frozen=True)
class OpeningRange:
    """Seconds since local midnight, start inclusive, end exclusive. `end_s` may pass 86400 for a
    range that ends the next day; `WeeklySchedule.ranges_on` never returns such a range (it gives
    each calendar day its own part)."""

    start_s: int
    end_s: int


def parse_range(text: str) -> OpeningRange:
    if text.strip().lower() == "24h":
        return OpeningRange(0, DAY_S)
    m = _RANGE_RE.match(text.strip())
    if not m:
        raise ScheduleError(f"{text!r} is not HH:MM-HH:MM (or HH:MM-HH:MM+1 ending the next day)")
    h1, m1, h2, m2 = (int(g) for g in m.groups()[:4])
    next_day = m.group(5) is not None
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and (m2 or next_day)):
        raise ScheduleError(f"{text!r} has an impossible time")
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60 + (DAY_S if next_day else 0)
    if end <= start:
        raise ScheduleError(
            f"{text!r} ends before it starts (write HH:MM-HH:MM+1 for a range ending the next day)"
        )
    if end - start > DAY_S:
        raise ScheduleError(f"{text!r} is longer than a day")
    return OpeningRange(start, end)


def format_range(r: OpeningRange) -> str:
    """The body's form of a range: `07:00-19:00`, `20:00-08:00+1`."""

    def hhmm(s: int) -> str:
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}"

    if r.end_s > DAY_S:
        return f"{hhmm(r.start_s)}-{hhmm(r.end_s - DAY_S)}+1"
    return f"{hhmm(r.start_s)}-{hhmm(r.end_s)}"


Week = tuple[tuple[OpeningRange, ...], ...]  # Monday first


def _parse_week(value: Any, where: str = "") -> Week:
    """The weekly forms: a range string for every day, `"24h"`, or a day → ranges mapping."""
    if value is None:
        return tuple(() for _ in DAYS)
    if isinstance(value, str):
        try:
            one = (parse_range(value),)
        except ScheduleError as exc:
            raise ScheduleError(f"{where}{exc}") from None
        return tuple(one for _ in DAYS)
    if not isinstance(value, dict):
        raise ScheduleError(f"{where}expected a range string or a mapping of days to ranges")
    unknown = set(value) - set(DAYS)
    if unknown:
        raise ScheduleError(f"{where}unknown day {sorted(unknown)[0]!r}; use {', '.join(DAYS)}")
    days = []
    for day in DAYS:
        try:
            days.append(_parse_ranges(value.get(day, [])))
        except ScheduleError as exc:
            raise ScheduleError(f"{where}{day}: {exc}") from None
    return tuple(days)


def _parse_ranges(ranges: Any) -> tuple[OpeningRange, ...]:
    if isinstance(ranges, str):
        ranges = [ranges]
    if not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
        raise ScheduleError("expected a list of HH:MM-HH:MM ranges")
    parsed = sorted((parse_range(r) for r in ranges), key=lambda r: r.start_s)
    for a, b in pairwise(parsed):
        if b.start_s < a.end_s:
            raise ScheduleError("ranges overlap")
    return tuple(parsed)


def _month_day(text: Any, where: str) -> tuple[int, int]:
    m = _MONTH_DAY_RE.match(text) if isinstance(text, str) else None
    if not m:
        raise ScheduleError(f"{where}: {text!r} is not MM-DD")
    month, day = int(m.group(1)), int(m.group(2))
    try:
        date(2000, month, day)  # a leap year: 02-29 is a day a season may start or end on
    except ValueError:
        raise ScheduleError(f"{where}: {text!r} is not a day of the year") from None
    return month, day


@dataclass(frozen=True)
class Season:
    """Hours on the days from `start` to `end` (month, day), both included, every year."""

    name: str
    start: tuple[int, int]
    end: tuple[int, int]
    days: Week

    def covers(self, day: date) -> bool:
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end  # wraps the new year (冬季 10-01 … 04-30)


def _parse_season(value: Any, n: int) -> Season:
    where = f"seasons[{n}]"
    if not isinstance(value, dict):
        raise ScheduleError(f"{where}: expected {{'name', 'from', 'to', 'hours'}}")
    unknown = set(value) - {"name", "from", "to", "hours"}
    if unknown:
        raise ScheduleError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    name = value.get("name") or ""
    if not isinstance(name, str) or len(name) > 40:
        raise ScheduleError(f"{where}: name must be text of at most 40 characters")
    start, end = _month_day(value.get("from"), f"{where}.from"), _month_day(value.get("to"), f"{where}.to")
    return Season(name, start, end, _parse_week(value.get("hours"), f"{where}.hours: "))


def _parse_holidays(value: Any) -> frozenset[date]:
    if not isinstance(value, list) or len(value) > MAX_HOLIDAYS:
        raise ScheduleError(f"holidays: expected a list of at most {MAX_HOLIDAYS} YYYY-MM-DD dates")
    out = set()
    for text in value:
        try:
            out.add(date.fromisoformat(text))
        except (TypeError, ValueError):
            raise ScheduleError(f"holidays: {text!r} is not a YYYY-MM-DD date") from None
    return frozenset(out)


def _merge(ranges: list[OpeningRange]) -> tuple[OpeningRange, ...]:
    out: list[OpeningRange] = []
    for r in sorted(ranges, key=lambda r: r.start_s):
        if out and r.start_s <= out[-1].end_s:
            out[-1] = OpeningRange(out[-1].start_s, max(out[-1].end_s, r.end_s))
        else:
            out.append(r)
    return tuple(out)


@dataclass(frozen=True)
class WeeklySchedule:
    days: Week  # Monday first: the hours outside every season (all of them without seasons)
    seasons: tuple[Season, ...] = ()
    holidays: frozenset[date] = frozenset()
    # None: no holiday rule (a holiday is a day like any other); () closed on the holidays
    holiday_ranges: tuple[OpeningRange, ...] | None = None
    _cache: dict[date, tuple[OpeningRange, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, value: str | dict[str, Any] | None) -> "WeeklySchedule":
        """Read any form of the station body's `schedule` (the module docstring)."""
        if not isinstance(value, dict) or not any(k in value for k in EXTRA_KEYS):
            return cls(_parse_week(value))
        base = _parse_week({k: v for k, v in value.items() if k not in EXTRA_KEYS})
        seasons_in = value.get("seasons", [])
        if not isinstance(seasons_in, list) or len(seasons_in) > MAX_SEASONS:
            raise ScheduleError(f"seasons: expected a list of at most {MAX_SEASONS} seasons")
        seasons = tuple(_parse_season(s, n) for n, s in enumerate(seasons_in))
        _check_seasons_apart(seasons)
        holidays = _parse_holidays(value.get("holidays", []))
        holiday_ranges = None
        if "holiday_hours" in value or "holidays" in value:
            try:
                holiday_ranges = _parse_ranges(value.get("holiday_hours", []))
            except ScheduleError as exc:
                raise ScheduleError(f"holiday_hours: {exc}") from None
        return cls(base, seasons, holidays, holiday_ranges)

    def own_ranges(self, day: date) -> tuple[OpeningRange, ...]:
        """The ranges that start on `day` (a range ending the next day is whole here)."""
        if self.holiday_ranges is not None and day in self.holidays:
            return self.holiday_ranges
        for season in self.seasons:
            if season.covers(day):
                return season.days[day.weekday()]
        return self.days[day.weekday()]

    def ranges_on(self, day: date) -> tuple[OpeningRange, ...]:
        """The open ranges inside the calendar day `day` (0 … 86400), the night range begun the day
        before included: what the audit, the alerts and the timeline see."""
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        spill = [
            OpeningRange(0, r.end_s - DAY_S)
            for r in self.own_ranges(day - timedelta(days=1))
            if r.end_s > DAY_S
        ]
        own = [OpeningRange(r.start_s, min(r.end_s, DAY_S)) for r in self.own_ranges(day)]
        out = _merge(spill + own)
        if len(self._cache) < 4096:  # bounded: the object lives as long as one registered body
            self._cache[day] = out
        return out

    def scheduled_seconds(self, day: date) -> int:
        return sum(r.end_s - r.start_s for r in self.ranges_on(day))

    def never_open(self) -> bool:
        weeks = [self.days, *(s.days for s in self.seasons)]
        return not any(r for w in weeks for d in w for r in d) and not self.holiday_ranges


def _check_seasons_apart(seasons: tuple[Season, ...]) -> None:
    for day in (date(2000, 1, 1) + timedelta(days=n) for n in range(366)):
        covering = [s for s in seasons if s.covers(day)]
        if len(covering) > 1:
            a, b = covering[0].name or "seasons[0]", covering[1].name or "seasons[1]"
            raise ScheduleError(f"seasons {a!r} and {b!r} overlap on {day:%m-%d}")


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The aware start and end of a local calendar day (23 or 25 hours across DST changes)."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def scheduled_open_from(
    schedule: WeeklySchedule, tz: ZoneInfo, at_ms: int, horizon_days: int = 400
) -> int | None:
    """The first moment at or after `at_ms` inside the schedule (epoch ms), None if it never opens.

    `at_ms` itself when the station is scheduled open then. The horizon is a year and more: a
    station closed all winter, or over a long holiday, still opens (and alerts) when it reopens.
    """
    if schedule.never_open():
        return None
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


# --- the schedule in the clerk's words ----------------------------------------------------------

_CN_DAY = "一二三四五六日"


def _clock(s: int) -> str:
    return f"{s // 3600}:{s % 3600 // 60:02d}"


def _say_range(r: OpeningRange) -> str:
    if r.start_s == 0 and r.end_s == DAY_S:
        return "24小时"
    if r.end_s > DAY_S:
        return f"{_clock(r.start_s)}-次日{_clock(r.end_s - DAY_S)}"
    return f"{_clock(r.start_s)}-{_clock(r.end_s)}"


def _say_days(days: list[int]) -> str:
    """[0, 1, 2, 3, 4] → 周一至周五; [5, 6] → 周六、周日; [0, 2, 4] → 周一、周三、周五."""
    runs: list[list[int]] = []
    for d in days:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"周{_CN_DAY[run[0]]}至周{_CN_DAY[run[-1]]}")
        else:
            parts.extend(f"周{_CN_DAY[d]}" for d in run)
    return "、".join(parts)


def _say_week(week: Week) -> str:
    if all(d == week[0] for d in week):
        if not week[0]:
            return "不开放"
        if week[0] == (OpeningRange(0, DAY_S),):
            return "全天24小时"
        return "每天 " + "，".join(_say_range(r) for r in week[0])
    groups: dict[tuple[OpeningRange, ...], list[int]] = {}
    for n, ranges in enumerate(week):
        groups.setdefault(ranges, []).append(n)
    parts = [
        f"{_say_days(days)} " + "，".join(_say_range(r) for r in ranges)
        for ranges, days in groups.items()
        if ranges
    ]
    closed = groups.get((), [])
    if closed:
        parts.append(f"{_say_days(closed)}休息")
    return "；".join(parts)


def _say_month_day(md: tuple[int, int]) -> str:
    return f"{md[0]}月{md[1]}日"


def describe(value: str | dict[str, Any] | None) -> str:
    """A schedule as a clerk writes it: `周一至周五 8:30-17:30；周六 9:00-12:00；周日休息`,
    `夏季（5月1日-9月30日）每天 7:00-19:00；冬季（10月1日-4月30日）每天 8:00-18:00；节假日休息`.
    `parse_clerk_hours` reads it back to the same schedule."""
    s = WeeklySchedule.parse(value)
    if value is None:
        return "未登记开放时间"
    parts = []
    for season in s.seasons:
        span = f"{_say_month_day(season.start)}-{_say_month_day(season.end)}"
        parts.append(
            f"{season.name}（{span}）{_say_week(season.days)}"
            if season.name
            else f"{span} {_say_week(season.days)}"
        )
    if not s.seasons:
        parts.append(_say_week(s.days))
    elif any(s.days):
        parts.append(f"其余日期 {_say_week(s.days)}")
    if s.holiday_ranges is not None:
        said = "，".join(_say_range(r) for r in s.holiday_ranges)
        parts.append(f"节假日 {said}" if said else "节假日休息")
    return "；".join(parts)


# --- reading a clerk's words ------------------------------------------------------------------------


@dataclass
class ClerkHours:
    """What `parse_clerk_hours` made of a 开放时间 cell: the body's `schedule`, and what the clerk
    should know (warnings: a reading that may not be what was meant; notes: plain facts; remarks:
    text in brackets that is not hours, for the station's note)."""

    value: str | dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)


# Summer and winter without dates: the usual 夏令/冬令 作息 of Chinese workplaces.
DEFAULT_SEASON_DATES = {"夏": ((5, 1), (9, 30)), "冬": ((10, 1), (4, 30))}

_PERIODS = "早上|早晨|清晨|凌晨|上午|早|中午|午间|下午|午后|傍晚|晚上|晚间|夜间|夜里|夜晚|晚|夜"
_CN_NUM = "[零〇一二两三四五六七八九十]{1,3}"
_DAY_CH = "[一二三四五六日天七1-7]"
_WEEK = "(?:周|星期|礼拜|週)"
_TOKENS: list[tuple[str, re.Pattern[str]]] = [
    (kind, re.compile(pattern))
    for kind, pattern in [
        ("sep", r"[,;。/|\s]+|和|及|与|以及|、"),
        ("open", r"\("),
        ("close", r"\)"),
        ("h24", r"(?:全天)?(?:7[x*×])?24(?:小时|h)(?:全天)?|全天候|昼夜|全天不间断"),
        ("as_usual", r"(?:照常|正常)(?:开放|营业|服务)?|无休息?|不休息?|不打烊"),
        ("holiday", r"(?:法定|国家法定|国家)?(?:节假日|节日|假日|假期|节庆日)"),
        ("otherwise", r"其余日期|其余时间|其他日期|其他时间|其它时间|其余|其他|其它"),
        ("season", r"(?P<s>夏|冬|春|秋|春秋|春夏|秋冬)(?:季|天|令时?)(?:作息时间|作息|时间|期间)?"),
        (
            "dates",
            r"(?P<m1>\d{1,2})月(?:(?P<d1>\d{1,2})[日号]?)?-(?:次年|翌年|第二年|来年)?"
            r"(?P<m2>\d{1,2})月(?:(?P<d2>\d{1,2})[日号]?)?",
        ),
        ("dates", r"(?P<m1>\d{1,2})-(?:次年|翌年|第二年|来年)?(?P<m2>\d{1,2})月(?:份)?"),
        ("workdays", r"工作日|平日"),
        ("weekend", r"周末|双休日|双休|公休日"),
        ("everyday", r"每天|每日|天天|全周|每周|全年|常年|一周七天|周一-周日|平时|全天"),
        ("closed", r"休息|闭馆|闭站|关闭|不开放|停止开放|暂停开放|歇业|闭店|不营业|关门|除外|休"),
        ("next_day", r"次日|翌日|第二天|隔天|次晨"),
        (
            "days",
            rf"{_WEEK}(?P<a>{_DAY_CH})(?:-(?:{_WEEK}(?P<b>{_DAY_CH})|(?P<b2>[一二三四五六日天])(?![点时:]))"
            r"|(?P<c>[日天])(?![点时:]))?",
        ),
        (
            "time",
            rf"(?P<p>{_PERIODS})?(?P<h>\d{{1,2}}|{_CN_NUM})"
            r"(?::(?P<m>\d{2})|\.(?P<md>\d{2})(?!\d)|(?:点|时)(?:(?P<half>半)|(?P<q>[一三])刻"
            rf"|(?P<mc>\d{{1,2}}|{_CN_NUM})分?)?"
            # a bare hour next to the dash of a range: 8-18, 8-18:00, 8:00-18
            r"|(?=-)|(?<=-\d)(?![\d:.月日号点时])|(?<=-\d\d)(?![\d:.月日号点时]))",
        ),
        ("dash", r"-"),
        ("filler", r"开放时间|服务时间|营业时间|办公时间|工作时间|开放时段|时间|开放|营业|服务|对外|办公|上班"
                   r"|均为|均|都|为|从|起|止|左右|前后|约|期间|全部|以上|以下|:"),
    ]
]  # fmt: skip
_DOTTED_DATES = re.compile(r"(?P<m1>\d{1,2})[./](?P<d1>\d{1,2})-(?P<m2>\d{1,2})[./](?P<d2>\d{1,2})")
_BARE_DAY = re.compile(r"[一二三四五六日天](?![点时:月刻\d])")
_EXCEPT = re.compile(
    rf"除((?:{_WEEK}[一二三四五六日天七](?:[-、,和]{_WEEK}?[一二三四五六日天七])*))(?:以|之)?外"
)


def _cn_number(text: str) -> int:
    """8, 八, 十二, 二十, 二十四 → the number; -1 for anything else."""
    if text.isdigit():
        return int(text)
    digits = {ch: n for n, ch in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    if "十" in text:
        tens, _, ones = text.partition("十")
        return digits.get(tens, 1) * 10 + digits.get(ones, 0)
    return digits.get(text, -1) if len(text) == 1 else -1


def _day_number(ch: str) -> int:
    return (
        {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}.get(ch, -1)
        if not ch.isdigit()
        else int(ch) - 1
    )


# after NFKC: every dash, 至 and 到 as "-", brackets as ( ), Chinese punctuation as ASCII, quotes gone
_PUNCTUATION = str.maketrans(
    {"—": "-", "–": "-", "―": "-", "‐": "-", "−": "-", "~": "-", "〜": "-", "至": "-", "到": "-",
     "【": "(", "】": ")", "[": "(", "]": ")", "，": ",", "；": ";", "：": ":",
     "“": "", "”": "", '"': "", "'": ""}
)  # fmt: skip


def _normalise(text: str) -> str:
    out = unicodedata.normalize("NFKC", text)
    out = out.translate(_PUNCTUATION)
    out = re.sub(r"-+", "-", out.lower())
    out = re.sub(r"\s*([-:.])\s*", r"\1", out)
    return _EXCEPT.sub(lambda m: f"{m.group(1)}休息,", out)  # 除周一外 → 周一休息


@dataclass
class _Tok:
    kind: str
    text: str
    depth: int
    m: re.Match[str] | None = None
    value: Any = None


def _tokenise(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    depth, i, unknown_from = 0, 0, None

    def flush_unknown(upto: int) -> None:
        nonlocal unknown_from
        if unknown_from is not None:
            toks.append(_Tok("unknown", text[unknown_from:upto], depth))
            unknown_from = None

    while i < len(text):
        last = next((t for t in reversed(toks) if t.kind not in ("sep", "open", "filler")), None)
        m = None
        if last is not None and last.kind == "season":  # 夏季（5.1-9.30）: dots are dates here
            m = _DOTTED_DATES.match(text, i)
            if m:
                flush_unknown(i)
                toks.append(_Tok("dates", m.group(0), depth, m))
                i = m.end()
                continue
        if last is not None and last.kind == "days" and toks[-1].kind == "sep":  # 周一、三、五
            m = _BARE_DAY.match(text, i)
            if m:
                flush_unknown(i)
                toks.append(_Tok("days", m.group(0), depth, None, [_day_number(m.group(0))]))
                i = m.end()
                continue
        for kind, pattern in _TOKENS:
            m = pattern.match(text, i)
            if m and m.end() > i:
                flush_unknown(i)
                if kind == "open":
                    depth += 1
                toks.append(_Tok(kind, m.group(0), depth, m))
                if kind == "close":
                    depth = max(0, depth - 1)
                i = m.end()
                break
        else:
            if unknown_from is None:
                unknown_from = i
            i += 1
    flush_unknown(len(text))
    return _bracketed_remarks(toks)


def _brackets(text: str) -> list[str]:
    """What the clerk wrote inside each pair of brackets, in order (as the tokens count them)."""
    return re.findall(r"[（(【\[]([^）)】\]]*)[）)】\]]?", text)


def _dangling_time(group: list[_Tok]) -> bool:
    """A time in brackets that is not one end of a range (（冬季至20:00）, （17:00后按门铃）)."""
    kinds = [t.kind for t in group if t.kind not in ("sep", "filler", "open", "close")]
    for n, kind in enumerate(kinds):
        before = kinds[n - 1] if n else ""
        after = kinds[n + 1] if n + 1 < len(kinds) else ""
        if kind == "dash" and (before != "time" or after not in ("time", "next_day")):
            return True
        if kind == "time" and "dash" not in (before, after) and before != "next_day":
            return True
    return False


def _bracketed_remarks(toks: list[_Tok]) -> list[_Tok]:
    """A bracket holding words that are not hours (（春节期间休息）) is a remark as a whole: its
    readable words (休息) must not change the hours around it."""
    out: list[_Tok] = []
    i = groups = 0
    while i < len(toks):
        if toks[i].kind != "open":
            out.append(toks[i])
            i += 1
            continue
        depth, j = 0, i
        while j < len(toks):
            depth += toks[j].kind == "open"
            depth -= toks[j].kind == "close"
            if depth == 0:
                break
            j += 1
        group = toks[i : j + 1]
        if any(t.kind == "unknown" for t in group) or _dangling_time(group):
            text = "".join(t.text for t in group).strip("()")
            out.append(_Tok("unknown", text, 1, value=groups))  # the clerk's own words: `_brackets`
        else:
            out.extend(group)
        groups += 1
        i = j + 1
    return out


def _time_of(m: re.Match[str]) -> tuple[int, str | None]:
    """(seconds since midnight, the period word) of a `time` token; -1 for an impossible time."""
    hour = _cn_number(m.group("h"))
    if m.group("m") or m.group("md"):
        minute = int(m.group("m") or m.group("md"))
    elif m.group("half"):
        minute = 30
    elif m.group("q"):
        minute = 15 if m.group("q") == "一" else 45
    elif m.group("mc"):
        minute = _cn_number(m.group("mc"))
    else:
        minute = 0
    period = m.group("p")
    if period in ("凌晨",) and hour == 12:
        hour = 0
    elif (period in ("中午", "午间") and hour < 6) or (period in ("下午", "午后", "傍晚") and hour < 12):
        hour += 12
    elif period in ("晚上", "晚间", "夜间", "夜里", "夜晚", "晚", "夜"):
        hour = 24 if hour == 12 else hour + 12 if 5 <= hour < 12 else hour
    if not (0 <= hour <= 24 and 0 <= minute <= 59) or (hour == 24 and minute):
        return -1, period
    return hour * 3600 + minute * 60, period


@dataclass
class _Clause:
    """Hours said for some days of one scope. The selectors (days, every, holiday) gather until
    hours follow: 周末及节假日休息 is one clause."""

    scope: int  # 0: the year round; n: seasons[n - 1]
    days: set[int] = field(default_factory=set)
    every: bool = False  # 每天, 全天: every day not named in another clause
    holiday: bool = False
    ranges: list[OpeningRange] = field(default_factory=list)
    closed: bool = False
    h24: bool = False
    as_usual: bool = False
    all_day_word: bool = False  # 全天: every day, and 24 hours when no range follows

    def empty(self) -> bool:
        return not (self.ranges or self.closed or self.h24 or self.as_usual)

    def selected(self) -> bool:
        return bool(self.days) or self.every or self.holiday

    def said(self) -> bool:
        return not self.empty() or self.all_day_word


def parse_clerk_hours(text: str) -> ClerkHours:
    """开放时间 as clerks write it → the body's `schedule`. Raises ScheduleError (in Chinese, quoting
    the part not understood) when the words cannot be read without guessing.

    Understood: `8:30-17:30` (also 8：30—17：30, 8.30-17.30, 8点半-17点, 早8点-晚6点, 上午8点至下午5点),
    several ranges (`8:00-11:30，13:30-17:30`), days (`周一至周五`, `周一、三、五`, `周六日`, `工作日`,
    `周末`, `每天`, `除周一外`), `周日休息`, `20:00-次日8:00`, `全天24小时`/`24小时`/`7×24小时`, seasons
    (`夏季（5月1日-9月30日）…；冬季（10月1日-4月30日）…`, `5月-9月 …`), `节假日休息`/`节假日 9:00-12:00`/
    `节假日照常`, and `其余日期 …`. Text in brackets that is none of these is returned as a remark.
    """
    out = ClerkHours("")
    toks = _tokenise(_normalise(text))
    clauses: list[_Clause] = [_Clause(0)]
    seasons: list[dict[str, Any]] = []

    def select(days: set[int] = frozenset(), every: bool = False, holiday: bool = False) -> _Clause:  # type: ignore[assignment]
        c = clauses[-1]
        if not c.empty():
            c = _Clause(c.scope)
            clauses.append(c)
        c.days |= days
        c.every |= every
        c.holiday |= holiday
        return c

    i = 0
    while i < len(toks):
        t = toks[i]
        k = t.kind
        c = clauses[-1]
        if k in ("sep", "open", "close", "filler"):
            pass
        elif k == "unknown":
            if t.depth:
                said = _brackets(text)
                out.remarks.append(
                    said[t.value] if isinstance(t.value, int) and t.value < len(said) else t.text
                )
            else:
                raise ScheduleError(f"看不懂 '{t.text}'")
        elif k == "season":
            name = re.sub(r"(作息时间|作息|时间|期间)$", "", t.text)
            seasons.append({"name": name, "key": t.m.group("s") if t.m else ""})
            clauses.append(_Clause(len(seasons)))
        elif k == "dates":
            span = _date_span(t)
            last = seasons[-1] if seasons else None
            if last is not None and "from" not in last and c.scope == len(seasons) and not c.said():
                last["from"], last["to"] = span
            else:  # dates without a season word: a season of their own
                seasons.append({"name": "", "key": "", "from": span[0], "to": span[1]})
                clauses.append(_Clause(len(seasons)))
        elif k == "otherwise":
            clauses.append(_Clause(0))
        elif k == "holiday":
            select(holiday=True)
        elif k == "workdays":
            select({0, 1, 2, 3, 4})
        elif k == "weekend":
            select({5, 6})
        elif k == "everyday":
            select(every=True).all_day_word |= t.text == "全天"
        elif k == "days":
            select(_days_of(t))
        elif k == "closed":
            c.closed = True
        elif k == "as_usual":
            c.as_usual = c.holiday  # 节假日照常; elsewhere (全年无休) it only says every day
        elif k == "h24":
            c.h24 = True
        elif k == "time":
            rng, i = _read_range(toks, i, out)
            c.ranges.append(rng)
            continue
        else:  # a dash or 次日 without a time on each side
            raise ScheduleError(f"'{t.text}' 前后要各有一个时间")
        i += 1

    out.value = _assemble(clauses, seasons, out)
    return out


def _date_span(t: _Tok) -> tuple[date, date]:
    m = t.m
    assert m is not None
    groups = m.groupdict()
    m1, m2 = int(m.group("m1")), int(m.group("m2"))
    try:
        d1 = int(groups["d1"]) if groups.get("d1") else 1
        d2 = int(groups["d2"]) if groups.get("d2") else calendar.monthrange(2000, m2)[1]
        return date(2000, m1, d1), date(2000, m2, d2)
    except (ValueError, calendar.IllegalMonthError):
        raise ScheduleError(f"'{t.text}' 不是日期") from None


def _days_of(t: _Tok) -> set[int]:
    if t.value is not None:
        return set(t.value)
    assert t.m is not None
    a = _day_number(t.m.group("a"))
    if t.m.group("c"):  # 周六日
        return {a, _day_number(t.m.group("c"))}
    b_text = t.m.group("b") or t.m.group("b2")
    b = _day_number(b_text) if b_text else a
    return {(a + n) % 7 for n in range((b - a) % 7 + 1)}


def _read_range(toks: list[_Tok], i: int, out: ClerkHours) -> tuple[OpeningRange, int]:
    """TIME - [次日] TIME from toks[i]; (the range, the index after it)."""
    t = toks[i]
    assert t.m is not None
    start, sp = _time_of(t.m)
    j = i + 1
    if j >= len(toks) or toks[j].kind != "dash":
        raise ScheduleError(f"'{t.text}' 只有开始时间，没有结束时间")
    j += 1
    next_day = j < len(toks) and toks[j].kind == "next_day"
    j += 1 if next_day else 0
    end_tok = toks[j] if j < len(toks) else None
    if end_tok is None or end_tok.kind != "time" or end_tok.m is None:
        raise ScheduleError(f"'{t.text}-' 后面没有结束时间")
    end, ep = _time_of(end_tok.m)
    j += 1
    if start < 0 or end < 0 or start >= DAY_S:
        raise ScheduleError(f"'{t.text}-{end_tok.text}' 不是钟点")
    # 下午2点-5点: the period said once covers both ends
    if (
        ep is None
        and sp in ("下午", "午后", "傍晚", "晚上", "晚", "晚间")
        and end < 12 * 3600 < end + 12 * 3600 > start
    ):
        end += 12 * 3600
    said = f"{_clock(start)}-{'次日' if next_day else ''}{_clock(end)}"
    if next_day:
        end = DAY_S if end == 0 else end + DAY_S if end < DAY_S else end  # 次日0点 is midnight
    elif end == 0 and start > 0:
        end = DAY_S  # 8:00-0:00: until midnight
    elif end == start:
        raise ScheduleError(f"'{said}' 开始和结束是同一时刻")
    elif end < start:
        if start >= 17 * 3600 and end <= 12 * 3600:
            out.notes.append(f"'{said}' 按跨夜到次日{_clock(end)}记录")
            end += DAY_S
        elif end < 12 * 3600 and start < end + 12 * 3600 <= DAY_S:
            out.warnings.append(
                f"'{said}' 结束早于开始，按 {_clock(start)}-{_clock(end + 12 * 3600)} 记录；"
                "如不对请写明“下午”或“次日”"
            )
            end += 12 * 3600
        else:
            raise ScheduleError(f"'{said}' 结束早于开始（跨夜请写“次日”，如 20:00-次日8:00）")
    if end - start > DAY_S or end <= start:
        raise ScheduleError(f"'{said}' 不是一段开放时间")
    return OpeningRange(start, end), j


Ranges = tuple[OpeningRange, ...]


def _hours_of(c: _Clause) -> Ranges:
    if c.closed and (c.ranges or c.h24):
        raise ScheduleError("同一段里既写了开放时间又写了“休息”")
    if c.h24 and c.ranges:
        raise ScheduleError("同一段里既写了“24小时”又写了钟点")
    if c.closed:
        return ()
    if c.h24 or (c.all_day_word and not c.ranges):  # 全天 alone: open all day
        return (OpeningRange(0, DAY_S),)
    return _checked(c.ranges)


def _checked(ranges: list[OpeningRange] | Ranges) -> Ranges:
    out = tuple(sorted(ranges, key=lambda r: r.start_s))
    for a, b in pairwise(out):
        if b.start_s < a.end_s:
            raise ScheduleError(f"时间段 {_say_range(a)} 与 {_say_range(b)} 重叠")
    return out


def _week_of(clauses: list[_Clause]) -> tuple[list[Ranges | None], bool]:
    """The seven days of one scope (None: nothing said about the day) and whether a clause spoke
    for every day. A clause about named days wins over the every-day one (每天 8-18，周日休息), and a
    later one over an earlier one."""
    week: list[Ranges | None] = [None] * 7
    default: Ranges | None = None
    for c in clauses:
        if not c.said():
            if c.days or c.every:
                raise ScheduleError("写了哪几天，却没写几点到几点")
            continue
        if (c.holiday and not (c.days or c.every)) or (c.as_usual and not (c.ranges or c.closed or c.h24)):
            continue  # the holiday rule is not a weekday's
        hours = _hours_of(c)
        if c.every or not c.days:
            # 每天 8:00-12:00，14:00-18:00 said in two clauses adds up
            default = hours if default is None else _checked(default + hours)
        for d in c.days:
            week[d] = hours
    return [d if d is not None else default for d in week], default is not None


def _compact(week: list[Ranges | None], *, expand: bool = False) -> str | dict[str, Any]:
    days = [d or () for d in week]
    if not expand and all(d == days[0] for d in days) and len(days[0]) == 1:
        r = days[0][0]
        return "24h" if (r.start_s, r.end_s) == (0, DAY_S) else format_range(r)
    return {name: [format_range(r) for r in d] for name, d in zip(DAYS, days, strict=True) if d}


def _assemble(clauses: list[_Clause], seasons: list[dict[str, Any]], out: ClerkHours) -> str | dict[str, Any]:
    # hours followed by the days they are for (8:30-17:30（周一至周五）) take those days
    merged: list[_Clause] = []
    for c in clauses:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and c.empty()
            and not c.all_day_word
            and c.selected()
            and not prev.empty()
            and not prev.selected()
            and prev.scope == c.scope
        ):
            prev.days, prev.every, prev.holiday = c.days, c.every, c.holiday
            continue
        merged.append(c)
    if not any(c.said() for c in merged):
        raise ScheduleError("没有写几点到几点")
    base, _ = _week_of([c for c in merged if c.scope == 0])
    extra: dict[str, Any] = {}
    if seasons:
        extra["seasons"] = [_season_body(n, s, merged, out) for n, s in enumerate(seasons, start=1)]
        uncovered = _uncovered(extra["seasons"])
        if uncovered and not any(base):
            out.warnings.append(f"季节没有覆盖全年：{uncovered}按不开放记录")
    holiday = [c for c in merged if c.holiday]
    if holiday:
        c = holiday[-1]
        if not c.said():
            raise ScheduleError("写了“节假日”，却没写节假日开不开、几点开")
        if c.as_usual and not (c.ranges or c.closed or c.h24):
            out.notes.append("节假日照常开放")
        else:
            extra["holidays"] = []
            extra["holiday_hours"] = [format_range(r) for r in _hours_of(c)]
            out.warnings.append(
                "节假日的安排已记下，但节假日是哪几天要在站点的 schedule.holidays 里登记（YYYY-MM-DD）；"
                "登记之前节假日按平日排班计算"
            )
    if not extra:
        return _compact(base)
    body = _compact(base, expand=True)
    assert isinstance(body, dict)
    try:
        WeeklySchedule.parse(body | extra)
    except ScheduleError as exc:
        raise ScheduleError(f"读出的时间表不成立：{exc}") from None
    return body | extra


def _season_body(n: int, s: dict[str, Any], clauses: list[_Clause], out: ClerkHours) -> dict[str, Any]:
    week, _ = _week_of([c for c in clauses if c.scope == n])
    label = s["name"] or "季节"
    if all(d is None for d in week):
        raise ScheduleError(f"'{label}' 后面没写开放时间")
    if "from" not in s:
        dates = DEFAULT_SEASON_DATES.get(s["key"])
        if dates is None:
            raise ScheduleError(f"'{label}' 没写起止日期，如 {label}（3月1日-5月31日）")
        s["from"], s["to"] = date(2000, *dates[0]), date(2000, *dates[1])
        out.warnings.append(
            f"'{label}' 没写起止日期，按 {dates[0][0]}月{dates[0][1]}日-{dates[1][0]}月{dates[1][1]}日 记录"
        )
    return {
        "name": s["name"],
        "from": f"{s['from']:%m-%d}",
        "to": f"{s['to']:%m-%d}",
        "hours": _compact(week),
    }


def _uncovered(seasons: list[dict[str, Any]]) -> str:
    parsed = [_parse_season(s, n) for n, s in enumerate(seasons)]
    year = (date(2001, 1, 1) + timedelta(days=n) for n in range(365))
    missing = [d for d in year if not any(s.covers(d) for s in parsed)]
    if not missing:
        return ""
    return f"{missing[0].month}月{missing[0].day}日起共 {len(missing)} 天"
