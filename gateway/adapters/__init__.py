"""Adapters from device ecosystems' own MQTT formats to readings the gateway speaks for.

Each adapter is pure: `subscriptions()` says what to listen to on the local broker, and
`translate(topic, payload)` turns one local message into readings, or raises AdapterError for a
payload it cannot read (the gateway counts and skips it).
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import orjson
from yizhan.protocol.events import EventName


class ReadingKind(StrEnum):
    """What a local message said about a device."""

    ONLINE = "online"
    OFFLINE = "offline"
    DATA = "data"  # protocol data fields
    FAULT = EventName.FAULT.value  # a fault code became active ...
    FAULT_CLEARED = EventName.FAULT_CLEARED.value  # ... or inactive: the events the gateway sends
    RELAY = "relay"  # a relay switched


@dataclass(frozen=True)
class Reading:
    device: str
    kind: ReadingKind
    data: dict[str, Any] = field(default_factory=dict)  # data fields, or {"code"}, or {"relay", "on"}

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ReadingKind(self.kind))  # a kind nobody handles fails here


class AdapterError(ValueError):
    """A local payload that cannot be read."""


class Adapter(Protocol):
    def subscriptions(self) -> list[str]: ...

    def translate(self, topic: str, payload: bytes) -> list[Reading]: ...


def parse_object(payload: bytes) -> dict[str, Any]:
    """A JSON object payload."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise AdapterError(f"not JSON: {payload[:40]!r}") from None
    if not isinstance(body, dict):
        raise AdapterError("not a JSON object")
    return body


def parse_number(payload: bytes) -> float:
    try:
        value = float(payload.decode().strip())
    except (UnicodeDecodeError, ValueError):
        raise AdapterError(f"not a number: {payload[:40]!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise AdapterError("not a finite number")
    return value


def parse_on_off(payload: bytes) -> bool:
    text = payload.decode(errors="replace").strip().upper()
    if text in ("ON", "TRUE", "1"):
        return True
    if text in ("OFF", "FALSE", "0"):
        return False
    raise AdapterError(f"not ON/OFF: {payload[:40]!r}")
