"""`yizhan demo`: a private broker and InfluxDB, the server and simulated stations, on one machine."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from server.localstack import Broker, Influx, ServiceError


def _port_of(env_var: str) -> int:
    value = os.environ.get(env_var)
    return (urlsplit(value).port or 0) if value else 0


def _wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServiceError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).json().get("status") == "ok":
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    raise ServiceError(f"the server did not become healthy at {url} within {timeout_s:.0f} s")


def run_demo(stations: int = 50, speed: float = 1.0, run_dir: str | None = None) -> int:
    root = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="yizhan-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    http_port = int(os.environ.get("YZ_HTTP_PORT", "8000"))
    http_host = os.environ.get("YZ_HTTP_HOST", "127.0.0.1")
    broker = Broker(root / "mosquitto", port=_port_of("YZ_MQTT_URL"))
    influx = Influx(
        root / "influxdb", port=_port_of("YZ_INFLUX_URL"), database=os.environ.get("YZ_INFLUX_DB", "yizhan")
    )
    children: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        print(f"demo: run directory {root}", flush=True)
        broker.start()
        print(f"demo: mosquitto on {broker.url}", flush=True)
        influx.start()
        print(f"demo: InfluxDB on {influx.url}, database {influx.database}", flush=True)
        env = dict(os.environ)
        env.update(
            YZ_MQTT_URL=broker.url,
            YZ_INFLUX_URL=influx.url,
            YZ_INFLUX_DB=influx.database,
            YZ_DATA_DIR=str(root / "data"),
            YZ_HTTP_PORT=str(http_port),
            YZ_HTTP_HOST=http_host,
        )
        # an accelerated simulation sends `speed` times a real station's rate
        env.setdefault("YZ_STATION_MAX_RATE", f"{50 * max(1.0, speed):g}")
        cli = [sys.executable, "-m", "server.cli"]
        server = subprocess.Popen([*cli, "server"], env=env, stdin=subprocess.DEVNULL)
        children.append(server)
        url = f"http://{http_host}:{http_port}"
        _wait_healthy(url, server)
        sim = subprocess.Popen(
            [*cli, "sim", "--stations", str(stations), "--speed", str(speed), "--api", url, "--seed", "1"],
            env=env,
            stdin=subprocess.DEVNULL,
        )
        children.append(sim)
        print(
            f"\n  yizhan is running: {url}/api/v1/stations  (API docs: {url}/docs)"
            "\n  Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(c.poll() is None for c in children):
            time.sleep(0.5)
        failed = next(c for c in children if c.poll() is not None)
        print(
            f"demo: a process exited ({failed.args[3]}, code {failed.returncode}); stopping", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:
        print("\ndemo: stopping", flush=True)
        return 0
    except ServiceError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
        for child in reversed(children):
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        influx.stop()
        broker.stop()
