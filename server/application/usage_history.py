"""Station usage over a time range, computed from what InfluxDB holds (survives restarts)."""

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from yizhan.server.application.ports import PointStore, Series, query_named, quote_tag
from yizhan.server.domain.usage import count_heating_sessions, counter_increase, rising_edges

LOOKBACK = timedelta(days=31)  # how far back the value before a range is looked for


@dataclass(frozen=True)
class Usage:
    visits: int
    water_l: float
    energy_kwh: float
    heating_sessions: int
    speaker_interactions: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _ns(dt: datetime) -> int:
    return int(dt.timestamp() * 1_000_000) * 1000


def _by_device(series: list[Series]) -> dict[str, list[list]]:
    out: dict[str, list[list]] = defaultdict(list)
    for s in series:
        out[s.tags.get("device", "")].extend(s.values)
    return out


async def station_usage(influx: PointStore, station: str, start: datetime, end: datetime) -> Usage:
    """Usage of one station in [start, end) per docs/contract.md "Definitions"."""
    s, e, back = _ns(start), _ns(end), _ns(start - LOOKBACK)
    st = f'"station" = {quote_tag(station)}'
    rng = f"time >= {s} AND time < {e}"
    before = f"time >= {back} AND time < {s}"
    door_ev = f"{st} AND \"event\" = 'door'"
    dev = ' GROUP BY "device"'
    statements = {
        "door": f'SELECT "open" FROM "door_sensor" WHERE {st} AND {rng}{dev}',
        "door_events": f'SELECT "open" FROM "events" WHERE {door_ev} AND {rng}{dev}',
        "door_before": f'SELECT last("open") FROM "door_sensor" WHERE {st} AND {before}{dev}',
        "door_events_before": f'SELECT last("open") FROM "events" WHERE {door_ev} AND {before}{dev}',
        "water": f'SELECT "dispensed_l_total" FROM "water_dispenser" WHERE {st} AND {rng}{dev}',
        "water_before": f'SELECT last("dispensed_l_total") FROM "water_dispenser"'
        f" WHERE {st} AND {before}{dev}",
        "energy": f'SELECT "energy_kwh_total" FROM "power_strip" WHERE {st} AND {rng}{dev}',
        "energy_before": f'SELECT last("energy_kwh_total") FROM "power_strip" WHERE {st} AND {before}{dev}',
        "power": f'SELECT "power_w" FROM "power_strip" WHERE {st} AND {rng}{dev}',
        "power_before": f'SELECT last("power_w") FROM "power_strip" WHERE {st} AND {before}{dev}',
        "interactions": f'SELECT count("seq") FROM "events" WHERE {st}'
        f" AND \"event\" = 'interaction' AND {rng}",
    }
    r = await query_named(influx, statements, epoch="ns")
    interactions = r["interactions"][0].rows() if r["interactions"] else []
    return Usage(
        visits=len(door_opens(r["door_before"] + r["door_events_before"], r["door"] + r["door_events"])),
        water_l=round(_increase(r["water"], r["water_before"]), 6),
        energy_kwh=round(_increase(r["energy"], r["energy_before"]), 6),
        heating_sessions=_heating(r["power"], r["power_before"]),
        speaker_interactions=int(interactions[0]["count"]) if interactions else 0,
    )


def door_opens(before: list[Series], during: list[Series]) -> list[int]:
    """Times (ms) of false→true door changes, per door, fed by telemetry and events alike (the
    same change seen twice counts once); `before` holds each door's last state before the range.

    Times come in ns: several changes within one ms (a gateway stamping a burst) are ordered by
    the seq in the sub-ms digits, as telemetry and events of a device share one seq."""
    samples, prior = _by_device(during), _by_device(before)
    out: list[int] = []
    for device, rows in samples.items():
        seen = sorted((row for row in rows if row[1] is not None), key=lambda row: row[0])
        last = sorted(prior.get(device, []), key=lambda row: row[0])
        edges = rising_edges(((int(t), bool(v)) for t, v in seen), last[-1][1] if last else False)
        out += [t // 1_000_000 for t in edges]
    return sorted(out)


def _increase(values: list[Series], baselines: list[Series]) -> float:
    base = {d: rows[-1][1] for d, rows in _by_device(baselines).items() if rows}
    return sum(
        counter_increase((row[1] for row in rows if row[1] is not None), base.get(d))
        for d, rows in _by_device(values).items()
    )


def _heating(values: list[Series], baselines: list[Series]) -> int:
    base = {d: rows[-1][1] for d, rows in _by_device(baselines).items() if rows}
    return sum(
        count_heating_sessions((row[1] for row in rows if row[1] is not None), base.get(d))
        for d, rows in _by_device(values).items()
    )
