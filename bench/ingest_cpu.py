"""Ingest's own cost, in process: `Ingest.handle` over the bench payload mix, no broker, no
InfluxDB — what one core spends per message on decoding, fleet and alert state, line encoding.

    .venv/bin/python -m yizhan.bench.ingest_cpu [--stations 2000] [--messages 60000]
"""

import argparse
import time

import orjson
from yizhan.bench.ingest import DEVICES
from yizhan.bench.loadgen import DEVICES as PAYLOADS
from yizhan.bench.loadgen import station_ids
from yizhan.server.application.clock import make_clock
from yizhan.server.application.ingest import Ingest
from yizhan.server.domain.alerts import AlertEngine
from yizhan.server.domain.fleet import Fleet
from yizhan.server.domain.station import StationSpec


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stations", type=int, default=2000)
    ap.add_argument("--messages", type=int, default=60_000)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    spec = StationSpec(name="基准驿站", district="bench", schedule="24h", devices=DEVICES)
    fleet = Fleet()
    ids = station_ids(args.stations)
    for sid in ids:
        fleet.register(sid, spec)
    ingest = Ingest(fleet, make_clock("wall"), alerts=AlertEngine(fleet))
    now = int(time.time() * 1000)
    messages = []
    for n in range(args.messages):
        device, data = PAYLOADS[n % len(PAYLOADS)]
        body = {"ts": now + n, "seq": n // len(PAYLOADS), "boot": 1, "data": data}
        messages.append(
            (f"yz/stations/{ids[n // len(PAYLOADS) % len(ids)]}/{device}/telemetry", orjson.dumps(body))
        )
    rates = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        for topic, payload in messages:
            ingest.handle(topic, payload)
        ingest.take_batch()
        rates.append(len(messages) / (time.perf_counter() - started))
    accepted = sum(ingest.accepted.values())
    print(f"Ingest.handle, {args.stations} stations, {len(messages)} messages x {args.rounds} rounds")
    print(f"  best {max(rates):,.0f} msg/s, median {sorted(rates)[len(rates) // 2]:,.0f} msg/s on one core")
    print(f"  accepted {accepted}, rejected {sum(ingest.rejected.values())}")
    return 0 if accepted == len(messages) * args.rounds else 1


if __name__ == "__main__":
    raise SystemExit(main())
