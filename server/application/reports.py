"""What auditors read: a station's opening days (sealed, or computed now) and the monthly audit report."""

import asyncio
import calendar
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from yizhan.server.application.audit_report import district_totals, station_rows
from yizhan.server.application.clock import Clock
from yizhan.server.application.opening_history import station_day
from yizhan.server.application.ports import PointStore
from yizhan.server.domain.alerts import Alert
from yizhan.server.domain.fleet import Fleet
from yizhan.server.domain.station import StationSpec

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# what an opening day shows of its sealed record (the record holds the day's usage too)
_SEALED_DAY_KEYS = ("date", "scheduled_s", "reported_open_s", "verified_open_s", "compliance", "flags")


class SealedDays(Protocol):
    """The hash chain of sealed station-days, as the reports read it."""

    def latest(self, station: str | None, first: str, last: str) -> dict[tuple[str, str], dict[str, Any]]: ...

    def head(self) -> dict[str, Any]: ...


class FiredAlerts(Protocol):
    """The stored alerts, as the report reads them."""

    def alerts_fired_between(
        self, start_ms: int, end_ms: int, district: str | None = None
    ) -> list[Alert]: ...


class NotAMonth(ValueError):
    """A report month that is not YYYY-MM."""


def month_days(month: str) -> tuple[date, date]:
    """The first and the last day of a month written YYYY-MM."""
    m = _MONTH.match(month)
    if not m:
        raise NotAMonth(f"month: {month!r} is not YYYY-MM")
    year, mon = int(m.group(1)), int(m.group(2))
    return date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])


class AuditReports:
    def __init__(
        self,
        sealed: SealedDays,
        alerts: FiredAlerts,
        influx: PointStore,
        fleet: Fleet,
        default_tz: str,
        clock: Clock,
    ) -> None:
        self.sealed, self.alerts, self.influx = sealed, alerts, influx
        self.fleet, self.default_tz, self.clock = fleet, default_tz, clock

    async def opening_days(
        self, station: str, spec: StationSpec, first: date, last: date
    ) -> list[dict[str, Any]]:
        """Each local day in [first, last): scheduled, reported-open and verified-open seconds,
        compliance and flags. A sealed day comes from its newest sealed version, with its chain
        position; any other is computed from InfluxDB now (InfluxUnavailable, InfluxRejected)."""
        sealed = await asyncio.to_thread(
            self.sealed.latest, station, first.isoformat(), (last - timedelta(days=1)).isoformat()
        )
        days = []
        for i in range((last - first).days):
            day = first + timedelta(days=i)
            record = sealed.get((station, day.isoformat()))
            if record is not None:
                days.append(sealed_day(record))
                continue
            computed = await station_day(
                self.influx, station, spec, day, self.default_tz, self.clock.now_ms()
            )
            days.append(dict(computed.as_dict(), sealed=False, timeline=computed.timeline))
        return days

    async def month_report(self, month: str, district: str | None) -> dict[str, Any]:
        """The report of a YYYY-MM month (NotAMonth otherwise) over its sealed station-days."""
        first, last = month_days(month)
        stations = {sid: live.spec for sid, live in self.fleet.stations.items()}
        return await asyncio.to_thread(
            build_report, self.sealed, self.alerts, stations, self.default_tz, month, first, last, district
        )


def build_report(
    sealed: SealedDays,
    alerts: FiredAlerts,
    stations: dict[str, StationSpec],
    default_tz: str,
    month: str,
    first: date,
    last: date,
    district: str | None,
) -> dict[str, Any]:
    """The report over the sealed days in [first, last] (blocking: SQLite)."""
    records = [
        r
        for r in sealed.latest(None, first.isoformat(), last.isoformat()).values()
        if district is None or r["district"] == district
    ]
    names = {sid: spec.name for sid, spec in stations.items()}
    # fault alerts of the month, each judged by its station's local date
    start_ms = int(datetime.combine(first, datetime.min.time(), UTC).timestamp() * 1000) - 86_400_000
    end_ms = int(datetime.combine(last, datetime.min.time(), UTC).timestamp() * 1000) + 2 * 86_400_000
    fired = []
    for a in alerts.alerts_fired_between(start_ms, end_ms, district):
        spec = stations.get(a.station)
        tz = spec.zone(default_tz) if spec else UTC
        if first <= datetime.fromtimestamp(a.fired_at_ms / 1000, tz).date() <= last:
            fired.append(a)
    rows = station_rows(records, names, fired)
    return {
        "month": month,
        "district": district,
        "sealed_days": len(records),
        "stations": rows,
        "districts": district_totals(rows),
        "chain_head": sealed.head(),
    }


def sealed_day(record: dict[str, Any]) -> dict[str, Any]:
    """An opening day as its sealed record holds it."""
    out = {k: record[k] for k in _SEALED_DAY_KEYS}
    out.update(sealed=True, version=record.get("version"), chain_seq=record.get("chain_seq"))
    return out
