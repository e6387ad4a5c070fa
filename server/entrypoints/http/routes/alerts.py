"""Alerts: the list, the live stream, one alert with its history, acknowledging and resolving."""

import asyncio
from collections.abc import AsyncIterable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent
from yizhan.server.application.alerting import Alerting, alert_json
from yizhan.server.domain.access import Principal
from yizhan.server.domain.alerts import Alert, AlertError
from yizhan.server.entrypoints.http.deps import AlertingDep, CurrentPrincipal, RowId
from yizhan.server.entrypoints.http.schemas import (
    AlertAction,
    AlertDelivery,
    AlertDetail,
    AlertHistoryEntry,
    AlertOut,
    problem,
)

router = APIRouter(tags=["alerts"])
UNSEEN = problem(403, "The alert is not in one of the crew's districts") | problem(404, "No such alert")
NOT_OPEN = problem(409, "The alert is not open (already resolved)")


@router.get(
    "/api/v1/alerts",
    response_model=list[AlertOut],
    responses=problem(403, "The district is not one of the crew's districts"),
)
async def list_alerts(
    alerting: AlertingDep,
    who: CurrentPrincipal,
    state: Literal["firing", "acknowledged", "resolved", "open"] | None = None,
    district: str | None = None,
    station: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 500,
) -> list[dict[str, Any]]:
    """Alerts, newest first; `state=open` means firing or acknowledged. A crew sees its
    districts' alerts only."""
    districts = who.districts if who is not None and who.role == "crew" else None
    if district is not None and districts is not None and district not in districts:
        raise HTTPException(403, f"district {district!r} is not one of your districts")
    if state == "open":
        found = [
            a
            for a in alerting.open_alerts()  # stored ones only: what is listed can be acted on
            if (district is None or a.district == district)
            and (station is None or a.station == station)
            and (districts is None or a.district in districts)
        ][:limit]
    else:
        found = await asyncio.to_thread(alerting.store.alerts, state, district, station, limit, districts)
    return [alert_json(a) for a in found]


@router.get(
    "/api/v1/alerts/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`alert` events: a transition as JSON (kind, at, by, note, silenced_by, alert)",
            "content": {"text/event-stream": {}},
        }
    },
)
async def alert_stream(alerting: AlertingDep, who: CurrentPrincipal) -> AsyncIterable[ServerSentEvent]:
    """Server-sent events: one `alert` event per transition (firing, acknowledged, resolved,
    reminder, escalated), as JSON. A crew gets its districts' alerts only."""
    async with alerting.stream.subscribe() as queue:
        yield ServerSentEvent(comment="yizhan alert stream")
        while True:
            event = await queue.get()
            if who is not None and not who.sees_district(event["alert"]["district"]):
                continue
            yield ServerSentEvent(event="alert", data=event, id=str(event["alert"]["id"]))


@router.get("/api/v1/alerts/{alert_id}", response_model=AlertDetail, responses=UNSEEN)
async def get_alert(alert_id: RowId, alerting: AlertingDep, who: CurrentPrincipal) -> AlertDetail:
    alert = await _visible_alert(alerting, alert_id, who)
    history = await asyncio.to_thread(alerting.store.history, alert_id)
    deliveries = await asyncio.to_thread(alerting.store.deliveries, alert_id)
    return AlertDetail.model_validate(
        {
            **alert_json(alert),
            "history": [AlertHistoryEntry.of(h) for h in history],
            "deliveries": [AlertDelivery.of(d) for d in deliveries],
        }
    )


@router.post("/api/v1/alerts/{alert_id}/ack", response_model=AlertOut, responses=UNSEEN | NOT_OPEN)
async def acknowledge(
    alert_id: RowId, body: AlertAction, alerting: AlertingDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Acknowledge: reminders and escalation stop; the alert stays open until resolved."""
    return await _act(alerting, alert_id, "ack", body, who)


@router.post("/api/v1/alerts/{alert_id}/resolve", response_model=AlertOut, responses=UNSEEN | NOT_OPEN)
async def resolve(
    alert_id: RowId, body: AlertAction, alerting: AlertingDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Resolve by hand; if the condition still holds, no new alert until it clears and returns."""
    return await _act(alerting, alert_id, "resolve", body, who)


async def _visible_alert(alerting: Alerting, alert_id: int, who: Principal | None) -> Alert:
    # not a dependency: an unknown alert is looked up only once the request body is valid (422 first)
    alert = await asyncio.to_thread(alerting.store.alert, alert_id)
    if alert is None:
        raise HTTPException(404, f"alert {alert_id} does not exist")
    if who is not None and not who.sees_district(alert.district):
        raise HTTPException(403, f"alert {alert_id} is in district {alert.district!r}, not one of yours")
    return alert


async def _act(
    alerting: Alerting, alert_id: int, action: str, body: AlertAction, who: Principal | None
) -> dict[str, Any]:
    await _visible_alert(alerting, alert_id, who)
    # with tokens, the history names the user; the body's `by` cannot speak for someone else
    by = body.by if who is None or who.name == body.by else f"{who.name} (as {body.by})"
    try:
        if action == "ack":
            alert = await alerting.acknowledge(alert_id, by, body.note)
        else:
            alert = await alerting.resolve(alert_id, by, body.note)
    except AlertError as exc:
        raise HTTPException(409, str(exc)) from None
    return alert_json(alert)
