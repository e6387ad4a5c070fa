"""`yizhan server`: the services of one process (server/bootstrap.py) behind the HTTP app, under uvicorn."""

import contextlib
import logging
from collections.abc import AsyncIterator

import uvicorn
from yizhan.server.bootstrap import build, running
from yizhan.server.config import Settings
from yizhan.server.entrypoints.http.app import create_app

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    services = build(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: object) -> AsyncIterator[None]:
        async with running(services):
            if settings.auth == "auto" and not services.users.any():
                log.warning("the HTTP API is open: no users yet (`yizhan users add NAME --role admin`)")
            log.info(
                "yizhan server: %d stations, MQTT %s, InfluxDB %s/%s, HTTP http://%s:%d/",
                len(services.fleet.stations),
                settings.mqtt_url,
                settings.influx_url,
                settings.influx_db,
                settings.http_host,
                settings.http_port,
            )
            yield

    app = create_app(services, lifespan=lifespan)
    # timeout: open SSE streams must not hold a shutdown up
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        timeout_graceful_shutdown=3,
    )
