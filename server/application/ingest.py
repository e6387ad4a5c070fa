"""The ingest service: MQTT messages in → validated, applied to the fleet, turned into a `Batch`.

A pass over a run of messages (or over the passage of time, or a person's action on an alert)
returns what it produced — points, alert transitions, the stations and times it saw — and the
pipeline makes that durable and acts on it; ingest keeps no buffer for others to drain.
Rejections follow docs/protocol.md "Rules for receivers": counted by reason, listed when the sender
is unregistered, never raised to the caller.
"""

import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from yizhan.protocol.ids import DEVICE_TYPES
from yizhan.protocol.payloads import (
    Birth,
    PayloadError,
    decode_event,
    decode_station_state,
    decode_status,
    decode_telemetry,
    event_fields,
)
from yizhan.protocol.rejections import RejectionReason
from yizhan.protocol.topics import TopicError, TopicKind, parse_station_topic
from yizhan.server.application.clock import Clock, EventClock
from yizhan.server.application.lineproto import encode_point, point_time_ns
from yizhan.server.application.schema import Measurement
from yizhan.server.domain.alerts import AlertEngine, AlertState, AlertTransition
from yizhan.server.domain.budget import StationBudget
from yizhan.server.domain.changes import Change, DeviceStatusChanged, StationStatusChanged
from yizhan.server.domain.fleet import DeviceState, Fleet
from yizhan.server.domain.online import StatusReason
from yizhan.server.domain.partition import Partition

log = logging.getLogger(__name__)

MAX_FUTURE_MS = 5 * 60 * 1000
_STATE_KINDS = tuple(AlertState)  # the transitions that change an alert's state: points in `alerts`
_SKEW_MEMORY = 100_000

REJECTION_REASONS = tuple(RejectionReason)  # every counter shows, zero or not

Message = tuple[str | None, bytes, bool]  # topic (None: not UTF-8), payload, retained


@dataclass(slots=True)
class Batch:
    """What one pass of ingest produced, in the order it happened."""

    lines: list[str] = field(default_factory=list)  # line protocol, for InfluxDB
    message_ts: list[int] = field(default_factory=list)  # device times of the messages among them (lag)
    transitions: list[AlertTransition] = field(default_factory=list)  # to store and route
    seen: list[tuple[str, int]] = field(default_factory=list)  # (station, message time): audit sealing

    def extend(self, other: "Batch") -> None:
        self.lines.extend(other.lines)
        self.message_ts.extend(other.message_ts)
        self.transitions.extend(other.transitions)
        self.seen.extend(other.seen)


@dataclass(frozen=True, slots=True)
class AlertAction:
    """A person acknowledges or resolves an alert; it goes through the pipeline like a message."""

    kind: str  # "acknowledge" or "resolve"
    alert_id: int
    by: str
    note: str | None


@dataclass(slots=True)
class UnregisteredSender:
    """A station or device that sent messages but is not in the registry: listed for an administrator."""

    station: str
    device: str | None
    reason: str
    first_seen_ms: int
    last_seen_ms: int
    messages: int


class Rejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class Ingest:
    def __init__(
        self,
        fleet: Fleet,
        clock: Clock,
        root: str = "yz",
        alerts: AlertEngine | None = None,
        partition: Partition | None = None,
        budget: StationBudget | None = None,
    ) -> None:
        self.fleet = fleet
        self.budget = budget
        self.partition = partition
        self.other_partition = 0  # messages of stations another server process handles
        self.alerts = alerts
        self.clock = clock
        # under the event clock time moves with the messages, so it is applied as they arrive
        # (every event-time second), not on the wall clock's timer: a replay ticks at the same times
        self._ticks_with_messages = isinstance(clock, EventClock)
        self._next_tick_ms = 0
        self.root = root
        self._out = Batch()  # what the pass under way produces
        self.accepted: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter({r: 0 for r in REJECTION_REASONS})
        self.clock_skew = 0
        self.unregistered: dict[tuple[str, str | None], UnregisteredSender] = {}
        self.unregistered_dirty = False
        self.last_rejection: str | None = None
        # a message without a usable ts gets the receive time; its duplicates must get the same
        self._skew_ts: OrderedDict[tuple[str, str, int, int], int] = OrderedDict()

    # --- entry ---------------------------------------------------------------

    def handle_many(self, messages: Iterable[Message]) -> Batch:
        """One pass over a run of messages, in order: what they produced."""
        handle = self.handle
        for topic, payload, retained in messages:
            handle(topic, payload, retained)
        return self.take_batch()

    def tick(self) -> Batch:
        """The wall clock's timer: apply the passage of time (silence timeouts, alert deadlines).
        Under the event clock time passes with the messages instead (`handle`)."""
        if not self._ticks_with_messages:
            self._apply_time(self.clock.now_ms())
        return self.take_batch()

    def _apply_time(self, now_ms: int) -> None:
        self._record(self.fleet.expire_silent(now_ms))
        if self.alerts is not None:
            self.alerted(self.alerts.tick(now_ms))

    def act(self, action: AlertAction) -> Batch:
        """A person's acknowledgement or resolution: its transitions and their points.
        Raises AlertError when the alert is not open."""
        assert self.alerts is not None, "alert actions need the alert engine"
        now = self.clock.now_ms()
        if action.kind == "acknowledge":
            transitions = self.alerts.acknowledge(action.alert_id, action.by, action.note, now)
        else:
            transitions = self.alerts.resolve(action.alert_id, action.by, action.note, now)
        self.alerted(transitions)
        return self.take_batch()

    def take_batch(self) -> Batch:
        """What the messages handled one by one (`handle`) produced since the last take."""
        out, self._out = self._out, Batch()
        return out

    def handle(self, topic: str | None, payload: bytes, retained: bool = False) -> bool:
        """Process one message into the batch under way; True if it was accepted."""
        try:
            if topic is None:
                raise TopicError("topic is not UTF-8")
            parsed = parse_station_topic(topic, self.root)
            kind = parsed.kind
            if self.partition is not None and not self.partition.owns(parsed.station):
                self.other_partition += 1
                return False
            budget = self.budget
            # registered stations only: made-up ids are refused below and must not grow the buckets
            if (
                budget is not None
                and parsed.station in self.fleet.stations
                and not budget.take(parsed.station, time.monotonic())
            ):
                return self._reject("rate_limited", f"station {parsed.station!r} is over its message budget")
            if kind is TopicKind.STATE:
                self._station_state(parsed.station, payload)
            elif kind is TopicKind.CMD:
                return False  # our own direction; not a device message
            else:
                dev = self._registered_device(parsed.station, parsed.device or "")
                if kind is TopicKind.TELEMETRY:
                    self._telemetry(dev, payload)
                elif kind is TopicKind.EVENT:
                    self._event(dev, payload)
                else:
                    self._status(dev, payload, retained)
        except TopicError as exc:
            return self._reject("bad_topic", str(exc))
        except PayloadError as exc:
            return self._reject(exc.reason, f"{topic}: {exc.detail}")
        except Rejected as exc:
            return self._reject(exc.reason, str(exc))
        self.accepted[kind.value] += 1
        if self._ticks_with_messages:
            now = self.clock.now_ms()
            if now >= self._next_tick_ms:
                self._apply_time(now)
                self._next_tick_ms = now - now % 1000 + 1000
        return True

    # --- message kinds -----------------------------------------------------------

    def _status(self, dev: DeviceState, payload: bytes, retained: bool) -> None:
        msg = decode_status(payload)
        # the message time first: under the event clock the first message of a run sets "now",
        # and a device heard at a wall-clock "now" would stay online until event time caught up
        if isinstance(msg, Birth):
            ts, _ = self._event_time(msg.ts, None)
            self._seen(dev.station, ts)
            self._record(self.fleet.on_birth(dev, msg, ts, self.clock.now_ms()))
        else:
            if msg.ts:  # a death's time follows the skew rule of every message
                ts, _ = self._event_time(msg.ts, None)
                msg = msg.model_copy(update={"ts": ts})
            self._record(self.fleet.on_death(dev, msg, self.clock.now_ms()))

    def _telemetry(self, dev: DeviceState, payload: bytes) -> None:
        msg = decode_telemetry(payload, dev.type)
        ts, skewed = self._event_time(msg.ts, (dev.station, dev.id, msg.boot, msg.seq))
        self._seen(dev.station, ts)
        fields = msg.data.fields()
        if msg.data.faults is not None:
            self.fleet.on_faults(dev, frozenset(msg.data.faults))
        self._record(self.fleet.on_activity(dev, ts, self.clock.now_ms()))
        if self.alerts is not None:
            if msg.data.faults is not None:
                self.alerted(self.alerts.on_faults(dev, frozenset(msg.data.faults), ts))
            self.alerted(self.alerts.on_telemetry(dev, fields, ts))
        measurement = dev.type if dev.type in DEVICE_TYPES else Measurement.OTHER
        tags = self._tags(dev)
        if measurement != dev.type:
            tags["type"] = dev.type
        self._point(measurement, tags, fields, msg.seq, msg.boot, ts, skewed)

    def _event(self, dev: DeviceState, payload: bytes) -> None:
        msg = decode_event(payload)
        ts, skewed = self._event_time(msg.ts, (dev.station, dev.id, msg.boot, msg.seq))
        self._seen(dev.station, ts)
        if msg.event in ("fault", "fault_cleared"):
            active = msg.event == "fault"
            code = msg.data.code
            self.fleet.on_faults(dev, dev.faults | {code} if active else dev.faults - {code})
        self._record(self.fleet.on_activity(dev, ts, self.clock.now_ms()))
        if self.alerts is not None and msg.event in ("fault", "fault_cleared"):
            severity = getattr(msg.data, "severity", None)
            self.alerted(self.alerts.on_fault_event(dev, msg.data.code, msg.event == "fault", ts, severity))
        tags = self._tags(dev)
        tags["type"] = dev.type
        tags["event"] = msg.event
        self._point(Measurement.EVENTS, tags, event_fields(msg.data), msg.seq, msg.boot, ts, skewed)

    def _station_state(self, station: str, payload: bytes) -> None:
        if station not in self.fleet.stations:
            self._note_unregistered(station, None, "unregistered_station")
            raise Rejected("unregistered_station", f"station {station!r} is not registered")
        msg = decode_station_state(payload)
        ts, skewed = self._event_time(msg.ts, None)
        self._seen(station, ts)
        self._record(self.fleet.on_station_state(station, msg.open, ts))
        # every claim is kept (not only changes the fleet saw live): audits replay them, late ones too
        tags = {"station": station, "district": self.fleet.stations[station].spec.district}
        if msg.source:
            tags["source"] = msg.source
        fields: dict[str, Any] = {"open": msg.open}
        if msg.seq is not None:
            fields["seq"] = msg.seq
        if skewed:
            fields["clock_skew"] = True
        time_ns = point_time_ns(ts, msg.seq or 0)
        self._out.lines.append(encode_point(Measurement.STATION_STATE, tags, fields, time_ns))

    # --- helpers -------------------------------------------------------------------

    def _registered_device(self, station: str, device: str) -> DeviceState:
        live = self.fleet.stations.get(station)
        if live is None:
            self._note_unregistered(station, device, "unregistered_station")
            raise Rejected("unregistered_station", f"station {station!r} is not registered")
        dev = live.devices.get(device)
        if dev is None:
            self._note_unregistered(station, device, "unregistered_device")
            raise Rejected("unregistered_device", f"device {device!r} of {station!r} is not registered")
        return dev

    def _event_time(self, ts: int | None, key: tuple[str, str, int, int] | None) -> tuple[int, bool]:
        """The message time, or the receive time when `ts` is missing or too far ahead."""
        clock = self.clock
        if ts is not None and not (clock.is_set() and ts > clock.now_ms() + MAX_FUTURE_MS):
            clock.observe(ts)
            return ts, False
        self.clock_skew += 1
        if key is None:
            return clock.now_ms(), True
        known = self._skew_ts.get(key)
        if known is None:
            known = self._skew_ts[key] = clock.now_ms()
            if len(self._skew_ts) > _SKEW_MEMORY:
                self._skew_ts.popitem(last=False)
        return known, True

    def _seen(self, station: str, ts: int) -> None:
        self._out.seen.append((station, ts))

    def _tags(self, dev: DeviceState) -> dict[str, str]:
        district = self.fleet.stations[dev.station].spec.district
        return {"station": dev.station, "device": dev.id, "district": district}

    def _point(
        self,
        measurement: str,
        tags: dict[str, str],
        fields: dict[str, Any],
        seq: int,
        boot: int,
        ts: int,
        skewed: bool,
    ) -> None:
        fields["seq"] = seq
        fields["boot"] = boot
        if skewed:
            fields["clock_skew"] = True
        out = self._out
        out.lines.append(encode_point(measurement, tags, fields, point_time_ns(ts, seq)))
        out.message_ts.append(ts)

    def alerted(self, transitions: list[AlertTransition]) -> None:
        """Alert transitions into the batch: to be persisted, and points of the `alerts` measurement."""
        if not transitions:
            return
        self._out.transitions.extend(transitions)
        for t in transitions:
            if t.kind not in _STATE_KINDS:
                continue
            a = t.alert
            tags = {"station": a.station, "district": a.district, "rule": a.rule, "severity": a.severity}
            if a.device:
                tags["device"] = a.device
            fields = {"state": t.kind, "alert_id": a.id, "message": a.message_zh, "message_en": a.message_en}
            if t.by:
                fields["by"] = t.by
            seq = a.id * 4 + _STATE_KINDS.index(t.kind)
            time_ns = point_time_ns(t.at_ms, seq)
            self._out.lines.append(encode_point(Measurement.ALERTS, tags, fields, time_ns))

    def _record(self, changes: list[Change]) -> None:
        alerts = self.alerts
        for change in changes:
            district = self.fleet.stations[change.station].spec.district
            if alerts is not None:
                if isinstance(change, DeviceStatusChanged):
                    dev = self.fleet.device(change.station, change.device)
                    if dev is not None:
                        self.alerted(alerts.on_device_status(dev, change.at_ms))
                else:
                    self.alerted(alerts.on_station_status(change.station, change.at_ms))
            if isinstance(change, DeviceStatusChanged):
                fields: dict[str, Any] = {"online": change.online, "reason": change.reason}
                dev = self.fleet.device(change.station, change.device)
                if change.reason == StatusReason.BIRTH and dev is not None:
                    fields["interval_s"] = dev.interval_s  # audits replay the silence rule from storage
                    fields["boot"] = dev.boot
                self._out.lines.append(
                    encode_point(
                        Measurement.DEVICE_STATUS,
                        {"station": change.station, "device": change.device, "district": district},
                        fields,
                        point_time_ns(change.at_ms),
                    )
                )
            elif isinstance(change, StationStatusChanged):
                live = self.fleet.stations[change.station]
                live.status_point_ns = max(point_time_ns(change.at_ms), live.status_point_ns + 1)
                self._out.lines.append(
                    encode_point(
                        Measurement.STATION_STATUS,
                        {"station": change.station, "district": district},
                        {
                            "reported_open": change.reported_open,
                            "open": change.open,
                            "devices_online": change.devices_online,
                        },
                        live.status_point_ns,
                    )
                )

    def _reject(self, reason: str, detail: str) -> bool:
        self.rejected[reason] += 1
        self.last_rejection = detail[:300]
        log.debug("rejected %s", detail[:300])
        return False

    def _note_unregistered(self, station: str, device: str | None, reason: str) -> None:
        now = self.clock.now_ms()
        key = (station, device)
        sender = self.unregistered.get(key)
        if sender is None:
            if len(self.unregistered) >= 10_000:
                return  # bounded: a flood of made-up ids must not eat memory; still counted
            sender = self.unregistered[key] = UnregisteredSender(station, device, reason, now, now, 0)
        sender.last_seen_ms = now
        sender.messages += 1
        self.unregistered_dirty = True

    def forget_unregistered(self, station: str) -> None:
        for key in [k for k in self.unregistered if k[0] == station]:
            del self.unregistered[key]
