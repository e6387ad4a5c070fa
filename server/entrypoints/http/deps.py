"""What a route asks for: typed dependencies over the services `create_app` put on `app.state`."""

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from prometheus_client import CollectorRegistry
from yizhan.protocol.ids import ID_PATTERN
from yizhan.server.adapters.influx import InfluxClient
from yizhan.server.adapters.mqtt_link import MqttLink
from yizhan.server.adapters.sqlite.user_store import UserStore
from yizhan.server.application.alerting import Alerting
from yizhan.server.application.clock import Clock
from yizhan.server.application.ingest import Ingest
from yizhan.server.application.registration import StationRegistration
from yizhan.server.application.reports import AuditReports
from yizhan.server.bootstrap import Services
from yizhan.server.config import Settings
from yizhan.server.domain.access import Principal
from yizhan.server.domain.fleet import Fleet, StationLive
from yizhan.server.entrypoints.http.auth import principal_of

StationId = Annotated[str, Path(pattern=ID_PATTERN, description="station id")]
CrewId = Annotated[str, Path(pattern=ID_PATTERN, description="crew id")]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]  # SQLite integers


def _services(request: Request) -> Services:
    return request.app.state.services


def _settings(request: Request) -> Settings:
    return _services(request).settings


def _clock(request: Request) -> Clock:
    return _services(request).clock


def _fleet(request: Request) -> Fleet:
    return _services(request).fleet


def _ingest(request: Request) -> Ingest:
    return _services(request).ingest


def _influx(request: Request) -> InfluxClient:
    return _services(request).influx


def _mqtt(request: Request) -> MqttLink:
    return _services(request).mqtt


def _alerting(request: Request) -> Alerting:
    return _services(request).alerting


def _users(request: Request) -> UserStore:
    return _services(request).users


def _metrics(request: Request) -> CollectorRegistry:
    return _services(request).metrics


def _registration(request: Request) -> StationRegistration:
    services = _services(request)
    return StationRegistration(services.registry, services.fleet, services.ingest)


def _audit_reports(request: Request) -> AuditReports:
    services = _services(request)
    return AuditReports(
        services.audit.store,
        services.alerting.store,
        services.influx,
        services.fleet,
        services.settings.timezone,
        services.clock,
    )


def _current_principal(request: Request) -> Principal | None:
    return principal_of(request)


SettingsDep = Annotated[Settings, Depends(_settings)]
ClockDep = Annotated[Clock, Depends(_clock)]
FleetDep = Annotated[Fleet, Depends(_fleet)]
IngestDep = Annotated[Ingest, Depends(_ingest)]
InfluxDep = Annotated[InfluxClient, Depends(_influx)]
MqttDep = Annotated[MqttLink, Depends(_mqtt)]
AlertingDep = Annotated[Alerting, Depends(_alerting)]
UsersDep = Annotated[UserStore, Depends(_users)]
MetricsDep = Annotated[CollectorRegistry, Depends(_metrics)]
RegistrationDep = Annotated[StationRegistration, Depends(_registration)]
AuditReportsDep = Annotated[AuditReports, Depends(_audit_reports)]
# the caller as the authorizer found it (app-wide, it runs first); None while the API is open
CurrentPrincipal = Annotated[Principal | None, Depends(_current_principal)]


def _live_station(station_id: StationId, fleet: FleetDep) -> StationLive:
    live = fleet.stations.get(station_id)
    if live is None:
        raise HTTPException(404, f"station {station_id!r} is not registered")
    return live


# the registered station named by the path's {station_id}, or 404
LiveStation = Annotated[StationLive, Depends(_live_station)]
