"""The gateway as speaker of record for translated devices: it gives them births and deaths,
`boot` and `seq`, a telemetry period (repeating last-known values), faults both ways, door
events, and the station's open state from the configured relay. Pure: time comes in as `now_ms`.
"""

from dataclasses import dataclass, field
from typing import Any

import orjson
from yizhan.gateway.adapters import Reading
from yizhan.gateway.config import DeviceConfig, GatewayConfig
from yizhan.protocol.topics import TopicKind, device_topic, state_topic

FIRMWARE = "yizhan-gateway"


@dataclass(frozen=True)
class Outgoing:
    topic: str
    payload: bytes
    retain: bool = False


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
        self._boots = started_ms  # every birth gets a new boot, across gateway restarts too
        self.voices: dict[str, Voice] = {}
        for d in cfg.devices:  # one device may be fed by several sources (a leak sensor for the boiler)
            if d.source != "native" and d.id not in self.voices:
                self.voices[d.id] = Voice(d)
        self.station_open: bool | None = None
        self._state_seq = 0

    # --- the gateway itself -----------------------------------------------------------

    def gateway_status(self, online: bool, now_ms: int) -> Outgoing:
        topic = device_topic(self.cfg.station, self.cfg.gateway_id, TopicKind.STATUS, self.cfg.root)
        body = (
            {
                "state": "online",
                "ts": now_ms,
                "type": "gateway",
                "boot": self._boots,
                "interval_s": 60,
                "fw": FIRMWARE,
            }
            if online
            else {"state": "offline", "boot": self._boots}
        )
        return Outgoing(topic, orjson.dumps(body), retain=True)

    # --- readings -----------------------------------------------------------------------

    def hear(self, r: Reading, now_ms: int, retained: bool = False) -> list[Outgoing]:
        v = self.voices.get(r.device)
        if v is None:
            return []
        v.last_heard_ms = now_ms
        if r.kind == "offline":
            return self._death(v, now_ms) if v.online else []
        out = [] if v.online else self._birth(v, now_ms)
        if r.kind == "online":
            return out
        if r.kind == "relay":
            return out + self._relay(v, r.data["relay"], r.data["on"], now_ms)
        if r.kind in ("fault", "fault_cleared"):
            code = r.data["code"]
            active = r.kind == "fault"
            if active == (code in v.faults):
                return out
            (v.faults.add if active else v.faults.discard)(code)
            if not retained:
                out.append(
                    self._sequenced(v, TopicKind.EVENT, {"event": r.kind, "data": {"code": code}}, now_ms)
                )
            return [*out, self._telemetry(v, {}, now_ms)]
        # data
        was_open = v.values.get("open")
        v.values.update(r.data)
        if "open" in r.data and was_open is not None and r.data["open"] != was_open and not retained:
            out.append(
                self._sequenced(
                    v, TopicKind.EVENT, {"event": "door", "data": {"open": r.data["open"]}}, now_ms
                )
            )
        return [*out, self._telemetry(v, r.data, now_ms)]

    def tick(self, now_ms: int) -> list[Outgoing]:
        """Deaths of devices silent past their staleness; heartbeats with last-known values."""
        out: list[Outgoing] = []
        for v in self.voices.values():
            if not v.online:
                continue
            if now_ms - v.last_heard_ms > v.cfg.staleness_s() * 1000:
                out += self._death(v, now_ms)
            elif now_ms - v.last_sent_ms >= v.cfg.interval_s * 1000 and v.values:
                out.append(self._telemetry(v, v.values, now_ms))
        return out

    # --- internals ------------------------------------------------------------------------

    def _birth(self, v: Voice, now_ms: int) -> list[Outgoing]:
        self._boots += 1
        v.online, v.boot, v.seq, v.last_sent_ms = True, self._boots, 0, now_ms
        topic = device_topic(self.cfg.station, v.cfg.id, TopicKind.STATUS, self.cfg.root)
        body = {
            "state": "online",
            "ts": now_ms,
            "type": v.cfg.type,
            "boot": v.boot,
            "interval_s": v.cfg.interval_s,
            "fw": FIRMWARE,
        }
        return [Outgoing(topic, orjson.dumps(body), retain=True)]

    def _death(self, v: Voice, now_ms: int) -> list[Outgoing]:
        v.online = False
        topic = device_topic(self.cfg.station, v.cfg.id, TopicKind.STATUS, self.cfg.root)
        return [
            Outgoing(topic, orjson.dumps({"state": "offline", "boot": v.boot, "ts": now_ms}), retain=True)
        ]

    def _telemetry(self, v: Voice, data: dict[str, Any], now_ms: int) -> Outgoing:
        v.last_sent_ms = now_ms
        return self._sequenced(v, TopicKind.TELEMETRY, {"data": {**data, "faults": sorted(v.faults)}}, now_ms)

    def _sequenced(self, v: Voice, kind: TopicKind, body: dict[str, Any], now_ms: int) -> Outgoing:
        payload = {"ts": now_ms, "seq": v.seq, "boot": v.boot, **body}
        v.seq += 1
        return Outgoing(device_topic(self.cfg.station, v.cfg.id, kind, self.cfg.root), orjson.dumps(payload))

    def _relay(self, v: Voice, relay: int, on: bool, now_ms: int) -> list[Outgoing]:
        s = self.cfg.state
        if s is None or s.device != v.cfg.id or s.relay != relay or self.station_open == on:
            return []
        self.station_open = on
        self._state_seq += 1
        body = {"ts": now_ms, "seq": self._state_seq, "open": on, "source": "staff"}
        return [Outgoing(state_topic(self.cfg.station, self.cfg.root), orjson.dumps(body), retain=True)]
