"""Topic parsing and building for `{root}/stations/...`, alerts and server status."""

from dataclasses import dataclass
from enum import StrEnum

from yizhan.protocol.ids import is_valid_id


class TopicKind(StrEnum):
    STATUS = "status"
    TELEMETRY = "telemetry"
    EVENT = "event"
    STATE = "state"
    CMD = "cmd"


_DEVICE_KINDS = {TopicKind.STATUS, TopicKind.TELEMETRY, TopicKind.EVENT, TopicKind.CMD}


class TopicError(ValueError):
    """A topic that is not one of docs/protocol.md's station topics."""


@dataclass(frozen=True, slots=True)
class StationTopic:
    """A parsed `{root}/stations/{station}[/{device}]/{kind}` topic."""

    kind: TopicKind
    station: str
    device: str | None = None


def parse_station_topic(topic: str, root: str = "yz") -> StationTopic:
    """Parse a station topic; raise TopicError naming what is wrong."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[0] != root or parts[1] != "stations":
        raise TopicError(f"not a {root}/stations/... topic: {topic[:120]!r}")
    station = parts[2]
    if not is_valid_id(station):
        raise TopicError(f"malformed station id {station[:80]!r}")
    if len(parts) == 4:
        if parts[3] != TopicKind.STATE.value:
            raise TopicError(f"unknown station topic {parts[3][:40]!r}")
        return StationTopic(TopicKind.STATE, station)
    if len(parts) != 5:
        raise TopicError(f"too many levels in {topic[:120]!r}")
    device, kind = parts[3], parts[4]
    if not is_valid_id(device):
        raise TopicError(f"malformed device id {device[:80]!r}")
    try:
        parsed = TopicKind(kind)
    except ValueError:
        raise TopicError(f"unknown device topic {kind[:40]!r}") from None
    if parsed not in _DEVICE_KINDS:
        raise TopicError(f"unknown device topic {kind[:40]!r}")
    return StationTopic(parsed, station, device)


def station_subscription(root: str = "yz") -> str:
    return f"{root}/stations/#"


def device_topic(station: str, device: str, kind: TopicKind, root: str = "yz") -> str:
    return f"{root}/stations/{station}/{device}/{kind.value}"


def state_topic(station: str, root: str = "yz") -> str:
    return f"{root}/stations/{station}/state"


def alert_topic(district: str, station: str, root: str = "yz") -> str:
    return f"{root}/alerts/{district}/{station}"


def server_status_topic(root: str = "yz") -> str:
    return f"{root}/server/status"
