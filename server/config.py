"""Configuration: the YZ_* variables of docs/operations.md. A file named by YZ_CONFIG (KEY=value lines)
may set the same keys; the environment wins."""

import os
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YZ_", env_file=os.environ.get("YZ_CONFIG"), extra="ignore")

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_username: str | None = None
    mqtt_password: str | None = None
    mqtt_client_id: str = "yizhan-server"
    topic_root: str = "yz"
    influx_url: str = "http://127.0.0.1:8086"
    influx_db: str = "yizhan"
    influx_token: str | None = None
    influx_username: str | None = None
    influx_password: str | None = None
    data_dir: Path = Path("./data")
    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=0, le=65535)
    timezone: str = "Asia/Shanghai"
    clock: str = "wall"
    # alerting: reminders while nobody acknowledges, escalation to the district's operators
    alert_reminder_min: float = Field(30.0, ge=0)
    alert_escalation_min: float = Field(60.0, ge=0)
    # scale-out on one broker: "INDEX/COUNT" — this process handles its share of the stations
    partition: str | None = None
    # API access (extension): auto = tokens required once `yizhan users add` created a user
    auth: str = "auto"
    metrics_public: bool = True
    http_max_body_kb: int = Field(1024, gt=0)
    http_body_timeout_s: float = Field(10.0, gt=0)
    # per-station message budget: sustained messages/s and burst; 0 (the default) = no limit.
    # Off by default: refusing drops messages the broker accepted (docs/architecture.md "Durability"), and a
    # burst replay or an accelerated simulation is legitimate; production sets e.g. 50
    station_max_rate: float = Field(0.0, ge=0)
    station_burst: int = Field(500, gt=0)
    # tuning, not in the contract
    batch_lines: int = Field(5000, gt=0)
    flush_interval_ms: int = Field(200, gt=0)
    receive_maximum: int = Field(20000, gt=0, le=65535)

    @field_validator("clock")
    @classmethod
    def _known_clock(cls, value: str) -> str:
        if value not in ("wall", "event"):
            raise ValueError("YZ_CLOCK is 'wall' or 'event'")
        return value

    @field_validator("auth")
    @classmethod
    def _auth_mode(cls, value: str) -> str:
        from yizhan.server.domain.access import AUTH_MODES

        if value not in AUTH_MODES:
            raise ValueError("YZ_AUTH is 'auto', 'required' or 'off'")
        return value

    @field_validator("partition")
    @classmethod
    def _partition(cls, value: str | None) -> str | None:
        if value:
            from yizhan.server.domain.partition import Partition

            Partition.parse(value)
        return value or None

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError("YZ_MQTT_URL must start with mqtt:// or mqtts://")
        return value
