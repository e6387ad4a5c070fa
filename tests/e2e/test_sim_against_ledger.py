"""End to end: `yizhan sim` → mosquitto → `yizhan server` → InfluxDB → API, checked against the
simulator's ground-truth ledger."""

import json
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
import yaml
from yizhan.device_sim.ledger import read_ledger
from yizhan.server.domain.alerts import RULES, fault_rule
from yizhan.server.domain.opening import intersect, subtract, total
from yizhan.server.domain.schedule import scheduled_open_from
from yizhan.server.domain.station import StationSpec

from tests.conftest import REPO, shared_server, wait_for

pytestmark = pytest.mark.e2e

STATIONS = 20
START = "2026-03-02T00:00:00"
DAYS = 2


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


def test_the_run_had_deliberate_duplicates_and_no_rejections(run):
    server, _, summary = run
    assert summary["duplicates"] > 50
    assert summary["published"] == summary["telemetry"] + summary["events"] + summary["duplicates"] + (
        summary["published"] - summary["telemetry"] - summary["events"] - summary["duplicates"]
    )
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


def expected_alerts(ledger: list[dict]) -> Counter:
    """What the ledger's injected faults and device outages must raise, by (station, device, rule)."""
    specs = {r["station"]: StationSpec.model_validate(r["body"]) for r in ledger if r["kind"] == "station"}
    pending_ms = RULES["device_offline"].pending_s * 1000
    want: Counter = Counter()
    for day in (r for r in ledger if r["kind"] == "day"):
        spec = specs[day["station"]]
        for f in day["faults"]:
            want[(day["station"], f["device"], fault_rule(f["code"]))] += 1
        for device, intervals in day["device_offline"].items():
            for a, b in intervals:
                due = scheduled_open_from(spec.weekly_schedule(), spec.zone("Asia/Shanghai"), a + pending_ms)
                if due is not None and due <= b:
                    want[(day["station"], device, "device_offline")] += 1
        for a, b in intersect(all_offline(day), [tuple(iv) for iv in day["reported_open"]]):
            if b - a >= RULES["station_dark"].pending_s * 1000:
                want[(day["station"], None, "station_dark")] += 1
    return want


def all_offline(day: dict) -> list[tuple[int, int]]:
    """When every device of the station was out, from the ledger."""
    offline = day["device_offline"]
    if set(offline) != {"door", "water", "power", "speaker"}:
        return []
    common = [tuple(iv) for iv in offline["door"]]
    for device in ("water", "power", "speaker"):
        common = intersect(common, [tuple(iv) for iv in offline[device]])
    return common


def test_opening_hours_per_station_and_day_match_the_ledger_and_carry_the_planted_flags(run):
    server, ledger, _ = run
    days = [r for r in ledger if r["kind"] == "day" and not r["partial"]]
    planted = Counter()
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
        plan = truth["planned"]
        want_flags = {
            "not_opened": plan["skip"],
            "late_open": plan["late"] and not plan["skip"],
            "early_close": plan["early"] and not plan["skip"],
            "open_devices_offline": plan.get("unplugged", False),
            "activity_while_closed": truth["after_hours_visits"] > 0,
        }
        for flag, planted_here in want_flags.items():
            if planted_here:
                planted[flag] += 1
                if flag not in got["flags"]:
                    wrong.append((truth["station"], truth["date"], f"missing {flag}", got["flags"]))
        if not any(want_flags.values()) and got["flags"]:
            wrong.append((truth["station"], truth["date"], "clean day flagged", got["flags"]))
    assert not wrong, wrong[:10]
    assert len(planted) == 5, f"every kind of irregularity planted at least once: {planted}"
    first = days[0]
    sealed = server.get(f"/api/v1/stations/{first['station']}/opening", start=first["date"]).json()["days"][0]
    assert sealed["sealed"] is True and sealed["chain_seq"] >= 1


def test_every_injected_fault_and_outage_raised_exactly_one_alert_and_nothing_else(run):
    server, ledger, _ = run
    want = expected_alerts(ledger)
    assert sum(1 for k in want if k[2].startswith("fault:") or k[2] == "battery_low") >= 2, (
        "no faults injected"
    )
    assert any(k[2] == "device_offline" for k in want), "no outage in opening hours"

    def raised() -> Counter:
        alerts = server.get("/api/v1/alerts", limit=10000).json()
        return Counter((a["station"], a["device"], a["rule"]) for a in alerts)

    got = wait_for(lambda: (r := raised()) == want and r, timeout_s=20, what="alerts to match the ledger")
    quiet = {r["station"] for r in ledger if r["kind"] == "station"} - {k[0] for k in want}
    assert quiet and not [k for k in got if k[0] in quiet]


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
