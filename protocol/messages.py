"""A payload on its topic: what a device or gateway hands its MQTT client (docs/protocol.md § 4).

The builders make the payloads; these pair them with the topic of their kind and its retain flag,
so that nobody spells a topic or decides what is retained by hand.
"""

from dataclasses import dataclass

from yizhan.protocol.topics import TopicKind, device_topic, parse_station_topic, state_topic


@dataclass(frozen=True, slots=True)
class Message:
    """A message for a station topic under any root (its first level)."""

    topic: str
    payload: bytes
    retain: bool = False

    def __post_init__(self) -> None:
        parse_station_topic(self.topic, self.topic.split("/", 1)[0])  # raises TopicError
        if not isinstance(self.payload, bytes):
            raise TypeError(f"a payload is bytes, not {type(self.payload).__name__}")


def device_message(station: str, device: str, kind: TopicKind, payload: bytes, root: str = "yz") -> Message:
    """A device's birth or death (retained: the last word of every device stays on the broker),
    telemetry or event (not retained)."""
    return Message(device_topic(station, device, kind, root), payload, retain=kind == TopicKind.STATUS)


def state_message(station: str, payload: bytes, root: str = "yz") -> Message:
    """The station's open/closed claim, retained: the last claim stays on the broker."""
    return Message(state_topic(station, root), payload, retain=True)
