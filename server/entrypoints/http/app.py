"""HTTP entry points (docs/contract.md "HTTP API"): translate requests into service calls and back."""

import asyncio
from datetime import datetime, timedelta
from pathlib import Path as PathLib
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import FileResponse, ORJSONResponse
from fastapi.staticfiles import StaticFiles
from yizhan.protocol.ids import ID_PATTERN
from yizhan.server.application.ports import InfluxRejected, InfluxUnavailable
from yizhan.server.application.usage_history import station_usage
from yizhan.server.bootstrap import Services
from yizhan.server.domain.finder import nearby, services_now
from yizhan.server.domain.fleet import StationLive
from yizhan.server.domain.schedule import local_day_bounds
from yizhan.server.domain.station import StationSpec
from yizhan.server.domain.timestamps import iso_ms
from yizhan.server.entrypoints.http.alerts import build_alerts_router
from yizhan.server.entrypoints.http.audit import build_audit_router
from yizhan.server.entrypoints.http.auth import check_routes, make_authorizer, principal_of, route_roles
from yizhan.server.entrypoints.http.body_limit import BodyLimit, refusal_counter
from yizhan.server.entrypoints.http.metrics import ServerCollector, render
from yizhan.server.entrypoints.http.timefmt import parse_when

CONSOLE = PathLib(__file__).resolve().parent / "console"
StationId = Annotated[str, Path(pattern=ID_PATTERN, description="station id")]


def station_summary(live: StationLive) -> dict[str, Any]:
    return {
        "id": live.id,
        "name": live.spec.name,
        "district": live.spec.district,
        "open": live.is_open(),
        "reported_open": live.reported_open,
        "devices_online": live.devices_online(),
        "devices_total": len(live.devices),
        "last_seen": iso_ms(live.last_seen_ms),
        "faults": sum(len(d.faults) for d in live.devices.values()),
        "lat": live.spec.lat,
        "lon": live.spec.lon,
    }


def station_detail(live: StationLive) -> dict[str, Any]:
    body = live.spec.model_dump(exclude_none=True, exclude={"devices"})
    body.update(station_summary(live))
    body["devices"] = [
        {
            "id": d.id,
            "type": d.type,
            "online": d.online,
            "last_seen": iso_ms(d.last_seen_ms),
            "faults": sorted(d.faults),
        }
        for d in live.devices.values()
    ]
    return body


def build_router(services: Services) -> APIRouter:
    api = APIRouter()
    fleet, settings = services.fleet, services.settings

    def live_station(station_id: str) -> StationLive:
        live = fleet.stations.get(station_id)
        if live is None:
            raise HTTPException(404, f"station {station_id!r} is not registered")
        return live

    @api.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, Any]:
        influx_ok = await services.influx.ping()
        mqtt_ok = services.mqtt.connected
        return {
            "status": "ok" if influx_ok and mqtt_ok else "degraded",
            "mqtt": mqtt_ok,
            "influxdb": influx_ok,
        }

    @api.get("/metrics", tags=["ops"])
    async def metrics() -> Response:
        return Response(render(services.metrics), media_type="text/plain; version=0.0.4")

    @api.put("/api/v1/stations/{station_id}", tags=["stations"])
    async def put_station(station_id: StationId, spec: StationSpec, response: Response) -> dict[str, Any]:
        created = await asyncio.to_thread(services.registry.put_station, station_id, spec)
        fleet.register(station_id, spec)
        services.ingest.forget_unregistered(station_id)
        response.status_code = 201 if created else 200
        return station_detail(fleet.stations[station_id])

    @api.get("/api/v1/stations", tags=["stations"])
    async def list_stations(district: str | None = None) -> ORJSONResponse:
        rows = [
            station_summary(live)
            for live in fleet.stations.values()
            if district is None or live.spec.district == district
        ]
        return ORJSONResponse(rows)

    @api.get("/api/v1/stations/{station_id}", tags=["stations"])
    async def get_station(station_id: StationId) -> dict[str, Any]:
        return station_detail(live_station(station_id))

    @api.get("/api/v1/stations/{station_id}/usage", tags=["stations"])
    async def get_usage(
        station_id: StationId,
        start: Annotated[str | None, Query(description="ISO-8601; naive means station time")] = None,
        end: Annotated[str | None, Query(description="ISO-8601; default start + 1 day")] = None,
    ) -> dict[str, Any]:
        live = live_station(station_id)
        tz = live.spec.zone(settings.timezone)
        if start is None:
            day = datetime.fromtimestamp(services.clock.now_ms() / 1000, tz).date()
            t0, _ = local_day_bounds(day, tz)
        else:
            t0 = parse_when(start, "start", tz)
        t1 = parse_when(end, "end", tz) if end else t0 + timedelta(days=1)
        if t1 <= t0:
            raise HTTPException(422, "end must be after start")
        if t1 - t0 > timedelta(days=366):
            raise HTTPException(422, "a usage range is at most 366 days")
        try:
            usage = await station_usage(services.influx, station_id, t0, t1)
        except (InfluxUnavailable, InfluxRejected) as exc:
            raise HTTPException(503, f"InfluxDB: {exc}") from None
        return {"station": station_id, "start": t0.isoformat(), "end": t1.isoformat(), **usage.as_dict()}

    @api.get("/api/v1/public/stations/nearby", tags=["public"])
    async def public_nearby(
        lat: Annotated[float, Query(ge=-90, le=90)],
        lon: Annotated[float, Query(ge=-180, le=180)],
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> list[dict[str, Any]]:
        """Stations open now, nearest first, with the services they can give now (a service whose
        device is offline or faulty is left out). Public: no personal data."""
        return [
            {
                "id": n.live.id,
                "name": n.live.spec.name,
                "address": n.live.spec.address,
                "lat": n.live.spec.lat,
                "lon": n.live.spec.lon,
                "distance_m": round(n.distance_m),
                "services_now": services_now(n.live),
            }
            for n in nearby(list(fleet.stations.values()), lat, lon, limit)
        ]

    @api.get("/api/v1/whoami", tags=["users"])
    async def whoami(request: Request) -> dict[str, Any]:
        """The caller's user name, role and districts (the console shows them)."""
        who = principal_of(request)
        if who is None:
            return {"name": None, "role": None, "districts": [], "auth": False}
        return {"name": who.name, "role": who.role, "districts": sorted(who.districts), "auth": True}

    @api.get("/api/v1/users", tags=["users"])
    async def list_users() -> list[dict[str, Any]]:
        """API users (tokens are never shown; `yizhan users` manages them)."""
        return [
            {"name": u.name, "role": u.role, "districts": sorted(u.districts)} for u in services.users.users()
        ]

    @api.get("/api/v1/unregistered", tags=["stations"])
    async def unregistered() -> list[dict[str, Any]]:
        return [
            {
                "station": s.station,
                "device": s.device,
                "reason": s.reason,
                "first_seen": iso_ms(s.first_seen_ms),
                "last_seen": iso_ms(s.last_seen_ms),
                "messages": s.messages,
            }
            for s in sorted(services.ingest.unregistered.values(), key=lambda s: -s.last_seen_ms)
        ]

    return api


def create_app(services: Services, lifespan: Any = None) -> FastAPI:
    settings = services.settings
    services.metrics.register(
        ServerCollector(services.ingest, services.pipeline, services.mqtt, services.alerting)
    )
    authorize = make_authorizer(services.users, settings.auth, settings.metrics_public, services.metrics)
    app = FastAPI(title="yizhan", version="0.1.0", lifespan=lifespan, dependencies=[Depends(authorize)])
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.http_max_body_kb * 1024,
        timeout_s=settings.http_body_timeout_s,
        refused=refusal_counter(services.metrics),
    )
    app.include_router(build_router(services))
    app.include_router(build_alerts_router(services.alerting, ZoneInfo(services.settings.timezone)))
    app.include_router(build_audit_router(services))
    app.mount("/console", StaticFiles(directory=CONSOLE), name="console")

    @app.get("/", include_in_schema=False)
    async def console() -> FileResponse:
        """The operator console (zh-CN, with an English switch): plain files, no build step."""
        return FileResponse(CONSOLE / "index.html")

    check_routes(app, route_roles(settings.metrics_public))
    app.state.services = services
    return app
