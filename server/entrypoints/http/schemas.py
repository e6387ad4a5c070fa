"""The HTTP API's bodies (docs/contract.md "HTTP API"), apart from domain objects and storage rows.

Each response model holds the keys of its answer in the order the API gives them; /openapi.json
documents them and every JSON answer is validated against them. The request bodies of stations,
crews and silences are the domain's own specs (`StationSpec`, `CrewSpec`, `SilenceSpec`): they are
the value objects that validate themselves, and the CLI import takes the same station body.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema
from yizhan.server.application import ingest
from yizhan.server.domain.access import Principal, Role
from yizhan.server.domain.finder import Nearby, services_now
from yizhan.server.domain.fleet import DeviceState, StationLive
from yizhan.server.domain.routing import CrewSpec
from yizhan.server.domain.timestamps import iso_ms

# A measured quantity: a sum over nothing is the integer 0 and is answered as `0`; a float field
# would answer `0.0`, so ints and floats pass through as they are (JSON has one number type).
Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
AlertStateName = Literal["firing", "acknowledged", "resolved"]


def _null(value: Any) -> bool:
    return value is None


def left_out_when_null() -> Any:
    """A key the answer leaves out when it has no value, as the station body echoes only what was
    declared."""
    return Field(None, exclude_if=_null)


class Body(BaseModel):
    # a key the model does not know fails validation: a change of an answer is seen, never dropped
    model_config = ConfigDict(extra="forbid")


class Problem(Body):
    """An error answer (404, 409, 503, and 422 for values the route itself refuses)."""

    detail: str


def problem(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """An error answer for a route's `responses=`: its status, when it is given, and its body."""
    return {status: {"model": Problem, "description": description}}


# --- operations -------------------------------------------------------------------------


class Health(Body):
    status: Literal["ok", "degraded"]
    mqtt: bool
    influxdb: bool


# --- stations ---------------------------------------------------------------------------


class StationSummary(Body):
    """A row of the fleet list; `faults`, `lat` and `lon` are for the console's board and map."""

    id: str
    name: str
    district: str
    open: bool
    reported_open: bool
    devices_online: int
    devices_total: int
    last_seen: str | None
    faults: int
    lat: Number | None
    lon: Number | None


def station_summary(live: StationLive) -> dict[str, Any]:
    """A `StationSummary` as a plain dict: the fleet list serializes hundreds of thousands of them
    at once, without a model for each."""
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


class DeviceOut(Body):
    id: str
    type: str
    online: bool
    last_seen: str | None
    faults: list[str]

    @classmethod
    def of(cls, device: DeviceState) -> "DeviceOut":
        return cls(
            id=device.id,
            type=device.type,
            online=device.online,
            last_seen=iso_ms(device.last_seen_ms),
            faults=sorted(device.faults),
        )


class ContactOut(Body):
    name: str | None = left_out_when_null()
    phone: str | None = left_out_when_null()


class AlertOverridesOut(Body):
    water_min_temp_c: Number | None = left_out_when_null()
    voltage_min_v: Number | None = left_out_when_null()
    voltage_max_v: Number | None = left_out_when_null()
    battery_min_pct: Number | None = left_out_when_null()
    pending_s: dict[str, int]
    clear_s: dict[str, int]
    disabled: list[str]


class StationDetail(Body):
    """The station body as registered (keys that were not given left out), then its live state
    and its devices."""

    name: str
    district: str
    address: str | None = left_out_when_null()
    lat: Number | None
    lon: Number | None
    timezone: str | None = left_out_when_null()
    # as registered: a string, or a mapping of days, seasons and holidays (server/domain/schedule.py)
    schedule: str | dict[str, Any] | None = left_out_when_null()
    services: list[str]
    contact: ContactOut | None = left_out_when_null()
    note: str | None = left_out_when_null()
    alerts: AlertOverridesOut | None = left_out_when_null()
    id: str
    open: bool
    reported_open: bool
    devices_online: int
    devices_total: int
    last_seen: str | None
    faults: int
    devices: list[DeviceOut]

    @classmethod
    def of(cls, live: StationLive) -> "StationDetail":
        declared = live.spec.model_dump(exclude={"devices"})
        devices = [DeviceOut.of(d) for d in live.devices.values()]
        return cls.model_validate({**declared, **station_summary(live), "devices": devices})


class Usage(Body):
    """A station's usage in [start, end), per docs/contract.md "Definitions"."""

    station: str
    start: str
    end: str
    visits: int
    water_l: Number
    energy_kwh: Number
    heating_sessions: int
    speaker_interactions: int


class UnregisteredSender(Body):
    station: str
    device: str | None
    reason: str
    first_seen: str
    last_seen: str
    messages: int

    @classmethod
    def of(cls, sender: ingest.UnregisteredSender) -> "UnregisteredSender":
        return cls(
            station=sender.station,
            device=sender.device,
            reason=sender.reason,
            first_seen=iso_ms(sender.first_seen_ms),
            last_seen=iso_ms(sender.last_seen_ms),
            messages=sender.messages,
        )


class NearbyStation(Body):
    """An open station for the public finder: no personal data."""

    id: str
    name: str
    address: str | None
    lat: Number
    lon: Number
    distance_m: int
    services_now: list[str]

    @classmethod
    def of(cls, found: Nearby) -> "NearbyStation":
        spec = found.live.spec
        return cls(
            id=found.live.id,
            name=spec.name,
            address=spec.address,
            lat=spec.lat,
            lon=spec.lon,
            distance_m=round(found.distance_m),
            services_now=services_now(found.live),
        )


# --- audit ------------------------------------------------------------------------------


class SealedDay(Body):
    """A closed day, from its newest sealed version in the hash chain."""

    date: str
    scheduled_s: int
    reported_open_s: int
    verified_open_s: int
    compliance: Number
    flags: dict[str, int]
    sealed: Literal[True]
    version: int
    chain_seq: int


class ComputedDay(Body):
    """A day not sealed (yet), computed now, with its timeline: epoch-ms intervals of the day, the
    schedule, the reported and the verified opening."""

    date: str
    scheduled_s: int
    reported_open_s: int
    verified_open_s: int
    compliance: Number
    flags: dict[str, int]
    sealed: Literal[False]
    timeline: dict[str, list[tuple[int, int]]]


class StationOpening(Body):
    station: str
    timezone: str
    days: list[SealedDay | ComputedDay]


class InspectionItem(Body):
    ok: bool
    evidence: str


class AuditStationRow(Body):
    """A station's month: sums over its sealed days, its fault alerts and the self-inspection items."""

    station: str
    name: str
    district: str
    days: int
    scheduled_s: int
    reported_open_s: int
    verified_open_s: int
    verified_in_schedule_s: int
    visits: int
    heating_sessions: int
    speaker_interactions: int
    water_l: Number
    energy_kwh: Number
    compliance: Number
    scheduled_days: int
    compliant_days: int
    opened_days: int
    flags: dict[str, int]
    faults: int
    mean_repair_min: Number | None
    device_uptime: Number
    inspection: dict[str, InspectionItem]


class AuditDistrictRow(Body):
    district: str
    stations: int
    water_l: Number
    energy_kwh: Number
    faults: int
    compliant_days: int
    scheduled_days: int
    scheduled_s: int
    reported_open_s: int
    verified_open_s: int
    verified_in_schedule_s: int
    visits: int
    heating_sessions: int
    speaker_interactions: int
    compliance: Number


class ChainHead(Body):
    seq: int
    hash: str


class AuditReport(Body):
    month: str
    district: str | None
    sealed_days: int
    stations: list[AuditStationRow]
    districts: list[AuditDistrictRow]
    chain_head: ChainHead


# --- alerts, crews, silences ----------------------------------------------------------------


class AlertMessage(Body):
    zh: str
    en: str


class AlertOut(Body):
    """An alert as the API, webhooks, MQTT and SSE show it (`alerting.alert_json`)."""

    id: int
    station: str
    district: str
    device: str | None
    device_type: str | None
    rule: str
    severity: str
    state: AlertStateName
    fired_at: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    resolved_at: str | None
    resolved_by: str | None
    note: str | None
    reminders: int
    escalated: bool
    message: AlertMessage


class AlertHistoryEntry(Body):
    kind: str
    by: str | None
    note: str | None
    silence_id: int | None
    at: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> "AlertHistoryEntry":
        return cls(
            kind=row["kind"],
            by=row["by"],
            note=row["note"],
            silence_id=row["silence_id"],
            at=iso_ms(row["at_ms"]),
        )


class AlertDelivery(Body):
    id: int
    kind: str
    channel: str
    target: str
    state: str
    attempts: int
    last_error: str | None
    created_at: str
    done_at: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> "AlertDelivery":
        return cls(
            id=row["id"],
            kind=row["kind"],
            channel=row["channel"],
            target=row["target"],
            state=row["state"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            created_at=iso_ms(row["created_ms"]),
            done_at=iso_ms(row["done_at_ms"]),
        )


class AlertDetail(AlertOut):
    """An alert with its history of transitions and its notifications (the outbox)."""

    history: list[AlertHistoryEntry]
    deliveries: list[AlertDelivery]


class AlertAction(Body):
    """Who acknowledges or resolves, and why."""

    by: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class CrewOut(Body):
    """A crew or a district's operators; the secret that signs their webhooks is never shown."""

    name: str
    districts: list[str]
    webhook_url: str | None
    role: Literal["crew", "operators"]
    id: str
    has_secret: bool

    @classmethod
    def of(cls, crew_id: str, crew: CrewSpec) -> "CrewOut":
        return cls(
            name=crew.name,
            districts=crew.districts,
            webhook_url=str(crew.webhook_url) if crew.webhook_url is not None else None,
            role=crew.role,
            id=crew_id,
            has_secret=bool(crew.secret),
        )


class SilenceOut(Body):
    """A silence as `alerting.silence_json` gives it."""

    id: int
    station: str | None
    district: str | None
    rule: str | None
    starts_at: str
    ends_at: str
    by: str
    note: str | None


# --- users ------------------------------------------------------------------------------


class WhoAmI(Body):
    """The caller; `auth` is false (and the rest empty) while the API is open."""

    name: str | None
    role: Role | None
    districts: list[str]
    auth: bool

    @classmethod
    def of(cls, who: Principal | None) -> "WhoAmI":
        if who is None:
            return cls(name=None, role=None, districts=[], auth=False)
        return cls(name=who.name, role=who.role, districts=sorted(who.districts), auth=True)


class UserOut(Body):
    name: str
    role: Role
    districts: list[str]

    @classmethod
    def of(cls, user: Principal) -> "UserOut":
        return cls(name=user.name, role=user.role, districts=sorted(user.districts))
