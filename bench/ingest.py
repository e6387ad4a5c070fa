"""`yizhan bench`: ingest figures on this machine, printed as a table and kept in bench/results/latest.json.

- bare_rate: messages/s a plain paho subscriber receives and JSON-decodes from the same broker
  and payload mix (the ceiling for a Python consumer here);
- server_rate: messages/s `yizhan server` makes durable in InfluxDB under the same load;
- ratio, p99_lag_ms (device time → durable, from the server's histogram), rss_mb, cpu_pct;
- fleet_list_p99_ms: GET /api/v1/stations with 186,000 registered stations;
- soak (--soak-min): a steady rate for minutes, RSS sampled, to show memory stays flat;
- and the figures of the other benchmarks when they have run (alert latency, audit report).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from yizhan.bench.loadgen import run_load, station_ids
from yizhan.server.adapters.sqlite.registry import Registry
from yizhan.server.domain.station import StationSpec

from yizhan.localstack import Broker, Influx, free_port

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
DEVICES = [
    {"id": d, "type": t}
    for d, t in (
        ("door", "door_sensor"),
        ("water", "water_dispenser"),
        ("power", "power_strip"),
        ("speaker", "smart_speaker"),
    )
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--messages", type=int, default=200_000, help="messages per rate measurement")
    p.add_argument("--stations", type=int, default=5000, help="stations the load speaks for")
    p.add_argument("--fleet", type=int, default=186_000, help="registered stations for the fleet list")
    p.add_argument("--soak-min", type=float, default=0.0, help="minutes of steady load (0: no soak)")
    p.add_argument("--soak-rate", type=float, default=5000.0, help="messages/s during the soak")
    # `yizhan bench drain …`: a sub-mode with options of its own (given after the word `drain`)
    from yizhan.bench import drain

    modes = p.add_subparsers(dest="bench_mode", metavar="{drain}")
    drain.add_arguments(
        modes.add_parser(
            "drain",
            help="how fast consumers drain a queued backlog: mosquitto_sub, paho, gmqtt, the server, influxd",
            description=drain.__doc__.split("\n\n")[0],
        )
    )


def register(data_dir: Path, ids: list[str]) -> None:
    registry = Registry(data_dir / "registry.sqlite")
    spec = StationSpec(name="基准站", district="bench", schedule="24h", devices=DEVICES)
    registry.put_stations(dict.fromkeys(ids, spec))
    registry.close()


class Server:
    def __init__(self, broker: Broker, influx: Influx, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(
            os.environ,
            YZ_MQTT_URL=broker.url,
            YZ_INFLUX_URL=influx.url,
            YZ_INFLUX_DB=influx.database,
            YZ_DATA_DIR=str(data_dir),
            YZ_HTTP_PORT=str(self.port),
            YZ_MQTT_CLIENT_ID=f"bench-{self.port}",
            YZ_STATION_MAX_RATE="0",  # the load generator's stations send far above a real one's rate
        )
        log = (data_dir / "server.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "yizhan", "server"],
            env=env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).json()["status"] == "ok":
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                time.sleep(0.5)
        raise SystemExit("bench: the server did not become healthy")

    def metric(self, name: str) -> float:
        text = httpx.get(f"{self.url}/metrics", timeout=30).text
        return sum(
            float(x.split()[-1])
            for x in text.splitlines()
            if x.startswith(name + " ") or x.startswith(name + "{")
        )

    def buckets(self, name: str) -> list[tuple[float, float]]:
        """A histogram's cumulative buckets (upper bound, count)."""
        out = []
        for line in httpx.get(f"{self.url}/metrics", timeout=30).text.splitlines():
            if line.startswith(name + "_bucket{"):
                le = line.split('le="')[1].split('"')[0]
                out.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
        return out

    def histogram_quantile(
        self, name: str, q: float, since: list[tuple[float, float]] | None = None
    ) -> float:
        """The upper bound of the bucket holding quantile q (coarser than Prometheus' interpolation),
        over what was observed after `since`."""
        now = self.buckets(name)
        if since:
            now = [(le, n - n0) for (le, n), (_, n0) in zip(now, since, strict=True)]
        total = now[-1][1] if now else 0
        return next((le for le, n in now if n >= q * total), float("nan"))

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


def bare_rate(broker: Broker, root: str, stations: list[str], messages: int) -> float:
    """A plain paho subscriber with JSON decoding, QoS 1, as the ceiling."""
    got, first, last = [0], [0.0], [0.0]
    done = threading.Event()

    def on_message(client, userdata, msg) -> None:
        orjson.loads(msg.payload)
        got[0] += 1
        if got[0] == 1:
            first[0] = time.monotonic()
        if got[0] >= messages:
            last[0] = time.monotonic()
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bare-{root}")
    sub.on_message = on_message
    ready = threading.Event()
    sub.on_subscribe = lambda *a: ready.set()
    sub.on_connect = lambda c, *a: c.subscribe(f"{root}/stations/#", qos=1)
    sub.connect("127.0.0.1", broker.port)
    sub.loop_start()
    ready.wait(10)
    run_load("127.0.0.1", broker.port, root, stations, messages, processes=2)
    done.wait(600)
    sub.disconnect()
    sub.loop_stop()
    return messages / max(1e-9, last[0] - first[0])


def server_rate(server: Server, broker: Broker, stations: list[str], messages: int) -> dict[str, float]:
    written0, cpu0 = server.metric("yz_points_written_total"), server.cpu_s()
    t0 = time.monotonic()
    run_load("127.0.0.1", broker.port, "yz", stations, messages, processes=2)
    deadline = time.monotonic() + 900
    while server.metric("yz_points_written_total") - written0 < messages and time.monotonic() < deadline:
        time.sleep(0.2)
    elapsed = time.monotonic() - t0
    return {
        "server_rate": round(messages / elapsed),
        "p99_lag_ms": round(server.histogram_quantile("yz_ingest_lag_seconds", 0.99) * 1000),
        "rss_mb": round(server.rss_mb(), 1),
        "cpu_pct": round((server.cpu_s() - cpu0) / elapsed * 100),
    }


def fleet_list(broker: Broker, influx: Influx, run: Path, fleet: int) -> float:
    data = run / "fleet"
    data.mkdir()
    register(data, station_ids(fleet, "fl"))
    server = Server(broker, influx, data)
    try:
        times = []
        for _ in range(20):
            t = time.perf_counter()
            resp = httpx.get(f"{server.url}/api/v1/stations", timeout=120)
            times.append((time.perf_counter() - t) * 1000)
            assert len(resp.json()) == fleet
        return round(sorted(times)[-1], 1)  # p99 of 20 = the slowest
    finally:
        server.stop()


def soak(
    server: Server, broker: Broker, stations: list[str], minutes: float, rate: float
) -> dict[str, float]:
    total = int(minutes * 60 * rate)
    samples: list[float] = []
    lag0 = server.buckets("yz_ingest_lag_seconds")
    written0, t0 = server.metric("yz_points_written_total"), time.monotonic()
    offered: list[tuple[int, float]] = []
    loader = threading.Thread(
        target=lambda: offered.append(run_load("127.0.0.1", broker.port, "yz", stations, total, 2, rate, 2))
    )
    loader.start()
    while loader.is_alive():
        samples.append(server.rss_mb())
        time.sleep(10)
    deadline = time.monotonic() + 600
    while server.metric("yz_points_written_total") - written0 < total and time.monotonic() < deadline:
        time.sleep(0.5)
    sent, seconds = offered[0] if offered else (0, 1.0)
    return {
        "soak_minutes": minutes,
        "soak_offered_rate": rate,
        "soak_sent_rate": round(sent / seconds),  # what the load generator managed to send
        "soak_durable_rate": round(
            (server.metric("yz_points_written_total") - written0) / (time.monotonic() - t0)
        ),
        "soak_p99_lag_ms": round(server.histogram_quantile("yz_ingest_lag_seconds", 0.99, lag0) * 1000),
        "soak_rss_start_mb": round(samples[1] if len(samples) > 1 else samples[0], 1),
        "soak_rss_end_mb": round(samples[-1], 1),
        "soak_rss_max_mb": round(max(samples), 1),
    }


def run(args: argparse.Namespace) -> int:
    run_dir = Path(tempfile.mkdtemp(prefix="yizhan-bench-"))
    broker, influx = Broker(run_dir / "mosquitto").start(), Influx(run_dir / "influxdb").start()
    stations = station_ids(args.stations)
    result: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "messages": args.messages,
    }
    try:
        print("bench: bare paho subscriber …", flush=True)
        result["bare_rate"] = round(bare_rate(broker, "bare", stations, args.messages))
        data = run_dir / "server"
        data.mkdir()
        register(data, stations)
        server = Server(broker, influx, data)
        try:
            print("bench: yizhan server …", flush=True)
            result.update(server_rate(server, broker, stations, args.messages))
            result["ratio"] = round(result["server_rate"] / result["bare_rate"], 2)
            if args.soak_min:
                print(f"bench: soak {args.soak_min} min at {args.soak_rate:.0f} msg/s …", flush=True)
                result.update(soak(server, broker, stations, args.soak_min, args.soak_rate))
        finally:
            server.stop()
        print(f"bench: fleet list with {args.fleet} stations …", flush=True)
        result["fleet_list_p99_ms"] = fleet_list(broker, influx, run_dir, args.fleet)
    finally:
        influx.stop()
        broker.stop()
    for other in ("alert_latency", "audit_report"):
        path = RESULTS / f"{other}.json"
        if path.exists():
            result[other] = json.loads(path.read_text())
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{'figure':<24}{'value':>14}")
    for key, value in result.items():
        if not isinstance(value, dict):
            print(f"{key:<24}{value!s:>14}")
    for name, figures in ((k, v) for k, v in result.items() if isinstance(v, dict)):
        print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    print(f"\nwritten to {RESULTS / 'latest.json'}")
    return 0
