"""`yizhan sim`: arguments and the run."""

import argparse
import os
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from yizhan.device_sim.ledger import Ledger
from yizhan.device_sim.profiles import make_profiles
from yizhan.device_sim.publisher import Publisher, StationPublishers, play, read_credentials, station_messages
from yizhan.device_sim.station import SimStation

_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")


def parse_duration(text: str) -> timedelta:
    """`90`, `45s`, `90m`, `36h`, `2d`."""
    m = _DURATION_RE.match(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90s, 30m, 36h or 2d")
    value, unit = float(m.group(1)), m.group(2) or "s"
    return timedelta(seconds=value * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit])


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stations", type=int, default=20, help="how many stations (default 20)")
    p.add_argument("--seed", type=int, default=1, help="everything random follows this seed")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="virtual seconds per real second; 0 = as fast as the broker takes them",
    )
    p.add_argument("--start", default=None, help="virtual start, ISO-8601 (naive = --timezone); default now")
    p.add_argument(
        "--duration",
        type=parse_duration,
        default=None,
        help="virtual length (2d, 36h); default: run until stopped",
    )
    p.add_argument("--ledger", default=None, help="write the ground truth here (JSON lines)")
    p.add_argument("--interval", type=int, default=60, help="telemetry period of every device, seconds")
    p.add_argument(
        "--duplicates", type=float, default=0.0, help="share of messages deliberately published twice"
    )
    p.add_argument(
        "--level-faults",
        type=float,
        default=0.0,
        metavar="P",
        help="chance per station and day that readings alone meet a level alert rule for a while"
        " (water_cold, mains_voltage or battery_low; no fault code); in the ledger's day `faults`"
        " with their `rule`. 0 (default): none, and the run is the one the seed always gave",
    )
    p.add_argument(
        "--api", default=None, help="register the stations with this server first (http://host:port)"
    )
    p.add_argument("--mqtt-url", default=os.environ.get("YZ_MQTT_URL", "mqtt://127.0.0.1:1883"))
    p.add_argument("--mqtt-username", default=os.environ.get("YZ_MQTT_USERNAME"))
    p.add_argument("--mqtt-password", default=os.environ.get("YZ_MQTT_PASSWORD"))
    p.add_argument(
        "--credentials",
        default=None,
        metavar="CSV",
        help="`yizhan mqtt-auth`'s credentials.csv: each station connects with its own user"
        " (instead of one connection for all)",
    )
    p.add_argument("--topic-root", default=os.environ.get("YZ_TOPIC_ROOT", "yz"))
    p.add_argument("--timezone", default=os.environ.get("YZ_TIMEZONE", "Asia/Shanghai"))
    p.add_argument("--prefix", default="st", help="station id prefix")
    p.add_argument(
        "--ecosystems",
        default=None,
        metavar="DIR",
        help="speak Tasmota (power strip), Zigbee2MQTT (door, leak) and ESPHome (boiler) on --mqtt-url,"
        " a station's local broker, in real time; write each station's gateway config into DIR",
    )
    p.add_argument(
        "--uplink-url",
        default=os.environ.get("YZ_UPLINK_URL", "mqtt://127.0.0.1:1883"),
        help="the central broker the gateway configs of --ecosystems point at",
    )


def register(api: str, bodies: dict[str, dict], timeout_s: float = 60.0) -> None:
    """PUT every station, waiting for the server to come up."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=api.rstrip("/"), timeout=10) as http:
        for sid, body in bodies.items():
            while True:
                try:
                    resp = http.put(f"/api/v1/stations/{sid}", json=body)
                    resp.raise_for_status()
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)


def _ecosystem_gateways(args: argparse.Namespace, bodies: dict[str, dict]) -> Callable:
    """Gateway configs for ecosystem stations (registered with their gateway device); the speaker.
    A config already in DIR is kept: it may carry the uplink's credentials or local edits."""
    from pathlib import Path

    import yaml
    from yizhan.device_sim.ecosystems import EcosystemVoices, gateway_config, with_gateway

    out = Path(args.ecosystems)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for sid, body in bodies.items():
        bodies[sid] = with_gateway(body)
        path = out / f"{sid}.yaml"
        if path.exists():
            continue
        uplink = {"url": args.uplink_url}
        cfg = gateway_config(sid, args.topic_root, args.mqtt_url, uplink, str(out / f"{sid}.spool.db"))
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
        written += 1
    kept = len(bodies) - written
    print(f"sim: gateway configs in {out}: {written} written, {kept} kept (uplink {args.uplink_url})")
    return EcosystemVoices(args.topic_root, args.timezone).speak


def run(args: argparse.Namespace) -> int:
    from yizhan.protocol.broker import broker_address

    tz = ZoneInfo(args.timezone)
    if args.start:
        start = datetime.fromisoformat(args.start)
        start = start if start.tzinfo else start.replace(tzinfo=tz)
    else:
        start = datetime.now(tz)
    end = start + args.duration if args.duration else None
    start_ms = int(start.timestamp() * 1000)
    end_ms = int(end.timestamp() * 1000) if end else 2**62
    profiles = make_profiles(args.stations, args.seed, args.timezone, args.prefix)
    bodies = {p.id: p.registration() for p in profiles}
    speak = None
    if args.ecosystems:
        speak = _ecosystem_gateways(args, bodies)
    if args.api:
        register(args.api, bodies)
        print(f"sim: registered {len(profiles)} stations with {args.api}", flush=True)
    ledger = Ledger(args.ledger)
    for p in profiles:
        ledger.write({"kind": "station", "station": p.id, "body": bodies[p.id]})
    stations = [
        SimStation(
            p,
            args.seed,
            args.interval,
            (start_ms, end_ms),
            args.topic_root,
            args.duplicates,
            args.level_faults,
        )
        for p in profiles
    ]
    first = start.astimezone(tz).date()
    last = (end - timedelta(milliseconds=1)).astimezone(tz).date() if end else None
    host, port, _ = broker_address(args.mqtt_url)
    client_id = f"yizhan-sim-{args.seed}-{os.getpid()}"
    publisher: Publisher | StationPublishers
    if args.credentials:
        credentials = read_credentials(args.credentials)
        publisher = StationPublishers(host, port, credentials, client_id, args.topic_root)
    else:
        publisher = Publisher(host, port, client_id, args.mqtt_username, args.mqtt_password)
    streams = [station_messages(s, first, last, ledger) for s in stations]
    print(
        f"sim: {len(stations)} stations from {start.isoformat()} at speed {args.speed or 'max'}", flush=True
    )
    count = 0
    try:
        count = play(publisher, streams, start_ms, args.speed, speak=speak)
    except KeyboardInterrupt:
        pass
    finally:
        ok = publisher.wait_all()
        publisher.close()
        totals = {"telemetry": 0, "events": 0, "duplicates": 0}
        for s in stations:
            for rec in s.device_records():
                ledger.write(rec)
                for k in totals:
                    totals[k] += rec[k]
        ledger.write(
            {
                "kind": "summary",
                "stations": len(stations),
                "start": start_ms,
                "end": end_ms if end else None,
                "published": count,
                **totals,
            }
        )
        ledger.close()
    print(
        f"sim: done, {count} messages published ({totals['telemetry']} telemetry, {totals['events']} events, "
        f"{totals['duplicates']} duplicates)",
        flush=True,
    )
    return 0 if ok else 1
