"""`yizhan bench drain` with a small backlog: it runs to the end, every consumer drains the whole
backlog, the server stores each message's point exactly once and leaves nothing queued, and the
figures are written. Behaviour only: no assertion on speed (docs/architecture.md, "Tests").
"""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO

MESSAGES, STATIONS = 3000, 50
DRAIN = [sys.executable, "-m", "yizhan", "bench", "drain"]  # the sub-mode, through the `yizhan` command


@pytest.mark.fast
def test_backlog_is_the_payload_mix_in_device_order(tmp_path: Path) -> None:
    """Births first, then telemetry of the four device types and door events; every message of a
    device numbered in order; the counts add up to the backlog."""
    import orjson
    from yizhan.bench.drain import build_backlog, server_lines
    from yizhan.bench.loadgen import station_ids

    backlog = build_backlog(tmp_path / "backlog.tsv", station_ids(STATIONS, "dr"), MESSAGES)
    assert len(backlog.messages) == MESSAGES == sum(backlog.kinds.values())
    assert backlog.kinds["birth"] == 4 * STATIONS
    assert backlog.kinds["event:door"] > 0
    assert all(backlog.kinds[f"telemetry:{t}"] > 0 for t in ("door_sensor", "water_dispenser"))
    assert all(backlog.kinds[f"telemetry:{t}"] > 0 for t in ("power_strip", "smart_speaker"))
    assert len(backlog.path.read_bytes().splitlines()) == MESSAGES
    seen: dict[str, int] = {}
    last_seq: dict[str, int] = {}
    for topic, payload in backlog.messages:
        device = topic.rsplit("/", 1)[0]
        body = orjson.loads(payload)
        if topic.endswith("/status"):
            assert device not in seen, "one birth per device, before anything else from it"
        else:
            assert device in seen and body["seq"] == last_seq.get(device, -1) + 1
            last_seq[device] = body["seq"]
        seen[device] = body["ts"]
    # the server's own Ingest accepts all of it: one point per message, plus station status changes
    lines = Counter(line.split(",", 1)[0] for line in server_lines(backlog))
    for measurement, n in backlog.expected_points().items():
        assert lines[measurement.split(" ")[0]] >= n


def test_drain_small_backlog(tmp_path: Path) -> None:
    out = tmp_path / "drain.json"
    proc = subprocess.run(
        [*DRAIN, "--messages", str(MESSAGES), "--stations", str(STATIONS), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "msg/s" in proc.stdout
    result = json.loads(out.read_text())
    assert result["messages"] == MESSAGES and result["stations"] == STATIONS
    rows = {r["consumer"].split(" (")[0]: r for r in result["rows"]}
    for name in ("mosquitto_sub", "paho MQTT 3.1.1", "paho MQTT 5", "yizhan server", "influxd alone"):
        assert name in rows, sorted(rows)
    for row in result["rows"]:
        if row["rate"] is None:  # only an optional client that is not installed may be skipped
            assert row["consumer"].startswith("gmqtt") and "skipped" in row["notes"]
            continue
        assert row["rate"] > 0 and row["seconds"] > 0, row
        if "received" in row["checks"]:
            assert row["checks"]["received"] == MESSAGES, row
    server = rows["yizhan server"]["checks"]
    assert server["session_present"] and server["exactly_once"]
    assert server["left_on_broker"] == 0
    assert server["rejected"] == 0 and server["acks"] == MESSAGES
    assert sum(server["expected"].values()) == MESSAGES  # one point per message, keyed by the message
    for measurement, n in server["expected"].items():
        assert server["stored"][measurement] == n, measurement
    direct = rows["influxd alone"]["checks"]
    for measurement, n in server["expected"].items():
        assert direct["stored"][measurement] == n, measurement
    assert result["server_over_c_client"] > 0 and result["server_over_influxd"] > 0
    assert result["machine"]["nproc"] >= 1 and result["machine"]["python"]
