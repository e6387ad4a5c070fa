"""The gateway's YAML configuration, validated once at start."""

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator
from yizhan.protocol.device_types import DeviceType, DeviceTypeName
from yizhan.protocol.ids import ID_PATTERN

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


class Broker(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: str | None = None
    client_id: str | None = None


class SpoolConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: Path = Path("./spool.db")
    max_mb: float = Field(512, gt=0)
    max_age_days: float = Field(14, gt=0)
    # messages/s sent from the spool: a backlog replayed after an outage must stay under the
    # server's per-station budget where one is set (YZ_STATION_MAX_RATE, 50/s suggested) or it
    # would be refused
    send_rate: float = Field(40, gt=0)


class StateSource(BaseModel):
    """A relay or button of a translated device that means "station open"."""

    model_config = ConfigDict(extra="forbid")
    device: Id
    relay: int = Field(1, ge=1, le=32)


class DeviceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Id
    type: DeviceTypeName = DeviceType.OTHER  # a newer type is spoken for as well (flat data)
    source: Literal["tasmota", "zigbee2mqtt", "esphome", "native"]
    topic: str | None = None  # tasmota: its %topic%
    full_topic: str = "%prefix%/%topic%/"  # tasmota FullTopic
    name: str | None = None  # zigbee2mqtt friendly name
    base: str = "zigbee2mqtt"  # zigbee2mqtt base topic
    node: str | None = None  # esphome node name (topic prefix)
    map: dict[str, str] = {}  # esphome: protocol field -> entity name; zigbee2mqtt: extra keys
    interval_s: int = Field(60, gt=0, le=86400)  # telemetry period the gateway speaks with
    stale_s: int | None = Field(None, gt=0)  # silence after which the gateway declares it offline

    @model_validator(mode="after")
    def _source_fields(self) -> "DeviceConfig":
        need = {"tasmota": "topic", "zigbee2mqtt": "name", "esphome": "node"}.get(self.source)
        if need and not getattr(self, need):
            raise ValueError(f"device {self.id!r}: source {self.source} needs `{need}`")
        return self

    def staleness_s(self) -> int:
        """Zigbee2MQTT marks battery devices offline only after 25 h; we want to know sooner."""
        return self.stale_s or {"zigbee2mqtt": 7200, "tasmota": 900}.get(self.source, 3 * self.interval_s)


class GatewayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    station: Id
    gateway_id: Id = "gateway"
    root: str = "yz"
    local: Broker = Broker()
    uplink: Broker
    spool: SpoolConfig = SpoolConfig()
    state: StateSource | None = None
    devices: Annotated[list[DeviceConfig], Field(min_length=1)]

    @model_validator(mode="after")
    def _known_state_device(self) -> "GatewayConfig":
        if self.state and self.state.device not in {d.id for d in self.devices}:
            raise ValueError(f"state.device {self.state.device!r} is not one of the devices")
        return self


class ConfigError(ValueError):
    """The configuration file cannot be used; the message says where."""


def load_config(path: Path) -> GatewayConfig:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        return GatewayConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ConfigError(f"{path}: {where}: {first['msg']}") from None
