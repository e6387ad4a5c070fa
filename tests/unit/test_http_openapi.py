"""/openapi.json documents every answer: each route answering JSON has its response schema, the
others their media type, and each route has its roles in the access table (server/domain/access.py)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from yizhan.server.bootstrap import build
from yizhan.server.config import Settings
from yizhan.server.domain.access import ROUTE_ROLES
from yizhan.server.entrypoints.http.app import create_app

METHODS = {"get", "put", "post", "delete", "patch"}
# routes whose success is not JSON, with the media types they declare
NOT_JSON = {
    ("GET", "/metrics"): {"text/plain; version=0.0.4"},
    ("GET", "/api/v1/alerts/stream"): {"text/event-stream"},
}


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    # build() connects to nothing: the MQTT link starts with the lifespan, InfluxDB on first use
    services = build(Settings(data_dir=Path(tmp_path_factory.mktemp("data"))))
    try:
        yield create_app(services).openapi()
    finally:
        for store in (services.registry, services.alerting.store, services.audit.store, services.spool):
            store.close()
        services.users.close()


def operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def test_every_json_answer_of_every_route_has_a_response_schema(openapi: dict[str, Any]) -> None:
    undocumented = []
    for method, path, operation in operations(openapi):
        for status, response in operation["responses"].items():
            json = response.get("content", {}).get("application/json")
            if json is None:
                continue
            if not json.get("schema"):
                undocumented.append(f"{method} {path} {status}")
    assert not undocumented, f"JSON answers without a schema: {undocumented}"


def test_every_route_documents_what_its_success_answers(openapi: dict[str, Any]) -> None:
    for method, path, operation in operations(openapi):
        success = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        assert success, f"{method} {path} documents no success"
        media = {m for r in success.values() for m in r.get("content", {})}
        expected = NOT_JSON.get((method, path), {"application/json"})
        assert expected <= media, f"{method} {path} declares {media}, not {expected}"


def test_the_audit_report_declares_its_csv_and_html_besides_json(openapi: dict[str, Any]) -> None:
    content = openapi["paths"]["/api/v1/reports/audit"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv", "text/html"} <= set(content)
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/AuditReport"}


def test_every_route_is_in_the_access_table_and_every_entry_is_a_route(openapi: dict[str, Any]) -> None:
    routes = {(method, path) for method, path, _ in operations(openapi)}
    assert routes - set(ROUTE_ROLES) == set(), "routes without roles"
    assert set(ROUTE_ROLES) - routes == set(), "roles for routes that do not exist"
