"""Loading an imported table: through a running server's API, or straight into the registry."""

import sys
from pathlib import Path

import httpx
from yizhan.server.adapters.registration_table import ImportFileError, read_stations
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


def _put_all(api: str, stations: dict[str, StationSpec]) -> list[str]:
    failures = []
    with httpx.Client(base_url=api.rstrip("/"), timeout=30) as http:
        for n, (sid, spec) in enumerate(stations.items(), start=1):
            resp = http.put(
                f"/api/v1/stations/{sid}",
                content=spec.model_dump_json(exclude_none=True),
                headers={"content-type": "application/json"},
            )
            if resp.status_code >= 300:
                failures.append(f"{sid}: HTTP {resp.status_code} {resp.text[:200]}")
            if n % 500 == 0:
                print(f"import: {n}/{len(stations)} stations sent", file=sys.stderr, flush=True)
    return failures


def run_import(file: str, api: str | None = None, district: str | None = None, dry_run: bool = False) -> int:
    """Exit code: 0 all rows loaded, 1 some rows refused (the others loaded), 2 nothing readable."""
    try:
        stations, errors = read_stations(Path(file), district)
    except ImportFileError as exc:
        print(f"import: {exc}", file=sys.stderr)
        return 2
    for err in errors:
        print(f"import: row {err.row}: {err.message}", file=sys.stderr)
    failures: list[str] = []
    if dry_run:
        where = "nowhere (dry run)"
    elif not stations:
        where = "nowhere"
    else:
        settings = Settings()
        api = api or _local_server(settings)
        if api:
            where = api
            failures = _put_all(api, stations)
        else:
            where = str(settings.data_dir / "registry.sqlite")
            registry = Registry(settings.data_dir / "registry.sqlite")
            registry.put_stations(stations)
            registry.close()
    for failure in failures:
        print(f"import: {failure}", file=sys.stderr)
    loaded = len(stations) - len(failures)
    print(f"import: {loaded} stations loaded into {where}; {len(errors)} rows refused")
    return 0 if not errors and not failures and stations else (1 if loaded else 2)
