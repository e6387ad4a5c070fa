"""schemathesis against the running server's /openapi.json: generated requests to every route
(the SSE stream aside) never get a 500."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from tests.conftest import STATION_BODY, shared_server
from yizhan.localstack import Broker, Influx


def test_no_generated_request_to_any_route_gets_a_server_error(
    broker: Broker, influx: Influx, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server = shared_server(broker, influx, tmp_path_factory.mktemp("fuzz"), "fuzz")
    try:
        server.put_station("st-1", STATION_BODY)
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        failures: list[str] = []
        tried = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            if "stream" in operation.path:
                continue
            tried += 1

            @given(case=operation.as_strategy())
            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def hit(case) -> None:
                case.call_and_validate(base_url=server.url, checks=[not_a_server_error])

            try:
                hit()
            except Exception as exc:  # collect every route's failure, not only the first
                failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:400]}")
        assert tried >= 15
        assert not failures, "\n".join(failures)
    finally:
        server.stop()
