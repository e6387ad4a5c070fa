"""A registered station: what the union declared about it (the registry's value object)."""

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from yizhan.protocol.ids import ID_PATTERN
from yizhan.server.domain.schedule import ScheduleError, WeeklySchedule, describe

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Text = Annotated[str, StringConstraints(max_length=500)]


class DeviceSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: Id
    type: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")] = "other"


class Contact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    name: Text | None = None
    phone: Annotated[str, StringConstraints(max_length=64)] | None = None


class AlertOverrides(BaseModel):
    """Per-station alert thresholds; anything left out takes the rule's default."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    water_min_temp_c: float | None = None
    voltage_min_v: float | None = None
    voltage_max_v: float | None = None
    battery_min_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    # seconds a condition must hold before it fires / stay clear before it resolves, by rule name
    # ("fault" covers every fault:<code> rule)
    pending_s: dict[str, Annotated[int, Field(ge=0, le=7 * 86400)]] = {}
    clear_s: dict[str, Annotated[int, Field(ge=0, le=7 * 86400)]] = {}
    disabled: Annotated[list[Annotated[str, StringConstraints(max_length=80)]], Field(max_length=32)] = []


class StationSpec(BaseModel):
    """The station body of docs/contract.md. Unknown keys are refused so typos are seen."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    district: Id
    address: Text | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    timezone: str | None = None
    # "07:00-19:00", "24h", {"mon": [...], ...}, and in the mapping "seasons", "holidays",
    # "holiday_hours" (server/domain/schedule.py); read by WeeklySchedule.parse
    schedule: str | dict[str, Any] | None = None
    services: Annotated[list[Annotated[str, StringConstraints(max_length=64)]], Field(max_length=32)] = []
    contact: Contact | None = None
    note: Text | None = None
    devices: Annotated[list[DeviceSpec], Field(max_length=64)] = []
    alerts: AlertOverrides | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("schedule")
    @classmethod
    def _readable_schedule(cls, value: Any) -> Any:
        try:
            WeeklySchedule.parse(value)
        except ScheduleError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("devices")
    @classmethod
    def _unique_devices(cls, value: list[DeviceSpec]) -> list[DeviceSpec]:
        ids = [d.id for d in value]
        dup = next((i for i in ids if ids.count(i) > 1), None)
        if dup:
            raise ValueError(f"device id {dup!r} appears twice")
        return value

    def zone(self, default: str) -> ZoneInfo:
        return ZoneInfo(self.timezone or default)

    def weekly_schedule(self) -> WeeklySchedule:
        return WeeklySchedule.parse(self.schedule)

    def schedule_text(self) -> str:
        """The opening hours in the clerk's words (周一至周五 8:30-17:30；周六、周日休息)."""
        return describe(self.schedule)
