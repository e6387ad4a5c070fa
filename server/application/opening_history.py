"""A station-day's opening hours, computed from what InfluxDB holds (late data included)."""

from collections import defaultdict
from datetime import date
from typing import Any

from yizhan.server.application.ports import PointStore, Series, query_named, quote_tag
from yizhan.server.application.schema import Measurement, influxql_list
from yizhan.server.application.usage_history import door_opens
from yizhan.server.domain.online import StatusReason
from yizhan.server.domain.opening import DayInput, DeviceHistory, OpeningDay, opening_day
from yizhan.server.domain.schedule import local_day_bounds
from yizhan.server.domain.station import StationSpec

# every measurement a device message lands in (the gateway's own telemetry is not evidence)
DEVICE_MEASUREMENTS = influxql_list(
    (
        Measurement.DOOR_SENSOR,
        Measurement.WATER_DISPENSER,
        Measurement.POWER_STRIP,
        Measurement.SMART_SPEAKER,
        Measurement.OTHER,
        Measurement.EVENTS,
    )
)
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
    claim_back = f"time >= {lo - CLAIM_LOOKBACK_MS}ms"
    first = await query_named(
        influx,
        {
            "claim_before": f'SELECT last("open") FROM "station_state" WHERE {st} AND {claim_back}'
            f" AND time < {lo}ms",
            "claims": f'SELECT "open" FROM "station_state" WHERE {st} AND {rng}',
            "status": f'SELECT "online", "reason", "interval_s" FROM "device_status" WHERE {st}'
            f' AND time >= {lo - STATUS_LOOKBACK_MS}ms AND time < {hi}ms GROUP BY "device"',
            "intervals": f'SELECT last("interval_s") FROM "device_status" WHERE {st}'
            f' AND {claim_back} AND time < {hi}ms GROUP BY "device"',
            "clock_skew": f'SELECT count("clock_skew") FROM {DEVICE_MEASUREMENTS} WHERE {st} AND {rng}',
        },
    )
    door_back = f"{claim_back} AND time < {lo}ms"
    doors = await query_named(
        influx,
        {
            "telemetry_before": f'SELECT last("open") FROM "door_sensor" WHERE {st} AND {door_back}'
            ' GROUP BY "device"',
            "events_before": f'SELECT last("open") FROM "events" WHERE {st} AND "event" = \'door\''
            f' AND {door_back} GROUP BY "device"',
            "telemetry": f'SELECT "open" FROM "door_sensor" WHERE {st} AND {rng} GROUP BY "device"',
            "events": f'SELECT "open" FROM "events" WHERE {st} AND "event" = \'door\' AND {rng}'
            ' GROUP BY "device"',
        },
        epoch="ns",
    )
    claims = [(t, bool(v)) for t, v in _pairs(first["claim_before"] + first["claims"]) if v is not None]
    watched = {d.id for d in spec.devices if d.type != "gateway"}
    intervals = {
        s.tags.get("device", ""): int(s.rows()[-1]["last"])
        for s in first["intervals"]
        if s.values and s.rows()[-1]["last"]
    }
    longest = max(intervals.values(), default=60)
    births: dict[str, list[tuple[int, int]]] = defaultdict(list)
    deaths: dict[str, list[int]] = defaultdict(list)
    for s in first["status"]:
        device = s.tags.get("device", "")
        for t, online, reason, interval_s in s.values:  # the columns named in the statement, in order
            if reason == StatusReason.BIRTH and online:
                births[device].append((int(t), int(interval_s or intervals.get(device, 60))))
            elif reason == StatusReason.DEATH and not online:
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
            door_opens=door_opens(
                doors["telemetry_before"] + doors["events_before"], doors["telemetry"] + doors["events"]
            ),
            clock_skew=sum(int(s.rows()[0]["count"]) for s in first["clock_skew"] if s.values),
            now_ms=now_ms,
        )
    )


def _pairs(series: list[Series]) -> list[tuple[int, Any]]:
    """(time, value) of the answers to statements that select one value (a field, or last() of one)."""
    return [(int(t), v) for s in series for t, v in s.values]
