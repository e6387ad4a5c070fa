"""`yizhan bench drain`: how fast consumers drain a backlog of queued QoS 1 messages, side by side.

The situation measured is a consumer coming back after an outage: its persistent session on the
broker holds a backlog, and what matters is how fast it empties. One run starts a private mosquitto
and influxd (yizhan.localstack, the project's broker settings) and then, for each consumer in turn:

1. creates the consumer's persistent session (fixed client id, clean_start/clean_session off,
   subscribed to `yz/stations/#` at QoS 1) and disconnects it;
2. publishes the backlog: N messages (default 200,000) from 1,000 stations × 4 devices, the
   simulator's payload mix made with the protocol's builders (a birth per device, telemetry of the
   four device types every minute, door events), with the device times of the last ~50 minutes —
   a server that was down for that long — from a few publisher processes;
3. reconnects the consumer and times it until it has all N (for the server: durable in InfluxDB
   and acknowledged to the broker), then removes the session so the next backlog is not queued
   for it as well.

Consumers: `mosquitto_sub` (the C client, `-q 1 -c -C N`), a bare paho subscriber (MQTT 3.1.1
and 5) decoding each message with orjson and acknowledging it by hand as the server does, gmqtt
(if installed: it is not a dependency) with and without acknowledgement after its callback, and
`yizhan server` itself. A last row writes the server's points for the same backlog straight to
influxd in 5,000-line writes: the storage ceiling. The server's row is verified: InfluxDB must
hold exactly one point per message (deterministic point keys: exactly once) and the broker must
have nothing left for its session.

    .venv/bin/yizhan bench drain [--messages 200000] [--stations 1000] [--profile /tmp/p.json]
    .venv/bin/python -m yizhan.bench.drain ...

`--profile` drains the backlog into the server once more with py-spy attached (not a timed row)
and prints where the server's time goes. Figures go to bench/results/drain.json.
"""

import argparse
import asyncio
import contextlib
import functools
import heapq
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from yizhan.bench.ingest import DEVICES as REGISTERED_DEVICES
from yizhan.bench.ingest import REPO, RESULTS, Server, register
from yizhan.bench.loadgen import station_ids
from yizhan.device_sim.profiles import DEVICES
from yizhan.protocol.events import EventName
from yizhan.protocol.payloads import build_birth, build_event, build_telemetry
from yizhan.protocol.topics import TopicKind, device_topic, server_status_topic, station_subscription
from yizhan.server.application.clock import make_clock
from yizhan.server.application.ingest import Ingest
from yizhan.server.domain.alerts import AlertEngine
from yizhan.server.domain.fleet import Fleet
from yizhan.server.domain.station import StationSpec

from yizhan.localstack import Broker, Influx, free_port

TOPIC = station_subscription("yz")
NEVER = 0xFFFFFFFF  # MQTT 5 session expiry: the session outlives any disconnection
INTERVAL_MS = 60_000  # telemetry interval of the simulated devices (their births say interval_s 60)
VISIT_EVERY_MIN = 10  # a visit (door opens, door closes) every ~10 minutes per station
WRITE_LINES = 5000  # lines per direct InfluxDB write: the server's YZ_BATCH_LINES
PROGRESS_S = 5.0
CONSUMERS = ("mosquitto_sub", "paho311", "paho5", "gmqtt", "gmqtt_optimistic", "server", "influxd")
TELEMETRY_MEASUREMENTS = tuple(t for _, t in DEVICES)


# --- the backlog -------------------------------------------------------------------


@dataclass
class Backlog:
    path: Path  # one message a line: "station index \t topic \t payload"
    messages: list[tuple[str, bytes]]  # (topic, payload) in publish order
    stations: list[str]
    kinds: Counter[str]  # births, door events, telemetry by device type
    minutes: int  # the device time the backlog spans

    def expected_points(self) -> dict[str, int]:
        """The server's points keyed by message (one per message, deterministic keys)."""
        out = {t: self.kinds[f"telemetry:{t}"] for t in TELEMETRY_MEASUREMENTS}
        out["events"] = self.kinds["event:door"]
        out["device_status (births)"] = self.kinds["birth"]
        return out


def _station_messages(
    index: int, station: str, quota: int, t0: int, rng: random.Random
) -> list[tuple[int, int, str, bytes, str]]:
    """One station's messages in device-time order: four births, then telemetry every minute
    per device and a visit now and then, with data shaped and varied as the simulator's."""
    plan: list[tuple[int, str, str]] = []  # (ts, device, what)
    phase = {dev: rng.randrange(1000, INTERVAL_MS) for dev, _ in DEVICES}
    for i, (dev, _) in enumerate(DEVICES):
        plan.append((t0 + i, dev, "birth"))
    minute = 0
    while len(plan) < quota + 8:  # a little over: the cut below is made in time order
        base = t0 + minute * INTERVAL_MS
        plan.extend((base + phase[dev], dev, "telemetry") for dev, _ in DEVICES)
        if (minute + index) % VISIT_EVERY_MIN == 0:
            came = base + rng.randrange(1000, INTERVAL_MS - 20_000)
            plan.append((came, "door", "open"))
            plan.append((came + rng.randint(3, 15) * 1000, "door", "close"))
        minute += 1
    plan.sort()
    plan = plan[:quota]

    types = dict(DEVICES)
    boot = {dev: rng.randrange(1, 2**31) for dev, _ in DEVICES}
    seq = dict.fromkeys(boot, 0)
    battery, energy, dispensed, interactions = rng.uniform(60, 100), rng.uniform(10, 500), 0.0, 0
    door_open = False
    out: list[tuple[int, int, str, bytes, str]] = []
    for n, (ts, dev, what) in enumerate(plan):
        # the protocol's builders, as the simulator uses them: each payload is checked by its decoder
        if what == "birth":
            kind = TopicKind.STATUS
            payload = build_birth(
                boot=boot[dev], ts=ts, type=types[dev], interval_s=INTERVAL_MS // 1000, fw="sim-1.0"
            )
            label = "birth"
        elif what in ("open", "close"):
            door_open = what == "open"
            kind = TopicKind.EVENT
            payload = build_event(
                EventName.DOOR, seq=seq[dev], boot=boot[dev], ts=ts, data={"open": door_open}
            )
            seq[dev] += 1
            label = "event:door"
            if door_open:
                dispensed += rng.randint(200, 500) / 1000
                interactions += rng.random() < 0.25
        else:
            if dev == "door":
                battery = max(5.0, battery - 0.001)
                data: dict = {
                    "open": door_open,
                    "battery_pct": round(battery, 1),
                    "rssi_dbm": rng.randint(-80, -50),
                }
            elif dev == "water":
                data = {
                    "water_temp_c": round(rng.uniform(90, 98), 1),
                    "tank_level_pct": round(rng.uniform(40, 100), 1),
                    "heater_on": rng.random() < 0.3,
                    "dispensed_l_total": round(dispensed, 6),
                }
            elif dev == "power":
                volts = round(rng.uniform(216, 226), 1)
                energy += 3.0 / 60_000
                data = {
                    "voltage_v": volts,
                    "current_a": round(3.0 / volts, 3),
                    "power_w": 3.0,
                    "energy_kwh_total": round(energy, 7),
                    "outlets": [{"on": True, "power_w": 0.0}, {"on": False, "power_w": 0.0}],
                }
            else:
                data = {
                    "volume_pct": 40,
                    "rssi_dbm": rng.randint(-75, -45),
                    "interactions_total": interactions,
                }
            data["faults"] = []  # the simulator's devices always say which faults are active
            kind = TopicKind.TELEMETRY
            payload = build_telemetry(types[dev], seq=seq[dev], boot=boot[dev], ts=ts, data=data)
            seq[dev] += 1
            label = f"telemetry:{types[dev]}"
        # births are published without the retain flag a device would set: a retained birth comes
        # again with every subscription, and each consumer must be handed exactly the N messages
        out.append((ts, n, device_topic(station, dev, kind), payload, label))
    return out


def build_backlog(path: Path, stations: list[str], messages: int, seed: int = 1) -> Backlog:
    """`messages` messages shared out over the stations, merged in device-time order as a live
    fleet would have sent them, written to `path` for the publisher processes."""
    if messages < 4 * len(stations):
        raise SystemExit(f"bench drain: --messages must be at least 4 × --stations ({4 * len(stations)})")
    rng = random.Random(seed)
    per, extra = divmod(messages, len(stations))
    minutes = (per + 1) // 4 + 2
    t0 = int(time.time() * 1000) - minutes * INTERVAL_MS  # every ts in the past, none in the future
    streams = [
        [
            (ts, i, n, topic, payload, label)
            for ts, n, topic, payload, label in _station_messages(i, s, per + (i < extra), t0, rng)
        ]
        for i, s in enumerate(stations)
    ]
    kinds: Counter[str] = Counter()
    out: list[tuple[str, bytes]] = []
    with path.open("wb") as f:
        for _, i, _, topic, payload, label in heapq.merge(*streams):
            kinds[label] += 1
            out.append((topic, payload))
            f.write(b"%d\t%s\t%s\n" % (i, topic.encode(), payload))
    return Backlog(path, out, stations, kinds, minutes)


# --- publishing the backlog --------------------------------------------------------------


def _publish_worker(
    port: int, path: str, index: int, workers: int, acked_out: "mp.sharedctypes.Synchronized"
) -> None:
    """One publisher process: the stations of its share, in order, QoS 1, a bounded window."""
    mine: list[tuple[str, bytes]] = []
    with open(path, "rb") as f:
        for line in f:
            i, topic, payload = line.rstrip(b"\n").split(b"\t", 2)
            if int(i) % workers == index:
                mine.append((topic.decode(), payload))
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"drain-pub-{os.getpid()}", protocol=mqtt.MQTTv311
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    acked = [0]
    client.on_publish = lambda *a: acked.__setitem__(0, acked[0] + 1)
    connected = threading.Event()
    client.on_connect = lambda *a: connected.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    if not connected.wait(15):
        raise SystemExit("publisher: no CONNACK")
    for sent, (topic, payload) in enumerate(mine, 1):
        while sent - acked[0] > 5000:
            time.sleep(0.001)
        client.publish(topic, payload, qos=1)
        if sent % 1000 == 0:
            acked_out.value = acked[0]
    while acked[0] < len(mine):
        time.sleep(0.005)
    acked_out.value = acked[0]
    client.disconnect()
    client.loop_stop()


def publish_backlog(broker: Broker, backlog: Backlog, workers: int) -> float:
    """Publish the whole backlog from `workers` processes; returns when the broker has acknowledged
    (so queued) every message, with the seconds it took."""
    ctx = mp.get_context("spawn")
    counters = [ctx.Value("q", 0) for _ in range(workers)]
    procs = [
        ctx.Process(target=_publish_worker, args=(broker.port, str(backlog.path), i, workers, counters[i]))
        for i in range(workers)
    ]
    t0 = time.monotonic()
    try:
        for p in procs:
            p.start()
        progress = Progress("publish", len(backlog.messages), t0)
        while any(p.is_alive() for p in procs):
            for p in procs:
                p.join(0.5)
            progress.maybe(sum(c.value for c in counters))
        if any(p.exitcode != 0 for p in procs):
            raise RuntimeError(f"a publisher failed (exit codes {[p.exitcode for p in procs]})")
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join(5)
    return time.monotonic() - t0


# --- helpers ------------------------------------------------------------------------------


class Progress:
    """A line every few seconds on long steps."""

    def __init__(self, label: str, total: int, t0: float) -> None:
        self.label, self.total, self.t0 = label, total, t0
        self.next = t0 + PROGRESS_S

    def maybe(self, done: int, extra: str = "") -> None:
        now = time.monotonic()
        if now >= self.next:
            self.next = now + PROGRESS_S
            rate = done / max(1e-9, now - self.t0)
            print(
                f"  {self.label}: {done:,}/{self.total:,} after {now - self.t0:.0f} s ({rate:,.0f}/s){extra}",
                flush=True,
            )


def _proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _runq_s(pid: int) -> float:
    """Seconds the process's threads have waited for a core (schedstat): on a shared machine this is
    the part of a slow drain that is someone else's load, not the consumer's."""
    total = 0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += int(stat.read_text().split()[1])
    return total / 1e9


def _self_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def _children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@dataclass
class Row:
    consumer: str
    messages: int
    seconds: float | None  # None: skipped
    notes: str = ""
    cpu_pct: dict[str, float] = field(default_factory=dict)  # process → % of one core during the drain
    checks: dict[str, object] = field(default_factory=dict)

    @property
    def rate(self) -> float | None:
        return None if not self.seconds else self.messages / self.seconds


def _cpu_pct(seconds: float, wall: float) -> float:
    return round(100 * seconds / max(1e-9, wall))


def _wait_until(
    done: Callable[[], bool], count: Callable[[], int], progress: Progress, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{progress.label}: {count():,} of {progress.total:,} after {timeout_s:.0f} s")
        time.sleep(0.05)
        progress.maybe(count())


def _timeout(n: int) -> float:
    return 120 + n / 200  # far beyond any sane drain; a hang ends the run instead of blocking it


# --- paho --------------------------------------------------------------------------------


@functools.cache
def receive_maximum() -> int:
    """The server's default window (YZ_RECEIVE_MAXIMUM): the bare MQTT 5 subscribers get the same, so
    that the rows compare like with like. Imported late: `yizhan` builds this parser for every command."""
    from yizhan.server.config import Settings

    return Settings.model_fields["receive_maximum"].default


def _paho(
    client_id: str, version: int, *, clean_session: bool = False, manual_ack: bool = False
) -> mqtt.Client:
    if version == mqtt.MQTTv5:
        return mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=version, manual_ack=manual_ack
        )
    return mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=version,
        clean_session=clean_session,
        manual_ack=manual_ack,
    )


def _paho_connect(client: mqtt.Client, port: int, version: int, clean_start: bool, expiry: int) -> None:
    if version == mqtt.MQTTv5:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = expiry
        props.ReceiveMaximum = receive_maximum()
        client.connect("127.0.0.1", port, clean_start=clean_start, properties=props)
    else:
        client.connect("127.0.0.1", port)


def paho_session(port: int, client_id: str, version: int, *, create: bool) -> None:
    """Create a persistent session subscribed to the station topics, or (create=False) end it."""
    client = _paho(client_id, version, clean_session=not create)
    ready = threading.Event()
    if create:
        client.on_connect = lambda c, *a: c.subscribe(TOPIC, qos=1)
        client.on_subscribe = lambda *a: ready.set()
    else:
        client.on_connect = lambda *a: ready.set()
    _paho_connect(client, port, version, clean_start=True, expiry=NEVER if create else 0)
    client.loop_start()
    try:
        if not ready.wait(15):
            raise RuntimeError(f"{client_id}: no {'SUBACK' if create else 'CONNACK'} from the broker")
    finally:
        client.disconnect()
        client.loop_stop()


def drain_paho(port: int, client_id: str, version: int, n: int, label: str) -> tuple[float, dict]:
    """Reconnect to the session and take N messages: orjson.loads each, acknowledge it by hand."""
    got, dups, end = [0], [0], [0.0]
    done = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        orjson.loads(msg.payload)
        client.ack(msg.mid, msg.qos)
        got[0] += 1
        dups[0] += msg.dup
        if got[0] == n:
            end[0] = time.monotonic()
            done.set()

    client = _paho(client_id, version, manual_ack=True)
    client.on_message = on_message
    present = [None]
    client.on_connect = lambda c, u, flags, *a: present.__setitem__(0, flags.session_present)
    t0 = time.monotonic()
    _paho_connect(client, port, version, clean_start=False, expiry=NEVER)
    client.loop_start()
    try:
        _wait_until(done.is_set, lambda: got[0], Progress(label, n, t0), _timeout(n))
    finally:
        client.disconnect()
        client.loop_stop()
    return end[0] - t0, {"received": got[0], "redelivered": dups[0], "session_present": present[0]}


def leftover(port: int, client_id: str, wait_s: float = 3.0) -> int:
    """What the broker still holds for a session: connect as it (MQTT 5, session kept), count what
    arrives in `wait_s`, acknowledge nothing."""
    got = [0]
    client = _paho(client_id, mqtt.MQTTv5, manual_ack=True)
    client.on_message = lambda *a: got.__setitem__(0, got[0] + 1)
    _paho_connect(client, port, mqtt.MQTTv5, clean_start=False, expiry=NEVER)
    client.loop_start()
    time.sleep(wait_s)
    client.disconnect()
    client.loop_stop()
    return got[0]


# --- the consumers -------------------------------------------------------------------------


def row_mosquitto_sub(broker: Broker, backlog: Backlog, workers: int, run_dir: Path) -> Row:
    binary = shutil.which("mosquitto_sub")
    if binary is None:
        return Row("mosquitto_sub (C, MQTT 3.1.1)", len(backlog.messages), None, "mosquitto_sub not found")
    n = len(backlog.messages)
    base = [binary, "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t", TOPIC, "-i", "drain-csub"]
    subprocess.run([*base, "-c", "-E"], check=True, timeout=30)  # -E: subscribe, then exit
    publish_backlog(broker, backlog, workers)
    out = run_dir / "mosquitto_sub.out"
    broker_cpu0, children0 = _proc_cpu_s(broker.process.proc.pid), _children_cpu_s()
    t0 = time.monotonic()
    with out.open("wb") as f:
        proc = subprocess.Popen([*base, "-c", "-C", str(n)], stdout=f, stderr=subprocess.STDOUT)
    waited = [0.0]
    try:
        lines, offset = [0], [0]

        def count() -> int:  # lines written so far: each message is one line
            waited[0] = max(waited[0], _runq_s(proc.pid))  # the last reading before it exits
            with out.open("rb") as f:
                f.seek(offset[0])
                chunk = f.read()
            offset[0] += len(chunk)
            lines[0] += chunk.count(b"\n")
            return lines[0]

        _wait_until(lambda: proc.poll() is not None, count, Progress("mosquitto_sub", n, t0), _timeout(n))
        seconds = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    received = count()
    cpu = {
        "mosquitto_sub": _cpu_pct(_children_cpu_s() - children0, seconds),
        "mosquitto_sub waited": _cpu_pct(waited[0], seconds),
        "mosquitto": _cpu_pct(_proc_cpu_s(broker.process.proc.pid) - broker_cpu0, seconds),
    }
    subprocess.run([*base, "-E"], check=True, timeout=30)  # clean session: the session is gone
    out.unlink()
    if proc.returncode != 0 or received != n:
        raise RuntimeError(f"mosquitto_sub: exit {proc.returncode}, {received} of {n} lines")
    return Row(
        "mosquitto_sub (C, MQTT 3.1.1)",
        n,
        seconds,
        "-q 1 -c -C N, lines to a file",
        cpu,
        {"received": received},
    )


def row_paho(broker: Broker, backlog: Backlog, workers: int, version: int) -> Row:
    name = "paho MQTT 5" if version == mqtt.MQTTv5 else "paho MQTT 3.1.1"
    cid = f"drain-paho{version}"
    n = len(backlog.messages)
    paho_session(broker.port, cid, version, create=True)
    publish_backlog(broker, backlog, workers)
    broker_cpu0, self_cpu0, waited0 = (
        _proc_cpu_s(broker.process.proc.pid),
        _self_cpu_s(),
        _runq_s(os.getpid()),
    )
    seconds, checks = drain_paho(broker.port, cid, version, n, name)
    cpu = {
        "subscriber": _cpu_pct(_self_cpu_s() - self_cpu0, seconds),
        "subscriber waited": _cpu_pct(_runq_s(os.getpid()) - waited0, seconds),
        "mosquitto": _cpu_pct(_proc_cpu_s(broker.process.proc.pid) - broker_cpu0, seconds),
    }
    paho_session(broker.port, cid, version, create=False)
    if not checks["session_present"]:
        raise RuntimeError(f"{name}: the broker had no session for {cid}")
    notes = "orjson.loads + manual ack per message"
    if version == mqtt.MQTTv5:
        notes += f", Receive Maximum {receive_maximum():,}"
    return Row(f"{name} (Python)", n, seconds, notes, cpu, checks)


async def _gmqtt_session(port: int, client_id: str, create: bool) -> None:
    from gmqtt import Client

    client = Client(client_id, clean_session=True, session_expiry_interval=NEVER if create else 0)
    subscribed = asyncio.Event()
    client.on_subscribe = lambda *a: subscribed.set()
    await client.connect("127.0.0.1", port)
    if create:
        client.subscribe(TOPIC, qos=1)
        await asyncio.wait_for(subscribed.wait(), 15)
    await client.disconnect()


async def _gmqtt_drain(port: int, client_id: str, n: int, optimistic: bool, label: str) -> tuple[float, dict]:
    from gmqtt import Client

    got, end = [0], [0.0]
    done = asyncio.Event()

    def take(payload: bytes) -> int:
        orjson.loads(payload)
        got[0] += 1
        if got[0] == n:
            end[0] = time.monotonic()
            done.set()
        return 0  # PUBACK reason: success

    if optimistic:  # gmqtt acknowledges on receipt, before the callback

        def on_message(client, topic, payload, qos, properties) -> int:
            return take(payload)
    else:  # gmqtt acknowledges when the callback's coroutine returns: the only way to ack "later"

        async def on_message(client, topic, payload, qos, properties) -> int:
            return take(payload)

    client = Client(
        client_id,
        clean_session=False,
        optimistic_acknowledgement=optimistic,
        session_expiry_interval=NEVER,
        receive_maximum=receive_maximum(),
    )
    client.on_message = on_message
    present = [None]
    client.on_connect = lambda c, flags, rc, props: present.__setitem__(0, bool(flags))
    progress = Progress(label, n, time.monotonic())
    t0 = time.monotonic()
    await client.connect("127.0.0.1", port)
    deadline = t0 + _timeout(n)
    while not done.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 1.0)
        progress.maybe(got[0])
        if time.monotonic() > deadline:
            raise TimeoutError(f"{label}: {got[0]:,} of {n:,}")
    await client.disconnect()
    return end[0] - t0, {"received": got[0], "session_present": present[0]}


def row_gmqtt(broker: Broker, backlog: Backlog, workers: int, optimistic: bool) -> Row:
    n = len(backlog.messages)
    name = "gmqtt MQTT 5, " + ("ack on receipt" if optimistic else "ack after callback")
    try:
        import gmqtt  # noqa: F401  (optional: not a dependency of the project)
    except ImportError:
        return Row(name, n, None, "skipped: gmqtt is not installed (.venv/bin/pip install gmqtt)")
    import logging

    logging.getLogger("gmqtt").setLevel(logging.WARNING)
    cid = f"drain-gmqtt-{'opt' if optimistic else 'ack'}"
    asyncio.run(_gmqtt_session(broker.port, cid, create=True))
    publish_backlog(broker, backlog, workers)
    broker_cpu0, self_cpu0, waited0 = (
        _proc_cpu_s(broker.process.proc.pid),
        _self_cpu_s(),
        _runq_s(os.getpid()),
    )
    seconds, checks = asyncio.run(_gmqtt_drain(broker.port, cid, n, optimistic, name))
    cpu = {
        "subscriber": _cpu_pct(_self_cpu_s() - self_cpu0, seconds),
        "subscriber waited": _cpu_pct(_runq_s(os.getpid()) - waited0, seconds),
        "mosquitto": _cpu_pct(_proc_cpu_s(broker.process.proc.pid) - broker_cpu0, seconds),
    }
    asyncio.run(_gmqtt_session(broker.port, cid, create=False))
    notes = "orjson.loads per message, " + (
        "PUBACK before the callback (not safe for ack-once-durable)"
        if optimistic
        else "async callback, PUBACK when it returns (a task per message)"
    )
    if not checks["session_present"]:
        raise RuntimeError(f"{name}: the broker had no session for {cid}")
    return Row(name + " (Python, asyncio)", n, seconds, notes, cpu, checks)


class DrainServer(Server):
    """bench.ingest's server process with a fixed MQTT client id and HTTP port, so that a restart
    resumes its persistent session: the backlog is queued for it while it is stopped."""

    def __init__(  # the parent's __init__ picks a new client id per start: not called on purpose
        self, broker: Broker, influx: Influx, data_dir: Path, client_id: str, port: int, log_name: str
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = data_dir / log_name
        env = dict(
            os.environ,
            YZ_MQTT_URL=broker.url,
            YZ_INFLUX_URL=influx.url,
            YZ_INFLUX_DB=influx.database,
            YZ_DATA_DIR=str(data_dir),
            YZ_HTTP_PORT=str(port),
            YZ_MQTT_CLIENT_ID=client_id,
            YZ_STATION_MAX_RATE="0",
        )
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "yizhan", "server"],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited at start; log {self.log_path}:\n{self._tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).json()["status"] == "ok":
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not become healthy; log {self.log_path}:\n{self._tail()}")
            time.sleep(0.2)

    def _tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]

    def metrics(self) -> dict[str, float]:
        """The yz_* samples summed over their labels (one scrape)."""
        out: Counter[str] = Counter()
        for line in httpx.get(f"{self.url}/metrics", timeout=30).text.splitlines():
            if line.startswith("yz_") and "_bucket{" not in line:
                name = line.split("{", 1)[0].split(" ", 1)[0]
                out[name] += float(line.rsplit(" ", 1)[1])
        return dict(out)

    def connected_at(self) -> tuple[float, bool] | None:
        """When the server's MQTT connection came up (its log, wall clock) and whether the broker
        still had its session."""
        for line in self.log_path.read_text(errors="replace").splitlines():
            if "MQTT connected to" in line:
                at = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                return at, "session present: True" in line
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _wait_server_online(port: int) -> None:
    """The server publishes its retained "online" right after subscribing, on the same connection:
    once the broker has it, the subscription is in the session."""
    online = threading.Event()

    def on_message(client, userdata, msg) -> None:
        with contextlib.suppress(ValueError):
            if orjson.loads(msg.payload).get("state") == "online":
                online.set()

    client = _paho(f"drain-watch-{os.getpid()}", mqtt.MQTTv311, clean_session=True)
    client.on_connect = lambda c, *a: c.subscribe(server_status_topic("yz"), qos=1)
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        if not online.wait(30):
            raise RuntimeError("the server never said it is online")
    finally:
        client.disconnect()
        client.loop_stop()


def influx_counts(influx: Influx, database: str) -> dict[str, int]:
    queries = {m: f'SELECT count("seq") FROM "{m}"' for m in TELEMETRY_MEASUREMENTS}
    queries["events"] = 'SELECT count("seq") FROM "events"'
    queries["device_status (births)"] = (
        'SELECT count("online") FROM "device_status" WHERE "reason" = \'birth\''
    )
    queries["device_status"] = 'SELECT count("online") FROM "device_status"'
    queries["station_status"] = 'SELECT count("open") FROM "station_status"'
    queries["alerts"] = 'SELECT count("alert_id") FROM "alerts"'
    resp = httpx.get(
        f"{influx.url}/query", params={"db": database, "q": ";".join(queries.values())}, timeout=120
    ).json()
    out = {}
    for name, result in zip(queries, resp["results"], strict=True):
        if "error" in result:
            raise RuntimeError(f"InfluxDB: {result['error']}")
        series = result.get("series") or []
        out[name] = int(series[0]["values"][0][1]) if series else 0
    return out


@dataclass
class ServerRun:
    server: DrainServer | None = None


def _drain_server(
    broker: Broker,
    influx: Influx,
    data: Path,
    port: int,
    n: int,
    log_name: str,
    hold: ServerRun,
    during: Callable[[DrainServer], None] | None = None,
) -> tuple[float, dict, dict[str, float]]:
    """Start the server on its queued session and wait until it has acknowledged all N (acks are
    sent only once the messages are durable). Returns the drain seconds (from its MQTT connection),
    its metrics and CPU figures; `during` is called once it answers (the profiler)."""
    broker_cpu0 = _proc_cpu_s(broker.process.proc.pid)
    started = time.time()
    server = hold.server = DrainServer(broker, influx, data, "drain-server", port, log_name)
    healthy, server_cpu0, broker_cpu_h = time.time(), server.cpu_s(), _proc_cpu_s(broker.process.proc.pid)
    waited0 = _runq_s(server.proc.pid)
    if during is not None:
        during(server)
    progress = Progress("yizhan server (acknowledged)", n, time.monotonic() - (healthy - started))
    figures: dict[str, float] = {}

    def done() -> bool:
        figures.update(server.metrics())
        return figures.get("yz_mqtt_acks_total", 0) >= n

    while not done():
        if server.proc.poll() is not None:
            raise RuntimeError(f"the server died; log {server.log_path}:\n{server._tail()}")
        if time.monotonic() - progress.t0 > _timeout(n):
            raise TimeoutError(f"the server acknowledged {figures.get('yz_mqtt_acks_total', 0):,} of {n:,}")
        time.sleep(0.2)
        progress.maybe(
            int(figures.get("yz_mqtt_acks_total", 0)),
            f", points written {figures.get('yz_points_written_total', 0):,.0f},"
            f" inbox {figures.get('yz_inbox_messages', 0):,.0f}",
        )
    end = time.time()
    conn = server.connected_at()
    if conn is None:
        raise RuntimeError("no 'MQTT connected' line in the server's log")
    connected, present = conn
    if not present:
        raise RuntimeError("the server's session was gone: the backlog was not queued for it")
    cpu = {
        "server": _cpu_pct(server.cpu_s() - server_cpu0, end - healthy),
        "server waited": _cpu_pct(_runq_s(server.proc.pid) - waited0, end - healthy),
        "mosquitto": _cpu_pct(_proc_cpu_s(broker.process.proc.pid) - broker_cpu_h, end - healthy),
    }
    figures["rss_mb"] = round(server.rss_mb(), 1)
    figures["startup_s"] = round(healthy - started, 2)
    figures["mosquitto_cpu_s"] = round(_proc_cpu_s(broker.process.proc.pid) - broker_cpu0, 1)
    server.stop()
    hold.server = None
    return end - connected, figures, cpu


def row_server(
    broker: Broker,
    influx: Influx,
    backlog: Backlog,
    workers: int,
    run_dir: Path,
    hold: ServerRun,
    profile: Path | None,
    profile_s: float,
) -> tuple[Row, dict | None]:
    n = len(backlog.messages)
    data = run_dir / "server"
    data.mkdir()
    register(data, backlog.stations)
    port = free_port()
    # the first start creates the session (clean_start off, never expires) and subscribes
    hold.server = DrainServer(broker, influx, data, "drain-server", port, "server-0.log")
    _wait_server_online(broker.port)
    hold.server.stop()
    hold.server = None
    publish_backlog(broker, backlog, workers)
    influx_cpu0 = _proc_cpu_s(influx.process.proc.pid)
    t_influx = time.monotonic()
    seconds, figures, cpu = _drain_server(broker, influx, data, port, n, "server-1.log", hold)
    cpu["influxd"] = _cpu_pct(_proc_cpu_s(influx.process.proc.pid) - influx_cpu0, time.monotonic() - t_influx)
    left = leftover(broker.port, "drain-server")
    stored = influx_counts(influx, influx.database)
    expected = backlog.expected_points()
    exact = all(stored[k] == v for k, v in expected.items())
    checks = {
        "session_present": True,
        "left_on_broker": left,
        "stored": stored,
        "expected": expected,
        "exactly_once": exact and left == 0,
        "accepted": int(sum(v for k, v in figures.items() if k.startswith("yz_messages_accepted"))),
        "rejected": int(figures.get("yz_messages_rejected_total", 0)),
        "acks": int(figures.get("yz_mqtt_acks_total", 0)),
        "points_written": int(figures.get("yz_points_written_total", 0)),
        "points_spooled": int(figures.get("yz_points_spooled_total", 0)),
        "rss_mb": figures.get("rss_mb"),
        "startup_s": figures.get("startup_s"),
        "mosquitto_cpu_s": figures.get("mosquitto_cpu_s"),
    }
    if not checks["exactly_once"] or checks["rejected"]:
        raise RuntimeError(f"the server's drain is not exact: {json.dumps(checks)}")
    notes = (
        f"durable in InfluxDB + acked, {checks['points_written']:,} points, exactly once, none left queued;"
        f" its startup ({checks['startup_s']} s) not counted"
    )
    row = Row("yizhan server", n, seconds, notes, cpu, checks)
    prof = None
    if profile is not None:
        print(f"bench drain: the backlog again, the server under py-spy for {profile_s:.0f} s …", flush=True)
        publish_backlog(broker, backlog, workers)
        spy: list[subprocess.Popen] = []

        def attach(server: DrainServer) -> None:
            spy.append(_py_spy(server.proc.pid, profile, profile_s))

        try:
            p_seconds, _, p_cpu = _drain_server(broker, influx, data, port, n, "server-2.log", hold, attach)
            spy[0].wait(profile_s + 60)
        finally:
            for p in spy:
                if p.poll() is None:
                    p.terminate()
                    p.wait(10)
        prof = summarise_profile(profile, profile_s)
        prof["drain_rate_under_profiler"] = round(n / p_seconds)
        prof["server_cpu_pct"] = p_cpu["server"]
        replayed = influx_counts(influx, influx.database)
        prof["replay_left_counts_unchanged"] = all(replayed[k] == v for k, v in expected.items())
    return row, prof


def server_lines(backlog: Backlog) -> list[str]:
    """The points the server makes of the backlog: its own Ingest, in process."""
    spec = StationSpec(name="基准站", district="bench", schedule="24h", devices=REGISTERED_DEVICES)
    fleet = Fleet()
    for sid in backlog.stations:
        fleet.register(sid, spec)
    ingest = Ingest(fleet, make_clock("wall"), alerts=AlertEngine(fleet))
    return ingest.handle_many((t, p, False) for t, p in backlog.messages).lines


def row_influxd(influx: Influx, backlog: Backlog) -> Row:
    n = len(backlog.messages)
    lines = server_lines(backlog)
    bodies = ["\n".join(lines[i : i + WRITE_LINES]).encode() for i in range(0, len(lines), WRITE_LINES)]
    database = "drain_direct"
    httpx.post(
        f"{influx.url}/query", params={"q": f'CREATE DATABASE "{database}"'}, timeout=30
    ).raise_for_status()
    influx_cpu0 = _proc_cpu_s(influx.process.proc.pid)
    progress = Progress("influxd alone (points)", len(lines), time.monotonic())
    written = 0
    t0 = time.monotonic()
    with httpx.Client(base_url=influx.url, timeout=120) as http:
        for body in bodies:
            resp = http.post("/write", params={"db": database, "precision": "ns"}, content=body)
            if resp.status_code != 204:
                raise RuntimeError(f"influxd refused a write: {resp.status_code} {resp.text[:300]}")
            written += body.count(b"\n") + 1
            progress.maybe(written)
    seconds = time.monotonic() - t0
    cpu = {"influxd": _cpu_pct(_proc_cpu_s(influx.process.proc.pid) - influx_cpu0, seconds)}
    stored = influx_counts(influx, database)
    expected = backlog.expected_points()
    if any(stored[k] != v for k, v in expected.items()):
        raise RuntimeError(f"influxd alone: stored {stored}, expected {expected}")
    notes = (
        f"the server's {len(lines):,} points for the backlog, {len(bodies)} writes of {WRITE_LINES:,} lines,"
        f" one connection: {len(lines) / seconds:,.0f} points/s"
    )
    return Row(
        "influxd alone (POST /write)", n, seconds, notes, cpu, {"points": len(lines), "stored": stored}
    )


# --- the profile ----------------------------------------------------------------------------


def _py_spy(pid: int, out: Path, seconds: float) -> subprocess.Popen:
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(binary).exists():
        raise SystemExit(
            "bench drain: --profile needs py-spy (.venv/bin/pip install py-spy; a dev tool only)"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            binary,
            "record",
            "--gil",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "100",
            "--format",
            "speedscope",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def _where(frame: dict) -> str:
    path = frame.get("file") or ""
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return path


def summarise_profile(path: Path, wall_s: float, top: int = 15) -> dict:
    """py-spy's speedscope file (recorded with --gil: only the thread holding the GIL is sampled, so
    the samples are the interpreter's work) → the share of each thread, the functions that run
    themselves (self), self time per package, and under which of yizhan's own functions the time is
    spent (inclusive), in % of samples; and how much of the wall time the GIL was busy."""
    doc = json.loads(path.read_text())
    frames = doc["shared"]["frames"]
    names = [f"{f['name']} ({_where(f)})" for f in frames]
    packages = [_where(f).split("/", 1)[0].removesuffix(".py") or "?" for f in frames]
    ours = [False] * len(frames)
    for i, f in enumerate(frames):
        where = _where(f)
        if where.startswith(("server/", "protocol/")):
            packages[i] = "yizhan." + where.rsplit(".", 1)[0].replace("/", ".")
            ours[i] = True
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total, samples = 0.0, 0
    for prof in doc["profiles"]:
        for stack, weight in zip(prof["samples"], prof["weights"], strict=True):
            if not stack:
                continue
            total += weight
            samples += 1
            threads[prof["name"].split(" ", 2)[-1].strip('"')] += weight
            own[names[stack[-1]]] += weight
            by_package[packages[stack[-1]]] += weight
            for name in {names[i] for i in stack if ours[i]}:
                under[name] += weight

    def pct(c: Counter[str], k: int) -> list[tuple[str, float]]:
        return [(name, round(100 * w / total, 1)) for name, w in c.most_common(k)]

    return {
        "file": str(path),
        "samples": samples,
        "seconds": wall_s,
        # the GIL was held this much of the wall time: near 100 %, one interpreter is the limit
        "gil_busy_pct": round(100 * total / wall_s),
        "threads": pct(threads, 10),
        "self_by_package": pct(by_package, 12),
        "self": pct(own, top),
        "inclusive_yizhan": pct(under, top),
    }


# --- the run ---------------------------------------------------------------------------------


def machine() -> dict[str, object]:
    model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor() or "?",
    )
    mem_kb = next(
        int(ln.split()[1])
        for ln in Path("/proc/meminfo").read_text().splitlines()
        if ln.startswith("MemTotal")
    )
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "loadavg_start": os.getloadavg(),
    }


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--messages", type=int, default=200_000, help="backlog size per consumer (default 200,000)"
    )
    p.add_argument("--stations", type=int, default=1000, help="stations the backlog comes from (× 4 devices)")
    p.add_argument("--publishers", type=int, default=2, help="publisher processes filling the backlog")
    p.add_argument(
        "--consumers",
        default=",".join(CONSUMERS),
        help=f"which rows, comma-separated (default all: {','.join(CONSUMERS)})",
    )
    p.add_argument("--out", type=Path, default=RESULTS / "drain.json", help="where the figures go")
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="drain once more into the server under py-spy, writing its speedscope file here",
    )
    p.add_argument("--profile-seconds", type=float, default=20.0)
    p.add_argument("--keep", action="store_true", help="keep the run directory (logs, data)")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that every finally below runs and every process is stopped


def run(args: argparse.Namespace) -> int:
    wanted = [c.strip() for c in args.consumers.split(",") if c.strip()]
    unknown = set(wanted) - set(CONSUMERS)
    if unknown:
        print(
            f"bench drain: unknown consumers {sorted(unknown)}; known: {', '.join(CONSUMERS)}",
            file=sys.stderr,
        )
        return 2
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    info = machine()
    print(f"bench drain: {info['nproc']} × {info['cpu']}, {info['memory_gb']} GB, Python {info['python']}")
    run_dir = Path(tempfile.mkdtemp(prefix="yizhan-drain-"))
    stations = station_ids(args.stations, "dr")
    print(f"bench drain: building the backlog, {args.messages:,} messages from {len(stations):,} stations …")
    backlog = build_backlog(run_dir / "backlog.tsv", stations, args.messages)
    print(f"  {dict(sorted(backlog.kinds.items()))}, device time spanning {backlog.minutes} min", flush=True)
    rows: list[Row] = []
    profile: dict | None = None
    hold = ServerRun()
    broker = influx = None
    ok = False
    try:
        broker = Broker(run_dir / "mosquitto").start()
        influx = Influx(run_dir / "influxdb").start()
        for consumer in wanted:
            print(f"bench drain: {consumer} …", flush=True)
            t = time.monotonic()
            if consumer == "mosquitto_sub":
                row = row_mosquitto_sub(broker, backlog, args.publishers, run_dir)
            elif consumer in ("paho311", "paho5"):
                version = mqtt.MQTTv5 if consumer == "paho5" else mqtt.MQTTv311
                row = row_paho(broker, backlog, args.publishers, version)
            elif consumer in ("gmqtt", "gmqtt_optimistic"):
                row = row_gmqtt(broker, backlog, args.publishers, consumer == "gmqtt_optimistic")
            elif consumer == "server":
                row, profile = row_server(
                    broker,
                    influx,
                    backlog,
                    args.publishers,
                    run_dir,
                    hold,
                    args.profile,
                    args.profile_seconds,
                )
            else:
                row = row_influxd(influx, backlog)
            rows.append(row)
            shown = f"{row.rate:,.0f} msg/s" if row.rate else row.notes
            print(f"  {row.consumer}: {shown} (step {time.monotonic() - t:.0f} s)", flush=True)
        ok = True
    finally:
        if hold.server is not None:
            hold.server.stop()
        if influx is not None:
            influx.stop()
        if broker is not None:
            broker.stop()
        if ok and not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            print(f"bench drain: run directory kept: {run_dir}", file=sys.stderr)
    info["loadavg_end"] = os.getloadavg()
    result = report(rows, info, args, backlog, profile, time.monotonic() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten to {args.out}")
    return 0


def report(
    rows: list[Row],
    info: dict,
    args: argparse.Namespace,
    backlog: Backlog,
    profile: dict | None,
    seconds: float,
) -> dict:
    by = {r.consumer: r for r in rows}
    c_rate = next((r.rate for r in rows if r.consumer.startswith("mosquitto_sub") and r.rate), None)
    server = by.get("yizhan server")
    direct = next((r for r in rows if r.consumer.startswith("influxd")), None)
    print(
        f"\nDrain of a {len(backlog.messages):,}-message backlog from {len(backlog.stations):,} stations"
        f" — {info['nproc']} × {info['cpu']}, {info['memory_gb']} GB, Python {info['python']},"
        f" {info['system']}, {info['date']},"
        f" load {info['loadavg_start'][0]:.1f} → {info['loadavg_end'][0]:.1f}\n"
    )
    width = max(len(r.consumer) for r in rows) + 2
    print(f"{'consumer':<{width}}{'msg/s':>10}{'÷ C client':>12}  notes")
    for r in rows:
        rate = f"{r.rate:,.0f}" if r.rate else "—"
        ratio = f"{r.rate / c_rate:.2f}" if r.rate and c_rate else "—"
        cpu = ", ".join(f"{k} {v}%" for k, v in r.cpu_pct.items())
        print(f"{r.consumer:<{width}}{rate:>10}{ratio:>12}  {r.notes}{f' [CPU: {cpu}]' if cpu else ''}")
    ratios = {}
    if server and server.rate and c_rate:
        ratios["server_over_c_client"] = round(server.rate / c_rate, 3)
    if server and server.rate and direct and direct.rate:
        ratios["server_over_influxd"] = round(server.rate / direct.rate, 3)
    if ratios:
        print("\n" + ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in ratios.items()))
    if profile:
        print(f"\nserver profile, py-spy --gil ({profile['samples']} samples, {profile['file']}):")
        print(f"  the GIL was held {profile['gil_busy_pct']}% of {profile['seconds']} s")
        for key in ("threads", "self_by_package", "self", "inclusive_yizhan"):
            print(f"  {key}:")
            for name, pct in profile[key][:12]:
                print(f"    {pct:5.1f}%  {name}")
    print(f"\nbench drain: {seconds:.0f} s in all")
    return {
        "machine": info,
        "messages": len(backlog.messages),
        "stations": len(backlog.stations),
        "backlog": dict(sorted(backlog.kinds.items())),
        "backlog_minutes": backlog.minutes,
        "publishers": args.publishers,
        "rows": [
            {
                "consumer": r.consumer,
                "rate": round(r.rate) if r.rate else None,
                "seconds": round(r.seconds, 2) if r.seconds else None,
                "ratio_to_c_client": round(r.rate / c_rate, 3) if r.rate and c_rate else None,
                "notes": r.notes,
                "cpu_pct": r.cpu_pct,
                "checks": r.checks,
            }
            for r in rows
        ],
        **ratios,
        "profile": profile,
        "run_seconds": round(seconds),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m yizhan.bench.drain", description=__doc__.splitlines()[0])
    add_arguments(p)
    try:
        return run(p.parse_args(argv))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
