"""A station's usage over a time range: visits, water, energy, heating, speaker interactions."""

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from yizhan.server.application.ports import InfluxRejected, InfluxUnavailable
from yizhan.server.application.usage_history import station_usage
from yizhan.server.domain.schedule import local_day_bounds
from yizhan.server.entrypoints.http.deps import ClockDep, InfluxDep, LiveStation, SettingsDep
from yizhan.server.entrypoints.http.schemas import Usage, problem
from yizhan.server.entrypoints.http.timefmt import parse_when

MAX_RANGE = timedelta(days=366)

router = APIRouter(tags=["stations"])


@router.get(
    "/api/v1/stations/{station_id}/usage",
    response_model=Usage,
    responses=problem(404, "The station is not registered") | problem(503, "InfluxDB did not answer"),
)
async def get_usage(
    live: LiveStation,
    settings: SettingsDep,
    clock: ClockDep,
    influx: InfluxDep,
    start: Annotated[str | None, Query(description="ISO-8601; naive means station time")] = None,
    end: Annotated[str | None, Query(description="ISO-8601; default start + 1 day")] = None,
) -> Usage:
    tz = live.spec.zone(settings.timezone)
    if start is None:
        day = datetime.fromtimestamp(clock.now_ms() / 1000, tz).date()
        t0, _ = local_day_bounds(day, tz)
    else:
        t0 = parse_when(start, "start", tz)
    t1 = parse_when(end, "end", tz) if end else t0 + timedelta(days=1)
    if t1 <= t0:
        raise HTTPException(422, "end must be after start")
    if t1 - t0 > MAX_RANGE:
        raise HTTPException(422, "a usage range is at most 366 days")
    try:
        usage = await station_usage(influx, live.id, t0, t1)
    except (InfluxUnavailable, InfluxRejected) as exc:
        raise HTTPException(503, f"InfluxDB: {exc}") from None
    return Usage(station=live.id, start=t0.isoformat(), end=t1.isoformat(), **usage.as_dict())
