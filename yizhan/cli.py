"""The `yizhan` command."""

import argparse
import logging
import sys

from yizhan import __version__


def _server(args: argparse.Namespace) -> int:
    from yizhan.server.config import Settings
    from yizhan.server.entrypoints.serve import serve

    serve(Settings())
    return 0


def _sim(args: argparse.Namespace) -> int:
    from yizhan.device_sim.cli import run

    return run(args)


def _demo(args: argparse.Namespace) -> int:
    from yizhan.demo import run_demo

    return run_demo(
        stations=args.stations,
        speed=args.speed,
        run_dir=args.run_dir,
        gateway_stations=args.gateway_stations,
        secure=args.secure,
    )


def _stations_import(args: argparse.Namespace) -> int:
    from yizhan.server.entrypoints.cli.stations import run

    return run(args)


def _audit_verify(args: argparse.Namespace) -> int:
    from yizhan.server.adapters.sqlite.audit_store import AuditStore
    from yizhan.server.config import Settings

    path = Settings().data_dir / "audit.sqlite"
    if not path.exists():
        print(f"audit: no audit chain at {path} (YZ_DATA_DIR)", file=sys.stderr)
        return 2
    store = AuditStore(path)
    checked, broken = store.verify()
    head = store.head()
    store.close()
    if broken is not None:
        print(f"audit: chain BROKEN at {broken} — {checked} records before it are intact")
        return 1
    print(f"audit: chain intact, {checked} sealed station-days, head #{head['seq']} {head['hash']}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    if getattr(args, "bench_mode", None) == "drain":
        from yizhan.bench.drain import run as run_drain

        return run_drain(args)
    from yizhan.bench.ingest import run

    return run(args)


def _mqtt_auth(args: argparse.Namespace) -> int:
    from pathlib import Path

    from yizhan.server.adapters.mqtt_auth import generate
    from yizhan.server.adapters.sqlite.alert_store import AlertStore
    from yizhan.server.adapters.sqlite.registry import Registry
    from yizhan.server.config import Settings

    settings = Settings()
    registry = Registry(settings.data_dir / "registry.sqlite")
    stations = list(registry.stations())
    registry.close()
    alerts = AlertStore(settings.data_dir / "alerts.sqlite")
    crews = {cid: c.districts for cid, c in alerts.crews().items() if c.role == "crew"}
    alerts.close()
    try:
        creds = generate(Path(args.out), settings.data_dir, stations, crews, settings.topic_root, args.rotate)
    except ValueError as exc:
        print(f"mqtt-auth: {exc}", file=sys.stderr)
        return 2
    print(f"mqtt-auth: {len(creds)} users ({len(stations)} stations, {len(crews)} crews, the server)")
    print(f"  {args.out}: mosquitto.passwd, mosquitto.acl, credentials.csv (clear passwords: keep safe)")
    return 0


def _users(args: argparse.Namespace) -> int:
    from yizhan.server.entrypoints.cli.users import run_users

    return run_users(args)


def _gateway(args: argparse.Namespace) -> int:
    from yizhan.gateway.config import ConfigError
    from yizhan.gateway.runtime import run

    try:
        return run(args.config)
    except ConfigError as exc:
        print(f"gateway: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yizhan", description="Rest-station monitoring.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"yizhan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("server", help="run the monitoring server (configured by YZ_* variables)").set_defaults(
        func=_server
    )

    from yizhan.device_sim.cli import add_arguments

    sim = sub.add_parser("sim", help="run simulated stations against a broker")
    add_arguments(sim)
    sim.set_defaults(func=_sim)

    demo = sub.add_parser("demo", help="the whole stack on this machine with simulated stations")
    demo.add_argument("--stations", type=int, default=50)
    demo.add_argument("--speed", type=float, default=1.0, help="virtual seconds per real second")
    demo.add_argument("--run-dir", default=None, help="where broker and InfluxDB keep their data")
    demo.add_argument(
        "--gateway-stations",
        type=int,
        default=2,
        help="how many of the stations are built from Tasmota/Zigbee2MQTT/ESPHome parts, each"
        " behind its own `yizhan gateway` (default 2)",
    )
    demo.add_argument(
        "--secure",
        action="store_true",
        help="the broker with `yizhan mqtt-auth` users and ACLs: every station, gateway and the server"
        " log in as themselves; anonymous clients are refused",
    )
    demo.set_defaults(func=_demo)

    stations = sub.add_parser("stations", help="the station registry")
    stations_sub = stations.add_subparsers(dest="stations_command", required=True)
    imp = stations_sub.add_parser(
        "import", help="load stations from a CSV/XLSX registration table (申报汇总表)"
    )
    from yizhan.server.entrypoints.cli.stations import add_arguments as import_arguments

    import_arguments(imp)
    imp.set_defaults(func=_stations_import)

    audit = sub.add_parser("audit", help="the sealed audit records")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser(
        "verify",
        help="check the hash chain of sealed station-days in YZ_DATA_DIR; name the first broken record",
    ).set_defaults(func=_audit_verify)

    auth = sub.add_parser("mqtt-auth", help="broker users and topic ACLs for mosquitto, from the registry")
    auth.add_argument(
        "--out", required=True, help="where to write mosquitto.passwd, mosquitto.acl, credentials.csv"
    )
    auth.add_argument("--rotate", default=None, metavar="STATION", help="give this station a new password")
    auth.set_defaults(func=_mqtt_auth)

    from yizhan.server.entrypoints.cli.users import add_arguments as users_arguments

    users = sub.add_parser("users", help="API users, roles and bearer tokens")
    users_arguments(users)
    users.set_defaults(func=_users)

    from yizhan.bench.ingest import add_arguments as bench_arguments

    bench = sub.add_parser(
        "bench",
        help="measure ingest, the fleet list and memory on this machine (`bench drain`: backlog drain)",
    )
    bench_arguments(bench)
    bench.set_defaults(func=_bench)

    gw = sub.add_parser("gateway", help="run one station's gateway")
    gw.add_argument("--config", required=True)
    gw.set_defaults(func=_gateway)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
