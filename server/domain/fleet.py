"""Live state of every registered station and device: online/offline and open/closed.

Online rules (docs/protocol.md): a birth makes a device online; a death whose `boot` matches the
last birth, or silence for 3 × `interval_s`, makes it offline; a death with an older `boot`
is stale. A device that timed out comes back with its next message.
"""

import heapq
from dataclasses import dataclass, field

from yizhan.protocol.payloads import DEFAULT_INTERVAL_S, Birth, Death
from yizhan.server.domain.changes import Change, DeviceStatusChanged, StationStatusChanged
from yizhan.server.domain.station import StationSpec

SILENCE_FACTOR = 3


@dataclass(slots=True)
class DeviceState:
    station: str
    id: str
    type: str
    online: bool = False
    offline_reason: str | None = None
    boot: int | None = None
    interval_s: int = DEFAULT_INTERVAL_S
    last_seen_ms: int | None = None  # newest device time
    last_heard_ms: int | None = None  # receiver time of the newest message
    faults: frozenset[str] = frozenset()
    queued: bool = False  # has an entry in the silence heap

    def deadline_ms(self) -> int | None:
        if self.last_heard_ms is None:
            return None
        return self.last_heard_ms + SILENCE_FACTOR * self.interval_s * 1000


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
        dev.boot = birth.boot
        dev.interval_s = birth.interval_s
        self._heard(dev, at_ms, now_ms)
        return self._set_online(dev, True, "birth", at_ms)

    def on_death(self, dev: DeviceState, death: Death, now_ms: int) -> list[Change]:
        if death.boot is not None and dev.boot is not None and death.boot != dev.boot:
            return []  # stale: an older connection's last will
        changes = self._set_online(dev, False, "death", death.ts or now_ms)
        dev.offline_reason = "death"  # also when it had already timed out: now only a birth revives it
        return changes

    def on_activity(self, dev: DeviceState, at_ms: int, now_ms: int) -> list[Change]:
        """A telemetry or event message arrived from the device."""
        self._heard(dev, at_ms, now_ms)
        if not dev.online and dev.offline_reason != "death":
            return self._set_online(dev, True, "activity", at_ms)
        return []

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
        """Take offline every online device silent for 3 × its interval."""
        changes: list[Change] = []
        heap = self._silence
        while heap and heap[0][0] <= now_ms:
            _, station, device = heapq.heappop(heap)
            dev = self.device(station, device)
            if dev is None:
                continue
            deadline = dev.deadline_ms()
            if not dev.online or deadline is None:
                dev.queued = False
            elif deadline <= now_ms:
                dev.queued = False
                changes += self._set_online(dev, False, "timeout", deadline)
            else:
                heapq.heappush(heap, (deadline, station, device))
        return changes

    # --- internals ------------------------------------------------------------

    def _heard(self, dev: DeviceState, at_ms: int, now_ms: int) -> None:
        dev.last_heard_ms = now_ms
        if dev.last_seen_ms is None or at_ms > dev.last_seen_ms:
            dev.last_seen_ms = at_ms
        live = self.stations[dev.station]
        if live.last_seen_ms is None or at_ms > live.last_seen_ms:
            live.last_seen_ms = at_ms
        if not dev.queued:
            dev.queued = True
            heapq.heappush(self._silence, (dev.deadline_ms() or now_ms, dev.station, dev.id))

    def _set_online(self, dev: DeviceState, online: bool, reason: str, at_ms: int) -> list[Change]:
        if dev.online == online and not (online and reason == "birth"):
            return []
        was = dev.online
        dev.online = online
        dev.offline_reason = None if online else reason
        changes: list[Change] = []
        if was != online or reason == "birth":
            changes.append(DeviceStatusChanged(dev.station, dev.id, online, reason, at_ms))
        return changes + self._station_changed(self.stations[dev.station], at_ms)

    def _station_changed(self, live: StationLive, at_ms: int) -> list[Change]:
        now = (live.reported_open, live.is_open(), live.devices_online())
        if now == live.published:
            return []
        live.published = now
        return [StationStatusChanged(live.id, now[0], now[1], now[2], at_ms)]
