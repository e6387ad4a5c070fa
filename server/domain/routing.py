"""Who hears of an alert transition: crews by district, operators on escalation, silences."""

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator
from yizhan.protocol.ids import ID_PATTERN
from yizhan.server.domain.alerts import AlertTransition, TransitionKind

DistrictId = Annotated[str, StringConstraints(pattern=ID_PATTERN + "|^\\*$")]

# which transitions go where: crews hear everything about their districts' alerts, the
# operators' webhook only escalations, the MQTT alert topic the state changes and escalations
CREW_KINDS = frozenset(TransitionKind)
OPERATOR_KINDS = frozenset({TransitionKind.ESCALATED})
MQTT_KINDS = frozenset(TransitionKind) - {TransitionKind.REMINDER}


class CrewSpec(BaseModel):
    """A maintenance crew (role `crew`) or a district's operators (role `operators`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    districts: Annotated[list[DistrictId], Field(min_length=1, max_length=500)]
    webhook_url: AnyHttpUrl | None = None
    secret: Annotated[str, StringConstraints(max_length=500)] | None = None
    role: Literal["crew", "operators"] = "crew"

    def covers(self, district: str) -> bool:
        return "*" in self.districts or district in self.districts


class SilenceSpec(BaseModel):
    """Planned maintenance: no notifications for matching alerts until `ends_at` (ISO-8601)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    station: Annotated[str, StringConstraints(pattern=ID_PATTERN)] | None = None
    district: Annotated[str, StringConstraints(pattern=ID_PATTERN)] | None = None
    rule: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = None
    ends_at: str
    by: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _matches_something(self) -> "SilenceSpec":
        if not (self.station or self.district or self.rule):
            raise ValueError("a silence names a station, a district or a rule (or several)")
        return self


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    station: str | None
    district: str | None
    rule: str | None
    starts_ms: int
    ends_ms: int
    by: str
    note: str | None

    def matches(self, t: AlertTransition, now_ms: int) -> bool:
        a = t.alert
        if not self.starts_ms <= now_ms < self.ends_ms:
            return False
        if self.station and self.station != a.station:
            return False
        if self.district and self.district != a.district:
            return False
        return not self.rule or self.rule == a.rule or (self.rule == "fault" and a.rule.startswith("fault:"))


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: Literal["webhook", "mqtt"]
    target: str  # crew id for webhooks, topic for MQTT
    url: str | None = None


def route(
    t: AlertTransition, crews: dict[str, CrewSpec], alert_topic: str, silences: list[Silence], now_ms: int
) -> tuple[list[Delivery], Silence | None]:
    """The deliveries of one transition, and the silence that suppressed them, if any."""
    silence = next((s for s in silences if s.matches(t, now_ms)), None)
    if silence is not None:
        return [], silence
    out = []
    for crew_id, crew in sorted(crews.items()):
        if crew.webhook_url is None or not crew.covers(t.alert.district):
            continue
        kinds = OPERATOR_KINDS if crew.role == "operators" else CREW_KINDS
        if t.kind in kinds:
            out.append(Delivery("webhook", crew_id, str(crew.webhook_url)))
    if t.kind in MQTT_KINDS:
        out.append(Delivery("mqtt", alert_topic))
    return out, None


def crew_secret(crews: dict[str, CrewSpec], crew_id: str) -> str | None:
    """The secret a crew's webhook deliveries are signed with, if it has one."""
    crew = crews.get(crew_id)
    return crew.secret if crew is not None else None
