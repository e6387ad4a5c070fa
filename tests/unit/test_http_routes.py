"""The HTTP routes in process: the app over services built by the composition root, called through
an ASGI client, with no lifespan (so no MQTT connection) and an InfluxDB that answers nothing."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from yizhan.server.application.ingest import UnregisteredSender
from yizhan.server.application.ports import Series
from yizhan.server.bootstrap import Services, build
from yizhan.server.config import Settings
from yizhan.server.entrypoints.http.app import create_app
from yizhan.server.entrypoints.http.schemas import StationSummary

from tests.unit.fakes import T0, FakeClock

STATION = {
    "name": "市南区香港中路驿站",
    "district": "shinan",
    "address": "香港中路 8 号",
    "lat": 36.0671,
    "lon": 120.3826,
    "timezone": "Asia/Shanghai",
    "schedule": "07:00-19:00",
    "services": ["water", "rest"],
    "contact": {"name": "张三"},
    "alerts": {"voltage_min_v": 190},
    "devices": [{"id": "door", "type": "door_sensor"}, {"id": "water", "type": "water_dispenser"}],
}
NEVER_SEEN = {"online": False, "last_seen": None, "faults": []}
LIVE = {
    "open": False,
    "reported_open": False,
    "devices_online": 0,
    "devices_total": 2,
    "last_seen": None,
    "faults": 0,
}


class EmptyInflux:
    """InfluxDB holding nothing: every statement of a query answers no series."""

    def __init__(self) -> None:
        self.up = True

    async def write(self, body: str | bytes) -> None:
        pass

    async def query(self, q: str, epoch: str = "ms") -> list[list[Series]]:
        return [[] for _ in q.split(";")]

    async def ping(self) -> bool:
        return self.up

    async def close(self) -> None:
        pass


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = build(Settings(data_dir=tmp_path), clock=FakeClock(T0), influx=EmptyInflux())
    yield built
    for store in (built.registry, built.alerting.store, built.audit.store, built.spool, built.users):
        store.close()


@pytest.fixture
async def api(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url="http://yizhan.test") as client:
        yield client


async def test_a_station_is_registered_then_replaced_and_read_alone_and_in_the_list(api) -> None:
    created = await api.put("/api/v1/stations/st-1", json=STATION)
    assert created.status_code == 201
    detail = {
        **{k: v for k, v in STATION.items() if k != "devices"},
        # the overrides as stored: the thresholds given, the periods and the disabled rules
        "alerts": {"voltage_min_v": 190.0, "pending_s": {}, "clear_s": {}, "disabled": []},
        "id": "st-1",
        **LIVE,
        "devices": [
            {"id": "door", "type": "door_sensor", **NEVER_SEEN},
            {"id": "water", "type": "water_dispenser", **NEVER_SEEN},
        ],
    }
    assert created.json() == detail and list(created.json()) == list(detail)
    replaced = await api.put("/api/v1/stations/st-1", json=dict(STATION, name="新名字驿站"))
    assert replaced.status_code == 200 and replaced.json()["name"] == "新名字驿站"

    got = await api.get("/api/v1/stations/st-1")
    assert got.status_code == 200 and got.json() == dict(detail, name="新名字驿站")
    rows = (await api.get("/api/v1/stations")).json()
    summary = {
        "id": "st-1",
        "name": "新名字驿站",
        "district": "shinan",
        **LIVE,
        "lat": 36.0671,
        "lon": 120.3826,
    }
    assert rows == [summary] and list(rows[0]) == list(summary)
    assert (await api.get("/api/v1/stations", params={"district": "laoshan"})).json() == []


async def test_a_station_body_shows_what_was_declared_and_its_state_always(api) -> None:
    """Keys of the body that were not given are left out; the live ones are there, null or not."""
    resp = await api.put("/api/v1/stations/st-2", json={"name": "小站", "district": "laoshan"})
    assert resp.json() == {
        "name": "小站",
        "district": "laoshan",
        "lat": None,
        "lon": None,
        "services": [],
        "id": "st-2",
        **LIVE,
        "devices_total": 0,
        "devices": [],
    }


async def test_the_fleet_list_rows_are_the_documented_station_summary(api) -> None:
    """The list skips response validation for speed: its rows are checked against the model here."""
    await api.put("/api/v1/stations/st-1", json=STATION)
    await api.put("/api/v1/stations/st-2", json={"name": "小站", "district": "laoshan"})
    for row in (await api.get("/api/v1/stations")).json():
        assert StationSummary.model_validate(row).model_dump() == row
        assert list(row) == list(StationSummary.model_fields)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nmae": "typo"}, "nmae"),
        ({"lat": 123}, "lat"),
        ({"name": ""}, "name"),
        ({"schedule": "often"}, "schedule"),
    ],
)
async def test_a_bad_station_body_gets_422_naming_the_field_and_stores_nothing(api, change, field) -> None:
    resp = await api.put("/api/v1/stations/st-1", json={**STATION, **change})
    assert resp.status_code == 422
    assert [e["loc"] for e in resp.json()["detail"]] == [["body", field]]
    assert (await api.get("/api/v1/stations/st-1")).status_code == 404


@pytest.mark.parametrize("tail", ["", "/usage", "/opening"])
async def test_an_unknown_station_is_404(api, tail) -> None:
    resp = await api.get(f"/api/v1/stations/st-none{tail}")
    assert resp.status_code == 404
    assert resp.json() == {"detail": "station 'st-none' is not registered"}


async def test_a_malformed_station_id_is_422_not_404(api) -> None:
    resp = await api.get("/api/v1/stations/Not An Id")
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["path", "station_id"]


async def test_healthz_says_degraded_until_both_mqtt_and_influxdb_answer(api, services) -> None:
    assert (await api.get("/healthz")).json() == {"status": "degraded", "mqtt": False, "influxdb": True}
    services.mqtt.connected = True
    assert (await api.get("/healthz")).json() == {"status": "ok", "mqtt": True, "influxdb": True}
    services.influx.up = False
    assert (await api.get("/healthz")).json() == {"status": "degraded", "mqtt": True, "influxdb": False}


async def test_registering_a_station_takes_it_off_the_unregistered_senders(api, services) -> None:
    sender = UnregisteredSender("st-1", "door", "unregistered_station", T0, T0 + 1000, 3)
    services.ingest.unregistered[("st-1", "door")] = sender
    assert (await api.get("/api/v1/unregistered")).json() == [
        {
            "station": "st-1",
            "device": "door",
            "reason": "unregistered_station",
            "first_seen": "2026-03-01T21:20:00.000Z",
            "last_seen": "2026-03-01T21:20:01.000Z",
            "messages": 3,
        }
    ]
    await api.put("/api/v1/stations/st-1", json=STATION)
    assert (await api.get("/api/v1/unregistered")).json() == []
    assert "st-1" in services.fleet.stations and "st-1" in services.registry.stations()


async def test_usage_answers_a_quantity_as_it_was_summed(api) -> None:
    """Nothing measured sums to the integer 0, answered `0` as it always was, not `0.0`."""
    await api.put("/api/v1/stations/st-1", json=STATION)
    resp = await api.get("/api/v1/stations/st-1/usage", params={"start": "2026-03-01"})
    assert resp.status_code == 200
    assert resp.text == (
        '{"station":"st-1","start":"2026-03-01T00:00:00+08:00","end":"2026-03-02T00:00:00+08:00",'
        '"visits":0,"water_l":0,"energy_kwh":0,"heating_sessions":0,"speaker_interactions":0}'
    )
