"""Fault-to-webhook latency with 1,000 simulated stations running in real time.

Starts a private mosquitto and InfluxDB, `yizhan server`, and `yizhan sim --stations 1000
--speed 1` as background load; then publishes fault events on probe stations and measures the
time from publish to the crew's webhook receiving the `firing` notification.

    .venv/bin/python -m yizhan.bench.alert_latency [--stations 1000] [--samples 200]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.alerting_peers import WebhookReceiver
from tests.conftest import Publisher
from yizhan.localstack import Broker, Influx, free_port

REPO = Path(__file__).resolve().parent.parent
PROBES = 20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stations", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--warmup", type=float, default=20.0, help="seconds of load before measuring")
    args = ap.parse_args()
    run = Path(tempfile.mkdtemp(prefix="yizhan-bench-alerts-"))
    broker, influx = Broker(run / "mosquitto").start(), Influx(run / "influxdb").start()
    http_port = free_port()
    url = f"http://127.0.0.1:{http_port}"
    env = dict(os.environ, YZ_MQTT_URL=broker.url, YZ_INFLUX_URL=influx.url, YZ_DATA_DIR=str(run / "data"),
               YZ_HTTP_PORT=str(http_port), YZ_INFLUX_DB=influx.database)  # fmt: skip
    procs: list[subprocess.Popen] = []
    hook = WebhookReceiver()
    try:
        cli = [sys.executable, "-m", "yizhan"]
        log = (run / "server.log").open("wb")
        procs.append(
            subprocess.Popen([*cli, "server"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        )
        _wait(lambda: httpx.get(f"{url}/healthz", timeout=1).json()["status"] == "ok", "server")
        sim = [*cli, "sim", "--stations", str(args.stations), "--speed", "1", "--api", url, "--seed", "7"]
        procs.append(
            subprocess.Popen(sim, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        crew = {"name": "bench", "districts": ["*"], "webhook_url": hook.url("/crew"), "secret": "x"}
        httpx.put(f"{url}/api/v1/crews/bench", json=crew).raise_for_status()
        probe_body = {"name": "probe", "district": "bench", "schedule": "24h",
                      "devices": [{"id": "water", "type": "water_dispenser"}]}  # fmt: skip
        for i in range(PROBES):
            httpx.put(f"{url}/api/v1/stations/probe-{i}", json=probe_body).raise_for_status()
        _wait(
            lambda: len(httpx.get(f"{url}/api/v1/stations").json()) >= args.stations + PROBES, "registration"
        )
        # the simulator plans a whole day per station before its first message: wait for its births
        _wait(
            lambda: _metric(url, "yz_messages_accepted_total") >= args.stations * 4, "simulated stations", 600
        )
        print(f"bench: {args.stations} stations running; warming up {args.warmup:.0f} s", flush=True)
        time.sleep(args.warmup)
        load0, t_load0 = _metric(url, "yz_messages_accepted_total"), time.monotonic()
        device = Publisher(broker)
        sent: dict[tuple[str, str], float] = {}
        seq = [0] * PROBES
        for n in range(args.samples):
            i = n % PROBES
            code = f"bench{n}"
            topic = f"yz/stations/probe-{i}/water/event"
            for on in (True, False):
                body = {"ts": int(time.time() * 1000), "seq": seq[i], "boot": 1,
                        "event": "fault" if on else "fault_cleared", "data": {"code": code}}  # fmt: skip
                seq[i] += 1
                if on:
                    sent[(f"probe-{i}", f"fault:{code}")] = time.time()
                device.publish(topic, json.dumps(body).encode())
            time.sleep(0.05)
        _wait(
            lambda: len([b for b in hook.bodies() if b["kind"] == "firing"]) >= args.samples, "webhooks", 120
        )
        lat = sorted(
            (r.at - sent[(r.json()["alert"]["station"], r.json()["alert"]["rule"])]) * 1000
            for r in hook.received
            if r.json()["kind"] == "firing" and r.json()["alert"]["station"].startswith("probe-")
        )
        load_rate = (_metric(url, "yz_messages_accepted_total") - load0) / (time.monotonic() - t_load0)
        result = {
            "stations": args.stations,
            "samples": len(lat),
            "p50_ms": round(statistics.median(lat), 1),
            "p99_ms": round(lat[max(0, int(len(lat) * 0.99) - 1)], 1),
            "max_ms": round(lat[-1], 1),
            "load_msgs_per_s": round(load_rate, 1),
        }
        print(
            f"{'fault → webhook':<22}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"
            f"{'samples':>10}{'load msg/s':>12}"
        )
        print(
            f"{'':<22}{result['p50_ms']:>10}{result['p99_ms']:>10}{result['max_ms']:>10}{len(lat):>10}"
            f"{result['load_msgs_per_s']:>12}"
        )
        out = REPO / "bench" / "results"
        out.mkdir(exist_ok=True)
        (out / "alert_latency.json").write_text(json.dumps(result, indent=2) + "\n")
        device.close()
        return 0
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(30)
        hook.stop()
        influx.stop()
        broker.stop()


def _metric(url: str, name: str) -> float:
    lines = httpx.get(f"{url}/metrics").text.splitlines()
    return sum(float(x.split()[-1]) for x in lines if x.startswith(name))


def _wait(predicate, what: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"bench: timed out waiting for {what}")


if __name__ == "__main__":
    sys.exit(main())
