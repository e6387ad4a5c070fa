"""Sealing station-days: when a station's local day has closed, its figures are computed from
InfluxDB and appended to the hash chain; data arriving later for a sealed day re-seals it as a
new version.

`seen(station, ts)` is called for every accepted message and must stay cheap.
"""

import asyncio
import logging
from datetime import date, datetime, timedelta
from typing import Any

from yizhan.server.application.clock import Clock
from yizhan.server.application.opening_history import station_day
from yizhan.server.application.ports import AuditChain, InfluxRejected, InfluxUnavailable, PointStore
from yizhan.server.application.usage_history import station_usage
from yizhan.server.domain.fleet import Fleet
from yizhan.server.domain.schedule import local_day_bounds

log = logging.getLogger(__name__)

GRACE_MS = 5 * 60_000  # a day is sealed this long after it ended (stragglers, batching)
MAX_PER_ROUND = 500


class AuditSealer:
    def __init__(
        self,
        store: AuditChain,
        fleet: Fleet,
        influx: PointStore,
        clock: Clock,
        default_tz: str,
    ) -> None:
        self.store = store
        self.fleet = fleet
        self.influx = influx
        self.clock = clock
        self.default_tz = default_tz
        self._watermark = 0  # the pipeline's completed flushes: everything handled before is durable
        self._flushed = asyncio.Event()
        self._backlog = 0  # points waiting in the spool (durable, not yet queryable in InfluxDB)
        self.next_day: dict[str, date] = {s: date.fromisoformat(d) for s, d in store.progress().items()}
        self._sealed_until: dict[str, int] = {}
        self._dirty: set[tuple[str, str]] = set(store.dirty())
        self._new_dirty: list[tuple[str, str]] = []
        self._new_stations: list[str] = []
        self.sealed = 0
        self.resealed = 0

    # --- from the pipeline, after every flush ------------------------------------------------

    def durable(self, seen: list[tuple[str, int]], spooled_lines: int) -> None:
        """The pipeline's watermark advanced: what `seen` lists (station, message time) is durable."""
        for station, ts_ms in seen:
            self.seen(station, ts_ms)
        self._backlog = spooled_lines
        self._watermark += 1
        self._flushed.set()

    def seen(self, station: str, ts_ms: int) -> None:
        until = self._sealed_until.get(station)
        if until is None:
            if station not in self.next_day:
                self.next_day[station] = self._local_day(station, ts_ms)
                self._new_stations.append(station)
            until = self._sealed_until[station] = self._day_start_ms(station, self.next_day[station])
        if ts_ms < until:
            key = (station, self._local_day(station, ts_ms).isoformat())
            if key not in self._dirty:
                self._dirty.add(key)
                self._new_dirty.append(key)

    # --- the sealing loop -------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            await asyncio.sleep(2.0)
            try:
                await self.seal_due()
            except (InfluxUnavailable, InfluxRejected) as exc:
                log.warning("audit sealing postponed: %s", exc)

    async def seal_due(self) -> int:
        """Seal the closed days and re-seal the dirty ones; how many were looked at."""
        if self._new_dirty:
            batch, self._new_dirty = self._new_dirty, []
            await asyncio.to_thread(self.store.mark_dirty, batch)
        if self._new_stations:
            # one transaction: a fleet seen for the first time is 186,000 stations, not 186,000 commits
            batch = [(s, self.next_day[s].isoformat()) for s in self._new_stations]
            self._new_stations = []
            await asyncio.to_thread(self.store.set_progress_many, batch)
        now = self.clock.now_ms()
        due: list[tuple[str, date]] = []
        for station, day in list(self.next_day.items()):
            while (
                len(due) < MAX_PER_ROUND
                and self._day_start_ms(station, day + timedelta(days=1)) + GRACE_MS <= now
            ):
                due.append((station, day))
                day += timedelta(days=1)
        dirty = sorted(self._dirty)[:MAX_PER_ROUND]
        if not due and not dirty:
            return 0
        if self._backlog:
            return 0  # spooled points are not in InfluxDB yet
        mark = self._watermark
        while self._watermark < mark + 2:  # a whole flush after now: everything handled is in InfluxDB
            self._flushed.clear()
            await self._flushed.wait()
        for station, day in due:
            if station in self.fleet.stations:
                await self._seal(station, day)
            self.next_day[station] = day + timedelta(days=1)
            self._sealed_until[station] = self._day_start_ms(station, day + timedelta(days=1))
            await asyncio.to_thread(self.store.set_progress, station, self.next_day[station].isoformat())
        for station, day_iso in dirty:
            if station in self.fleet.stations and await self._seal(station, date.fromisoformat(day_iso)):
                self.resealed += 1
            self._dirty.discard((station, day_iso))
            await asyncio.to_thread(self.store.clean, station, day_iso)
        return len(due) + len(dirty)

    async def _seal(self, station: str, day: date) -> bool:
        figures = await self.figures(station, day)
        record = await asyncio.to_thread(
            self.store.seal, station, day.isoformat(), figures, self.clock.now_ms()
        )
        if record is not None:
            self.sealed += 1
        return record is not None

    async def figures(self, station: str, day: date) -> dict[str, Any]:
        """Everything the audit keeps of one station-day."""
        spec = self.fleet.stations[station].spec
        opening = await station_day(self.influx, station, spec, day, self.default_tz)
        start, end = local_day_bounds(day, spec.zone(self.default_tz))
        usage = await station_usage(self.influx, station, start, end)
        return {
            "station": station,
            "district": spec.district,
            "date": day.isoformat(),
            **opening.as_dict(),
            "verified_in_schedule_s": opening.verified_in_schedule_s,
            "device_online_s": opening.device_online_s,
            **usage.as_dict(),
        }

    # --- local days -------------------------------------------------------------------------

    def _local_day(self, station: str, ts_ms: int) -> date:
        live = self.fleet.stations.get(station)
        tz = live.spec.zone(self.default_tz) if live else None
        return datetime.fromtimestamp(ts_ms / 1000, tz).date()

    def _day_start_ms(self, station: str, day: date) -> int:
        live = self.fleet.stations.get(station)
        if live is None:
            return 0
        return int(local_day_bounds(day, live.spec.zone(self.default_tz))[0].timestamp() * 1000)
