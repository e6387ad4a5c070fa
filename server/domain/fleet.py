"""Live state of every registered station and device: online/offline and open/closed.

Whether a device is online is decided by the online rule in `online.py` (docs/protocol.md section 7),
the same one the audit replays: the fleet feeds it each message as it arrives and the passage of time
through `expire_silent`, and turns its transitions into `Change`s for the device and its station.
"""

import heapq
from dataclasses import dataclass, field

from yizhan.protocol.payloads import Birth, Death
from yizhan.server.domain.changes import Change, DeviceStatusChanged, StationStatusChanged
from yizhan.server.domain.online import (
    SILENCE_FACTOR,
    Activity,
    Born,
    Died,
    Event,
    Presence,
    Transition,
    deadline,
    expire,
    step,
)
from yizhan.server.domain.station import StationSpec

__all__ = ["SILENCE_FACTOR", "DeviceState", "Fleet", "StationLive"]


@dataclass(slots=True)
class DeviceState:
    station: str
    id: str
    type: str
    presence: Presence = field(default_factory=Presence)  # the online rule's view of it
    last_seen_ms: int | None = None  # newest device time
    faults: frozenset[str] = frozenset()
    queued: int | None = None  # when its entry in the silence heap is due; None: it has none

    @property
    def online(self) -> bool:
        return self.presence.online

    @property
    def offline_reason(self) -> str | None:
        return self.presence.offline_reason

    @property
    def boot(self) -> int | None:
        return self.presence.boot

    @property
    def interval_s(self) -> int:
        return self.presence.interval_s

    @property
    def last_heard_ms(self) -> int | None:
        """Receiver time of the newest birth, telemetry or event."""
        return self.presence.heard_ms

    def deadline_ms(self) -> int | None:
        return deadline(self.presence)


@dataclass(slots=True)
class StationLive:
    spec: StationSpec
    id: str
    devices: dict[str, DeviceState] = field(default_factory=dict)
    reported_open: bool = False
    state_ts_ms: int | None = None
    last_seen_ms: int | None = None
    # what was last reported as a StationStatusChanged
    published: tuple[bool, bool, int] | None = None
    # the time (ns) of the newest station_status point written: a change stamped earlier (a timeout
    # found late, at its deadline) is written just after it, so the newest point is the live state
    status_point_ns: int = 0

    def devices_online(self) -> int:
        return sum(1 for d in self.devices.values() if d.online)

    def is_open(self) -> bool:
        return self.reported_open and any(d.online for d in self.devices.values() if d.type != "gateway")


class Fleet:
    """All registered stations. Every method takes the current time and returns what changed."""

    def __init__(self) -> None:
        self.stations: dict[str, StationLive] = {}
        self._silence: list[tuple[int, str, str]] = []

    # --- registry -------------------------------------------------------------

    def register(self, station_id: str, spec: StationSpec) -> None:
        """Add or replace a station; devices that stay keep their live state."""
        old = self.stations.get(station_id)
        live = StationLive(spec=spec, id=station_id)
        if old:
            live.reported_open, live.state_ts_ms = old.reported_open, old.state_ts_ms
            live.last_seen_ms, live.published = old.last_seen_ms, old.published
        for dev in spec.devices:
            kept = old.devices.get(dev.id) if old else None
            if kept is not None:
                kept.type = dev.type
                live.devices[dev.id] = kept
            else:
                live.devices[dev.id] = DeviceState(station=station_id, id=dev.id, type=dev.type)
        self.stations[station_id] = live

    def device(self, station: str, device: str) -> DeviceState | None:
        live = self.stations.get(station)
        return live.devices.get(device) if live else None

    # --- messages -------------------------------------------------------------

    def on_birth(self, dev: DeviceState, birth: Birth, at_ms: int, now_ms: int) -> list[Change]:
        self._seen(dev, at_ms)
        return self._step(dev, Born(at_ms, birth.boot, birth.interval_s, now_ms))

    def on_death(self, dev: DeviceState, death: Death, now_ms: int) -> list[Change]:
        return self._step(dev, Died(death.ts or now_ms, death.boot, now_ms))

    def on_activity(self, dev: DeviceState, at_ms: int, now_ms: int) -> list[Change]:
        """A telemetry or event message arrived from the device."""
        self._seen(dev, at_ms)
        return self._step(dev, Activity(at_ms, now_ms))

    def on_faults(self, dev: DeviceState, faults: frozenset[str]) -> None:
        dev.faults = faults

    def on_station_state(self, station: str, is_open: bool, at_ms: int) -> list[Change]:
        live = self.stations[station]
        if live.state_ts_ms is not None and at_ms < live.state_ts_ms:
            return []  # an older claim arriving late does not override a newer one
        live.reported_open, live.state_ts_ms = is_open, at_ms
        live.last_seen_ms = max(live.last_seen_ms or at_ms, at_ms)
        return self._station_changed(live, at_ms)

    def expire_silent(self, now_ms: int) -> list[Change]:
        """Take offline every online device silent for 3 × its interval (the live fleet's tick)."""
        changes: list[Change] = []
        heap = self._silence
        while heap and heap[0][0] <= now_ms:
            due, station, device = heapq.heappop(heap)
            dev = self.device(station, device)
            if dev is None or dev.queued != due:  # unregistered, or superseded by an earlier deadline
                continue
            dev.queued = None
            if dev.deadline_ms() == due:
                dev.presence, timed_out = expire(dev.presence, now_ms)
                if timed_out is not None:
                    changes += self._changed(dev, timed_out)
            else:
                # heard from since it was queued: its later deadline goes back in the heap, so that the
                # timeouts of one tick come out in the order they happened
                self._watch(dev)
        return changes

    # --- internals ------------------------------------------------------------

    def _step(self, dev: DeviceState, event: Event) -> list[Change]:
        presence, transitions = step(dev.presence, event)
        changes: list[Change] = []
        for t in transitions:
            changes += self._changed(dev, t)
        dev.presence = presence
        self._watch(dev)
        return changes

    def _changed(self, dev: DeviceState, t: Transition) -> list[Change]:
        # the station is judged with the device as it was at that instant: a step may hold a timeout
        # (at the deadline) before the message that brought the device back
        dev.presence = t.after
        change = DeviceStatusChanged(dev.station, dev.id, t.online, t.reason, t.at_ms)
        return [change, *self._station_changed(self.stations[dev.station], t.at_ms)]

    def _seen(self, dev: DeviceState, at_ms: int) -> None:
        if dev.last_seen_ms is None or at_ms > dev.last_seen_ms:
            dev.last_seen_ms = at_ms
        live = self.stations[dev.station]
        if live.last_seen_ms is None or at_ms > live.last_seen_ms:
            live.last_seen_ms = at_ms

    def _watch(self, dev: DeviceState) -> None:
        """Make sure the silence heap wakes up no later than the device's deadline. A later deadline
        (it was heard from) is found when the earlier entry comes due; an earlier one needs its own."""
        due = dev.deadline_ms()
        if due is not None and (dev.queued is None or due < dev.queued):
            dev.queued = due
            heapq.heappush(self._silence, (due, dev.station, dev.id))

    def _station_changed(self, live: StationLive, at_ms: int) -> list[Change]:
        now = (live.reported_open, live.is_open(), live.devices_online())
        if now == live.published:
            return []
        live.published = now
        return [StationStatusChanged(live.id, now[0], now[1], now[2], at_ms)]
