"""`yizhan demo`: the whole stack from one command, and nothing left behind after Ctrl-C."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import REPO, wait_for
from yizhan.localstack import free_port

pytestmark = pytest.mark.e2e


def processes_mentioning(text: str) -> list[str]:
    """Processes (PID and command line) whose command line or environment mentions `text`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline, environ = (proc / "cmdline").read_bytes(), (proc / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline + environ:
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{proc.name} {command[:200]}")
    return found


def start_demo(*args: str, **env_vars: str) -> subprocess.Popen:
    """`yizhan demo ARGS` with its own services (the YZ_* of the test run left out)."""
    env = {k: v for k, v in os.environ.items() if k not in ("YZ_MQTT_URL", "YZ_INFLUX_URL", "YZ_DATA_DIR")}
    env.update(env_vars)
    return subprocess.Popen(
        [sys.executable, "-m", "yizhan", "demo", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_demo_serves_50_stations_with_data_within_30_s_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    run_dir = tmp_path / "demo-run"
    started = time.monotonic()
    demo = start_demo("--run-dir", str(run_dir), YZ_HTTP_PORT=str(port))
    try:

        def stations_with_data() -> list[dict]:
            try:
                rows = httpx.get(f"http://127.0.0.1:{port}/api/v1/stations", timeout=2).json()
            except httpx.HTTPError:
                return []
            with_data = [s for s in rows if s["last_seen"] and s["devices_online"] > 0]
            return rows if len(with_data) == 50 else []

        rows = wait_for(stations_with_data, timeout_s=60, interval_s=0.5, what="50 stations with data")
        assert time.monotonic() - started < 30
        assert len(rows) == 50
        # two of them are built from Tasmota/Zigbee2MQTT/ESPHome parts behind a gateway (its 5th device)
        assert sorted(s["devices_total"] for s in rows) == [4] * 48 + [5] * 2
        assert {s["id"] for s in rows if s["devices_total"] == 5} == {"gw-0001", "gw-0002"}
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok"
    finally:
        demo.send_signal(signal.SIGINT)
        out, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, out
    assert f"http://127.0.0.1:{port}" in out
    assert processes_mentioning(str(run_dir)) == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_the_secure_demo_logs_every_station_in_as_itself_and_refuses_anonymous_clients(tmp_path):
    port, mqtt_port = free_port(), free_port()
    args = ("--secure", "--stations", "6", "--run-dir", str(tmp_path))
    demo = start_demo(*args, YZ_HTTP_PORT=str(port), YZ_MQTT_URL=f"mqtt://127.0.0.1:{mqtt_port}")
    try:

        def all_with_data() -> list[dict]:
            try:
                rows = httpx.get(f"http://127.0.0.1:{port}/api/v1/stations", timeout=2).json()
            except httpx.HTTPError:
                return []
            return rows if len(rows) == 6 and all(s["last_seen"] for s in rows) else []

        rows = wait_for(all_with_data, timeout_s=90, interval_s=0.5, what="6 stations with data")
        assert {s["id"] for s in rows if s["devices_total"] == 5} == {"gw-0001", "gw-0002"}
        anonymous = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="anonymous-probe")
        refused = threading.Event()
        anonymous.on_connect = lambda c, u, f, rc, p: rc.is_failure and refused.set()
        anonymous.connect("127.0.0.1", mqtt_port)
        anonymous.loop_start()
        assert refused.wait(10), "the secure demo's broker let an anonymous client in"
        anonymous.loop_stop()
        # the simulator kept the demo's gateway configs: the uplink logs in as the station
        gateway = yaml.safe_load((tmp_path / "gateways" / "gw-0001.yaml").read_text())
        assert gateway["uplink"]["username"] == "gw-0001" and gateway["uplink"]["password"]
        creds = (tmp_path / "mqtt-auth" / "credentials.csv").read_text()
        assert "st-0001" in creds and "gw-0001" in creds and "yizhan-server" in creds
    finally:
        demo.send_signal(signal.SIGINT)
        out, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, out
    assert processes_mentioning(str(tmp_path)) == []


def test_ctrl_c_while_the_gateways_start_still_stops_every_process(tmp_path):
    demo = start_demo("--stations", "4", "--run-dir", str(tmp_path), YZ_HTTP_PORT=str(free_port()))
    try:
        first_gateway = tmp_path / "gateways" / "gw-0001.log"
        wait_for(first_gateway.exists, 60, interval_s=0.02, what="the first gateway started")
    finally:
        demo.send_signal(signal.SIGINT)
        out, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, out
    assert processes_mentioning(str(tmp_path)) == []
