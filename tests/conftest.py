"""Fixtures over real services: mosquitto and influxd from the system packages, on free loopback
ports in temporary directories, and `yizhan server` as a real process.

A service that cannot start is an error, never a skip.
"""

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from yizhan.protocol.messages import Message, device_message, state_message
from yizhan.protocol.topics import TopicKind, device_topic, state_topic

from yizhan.localstack import Broker, Influx, free_port

REPO = Path(__file__).resolve().parent.parent
_ids = itertools.count(1)
_started: list["ServerProc"] = []


@pytest.fixture(scope="session", autouse=True)
def no_server_outlives_the_session() -> Iterator[None]:
    """A fixture that failed half-way (after starting its server, before its yield) would leave
    that server running: whatever is still running at the end is killed."""
    yield
    for server in _started:
        server.stop(kill=True)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    b = Broker(tmp_path_factory.mktemp("mosquitto")).start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influx]:
    i = Influx(tmp_path_factory.mktemp("influxdb")).start()
    yield i
    i.stop()


def wait_for(
    predicate: Callable[[], Any], timeout_s: float = 10.0, interval_s: float = 0.1, what: str = ""
) -> Any:
    """Poll until `predicate()` is truthy; fail with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what or predicate}; last: {last!r}")


class Publisher:
    """A plain MQTT client for tests, standing in for devices: `send` a message made by protocol/'s
    builders, or `publish` any bytes (or a dict as JSON) on any topic, malformed ones included."""

    def __init__(
        self, broker: Broker, client_id: str | None = None, will: Message | tuple[str, bytes] | None = None
    ) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or f"test-{next(_ids)}", protocol=mqtt.MQTTv311
        )
        if isinstance(will, Message):
            self.client.will_set(will.topic, will.payload, qos=1, retain=will.retain)
        elif will:
            self.client.will_set(will[0], will[1], qos=1, retain=True)
        connected = threading.Event()
        self.client.on_connect = lambda *a: connected.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert connected.wait(10), "test publisher could not connect"

    def publish(self, topic: str, payload: bytes | dict, retain: bool = False, qos: int = 1) -> None:
        body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
        self.client.publish(topic, body, qos=qos, retain=retain).wait_for_publish(10)

    def send(self, message: Message, qos: int = 1) -> None:
        """A protocol message on its topic, retained as its kind is."""
        self.publish(message.topic, message.payload, message.retain, qos)

    def drop(self) -> None:
        """Vanish without a clean disconnect, so the broker fires the last will."""
        self.client.loop_stop()
        self.client.socket().close()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class ServerProc:
    """`yizhan server` in a subprocess, with its own database, topic root and data directory."""

    broker: Broker
    influx: Influx
    data_dir: Path
    root: str
    db: str
    http_port: int = field(default_factory=free_port)
    extra_env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            YZ_MQTT_URL=self.broker.url,
            YZ_INFLUX_URL=self.influx.url,
            YZ_INFLUX_DB=self.db,
            YZ_TOPIC_ROOT=self.root,
            YZ_DATA_DIR=str(self.data_dir),
            YZ_HTTP_PORT=str(self.http_port),
            YZ_MQTT_CLIENT_ID=f"yizhan-server-{self.root}",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> "ServerProc":
        _started.append(self)
        log = (self.data_dir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "yizhan", "server"],
            env=self.env(),
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

        def healthy() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited ({self.proc.returncode}):\n{self.log()[-3000:]}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).json()["status"] == "ok"
            except (httpx.HTTPError, ValueError, KeyError):
                return False

        wait_for(healthy, 30, what="server /healthz ok")
        return self

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGINT)
            self.proc.wait(20)
        self.proc = None

    def log(self) -> str:
        return (self.data_dir / "server.log").read_text(errors="replace")

    def run_sim(self, *args: str, timeout_s: float = 600) -> None:
        """`yizhan sim` as fast as the broker takes it, registering its stations with this server."""
        sim = subprocess.run(
            [sys.executable, "-m", "yizhan", "sim", "--speed", "0", "--api", self.url, *args],
            env=self.env(),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        assert sim.returncode == 0, sim.stdout + sim.stderr

    def topic(self, station: str, device: str | None, kind: TopicKind | str) -> str:
        """A station topic under this server's root (a device's, or with no device the station's state)."""
        if device:
            return device_topic(station, device, kind, self.root)
        assert TopicKind(kind) is TopicKind.STATE, f"a {kind} topic needs a device"
        return state_topic(station, self.root)

    def message(self, station: str, device: str | None, kind: TopicKind | str, payload: bytes) -> Message:
        """A payload from protocol/'s builders on its topic under this server's root, retained as its
        kind is (a device's, or with no device the station's state)."""
        if device:
            return device_message(station, device, TopicKind(kind), payload, self.root)
        return state_message(station, payload, self.root)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, timeout=30)

    def put_station(self, station: str, body: dict) -> httpx.Response:
        return httpx.put(f"{self.url}/api/v1/stations/{station}", json=body, timeout=10)

    def metric(self, name: str, **labels: str) -> float:
        want = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
        for line in self.get("/metrics").text.splitlines():
            if line.startswith(want + " "):
                return float(line.split()[-1])
        return 0.0

    def query(self, q: str) -> list[dict]:
        resp = httpx.get(
            f"{self.influx.url}/query", params={"db": self.db, "q": q, "epoch": "ms"}, timeout=30
        )
        resp.raise_for_status()
        rows = []
        for result in resp.json()["results"]:
            for s in result.get("series", []):
                tags = s.get("tags") or {}
                rows += [dict(zip(s["columns"], v, strict=True), **tags) for v in s["values"]]
        return rows


def shared_server(broker: Broker, influx: Influx, run_dir: Path, name: str, **extra_env: str) -> ServerProc:
    """A started server with its own database and topic root, for a module of tests to share."""
    httpx.post(
        f"{influx.url}/query", params={"q": f'CREATE DATABASE "{name}"'}, timeout=10
    ).raise_for_status()
    return ServerProc(broker, influx, run_dir, root=f"yz{name}", db=name, extra_env=extra_env).start()


@pytest.fixture
def make_server(broker: Broker, influx: Influx, tmp_path: Path) -> Iterator[Callable[..., ServerProc]]:
    servers: list[ServerProc] = []

    def make(start: bool = True, **extra_env: str) -> ServerProc:
        n = next(_ids)
        db = f"t{os.getpid()}_{n}"
        httpx.post(
            f"{influx.url}/query", params={"q": f'CREATE DATABASE "{db}"'}, timeout=10
        ).raise_for_status()
        data_dir = tmp_path / f"server{n}"
        data_dir.mkdir()
        s = ServerProc(broker, influx, data_dir, root=f"yz{os.getpid()}x{n}", db=db, extra_env=extra_env)
        servers.append(s)
        return s.start() if start else s

    yield make
    for s in servers:
        s.stop()


@pytest.fixture
def server(make_server: Callable[..., ServerProc]) -> ServerProc:
    return make_server()


@pytest.fixture
def device(broker: Broker) -> Iterator[Publisher]:
    p = Publisher(broker)
    yield p
    p.close()


STATION_BODY = {
    "name": "市南区香港中路驿站",
    "district": "shinan",
    "address": "香港中路 8 号",
    "lat": 36.0671,
    "lon": 120.3826,
    "timezone": "Asia/Shanghai",
    "schedule": "07:00-19:00",
    "services": ["water", "heat_food", "rest", "toilet", "charging"],
    "contact": {"name": "张三", "phone": "0532-80000000"},
    "devices": [
        {"id": "door", "type": "door_sensor"},
        {"id": "water", "type": "water_dispenser"},
        {"id": "power", "type": "power_strip"},
        {"id": "speaker", "type": "smart_speaker"},
    ],
}


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Broker]:
    """A station's own broker, where its devices publish (gateway tests)."""
    b = Broker(tmp_path / "local-mosquitto").start()
    yield b
    b.stop()


@pytest.fixture
def gateways() -> Iterator[list]:
    """Gateways (tests.gateways.GatewayProc) a test started; all stopped afterwards, whatever happened."""
    started: list = []
    yield started
    for gw in started:
        gw.stop()
