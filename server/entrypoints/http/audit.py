"""HTTP entry points for auditors: per-day opening hours and the monthly audit report."""

import asyncio
import calendar
import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response
from fastapi.responses import HTMLResponse
from yizhan.protocol.ids import ID_PATTERN
from yizhan.server.adapters.sqlite.alert_store import AlertStore
from yizhan.server.adapters.sqlite.audit_store import AuditStore
from yizhan.server.application.audit_report import district_totals, station_rows, to_csv, to_html
from yizhan.server.application.opening_history import station_day
from yizhan.server.application.ports import InfluxRejected, InfluxUnavailable
from yizhan.server.bootstrap import Services
from yizhan.server.domain.station import StationSpec
from yizhan.server.entrypoints.http.timefmt import parse_when

StationId = Annotated[str, Path(pattern=ID_PATTERN, description="station id")]
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
MAX_DAYS = 93


def build_audit_router(services: Services) -> APIRouter:
    api = APIRouter(tags=["audit"])
    fleet, audit, settings = services.fleet, services.audit, services.settings

    def parse_day(value: str, field: str, tz: Any) -> date:
        return parse_when(value, field, tz).astimezone(tz).date()

    @api.get("/api/v1/stations/{station_id}/opening")
    async def opening(
        station_id: StationId,
        start: Annotated[str | None, Query(description="first local day (ISO-8601); default today")] = None,
        end: Annotated[
            str | None, Query(description="end, exclusive (ISO-8601); default start + 1 day")
        ] = None,
    ) -> dict[str, Any]:
        """Per local day: scheduled, reported-open and verified-open seconds, compliance and flags.
        Closed days come from the sealed record (with its chain position), the others are computed now."""
        live = fleet.stations.get(station_id)
        if live is None:
            raise HTTPException(404, f"station {station_id!r} is not registered")
        tz = live.spec.zone(settings.timezone)
        today = datetime.fromtimestamp(services.clock.now_ms() / 1000, tz).date()
        first = parse_day(start, "start", tz) if start else today
        last = parse_day(end, "end", tz) if end else first + timedelta(days=1)
        if end and datetime.fromisoformat(end).time() != datetime.min.time():
            last += timedelta(days=1)  # a range ending inside a day includes that day
        if last <= first:
            raise HTTPException(422, "end must be after start")
        if (last - first).days > MAX_DAYS:
            raise HTTPException(422, f"at most {MAX_DAYS} days at a time")
        sealed = await asyncio.to_thread(
            audit.store.latest, station_id, first.isoformat(), (last - timedelta(days=1)).isoformat()
        )
        days = []
        for i in range((last - first).days):
            day = first + timedelta(days=i)
            record = sealed.get((station_id, day.isoformat()))
            if record is not None:
                days.append(_day_json(record, sealed=True))
                continue
            try:
                computed = await station_day(
                    services.influx, station_id, live.spec, day, settings.timezone, services.clock.now_ms()
                )
            except (InfluxUnavailable, InfluxRejected) as exc:
                raise HTTPException(503, f"InfluxDB: {exc}") from None
            days.append(dict(computed.as_dict(), sealed=False, timeline=computed.timeline))
        return {"station": station_id, "timezone": str(tz), "days": days}

    @api.get("/api/v1/reports/audit", response_model=None)
    async def audit_report(
        month: Annotated[str, Query(description="YYYY-MM")],
        district: str | None = None,
        format: Literal["json", "csv", "html"] = "json",
    ) -> Any:
        """The monthly audit report over the sealed station-days, per station and per district."""
        m = _MONTH.match(month)
        if not m:
            raise HTTPException(422, f"month: {month!r} is not YYYY-MM")
        year, mon = int(m.group(1)), int(m.group(2))
        first, last = date(year, mon, 1), date(year, mon, calendar.monthrange(year, mon)[1])
        specs = {sid: live.spec for sid, live in fleet.stations.items()}
        report = await asyncio.to_thread(
            build_report,
            audit.store,
            services.alerting.store,
            specs,
            settings.timezone,
            month,
            first,
            last,
            district,
        )
        if format == "csv":
            name = f"audit-{month}{'-' + district if district else ''}.csv"
            return Response(
                to_csv(report),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        if format == "html":
            return HTMLResponse(to_html(report))
        return report

    return api


def build_report(
    audit_store: AuditStore,
    alert_store: AlertStore,
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
        for r in audit_store.latest(None, first.isoformat(), last.isoformat()).values()
        if district is None or r["district"] == district
    ]
    names = {sid: spec.name for sid, spec in stations.items()}
    # fault alerts of the month, each judged by its station's local date
    start_ms = int(datetime.combine(first, datetime.min.time(), UTC).timestamp() * 1000) - 86_400_000
    end_ms = int(datetime.combine(last, datetime.min.time(), UTC).timestamp() * 1000) + 2 * 86_400_000
    alerts = []
    for a in alert_store.alerts_fired_between(start_ms, end_ms, district):
        spec = stations.get(a.station)
        tz = spec.zone(default_tz) if spec else UTC
        if first <= datetime.fromtimestamp(a.fired_at_ms / 1000, tz).date() <= last:
            alerts.append(a)
    rows = station_rows(records, names, alerts)
    return {
        "month": month,
        "district": district,
        "sealed_days": len(records),
        "stations": rows,
        "districts": district_totals(rows),
        "chain_head": audit_store.head(),
    }


def _day_json(record: dict[str, Any], sealed: bool) -> dict[str, Any]:
    keys = ("date", "scheduled_s", "reported_open_s", "verified_open_s", "compliance", "flags")
    out = {k: record[k] for k in keys}
    out.update(sealed=sealed, version=record.get("version"), chain_seq=record.get("chain_seq"))
    return out
