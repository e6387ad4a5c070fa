"""A load generator that is not the bottleneck: several processes, pre-encoded payloads, QoS 1.

Each process speaks for a slice of the stations and publishes telemetry as fast as allowed
(or at a fixed rate). `ts` is the publish wall time, so publish → durable lag can be measured.
"""

import multiprocessing as mp
import time
from dataclasses import dataclass

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

DEVICES = (
    ("door", {"open": False, "battery_pct": 88.5, "rssi_dbm": -61}),
    ("water", {"water_temp_c": 95.5, "tank_level_pct": 80.0, "heater_on": True, "dispensed_l_total": 1234.5}),
    (
        "power",
        {
            "voltage_v": 221.3,
            "current_a": 0.05,
            "power_w": 11.0,
            "energy_kwh_total": 345.25,
            "outlets": [{"on": True, "power_w": 3.0}, {"on": False, "power_w": 0.0}],
        },
    ),
    ("speaker", {"volume_pct": 40, "rssi_dbm": -55, "interactions_total": 77}),
)


def station_ids(count: int, prefix: str = "ld") -> list[str]:
    return [f"{prefix}-{i:06d}" for i in range(count)]


@dataclass
class LoadSpec:
    host: str
    port: int
    root: str
    stations: list[str]
    messages: int  # per process
    rate: float  # messages/s per process; 0 = as fast as possible
    boot: int


def _worker(spec: LoadSpec, index: int, done: "mp.Queue[tuple[int, float, float]]") -> None:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"loadgen-{spec.boot}-{index}", protocol=mqtt.MQTTv311
    )
    acked = [0]
    client.on_publish = lambda *a: acked.__setitem__(0, acked[0] + 1)
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    client.connect(spec.host, spec.port)
    client.loop_start()
    seq: dict[tuple[str, str], int] = {}
    topics = [
        (f"{spec.root}/stations/{s}/{d}/telemetry", s, d, data) for s in spec.stations for d, data in DEVICES
    ]
    started = time.monotonic()
    sent = 0
    while sent < spec.messages:
        topic, station, device, data = topics[sent % len(topics)]
        key = (station, device)
        n = seq.get(key, 0)
        seq[key] = n + 1
        payload = orjson.dumps({"ts": int(time.time() * 1000), "seq": n, "boot": spec.boot, "data": data})
        while sent - acked[0] > 5000:
            time.sleep(0.001)
        client.publish(topic, payload, qos=1)
        sent += 1
        if spec.rate:
            ahead = started + sent / spec.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    while acked[0] < sent:
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    client.disconnect()
    client.loop_stop()
    done.put((sent, started, elapsed))


def run_load(
    host: str,
    port: int,
    root: str,
    stations: list[str],
    total: int,
    processes: int = 2,
    rate: float = 0.0,
    boot: int = 1,
) -> tuple[int, float]:
    """Publish `total` messages from `processes` processes; returns (sent, seconds)."""
    ctx = mp.get_context("spawn")
    done: mp.Queue = ctx.Queue()
    per = total // processes
    slices = [stations[i::processes] for i in range(processes)]
    procs = [
        ctx.Process(
            target=_worker, args=(LoadSpec(host, port, root, slices[i], per, rate / processes, boot), i, done)
        )
        for i in range(processes)
    ]
    t0 = time.monotonic()
    for p in procs:
        p.start()
    results = [done.get(timeout=3600) for _ in procs]
    for p in procs:
        p.join()
    return sum(r[0] for r in results), time.monotonic() - t0
