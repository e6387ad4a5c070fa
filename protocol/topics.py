"""Topic parsing and building for `{root}/stations/...`, alerts and server status."""

from dataclasses import dataclass
from enum import StrEnum

from yizhan.protocol.ids import is_valid_id
from yizhan.protocol.rejections import RejectionReason


class TopicKind(StrEnum):
    STATUS = "status"
    TELEMETRY = "telemetry"
    EVENT = "event"
    STATE = "state"
    CMD = "cmd"


_DEVICE_KINDS = {TopicKind.STATUS, TopicKind.TELEMETRY, TopicKind.EVENT, TopicKind.CMD}


class TopicError(ValueError):
    """A topic that is not one of docs/protocol.md's station topics."""

    reason = RejectionReason.BAD_TOPIC


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


def device_subscription(station: str, device: str, root: str = "yz") -> str:
    """Every topic of one device: `{root}/stations/{station}/{device}/+`."""
    _check_ids(station, device)
    return f"{root}/stations/{station}/{device}/+"


def device_topic(station: str, device: str, kind: TopicKind | str, root: str = "yz") -> str:
    """`{root}/stations/{station}/{device}/{kind}`; refuses what parse_station_topic would."""
    _check_ids(station, device)
    parsed = TopicKind(kind)
    if parsed not in _DEVICE_KINDS:
        raise TopicError(f"{parsed} is a station topic, not a device topic")
    return f"{root}/stations/{station}/{device}/{parsed.value}"


def state_topic(station: str, root: str = "yz") -> str:
    _check_ids(station)
    return f"{root}/stations/{station}/state"


def alert_topic(district: str, station: str, root: str = "yz") -> str:
    return f"{root}/alerts/{district}/{station}"


def alert_subscription(root: str = "yz", district: str | None = None) -> str:
    """Every alert transition, or those of one district: what a crew may read."""
    if district is None:
        return f"{root}/alerts/#"
    _check_ids(district)
    return f"{root}/alerts/{district}/#"


def server_status_topic(root: str = "yz") -> str:
    return f"{root}/server/status"


def _check_ids(*ids: str) -> None:
    for value in ids:
        if not is_valid_id(value):
            raise TopicError(f"malformed id {value[:80]!r}")
