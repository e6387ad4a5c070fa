"""The HTTP app (docs/contract.md "HTTP API"): resource routers, the token check, body limits, the console."""

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from yizhan.server.bootstrap import Services
from yizhan.server.entrypoints.http.auth import check_routes, make_authorizer, route_roles
from yizhan.server.entrypoints.http.body_limit import BodyLimit, refusal_counter
from yizhan.server.entrypoints.http.metrics import ServerCollector
from yizhan.server.entrypoints.http.routes import (
    alerts,
    crews,
    health,
    metrics,
    opening,
    public,
    reports,
    silences,
    stations,
    unregistered,
    usage,
    users,
)

CONSOLE = Path(__file__).resolve().parent / "console"
# in this order: /api/v1/alerts/stream is matched before /api/v1/alerts/{alert_id}, inside alerts
ROUTERS = (
    health.router,
    metrics.router,
    stations.router,
    usage.router,
    public.router,
    users.router,
    unregistered.router,
    alerts.router,
    crews.router,
    silences.router,
    opening.router,
    reports.router,
)


def create_app(services: Services, lifespan: Any = None) -> FastAPI:
    """The app over `services` (the routes find them on `app.state`, through deps.py)."""
    settings = services.settings
    ZoneInfo(settings.timezone)  # an unknown YZ_TIMEZONE stops the start, not a later request
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
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/console", StaticFiles(directory=CONSOLE), name="console")

    @app.get("/", include_in_schema=False)
    async def console() -> FileResponse:
        """The operator console (zh-CN, with an English switch): plain files, no build step."""
        return FileResponse(CONSOLE / "index.html")

    check_routes(app, route_roles(settings.metrics_public))
    app.state.services = services
    return app
