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

from yizhan.localstack import Broker, Influx, ServiceError


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


_STOPPING = {signal.SIGINT, signal.SIGTERM}


def _spawn(children: list[subprocess.Popen], args: list[str], **popen: object) -> subprocess.Popen:
    """Start a child and list it for stopping as one step: a Ctrl-C (or SIGTERM) that arrives
    meanwhile takes effect once the child is listed, so that nothing started is left running.
    (Handlers, not the signal mask: children would inherit a blocked mask.)"""
    caught: list[int] = []
    previous = {s: signal.signal(s, lambda n, _: caught.append(n)) for s in _STOPPING}
    try:
        child = subprocess.Popen(args, stdin=subprocess.DEVNULL, **popen)  # type: ignore[call-overload]
        children.append(child)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if caught:
        raise KeyboardInterrupt
    return child


def _secure_broker(root: Path, native: int, gateway_stations: int, topic_root: str) -> dict[str, str]:
    """Broker users and ACLs for the demo's stations (`yizhan mqtt-auth`, registered first):
    writes them under root/mqtt-auth; returns username → password."""
    from yizhan.device_sim.ecosystems import with_gateway
    from yizhan.device_sim.profiles import make_profiles
    from yizhan.server.adapters.mqtt_auth import generate
    from yizhan.server.adapters.sqlite.registry import Registry
    from yizhan.server.domain.station import StationSpec

    bodies = {p.id: p.registration() for p in make_profiles(native, 1)}
    ecosystem = make_profiles(gateway_stations, GATEWAY_SEED, prefix="gw")
    bodies |= {p.id: with_gateway(p.registration()) for p in ecosystem}
    data = root / "data"
    registry = Registry(data / "registry.sqlite")
    registry.put_stations({sid: StationSpec.model_validate(b) for sid, b in bodies.items()})
    registry.close()
    creds = generate(root / "mqtt-auth", data, list(bodies), {}, topic_root)
    return {c.username: c.password for c in creds}


def _start_gateways(
    root: Path,
    local: Broker,
    central: Broker,
    count: int,
    topic_root: str,
    creds: dict[str, str] | None,
    children: list[subprocess.Popen],
) -> None:
    """One `yizhan gateway` per ecosystem station, listening before its devices speak. Each joins
    `children` as soon as it runs, so that a Ctrl-C in the middle stops it too."""
    import yaml

    from yizhan.device_sim.ecosystems import gateway_config
    from yizhan.device_sim.profiles import make_profiles

    configs = root / "gateways"
    configs.mkdir(exist_ok=True)
    for p in make_profiles(count, GATEWAY_SEED, prefix="gw"):
        spool = str(configs / f"{p.id}.spool.db")
        uplink: dict[str, str] = {"url": central.url}
        if creds:  # the station's own broker user: it may publish only under its station
            uplink.update(username=p.id, password=creds[p.id])
        cfg = gateway_config(p.id, topic_root, local.url, uplink, spool)
        path = configs / f"{p.id}.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
        log = configs / f"{p.id}.log"
        with log.open("ab") as out:
            gateway = [sys.executable, "-m", "yizhan", "gateway", "--config", str(path)]
            _spawn(children, gateway, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while "local broker connected" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)


GATEWAY_SEED = 2


def run_demo(
    stations: int = 50,
    speed: float = 1.0,
    run_dir: str | None = None,
    gateway_stations: int = 2,
    secure: bool = False,
) -> int:
    root = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="yizhan-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    http_port = int(os.environ.get("YZ_HTTP_PORT", "8000"))
    http_host = os.environ.get("YZ_HTTP_HOST", "127.0.0.1")
    broker = Broker(root / "mosquitto", port=_port_of("YZ_MQTT_URL"))
    influx = Influx(
        root / "influxdb", port=_port_of("YZ_INFLUX_URL"), database=os.environ.get("YZ_INFLUX_DB", "yizhan")
    )
    local = Broker(root / "station-mosquitto")  # the ecosystem stations' own broker
    gateway_stations = max(0, min(gateway_stations, stations))
    topic_root = os.environ.get("YZ_TOPIC_ROOT", "yz")
    creds: dict[str, str] = {}
    if secure:
        creds = _secure_broker(root, stations - gateway_stations, gateway_stations, topic_root)
        auth = root / "mqtt-auth"
        broker.anonymous = False
        broker.extra_config = (
            f"password_file {auth / 'mosquitto.passwd'}\nacl_file {auth / 'mosquitto.acl'}\n"
        )
    children: list[subprocess.Popen] = []
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        print(f"demo: run directory {root}", flush=True)
        broker.start()
        print(f"demo: mosquitto on {broker.url}", flush=True)
        if secure:
            print(f"demo: broker users and ACLs from the registry in {root / 'mqtt-auth'}; anonymous refused")
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
        if secure:
            env.update(YZ_MQTT_USERNAME="yizhan-server", YZ_MQTT_PASSWORD=creds["yizhan-server"])
        # an accelerated simulation sends `speed` times a real station's rate
        env.setdefault("YZ_STATION_MAX_RATE", f"{50 * max(1.0, speed):g}")
        cli = [sys.executable, "-m", "yizhan"]
        server = _spawn(children, [*cli, "server"], env=env)
        url = f"http://{http_host}:{http_port}"
        _wait_healthy(url, server)
        sim = [*cli, "sim", "--speed", str(speed), "--api", url]
        if stations > gateway_stations:
            native = ["--stations", str(stations - gateway_stations), "--seed", "1"]
            if secure:  # each station with its own broker user
                native += ["--credentials", str(root / "mqtt-auth" / "credentials.csv")]
            _spawn(children, [*sim, *native], env=env)
        if gateway_stations:
            local.start()
            _start_gateways(root, local, broker, gateway_stations, topic_root, creds, children)
            print(f"demo: {gateway_stations} stations of Tasmota/Zigbee2MQTT/ESPHome devices on {local.url},"
                  f" each through its own gateway (logs in {root / 'gateways'})", flush=True)  # fmt: skip
            ecosystem = ["--stations", str(gateway_stations), "--seed", str(GATEWAY_SEED), "--prefix", "gw"]
            ecosystem += ["--mqtt-url", local.url, "--ecosystems", str(root / "gateways")]
            ecosystem += ["--uplink-url", broker.url]
            _spawn(children, [*sim, *ecosystem], env=env)
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
                child.wait(10)  # reaped: nothing of the demo outlives it
        local.stop()
        influx.stop()
        broker.stop()
