"""The HTTP API of docs/contract.md against a running server."""

import copy

import httpx
import pytest

from tests.conftest import STATION_BODY


def test_put_creates_then_replaces_a_station_and_get_returns_it_with_devices(server):
    created = server.put_station("st-1", STATION_BODY)
    assert created.status_code == 201
    body = copy.deepcopy(STATION_BODY)
    body["name"] = "新名字驿站"
    replaced = server.put_station("st-1", body)
    assert replaced.status_code == 200
    got = server.get("/api/v1/stations/st-1").json()
    assert got["name"] == "新名字驿站" and got["district"] == "shinan" and got["schedule"] == "07:00-19:00"
    assert [d["id"] for d in got["devices"]] == ["door", "water", "power", "speaker"]
    assert got["devices"][0] == {
        "id": "door",
        "type": "door_sensor",
        "online": False,
        "last_seen": None,
        "faults": [],
    }


def test_the_station_list_has_the_contract_fields_and_filters_by_district(server):
    server.put_station("st-1", STATION_BODY)
    server.put_station("st-2", dict(STATION_BODY, district="laoshan"))
    rows = server.get("/api/v1/stations").json()
    assert {r["id"] for r in rows} == {"st-1", "st-2"}
    fields = "id name district open reported_open devices_online devices_total last_seen"
    extensions = "faults lat lon"  # for the console's board and map
    assert set(rows[0]) == set(fields.split()) | set(extensions.split())
    assert rows[0]["faults"] == 0 and rows[0]["lat"] == STATION_BODY["lat"]
    assert [r["id"] for r in server.get("/api/v1/stations", district="laoshan").json()] == ["st-2"]


def test_stations_survive_a_restart(server):
    server.put_station("st-1", STATION_BODY)
    server.stop()
    server.start()
    assert server.get("/api/v1/stations/st-1").json()["name"] == STATION_BODY["name"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"district": "Shi Nan"}, "district"),
        ({"lat": 123}, "lat"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"schedule": {"mon": ["19:00-07:00"]}}, "schedule"),
        ({"schedule": "sometimes"}, "schedule"),
        ({"devices": [{"id": "a", "type": "door_sensor"}, {"id": "a", "type": "power_strip"}]}, "devices"),
        ({"devices": [{"id": "Bad Id"}]}, "devices"),
        ({"name": ""}, "name"),
        ({"nmae": "typo"}, "nmae"),
    ],
)
def test_an_invalid_station_body_gets_422_naming_the_field(server, change, field):
    resp = server.put_station("st-1", {**STATION_BODY, **change})
    assert resp.status_code == 422
    assert field in str(resp.json()["detail"])
    assert server.get("/api/v1/stations/st-1").status_code == 404


def test_bad_station_ids_and_unknown_stations(server):
    assert server.put_station("Not An Id", STATION_BODY).status_code == 422
    resp = server.get("/api/v1/stations/st-none")
    assert resp.status_code == 404 and "st-none" in resp.json()["detail"]
    assert server.get("/api/v1/stations/st-none/usage").status_code == 404
    resp = httpx.put(f"{server.url}/api/v1/stations/st-1", content=b"{not json", timeout=5)
    assert resp.status_code == 422


def test_usage_rejects_unreadable_or_backwards_ranges(server):
    server.put_station("st-1", STATION_BODY)
    resp = server.get("/api/v1/stations/st-1/usage", start="yesterday")
    assert resp.status_code == 422 and "start" in resp.json()["detail"]
    resp = server.get("/api/v1/stations/st-1/usage", start="2026-03-02", end="2026-03-01")
    assert resp.status_code == 422
    empty = server.get("/api/v1/stations/st-1/usage", start="2026-03-02", end="2026-03-03").json()
    zero = {"visits": 0, "water_l": 0.0, "energy_kwh": 0.0, "heating_sessions": 0, "speaker_interactions": 0}
    assert {k: empty[k] for k in zero} == zero
    assert empty["start"] == "2026-03-02T00:00:00+08:00"  # naive means the station's time zone


def test_health_metrics_and_openapi_are_served(server):
    assert server.get("/healthz").json() == {"status": "ok", "mqtt": True, "influxdb": True}
    metrics = server.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'yz_messages_rejected_total{reason="bad_payload"} 0.0' in metrics.text
    paths = server.get("/openapi.json").json()["paths"]
    assert "/api/v1/stations/{station_id}/usage" in paths and "/api/v1/unregistered" in paths
