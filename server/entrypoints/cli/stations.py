"""`yizhan stations import`: a union's station table into the registry, through a running server's API
or straight into the registry file; every row's fate on standard error and, with `--report`, in a
spreadsheet the clerk can correct from."""

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

import httpx
from yizhan.server.adapters.registration_table import (
    LOADED,
    REFUSED,
    SKIPPED,
    WARNED,
    ImportFileError,
    Table,
    comparable,
    derived_id,
    read_table,
    resolve,
    write_report,
)
from yizhan.server.adapters.sqlite.registry import Registry
from yizhan.server.config import Settings
from yizhan.server.domain.station import StationSpec


def _local_server(settings: Settings) -> str | None:
    url = f"http://{settings.http_host}:{settings.http_port}"
    try:
        if "mqtt" in httpx.get(f"{url}/healthz", timeout=2).json():
            return url
    except (httpx.HTTPError, ValueError):
        pass
    return None


class _ServerError(Exception):
    pass


def _candidate_ids(table: Table, listed: dict[str, dict]) -> set[str]:
    """The registered ids a row of the table could land on or be matched with: its own id, its
    district + 序号, and the stations of its district with its name."""
    wanted: set[str] = set()
    rows = [r for r in table.rows if r.ok]
    for row in rows:
        wanted.update(i for i in (row.explicit_id, derived_id(row.district, row.seq)) if i)
    names = {(r.district, comparable(r.name)) for r in rows}
    wanted.update(
        sid for sid, s in listed.items() if (s.get("district"), comparable(s.get("name") or "")) in names
    )
    return wanted & set(listed)


def _existing_from_api(http: httpx.Client, table: Table) -> dict[str, StationSpec]:
    """What the server has registered, as far as the table's rows need it: name, district, address."""
    resp = http.get("/api/v1/stations")
    if resp.status_code != 200:
        raise _ServerError(f"GET /api/v1/stations answered HTTP {resp.status_code} {resp.text[:200]}")
    listed = {s["id"]: s for s in resp.json()}
    existing = {}
    for sid in sorted(_candidate_ids(table, listed)):
        one = http.get(f"/api/v1/stations/{sid}")
        if one.status_code != 200:
            raise _ServerError(f"GET /api/v1/stations/{sid} answered HTTP {one.status_code} {one.text[:200]}")
        body = one.json()
        existing[sid] = StationSpec.model_validate(
            {k: body[k] for k in ("name", "district", "address") if body.get(k) is not None}
        )
    return existing


def _put_all(http: httpx.Client, stations: dict[str, StationSpec]) -> dict[str, str]:
    """PUT every station; {id: why the server refused it}."""
    failures = {}
    for n, (sid, spec) in enumerate(stations.items(), start=1):
        try:
            resp = http.put(
                f"/api/v1/stations/{sid}",
                content=spec.model_dump_json(exclude_none=True),
                headers={"content-type": "application/json"},
            )
        except httpx.HTTPError as exc:  # each station is told apart: the ones sent before stay loaded
            failures[sid] = f"{type(exc).__name__}: {exc}"
            continue
        if resp.status_code >= 300:
            failures[sid] = f"HTTP {resp.status_code} {resp.text[:200]}"
        if n % 500 == 0:
            print(f"import: {n}/{len(stations)} stations sent", file=sys.stderr, flush=True)
    return failures


_LABELS = {"refusal": REFUSED, "warning": "警告", "skip": SKIPPED}


def _print_rows(table: Table) -> None:
    for note in table.notes:
        print(f"import: {note}", file=sys.stderr)
    for row in table.rows:
        for m in row.messages:
            if m.level in _LABELS:  # notes (新登记, 更新 …) are in the report
                print(f"import: row {row.number}: {_LABELS[m.level]} — {m.text}", file=sys.stderr)


def _count(table: Table, status: str) -> int:
    return sum(1 for r in table.rows if r.status == status)


def run_import(
    file: str,
    api: str | None = None,
    district: str | None = None,
    dry_run: bool = False,
    update: bool = False,
    report: str | None = None,
) -> int:
    """Exit code: 0 every station row loaded (warnings allowed), 1 some rows refused (the others
    loaded), 2 nothing loaded (or the file unreadable)."""
    try:
        table = read_table(Path(file), district)
    except ImportFileError as exc:
        print(f"import: {exc}", file=sys.stderr)
        return 2
    settings = Settings()
    api = api or _local_server(settings)
    registry_path = settings.data_dir / "registry.sqlite"
    failures: dict[str, str] = {}
    try:
        if api:
            where = api
            with httpx.Client(base_url=api.rstrip("/"), timeout=30) as http:
                # without what is registered no row can be checked: nothing is sent
                stations = resolve(table, _existing_from_api(http, table), update)
                if stations and not dry_run:
                    failures = _put_all(http, stations)
        elif dry_run and not registry_path.exists():
            where = str(registry_path)
            stations = resolve(table, {}, update)
        else:
            where = str(registry_path)
            registry = Registry(registry_path)
            try:
                stations = resolve(table, registry.stations(), update)
                if stations and not dry_run:
                    registry.put_stations(stations)
            finally:
                registry.close()
    except (_ServerError, httpx.HTTPError) as exc:
        print(f"import: cannot read the stations registered at {api}: {exc}", file=sys.stderr)
        return 2
    for row in table.rows:
        if row.station_id in failures and row.status != REFUSED:
            row.refuse(f"服务器拒绝了站点 {row.station_id}：{failures[row.station_id]}")
    _print_rows(table)
    if report:
        try:
            write_report(table, Path(report))
        except OSError as exc:
            print(f"import: cannot write the report {report}: {exc}", file=sys.stderr)
    loaded = len(stations) - len(failures)
    refused, warned, skipped = _count(table, REFUSED), _count(table, WARNED), _count(table, SKIPPED)
    into = "nowhere (dry run)" if dry_run else where if loaded else "nowhere"
    print(
        f"导入：{_count(table, LOADED) + warned} 个站点{'可' if dry_run else '已'}导入"
        f"（其中 {warned} 个有警告），"
        f"{refused} 行未导入，{skipped} 行已跳过（合计、表注、签署等）"
        + (f"；逐行结果见 {report}" if report else "")
    )
    print(
        f"import: {loaded} stations loaded into {into}; {refused} rows refused;"
        f" {warned} rows with warnings; {skipped} rows skipped"
    )
    if not loaded:
        return 2
    return 1 if refused else 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `yizhan stations import`."""
    parser.add_argument("file", help="a .csv or .xlsx file")
    parser.add_argument(
        "--api",
        default=None,
        help="load through this server (default: the local server if it answers,"
        " else straight into the registry in YZ_DATA_DIR)",
    )
    parser.add_argument("--district", default=None, help="district (id or name) of rows without 区市")
    parser.add_argument("--dry-run", action="store_true", help="read and check the file, load nothing")
    parser.add_argument(
        "--update",
        action="store_true",
        help="let a row replace a registered station of another name or address with the same id",
    )
    parser.add_argument(
        "--report",
        default=None,
        metavar="OUT.xlsx",
        help="write every row's status and messages (.xlsx or .csv)",
    )


def run(args: argparse.Namespace) -> int:
    return run_import(
        args.file,
        api=args.api,
        district=args.district,
        dry_run=args.dry_run,
        update=getattr(args, "update", False),
        report=getattr(args, "report", None),
    )


def main(argv: Iterable[str] | None = None) -> int:
    """`python -m yizhan.server.entrypoints.cli.stations FILE [options]`: the same as
    `yizhan stations import`, with every option."""
    parser = argparse.ArgumentParser(prog="yizhan stations import", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(list(argv) if argv is not None else None))


if __name__ == "__main__":
    sys.exit(main())
