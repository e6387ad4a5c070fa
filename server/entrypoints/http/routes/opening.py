"""A station's opening hours per local day for auditors: sealed from the hash chain, or computed now."""

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from yizhan.server.application.ports import InfluxRejected, InfluxUnavailable
from yizhan.server.entrypoints.http.deps import AuditReportsDep, ClockDep, LiveStation, SettingsDep
from yizhan.server.entrypoints.http.schemas import StationOpening, problem
from yizhan.server.entrypoints.http.timefmt import parse_when

MAX_DAYS = 93

router = APIRouter(tags=["audit"])


@router.get(
    "/api/v1/stations/{station_id}/opening",
    response_model=StationOpening,
    responses=problem(404, "The station is not registered") | problem(503, "InfluxDB did not answer"),
)
async def opening(
    live: LiveStation,
    settings: SettingsDep,
    clock: ClockDep,
    reports: AuditReportsDep,
    start: Annotated[str | None, Query(description="first local day (ISO-8601); default today")] = None,
    end: Annotated[str | None, Query(description="end, exclusive (ISO-8601); default start + 1 day")] = None,
) -> StationOpening:
    """Per local day: scheduled, reported-open and verified-open seconds, compliance and flags.
    Closed days come from the sealed record (with its chain position), the others are computed now."""
    tz = live.spec.zone(settings.timezone)
    today = datetime.fromtimestamp(clock.now_ms() / 1000, tz).date()
    first = _local_day(start, "start", tz) if start else today
    last = _local_day(end, "end", tz) if end else first + timedelta(days=1)
    if end and datetime.fromisoformat(end).time() != datetime.min.time():
        last += timedelta(days=1)  # a range ending inside a day includes that day
    if last <= first:
        raise HTTPException(422, "end must be after start")
    if (last - first).days > MAX_DAYS:
        raise HTTPException(422, f"at most {MAX_DAYS} days at a time")
    try:
        days = await reports.opening_days(live.id, live.spec, first, last)
    except (InfluxUnavailable, InfluxRejected) as exc:
        raise HTTPException(503, f"InfluxDB: {exc}") from None
    return StationOpening.model_validate({"station": live.id, "timezone": str(tz), "days": days})


def _local_day(value: str, field: str, tz: Any) -> date:
    return parse_when(value, field, tz).astimezone(tz).date()
