"""Opening hours of one station-day, as an auditor sees them: scheduled, reported, verified, flags.

Pure arithmetic over what is stored (claims, device births/deaths, message times, door changes),
so a day that arrives late gives the same numbers as one that arrived live. Times are epoch ms.
"""

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from yizhan.protocol.payloads import DEFAULT_INTERVAL_S
from yizhan.server.domain.online import Activity, Born, Died, Event, Presence, expire, step
from yizhan.server.domain.schedule import WeeklySchedule, local_day_bounds

Interval = tuple[int, int]

LATE_TOLERANCE_MS = 15 * 60_000  # opening or closing within 15 min of the timetable is on time
DEVICES_OFFLINE_MIN_MS = 5 * 60_000
NO_ACTIVITY_MIN_MS = 4 * 3_600_000
DATA_GAP_MS = 3_600_000

FLAGS = (
    "late_open",  # minutes
    "early_close",  # minutes
    "not_opened",  # scheduled minutes
    "open_devices_offline",  # minutes reported open with every device offline
    "open_no_activity",  # minutes reported open, with no visit all day
    "activity_while_closed",  # door openings
    "clock_skew",  # messages whose time was replaced
    "data_gap",  # minutes without any message while reported open
)


@dataclass(frozen=True)
class DeviceHistory:
    """One device's stored life: births (time, interval_s), deaths, and message times, sorted."""

    births: list[tuple[int, int]] = field(default_factory=list)
    deaths: list[int] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)
    interval_s: int = DEFAULT_INTERVAL_S  # the last known period, for when no birth is in view


@dataclass(frozen=True)
class DayInput:
    day: date
    tz: ZoneInfo
    schedule: WeeklySchedule
    claims: list[tuple[int, bool]]  # station state messages, sorted; the first may precede the day
    devices: dict[str, DeviceHistory]  # every device but the gateway
    door_opens: list[int]  # false→true door changes (visits), sorted
    clock_skew: int = 0
    now_ms: int | None = None  # for a day still going on: judge only what has happened by now


@dataclass(frozen=True)
class OpeningDay:
    date: str
    scheduled_s: int
    reported_open_s: int
    verified_open_s: int
    compliance: float
    flags: dict[str, int]
    visits: int = 0
    verified_in_schedule_s: int = 0
    device_online_s: dict[str, int] = field(default_factory=dict)  # per device, inside the day
    timeline: dict[str, list[Interval]] = field(default_factory=dict)  # scheduled, reported, verified

    def as_dict(self) -> dict:
        return {
            "date": self.date,
            "scheduled_s": self.scheduled_s,
            "reported_open_s": self.reported_open_s,
            "verified_open_s": self.verified_open_s,
            "compliance": self.compliance,
            "flags": self.flags,
        }


# --- interval arithmetic -----------------------------------------------------------------


def clip(intervals: Iterable[Interval], lo: int, hi: int) -> list[Interval]:
    return [(max(a, lo), min(b, hi)) for a, b in intervals if min(b, hi) > max(a, lo)]


def union(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        elif b > a:
            out.append((a, b))
    return out


def intersect(xs: list[Interval], ys: list[Interval]) -> list[Interval]:
    out, i, j = [], 0, 0
    while i < len(xs) and j < len(ys):
        a, b = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if b > a:
            out.append((a, b))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(xs: list[Interval], ys: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in xs:
        cur = a
        for c, d in ys:
            if d <= cur or c >= b:
                continue
            if c > cur:
                out.append((cur, c))
            cur = max(cur, d)
        if cur < b:
            out.append((cur, b))
    return out


def total(intervals: Iterable[Interval]) -> int:
    return sum(b - a for a, b in intervals)


# --- the station-day -----------------------------------------------------------------------


def reported_open(claims: list[tuple[int, bool]], end: int) -> list[Interval]:
    """Intervals during which the station's last claim said open."""
    out, since = [], None
    for t, is_open in claims:
        if is_open and since is None:
            since = t
        elif not is_open and since is not None:
            out.append((since, t))
            since = None
    if since is not None:
        out.append((since, end))
    return union(out)


def online_intervals(events: Iterable[Event], end: int, start: Presence | None = None) -> list[Interval]:
    """When a device was online, up to `end`: docs/protocol.md's online rule (`online.py`, the one the
    live fleet applies) replayed over its events in the order they happened."""
    state = start or Presence()
    out: list[Interval] = []
    since: int | None = None
    for event in events:
        state, transitions = step(state, event)
        for t in transitions:
            if t.online and since is None:
                since = t.at_ms
            elif not t.online and since is not None:
                out.append((since, t.at_ms))
                since = None
    if since is not None:
        _, timed_out = expire(state, end)  # silent until the end: offline at its deadline
        out.append((since, timed_out.at_ms if timed_out else end))
    return union(out)


def device_online(h: DeviceHistory, end: int) -> list[Interval]:
    """The online rule replayed over what storage holds of a device. Stored deaths are the ones the live
    fleet accepted (a stale one never reaches storage), so no `boot` is needed to judge them; a birth, a
    death and a message stored at the same instant count in that order."""
    stored = sorted(
        [(t, 0, iv) for t, iv in h.births] + [(t, 1, 0) for t in h.deaths] + [(t, 2, 0) for t in h.messages]
    )
    events = [Born(t, None, iv) if k == 0 else Died(t) if k == 1 else Activity(t) for t, k, iv in stored]
    # before the first birth in view, silence is counted with the last period known of the device
    return online_intervals(events, end, Presence(interval_s=h.interval_s))


def opening_day(inp: DayInput) -> OpeningDay:
    start_dt, end_dt = local_day_bounds(inp.day, inp.tz)
    lo, hi = _ms(start_dt), _ms(end_dt)
    if inp.now_ms is not None and inp.now_ms < hi:
        hi = max(lo, inp.now_ms)  # the rest of the day has not happened yet
    day_scheduled = scheduled_intervals(inp.schedule, inp.day, inp.tz)
    scheduled = clip(day_scheduled, lo, hi)
    reported = clip(reported_open(inp.claims, hi), lo, hi)
    per_device = {d: clip(device_online(h, hi), lo, hi) for d, h in inp.devices.items()}
    online = union(iv for ivs in per_device.values() for iv in ivs)
    verified = intersect(reported, clip(online, lo, hi))
    scheduled_s = total(day_scheduled) // 1000
    verified_in_schedule = total(intersect(verified, scheduled))
    compliance = 1.0 if not scheduled else round(verified_in_schedule / total(scheduled), 4)
    visits = [t for t in inp.door_opens if lo <= t < hi]
    flags: dict[str, int] = {}

    opened_any = False
    for s, e in day_scheduled:
        pieces = clip(reported, s, e)
        if not pieces:
            continue
        opened_any = True
        if pieces[0][0] - s > LATE_TOLERANCE_MS:
            flags["late_open"] = flags.get("late_open", 0) + _minutes(pieces[0][0] - s)
        if e <= hi and e - pieces[-1][1] > LATE_TOLERANCE_MS:  # only once the range is over
            flags["early_close"] = flags.get("early_close", 0) + _minutes(e - pieces[-1][1])
    missed = total(scheduled)
    if scheduled and not opened_any and missed > LATE_TOLERANCE_MS:
        flags["not_opened"] = _minutes(missed)
    unverified = total(reported) - total(verified)
    if unverified >= DEVICES_OFFLINE_MIN_MS:
        flags["open_devices_offline"] = _minutes(unverified)
    if total(reported) >= NO_ACTIVITY_MIN_MS and not any(_inside(reported, t) for t in visits):
        flags["open_no_activity"] = _minutes(total(reported))
    after_hours = sum(1 for t in visits if not _inside(reported, t))
    if after_hours:
        flags["activity_while_closed"] = after_hours
    if inp.clock_skew:
        flags["clock_skew"] = inp.clock_skew
    gap = total(intersect(gaps(inp.devices.values(), lo, hi), reported))
    if gap:
        flags["data_gap"] = _minutes(gap)
    return OpeningDay(
        inp.day.isoformat(),
        scheduled_s,
        total(reported) // 1000,
        total(verified) // 1000,
        compliance,
        flags,
        visits=len(visits),
        verified_in_schedule_s=verified_in_schedule // 1000,
        device_online_s={d: total(ivs) // 1000 for d, ivs in sorted(per_device.items())},
        timeline={
            "day": [(lo, _ms(end_dt))],
            "scheduled": day_scheduled,
            "reported": reported,
            "verified": verified,
        },
    )


def scheduled_intervals(schedule: WeeklySchedule, day: date, tz: ZoneInfo) -> list[Interval]:
    midnight = local_day_bounds(day, tz)[0]
    return [
        (_ms(midnight + timedelta(seconds=r.start_s)), _ms(midnight + timedelta(seconds=r.end_s)))
        for r in schedule.ranges_on(day)
    ]


def gaps(devices: Iterable[DeviceHistory], lo: int, hi: int) -> list[Interval]:
    """Stretches of over an hour inside [lo, hi) in which no device sent anything."""
    times = sorted({t for h in devices for t in (*h.messages, *(b for b, _ in h.births))})
    if not times:
        return [(lo, hi)] if hi - lo > DATA_GAP_MS else []
    i = bisect_left(times, lo)
    prev = times[i - 1] if i > 0 else lo
    out = []
    for t in [*times[i:], hi]:
        t = min(t, hi)
        if t - prev > DATA_GAP_MS:
            out.append((max(prev, lo), t))
        prev = t
        if t >= hi:
            break
    return out


def _inside(intervals: list[Interval], t: int) -> bool:
    return any(a <= t < b for a, b in intervals)


def _minutes(ms: int) -> int:
    return max(1, round(ms / 60_000))


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)
