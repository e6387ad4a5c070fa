"""Silences: no notifications for matching alerts during planned maintenance."""

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException
from yizhan.server.application.alerting import parse_end, silence_json
from yizhan.server.domain.routing import SilenceSpec
from yizhan.server.entrypoints.http.deps import AlertingDep, RowId, SettingsDep
from yizhan.server.entrypoints.http.schemas import SilenceOut, problem

router = APIRouter(tags=["silences"])


@router.post("/api/v1/silences", status_code=201, response_model=SilenceOut)
async def add_silence(spec: SilenceSpec, alerting: AlertingDep, settings: SettingsDep) -> dict[str, Any]:
    """Silence notifications for a station, a district or a rule until `ends_at`
    (alerts are still raised and listed)."""
    try:
        ends_ms = parse_end(spec.ends_at, ZoneInfo(settings.timezone))
    except (ValueError, OverflowError):
        raise HTTPException(422, f"ends_at: {spec.ends_at!r} is not an ISO-8601 datetime") from None
    if ends_ms <= alerting.clock.now_ms():
        raise HTTPException(422, "ends_at must be in the future")
    return silence_json(await alerting.add_silence(spec, ends_ms))


@router.get("/api/v1/silences", response_model=list[SilenceOut])
async def list_silences(alerting: AlertingDep, active: bool = False) -> list[dict[str, Any]]:
    now = alerting.clock.now_ms()
    return [silence_json(s) for s in alerting.silences if not active or s.starts_ms <= now < s.ends_ms]


@router.delete(
    "/api/v1/silences/{silence_id}", response_model=SilenceOut, responses=problem(404, "No such silence")
)
async def end_silence(silence_id: RowId, alerting: AlertingDep) -> dict[str, Any]:
    if not await alerting.end_silence(silence_id):
        raise HTTPException(404, f"silence {silence_id} does not exist")
    return next(silence_json(s) for s in alerting.silences if s.id == silence_id)
