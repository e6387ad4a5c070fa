"""A station-day's opening hours, computed from what InfluxDB holds (late data included)."""

from collections import defaultdict
from datetime import date

from yizhan.server.application.ports import PointStore, quote_tag
from yizhan.server.application.usage_history import door_opens
from yizhan.server.domain.opening import DayInput, DeviceHistory, OpeningDay, opening_day
from yizhan.server.domain.schedule import local_day_bounds
from yizhan.server.domain.station import StationSpec

DEVICE_MEASUREMENTS = '"door_sensor","water_dispenser","power_strip","smart_speaker","other","events"'
CLAIM_LOOKBACK_MS = 31 * 86_400_000
STATUS_LOOKBACK_MS = 86_400_000


async def station_day(
    influx: PointStore,
    station: str,
    spec: StationSpec,
    day: date,
    default_tz: str,
    now_ms: int | None = None,
) -> OpeningDay:
    """The figures of one local day; `now_ms` for a day still going on."""
    tz = spec.zone(default_tz)
    start, end = local_day_bounds(day, tz)
    lo, hi = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    st = f'"station" = {quote_tag(station)}'
    rng = f"time >= {lo}ms AND time < {hi}ms"
    first = await influx.query(
        ";".join(
            [
                f'SELECT last("open") FROM "station_state" WHERE {st} AND time >= {lo - CLAIM_LOOKBACK_MS}ms'
                f" AND time < {lo}ms",
                f'SELECT "open" FROM "station_state" WHERE {st} AND {rng}',
                f'SELECT "online", "reason", "interval_s" FROM "device_status" WHERE {st}'
                f' AND time >= {lo - STATUS_LOOKBACK_MS}ms AND time < {hi}ms GROUP BY "device"',
                f'SELECT last("interval_s") FROM "device_status" WHERE {st}'
                f' AND time >= {lo - CLAIM_LOOKBACK_MS}ms AND time < {hi}ms GROUP BY "device"',
                f'SELECT count("clock_skew") FROM {DEVICE_MEASUREMENTS} WHERE {st} AND {rng}',
            ]
        )
    )
    doors = await influx.query(
        ";".join(
            [
                f'SELECT last("open") FROM "door_sensor" WHERE {st} AND time >= {lo - CLAIM_LOOKBACK_MS}ms'
                f' AND time < {lo}ms GROUP BY "device"',
                f'SELECT last("open") FROM "events" WHERE {st} AND "event" = \'door\''
                f' AND time >= {lo - CLAIM_LOOKBACK_MS}ms AND time < {lo}ms GROUP BY "device"',
                f'SELECT "open" FROM "door_sensor" WHERE {st} AND {rng} GROUP BY "device"',
                f'SELECT "open" FROM "events" WHERE {st} AND "event" = \'door\' AND {rng} GROUP BY "device"',
            ]
        ),
        epoch="ns",
    )
    claims = [(int(r[0]), bool(r[1])) for s in first[0] + first[1] for r in s.values if r[1] is not None]
    watched = {d.id for d in spec.devices if d.type != "gateway"}
    intervals = {
        s.tags.get("device", ""): int(s.values[-1][1]) for s in first[3] if s.values and s.values[-1][1]
    }
    longest = max(intervals.values(), default=60)
    births: dict[str, list[tuple[int, int]]] = defaultdict(list)
    deaths: dict[str, list[int]] = defaultdict(list)
    for s in first[2]:
        device = s.tags.get("device", "")
        for t, online, reason, interval_s in s.values:
            if reason == "birth" and online:
                births[device].append((int(t), int(interval_s or intervals.get(device, 60))))
            elif reason == "death" and not online:
                deaths[device].append(int(t))
    back = lo - (3 * longest + 60) * 1000
    second = await influx.query(
        f'SELECT "seq" FROM {DEVICE_MEASUREMENTS} WHERE {st} AND time >= {back}ms AND time < {hi}ms'
        ' GROUP BY "device"'
    )
    messages: dict[str, list[int]] = defaultdict(list)
    for s in second[0]:
        messages[s.tags.get("device", "")].extend(int(r[0]) for r in s.values)
    devices = {
        d: DeviceHistory(births[d], deaths[d], sorted(messages[d]), intervals.get(d, 60)) for d in watched
    }
    return opening_day(
        DayInput(
            day=day,
            tz=tz,
            schedule=spec.weekly_schedule(),
            claims=sorted(claims),
            devices=devices,
            door_opens=door_opens(doors[0] + doors[1], doors[2] + doors[3]),
            clock_skew=sum(int(s.values[0][1]) for s in first[4] if s.values),
            now_ms=now_ms,
        )
    )
