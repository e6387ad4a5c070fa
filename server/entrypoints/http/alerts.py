"""HTTP entry points for alerts, crews and silences (docs/contract.md "HTTP API", extended)."""

import asyncio
from collections.abc import AsyncIterable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, StringConstraints
from yizhan.protocol.ids import ID_PATTERN
from yizhan.server.application.alerting import Alerting, alert_json, parse_end, silence_json
from yizhan.server.domain.access import Principal
from yizhan.server.domain.alerts import Alert, AlertError
from yizhan.server.domain.routing import CrewSpec, SilenceSpec
from yizhan.server.domain.timestamps import iso_ms
from yizhan.server.entrypoints.http.auth import principal_of

CrewId = Annotated[str, Path(pattern=ID_PATTERN, description="crew id")]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # SQLite integers


class AlertAction(BaseModel):
    """Who acknowledges or resolves, and why."""

    model_config = ConfigDict(extra="forbid")
    by: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


def crew_json(crew_id: str, crew: CrewSpec) -> dict[str, Any]:
    body = crew.model_dump(mode="json", exclude={"secret"})
    body["id"] = crew_id
    body["has_secret"] = bool(crew.secret)
    return body


def build_alerts_router(alerting: Alerting, default_tz: Any) -> APIRouter:
    api = APIRouter(tags=["alerts"])
    store = alerting.store

    @api.get("/api/v1/alerts")
    async def list_alerts(
        request: Request,
        state: Literal["firing", "acknowledged", "resolved", "open"] | None = None,
        district: str | None = None,
        station: str | None = None,
        limit: Annotated[int, Query(ge=1, le=10000)] = 500,
    ) -> list[dict[str, Any]]:
        """Alerts, newest first; `state=open` means firing or acknowledged. A crew sees its
        districts' alerts only."""
        who = principal_of(request)
        districts = who.districts if who is not None and who.role == "crew" else None
        if district is not None and districts is not None and district not in districts:
            raise HTTPException(403, f"district {district!r} is not one of your districts")
        if state == "open":
            found = [
                a
                for a in sorted(alerting.engine.open.values(), key=lambda a: -a.id)
                if (district is None or a.district == district)
                and (station is None or a.station == station)
                and (districts is None or a.district in districts)
            ][:limit]
        else:
            found = await asyncio.to_thread(store.alerts, state, district, station, limit, districts)
        return [alert_json(a) for a in found]

    @api.get("/api/v1/alerts/stream", response_class=EventSourceResponse)
    async def alert_stream(request: Request) -> AsyncIterable[ServerSentEvent]:
        """Server-sent events: one `alert` event per transition (firing, acknowledged, resolved,
        reminder, escalated), as JSON. A crew gets its districts' alerts only."""
        who = principal_of(request)
        async with alerting.stream.subscribe() as queue:
            yield ServerSentEvent(comment="yizhan alert stream")
            while True:
                event = await queue.get()
                if who is not None and not who.sees_district(event["alert"]["district"]):
                    continue
                yield ServerSentEvent(event="alert", data=event, id=str(event["alert"]["id"]))

    async def visible_alert(alert_id: int, who: Principal | None) -> Alert:
        alert = await asyncio.to_thread(store.alert, alert_id)
        if alert is None:
            raise HTTPException(404, f"alert {alert_id} does not exist")
        if who is not None and not who.sees_district(alert.district):
            raise HTTPException(403, f"alert {alert_id} is in district {alert.district!r}, not one of yours")
        return alert

    @api.get("/api/v1/alerts/{alert_id}")
    async def get_alert(alert_id: RowId, request: Request) -> dict[str, Any]:
        alert = await visible_alert(alert_id, principal_of(request))
        body = alert_json(alert)
        history = await asyncio.to_thread(store.history, alert_id)
        body["history"] = [dict(h, at=iso_ms(h.pop("at_ms"))) for h in history]
        deliveries = await asyncio.to_thread(store.deliveries, alert_id)
        body["deliveries"] = [
            dict(d, created_at=iso_ms(d.pop("created_ms")), done_at=iso_ms(d.pop("done_at_ms")))
            for d in deliveries
        ]
        return body

    async def act(alert_id: int, action: str, body: AlertAction, request: Request) -> dict[str, Any]:
        who = principal_of(request)
        await visible_alert(alert_id, who)
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

    @api.post("/api/v1/alerts/{alert_id}/ack")
    async def acknowledge(alert_id: RowId, body: AlertAction, request: Request) -> dict[str, Any]:
        """Acknowledge: reminders and escalation stop; the alert stays open until resolved."""
        return await act(alert_id, "ack", body, request)

    @api.post("/api/v1/alerts/{alert_id}/resolve")
    async def resolve(alert_id: RowId, body: AlertAction, request: Request) -> dict[str, Any]:
        """Resolve by hand; if the condition still holds, no new alert until it clears and returns."""
        return await act(alert_id, "resolve", body, request)

    @api.put("/api/v1/crews/{crew_id}", tags=["crews"])
    async def put_crew(crew_id: CrewId, crew: CrewSpec, response: Response) -> dict[str, Any]:
        """Create or replace a crew (`role: crew`) or a district's operators (`role: operators`,
        who receive escalations). The secret signs webhooks and is never shown again."""
        created = await alerting.put_crew(crew_id, crew)
        response.status_code = 201 if created else 200
        return crew_json(crew_id, crew)

    @api.get("/api/v1/crews", tags=["crews"])
    async def list_crews() -> list[dict[str, Any]]:
        return [crew_json(cid, c) for cid, c in sorted(alerting.crews.items())]

    @api.get("/api/v1/crews/{crew_id}", tags=["crews"])
    async def get_crew(crew_id: CrewId) -> dict[str, Any]:
        crew = alerting.crews.get(crew_id)
        if crew is None:
            raise HTTPException(404, f"crew {crew_id!r} does not exist")
        return crew_json(crew_id, crew)

    @api.post("/api/v1/silences", tags=["silences"], status_code=201)
    async def add_silence(spec: SilenceSpec) -> dict[str, Any]:
        """Silence notifications for a station, a district or a rule until `ends_at`
        (alerts are still raised and listed)."""
        try:
            ends_ms = parse_end(spec.ends_at, default_tz)
        except (ValueError, OverflowError):
            raise HTTPException(422, f"ends_at: {spec.ends_at!r} is not an ISO-8601 datetime") from None
        if ends_ms <= alerting.clock.now_ms():
            raise HTTPException(422, "ends_at must be in the future")
        return silence_json(await alerting.add_silence(spec, ends_ms))

    @api.get("/api/v1/silences", tags=["silences"])
    async def list_silences(active: bool = False) -> list[dict[str, Any]]:
        now = alerting.clock.now_ms()
        return [silence_json(s) for s in alerting.silences if not active or s.starts_ms <= now < s.ends_ms]

    @api.delete("/api/v1/silences/{silence_id}", tags=["silences"])
    async def end_silence(silence_id: RowId) -> dict[str, Any]:
        if not await alerting.end_silence(silence_id):
            raise HTTPException(404, f"silence {silence_id} does not exist")
        return next(silence_json(s) for s in alerting.silences if s.id == silence_id)

    return api
