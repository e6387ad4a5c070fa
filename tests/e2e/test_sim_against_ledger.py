"""End to end: `yizhan sim` → mosquitto → `yizhan server` → InfluxDB → API, checked against the
simulator's ground-truth ledger."""

import json
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import pytest
import yaml
from yizhan.device_sim.ledger import read_ledger

from tests.conftest import REPO, shared_server, wait_for

pytestmark = pytest.mark.e2e

STATIONS = 20
START = "2026-03-02T00:00:00"
DAYS = 2
INTERVAL_S = 300


# The expected results come from the ledger and from the documents, never from the code under
# test: the alert rules as docs/contract.md § Alerts › Rules writes them (the README's table of
# documents points there), the fault codes' severities of docs/protocol.md § 15, and the flag
# thresholds of docs/contract.md § Audit › Per-day figures and flags.
class Rule(NamedTuple):
    severity: str
    pending_s: int  # the condition must hold this long before the alert fires
    clear_s: int  # and stay clear this long before it resolves by itself


RULES = {
    "device_offline": Rule("major", 120, 60),
    "water_cold": Rule("major", 20 * 60, 60),
    "mains_voltage": Rule("major", 5 * 60, 60),
    "battery_low": Rule("minor", 0, 0),
    "station_dark": Rule("critical", 10 * 60, 60),
}
FAULT_SEVERITY = {  # `fault:<code>`: pending 0, clear 0; the simulator's fault events carry no severity
    "dry_boil": "critical",
    "leak": "critical",
    "heater": "major",
    "temp_sensor": "major",
    "tank_empty": "minor",
    "overcurrent": "critical",
    "overvoltage": "major",
    "undervoltage": "major",
    "battery_low": "minor",
    "tamper": "major",
    "mic": "minor",
    "audio": "minor",
    "network": "minor",
}
LATE_MS = 15 * 60_000  # late_open / early_close: more than 15 minutes off the timetable
DEVICES_OFFLINE_MS = 5 * 60_000  # open_devices_offline: from 5 minutes
NO_ACTIVITY_MS = 4 * 3_600_000  # open_no_activity: claimed open 4 hours or more with no visit
DATA_GAP_MS = 3_600_000  # data_gap: no message at all for over an hour while claimed open


def rule_of_fault(code: str) -> str:
    """The `battery_low` code and a low battery reading are one alert, `battery_low`."""
    return "battery_low" if code == "battery_low" else f"fault:{code}"


def severity_of(rule: str) -> str:
    return FAULT_SEVERITY[rule.removeprefix("fault:")] if rule.startswith("fault:") else RULES[rule].severity


# --- intervals [start, end) in epoch ms, each list sorted and without overlaps -------------------

Intervals = list[tuple[int, int]]


def intersect(xs: Intervals, ys: Intervals) -> Intervals:
    return sorted((max(a, c), min(b, d)) for a, b in xs for c, d in ys if max(a, c) < min(b, d))


def subtract(xs: Intervals, ys: Intervals) -> Intervals:
    out = []
    for a, b in xs:
        for c, d in ys:
            if c < b and d > a:
                if c > a:
                    out.append((a, c))
                a = max(a, d)
        if a < b:
            out.append((a, b))
    return out


def total(xs: Intervals) -> int:
    return sum(b - a for a, b in xs)


def scheduled(body: dict, day: str) -> Intervals:
    """The declared hours of one local day, from the registration body the ledger holds
    (`schedule`: weekday → ["HH:MM-HH:MM", …], in the station's `timezone`)."""
    d = date.fromisoformat(day)
    midnight = datetime.combine(d, time(0), ZoneInfo(body["timezone"]))
    weekday = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d.weekday()]

    def at(hh_mm: str) -> int:
        h, m = hh_mm.split(":")
        return int((midnight + timedelta(hours=int(h), minutes=int(m))).timestamp() * 1000)

    return sorted((at(a), at(b)) for a, b in (r.split("-") for r in body["schedule"].get(weekday, [])))


@pytest.fixture(scope="module")
def run(broker, influx, tmp_path_factory):
    """One simulated run shared by the checks below."""
    tmp = tmp_path_factory.mktemp("e2e")
    server = shared_server(broker, influx, tmp, "e2e", YZ_CLOCK="event")
    ledger_path = tmp / "ledger.jsonl"
    server.run_sim(
        "--stations",
        str(STATIONS),
        "--seed",
        "11",
        "--start",
        START,
        "--duration",
        f"{DAYS}d",
        "--interval",
        "300",
        "--duplicates",
        "0.03",
        "--ledger",
        str(ledger_path),
    )
    ledger = read_ledger(ledger_path)
    summary = next(r for r in ledger if r["kind"] == "summary")

    def accepted() -> float:
        text = server.get("/metrics").text
        return sum(
            float(x.split()[-1]) for x in text.splitlines() if x.startswith("yz_messages_accepted_total")
        )

    wait_for(
        lambda: accepted() == summary["published"],
        timeout_s=300,
        interval_s=1,
        what=f"server to accept all {summary['published']} published messages",
    )
    wait_for(
        lambda: server.metric("yz_spool_lines") == 0 and server.metric("yz_inbox_messages") == 0,
        timeout_s=60,
        what="everything flushed",
    )
    yield server, ledger, summary
    server.stop()


def test_the_server_accepted_every_message_of_the_ledger_by_kind_and_rejected_none(run):
    server, ledger, summary = run
    assert summary["duplicates"] > 50  # the run did publish messages twice on purpose
    stations = [r for r in ledger if r["kind"] == "station"]
    days = [r for r in ledger if r["kind"] == "day"]
    assert not any(d["partial"] for d in days)  # whole days: every open and close, death and birth sent
    # docs/contract.md § yizhan sim: every device is born when the run starts and each outage is a
    # death and a later birth; each station says whether it is open when the run starts, then
    # opens and closes on the days it opens; only telemetry and events are ever sent twice
    want = {
        "status": 4 * len(stations) + sum(2 * len(ivs) for d in days for ivs in d["device_offline"].values()),
        "state": len(stations) + sum(2 * len(d["reported_open"]) for d in days),
        "telemetry+event": summary["telemetry"] + summary["events"] + summary["duplicates"],
    }
    assert sum(want.values()) == summary["published"], "the ledger's account of the run is incomplete"

    def accepted(kind: str) -> int:
        return int(server.metric("yz_messages_accepted_total", kind=kind))

    got = {
        "status": accepted("status"),
        "state": accepted("state"),
        "telemetry+event": accepted("telemetry") + accepted("event"),
    }
    assert got == want
    assert accepted("telemetry") >= summary["telemetry"] and accepted("event") >= summary["events"]
    text = server.get("/metrics").text
    rejected = [
        x for x in text.splitlines() if x.startswith("yz_messages_rejected_total") and not x.endswith(" 0.0")
    ]
    assert rejected == []


def test_influxdb_holds_exactly_one_point_per_distinct_published_message(run):
    server, ledger, summary = run
    want_tel: Counter = Counter()
    want_ev: Counter = Counter()
    for r in ledger:
        if r["kind"] == "device":
            want_tel[(r["station"], r["device"])] += r["telemetry"]
            want_ev[(r["station"], r["device"])] += r["events"]

    def counts(q: str) -> Counter:
        got: Counter = Counter()
        for row in server.query(q):
            got[(row["station"], row["device"])] += row["count"]
        return got

    def stored() -> tuple[Counter, Counter]:
        tel = counts(
            'SELECT count("seq") FROM "door_sensor","water_dispenser","power_strip","smart_speaker" '
            'GROUP BY "station","device"'
        )
        return tel, counts('SELECT count("seq") FROM "events" GROUP BY "station","device"')

    tel, ev = wait_for(
        lambda: (s := stored()) == (want_tel, want_ev) and s,
        timeout_s=30,
        interval_s=1,
        what="stored counts to equal the ledger",
    )
    assert sum(tel.values()) == summary["telemetry"] and sum(ev.values()) == summary["events"]


def test_usage_per_station_and_day_matches_the_ledger(run):
    server, ledger, _ = run
    days = [r for r in ledger if r["kind"] == "day" and not r["partial"]]
    assert len(days) == STATIONS * DAYS
    mismatches = defaultdict(list)
    for truth in days:
        d = date.fromisoformat(truth["date"])
        got = server.get(
            f"/api/v1/stations/{truth['station']}/usage",
            start=d.isoformat(),
            end=(d + timedelta(days=1)).isoformat(),
        ).json()
        for key in ("visits", "heating_sessions", "speaker_interactions"):
            if got[key] != truth[key]:
                mismatches[key].append((truth["station"], truth["date"], got[key], truth[key]))
        for key in ("water_l", "energy_kwh"):
            if abs(got[key] - truth[key]) > 0.005 * truth[key] + 1e-9:
                mismatches[key].append((truth["station"], truth["date"], got[key], truth[key]))
    assert not mismatches, dict(mismatches)
    assert sum(t["visits"] for t in days) > STATIONS * DAYS * 10  # the run was not trivially empty
    assert sum(t["heating_sessions"] for t in days) > 0 and sum(t["water_l"] for t in days) > 0


def test_stations_and_devices_come_out_of_the_run_registered_and_seen(run):
    server, _, _ = run
    stations = server.get("/api/v1/stations").json()
    assert len(stations) == STATIONS
    assert all(s["devices_total"] == 4 and s["last_seen"] for s in stations)


def stations_of(ledger: list[dict]) -> dict[str, dict]:
    """The registration body of every station, as the simulator registered it."""
    return {r["station"]: r["body"] for r in ledger if r["kind"] == "station"}


def expected_alerts(ledger: list[dict]) -> Counter:
    """What the ledger's injected faults and device outages must raise, by (station, device, rule)."""
    bodies = stations_of(ledger)
    pending_ms = RULES["device_offline"].pending_s * 1000
    want: Counter = Counter()
    for day in (r for r in ledger if r["kind"] == "day"):
        hours = scheduled(bodies[day["station"]], day["date"])
        for f in day["faults"]:
            want[(day["station"], f["device"], rule_of_fault(f["code"]))] += 1
        for device, intervals in day["device_offline"].items():
            # fires only inside the declared hours: once the pending period is over, the outage
            # must still last when (or after) the station's hours begin
            if any(intersect([(a + pending_ms, b)], hours) for a, b in intervals):
                want[(day["station"], device, "device_offline")] += 1
        for a, b in intersect(all_offline(day), [tuple(iv) for iv in day["reported_open"]]):
            if b - a >= RULES["station_dark"].pending_s * 1000:
                want[(day["station"], None, "station_dark")] += 1
    return want


def all_offline(day: dict) -> Intervals:
    """When every device of the station was out, from the ledger."""
    offline = day["device_offline"]
    if set(offline) != {"door", "water", "power", "speaker"}:
        return []
    common = [tuple(iv) for iv in offline["door"]]
    for device in ("water", "power", "speaker"):
        common = intersect(common, [tuple(iv) for iv in offline[device]])
    return common


def planted_flags(truth: dict) -> set[str]:
    """The irregularities the simulator planted on purpose that day."""
    plan = truth["planned"]
    planted = {
        "not_opened": plan["skip"],
        "late_open": plan["late"] and not plan["skip"],
        "early_close": plan["early"] and not plan["skip"],
        "open_devices_offline": plan.get("unplugged", False),
        "activity_while_closed": truth["after_hours_visits"] > 0,
    }
    return {flag for flag, here in planted.items() if here}


def implied_flags(truth: dict, hours: Intervals) -> set[str]:
    """Every flag the day's figures in the ledger call for, by the documented thresholds."""
    reported = [tuple(iv) for iv in truth["reported_open"]]
    dark = intersect(all_offline(truth), reported)
    flags = set()
    for s, e in hours:
        pieces = intersect(reported, [(s, e)])
        if pieces and pieces[0][0] - s > LATE_MS:
            flags.add("late_open")
        if pieces and e - pieces[-1][1] > LATE_MS:
            flags.add("early_close")
    if hours and not intersect(reported, hours):
        flags.add("not_opened")
    if total(dark) >= DEVICES_OFFLINE_MS:
        flags.add("open_devices_offline")
    if total(reported) >= NO_ACTIVITY_MS and truth["visits"] == truth["after_hours_visits"]:
        flags.add("open_no_activity")
    if truth["after_hours_visits"]:
        flags.add("activity_while_closed")
    # with telemetry every INTERVAL_S, an hour without any message needs every device out about that long
    if any(b - a > DATA_GAP_MS - INTERVAL_S * 1000 for a, b in dark):
        flags.add("data_gap")
    return flags  # and never clock_skew: every message of the run carries its own time


def test_opening_hours_per_station_and_day_match_the_ledger_and_carry_exactly_the_flags_it_implies(run):
    server, ledger, _ = run
    bodies = stations_of(ledger)
    days = [r for r in ledger if r["kind"] == "day" and not r["partial"]]
    planted_count: Counter = Counter()
    wrong = []
    for truth in days:
        url = f"/api/v1/stations/{truth['station']}/opening"
        got = server.get(url, start=truth["date"]).json()["days"][0]
        reported = [tuple(iv) for iv in truth["reported_open"]]
        want_reported = total(reported) // 1000
        want_verified = total(subtract(reported, all_offline(truth))) // 1000
        off = abs(got["reported_open_s"] - want_reported), abs(got["verified_open_s"] - want_verified)
        if max(off) > 60:
            wrong.append((truth["station"], truth["date"], got, want_reported, want_verified))
        planted = planted_flags(truth)
        implied = implied_flags(truth, scheduled(bodies[truth["station"]], truth["date"]))
        planted_count.update(planted)
        where = (truth["station"], truth["date"])
        if not planted <= implied:
            wrong.append((*where, "the oracle misses planted flags", planted - implied))
        if missing := implied - set(got["flags"]):
            wrong.append((*where, "missing", sorted(missing), got["flags"]))
        if spurious := set(got["flags"]) - implied:  # a day with planted flags may not have others
            wrong.append((*where, "spurious", sorted(spurious), got["flags"], sorted(planted)))
    assert not wrong, wrong[:10]
    assert len(planted_count) == 5, f"every kind of irregularity planted at least once: {planted_count}"
    first = days[0]
    sealed = server.get(f"/api/v1/stations/{first['station']}/opening", start=first["date"]).json()["days"][0]
    assert sealed["sealed"] is True and sealed["chain_seq"] >= 1


def test_every_injected_fault_and_outage_raised_exactly_one_alert_of_its_severity_and_nothing_else(run):
    server, ledger, _ = run
    want = expected_alerts(ledger)
    assert sum(1 for k in want if k[2].startswith("fault:") or k[2] == "battery_low") >= 2, (
        "no faults injected"
    )
    assert any(k[2] == "device_offline" for k in want), "no outage in opening hours"

    def alerts() -> list[dict]:
        return server.get("/api/v1/alerts", limit=10000).json()

    def raised() -> Counter:
        return Counter((a["station"], a["device"], a["rule"]) for a in alerts())

    got = wait_for(lambda: (r := raised()) == want and r, timeout_s=20, what="alerts to match the ledger")
    quiet = set(stations_of(ledger)) - {k[0] for k in want}
    assert quiet and not [k for k in got if k[0] in quiet]
    wrong_severity = [
        (a["station"], a["device"], a["rule"], a["severity"])
        for a in alerts()
        if a["severity"] != severity_of(a["rule"])
    ]
    assert not wrong_severity


GRAFANA = REPO / "grafana"
MACROS = {
    "$timeFilter": "time >= '2026-03-01T00:00:00Z' AND time < '2026-03-05T00:00:00Z'",
    "$__interval": "1h",
    "$station": "st-0001",
    "$district": "shinan",
}


def grafana_queries() -> list[tuple[str, str]]:
    """(where, InfluxQL) of every panel target, annotation and template variable of every dashboard."""
    out = []
    for path in sorted((GRAFANA / "dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        panels = [p for top in board["panels"] for p in [top, *top.get("panels", [])]]
        out += [(f"{path.name} {p['title']}", t["query"]) for p in panels for t in p.get("targets", [])]
        out += [(f"{path.name} annotation {a['name']}", a["query"]) for a in board["annotations"]["list"]]
        out += [(f"{path.name} ${v['name']}", v["query"]) for v in board["templating"]["list"]]
    return out


def test_every_grafana_panel_query_runs_against_the_simulated_data_and_returns_rows(run):
    server, _, _ = run
    queries = grafana_queries()
    assert len(queries) >= 20
    empty = []
    for where, query in queries:
        for macro, value in MACROS.items():
            query = query.replace(macro, value)
        if not server.query(query):
            empty.append((where, query))
    assert not empty, empty


def test_the_grafana_provisioning_files_parse():
    sources = yaml.safe_load((GRAFANA / "provisioning/datasources/yizhan.yaml").read_text())
    assert {d["uid"] for d in sources["datasources"]} == {"yizhan-influx", "yizhan-influx-token"}
    assert all(d["type"] == "influxdb" and d["jsonData"]["dbName"] for d in sources["datasources"])
    token = next(d for d in sources["datasources"] if d["uid"] == "yizhan-influx-token")
    assert token["secureJsonData"]["httpHeaderValue1"].startswith("Token ")
    boards = yaml.safe_load((GRAFANA / "provisioning/dashboards/yizhan.yaml").read_text())
    assert boards["providers"][0]["type"] == "file"
    uids = [json.loads(p.read_text())["uid"] for p in (GRAFANA / "dashboards").glob("*.json")]
    assert len(uids) == len(set(uids)) == 4


def test_the_newest_station_status_point_of_every_station_is_its_live_state(run):
    """A late write (a timeout found after a newer change was written) must not leave InfluxDB's
    newest station_status point saying something else than the server's live state."""
    server, _, _ = run
    live = {s["id"]: s for s in server.get("/api/v1/stations").json()}
    rows = server.query(
        'SELECT "open", "reported_open", "devices_online" FROM "station_status"'
        ' GROUP BY "station" ORDER BY time DESC LIMIT 1'
    )
    assert {r["station"] for r in rows} == set(live)
    for r in rows:
        s = live[r["station"]]
        assert (r["open"], r["reported_open"], r["devices_online"]) == (
            s["open"],
            s["reported_open"],
            s["devices_online"],
        ), r["station"]
