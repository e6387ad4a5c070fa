"""The gateway as speaker of record for translated devices: it gives them births and deaths,
`boot` and `seq`, a telemetry period (repeating last-known values), faults both ways, door
events, and the station's open state from the configured relay. Pure: time comes in as `now_ms`.

Every message is made by protocol/'s builders, so the gateway never sends what the server would
reject: a reading whose values do not fit the device's type (a `map` onto a field of another
type) is refused with a PayloadError before it changes anything, and the gateway counts it.
"""

from dataclasses import dataclass, field
from typing import Any

from yizhan.gateway.adapters import Reading, ReadingKind
from yizhan.gateway.config import DeviceConfig, GatewayConfig
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.events import EventName
from yizhan.protocol.messages import Message, device_message, state_message
from yizhan.protocol.payloads import (
    build_birth,
    build_death,
    build_event,
    build_station_state,
    build_telemetry,
)
from yizhan.protocol.station_state import StateSource
from yizhan.protocol.topics import TopicKind

FIRMWARE = "yizhan-gateway"
GATEWAY_INTERVAL_S = 60  # the period the gateway announces for itself


@dataclass
class Voice:
    cfg: DeviceConfig
    online: bool = False
    boot: int = 0
    seq: int = 0
    last_heard_ms: int = 0
    last_sent_ms: int = 0
    values: dict[str, Any] = field(default_factory=dict)
    faults: set[str] = field(default_factory=set)


class Speaker:
    def __init__(self, cfg: GatewayConfig, started_ms: int) -> None:
        self.cfg = cfg
        # the gateway's own boot is its start time; its death (the last will, registered before
        # any device is born) must carry the same one, or the server takes it for a stale death
        self.boot = started_ms
        self._boots = started_ms  # every birth gets a new boot, across gateway restarts too
        self.voices: dict[str, Voice] = {}
        for d in cfg.devices:  # one device may be fed by several sources (a leak sensor for the boiler)
            if d.source != "native" and d.id not in self.voices:
                self.voices[d.id] = Voice(d)
        self.station_open: bool | None = None
        self._state_seq = 0

    # --- the gateway itself -----------------------------------------------------------

    def gateway_status(self, online: bool, now_ms: int) -> Message:
        """Its birth, or its death without a time: the same payload serves as the last will."""
        if online:
            payload = build_birth(
                boot=self.boot,
                ts=now_ms,
                type=DeviceType.GATEWAY,
                interval_s=GATEWAY_INTERVAL_S,
                fw=FIRMWARE,
            )
        else:
            payload = build_death(boot=self.boot)
        return self._message(self.cfg.gateway_id, TopicKind.STATUS, payload)

    # --- readings -----------------------------------------------------------------------

    def hear(self, r: Reading, now_ms: int, retained: bool = False) -> list[Message]:
        """What the protocol says for one reading. Raises PayloadError, having changed nothing,
        for data that the device's type does not allow."""
        v = self.voices.get(r.device)
        if v is None:
            return []
        if r.kind is ReadingKind.DATA:
            # checked alone: the last-known values it joins were each checked when they came
            build_telemetry(v.cfg.type, seq=0, boot=0, ts=now_ms, data=r.data)
        v.last_heard_ms = now_ms
        if r.kind is ReadingKind.OFFLINE:
            return self._death(v, now_ms) if v.online else []
        out = [] if v.online else self._birth(v, now_ms)
        if r.kind is ReadingKind.ONLINE:
            return out
        if r.kind is ReadingKind.RELAY:
            return out + self._relay(v, r.data["relay"], r.data["on"], now_ms)
        if r.kind in (ReadingKind.FAULT, ReadingKind.FAULT_CLEARED):
            code = r.data["code"]
            active = r.kind is ReadingKind.FAULT
            if active == (code in v.faults):
                return out
            (v.faults.add if active else v.faults.discard)(code)
            if not retained:
                out.append(self._event(v, EventName(r.kind), {"code": code}, now_ms))
            return [*out, self._telemetry(v, {}, now_ms)]
        # data
        was_open = v.values.get("open")
        v.values.update(r.data)
        if "open" in r.data and was_open is not None and r.data["open"] != was_open and not retained:
            out.append(self._event(v, EventName.DOOR, {"open": r.data["open"]}, now_ms))
        return [*out, self._telemetry(v, r.data, now_ms)]

    def tick(self, now_ms: int) -> list[Message]:
        """Deaths of devices silent past their staleness; heartbeats with last-known values."""
        out: list[Message] = []
        for v in self.voices.values():
            if not v.online:
                continue
            if now_ms - v.last_heard_ms > v.cfg.staleness_s() * 1000:
                out += self._death(v, now_ms)
            elif now_ms - v.last_sent_ms >= v.cfg.interval_s * 1000 and v.values:
                out.append(self._telemetry(v, v.values, now_ms))
        return out

    # --- internals ------------------------------------------------------------------------

    def _message(self, device: str, kind: TopicKind, payload: bytes) -> Message:
        return device_message(self.cfg.station, device, kind, payload, self.cfg.root)

    def _birth(self, v: Voice, now_ms: int) -> list[Message]:
        self._boots += 1
        v.online, v.boot, v.seq, v.last_sent_ms = True, self._boots, 0, now_ms
        payload = build_birth(
            boot=v.boot, ts=now_ms, type=v.cfg.type, interval_s=v.cfg.interval_s, fw=FIRMWARE
        )
        return [self._message(v.cfg.id, TopicKind.STATUS, payload)]

    def _death(self, v: Voice, now_ms: int) -> list[Message]:
        v.online = False
        return [self._message(v.cfg.id, TopicKind.STATUS, build_death(boot=v.boot, ts=now_ms))]

    def _telemetry(self, v: Voice, data: dict[str, Any], now_ms: int) -> Message:
        v.last_sent_ms = now_ms
        payload = build_telemetry(
            v.cfg.type, seq=v.seq, boot=v.boot, ts=now_ms, data={**data, "faults": sorted(v.faults)}
        )
        v.seq += 1  # telemetry and events share one counter
        return self._message(v.cfg.id, TopicKind.TELEMETRY, payload)

    def _event(self, v: Voice, name: EventName, data: dict[str, Any], now_ms: int) -> Message:
        payload = build_event(name, seq=v.seq, boot=v.boot, ts=now_ms, data=data)
        v.seq += 1
        return self._message(v.cfg.id, TopicKind.EVENT, payload)

    def _relay(self, v: Voice, relay: int, on: bool, now_ms: int) -> list[Message]:
        s = self.cfg.state
        if s is None or s.device != v.cfg.id or s.relay != relay or self.station_open == on:
            return []
        self.station_open = on
        self._state_seq += 1
        payload = build_station_state(ts=now_ms, seq=self._state_seq, open=on, source=StateSource.STAFF)
        return [state_message(self.cfg.station, payload, self.cfg.root)]
