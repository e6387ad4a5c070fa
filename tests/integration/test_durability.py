"""Durability over real services: acknowledge only once durable, spool while InfluxDB is away."""

import time

import httpx
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.events import EventName
from yizhan.protocol.payloads import build_event, build_telemetry
from yizhan.protocol.topics import TopicKind

from tests.conftest import STATION_BODY, wait_for
from yizhan.localstack import Influx

WATER = DeviceType.WATER_DISPENSER


def telemetry(seq: int) -> bytes:
    return build_telemetry(WATER, ts=int(time.time() * 1000), seq=seq, boot=1, data={"water_temp_c": 95.0})


def test_more_messages_than_the_receive_window_all_arrive(make_server, device):
    """The broker sends at most Receive Maximum unacknowledged messages: acks must keep flowing."""
    server = make_server(YZ_RECEIVE_MAXIMUM="50")
    server.put_station("st-1", STATION_BODY)
    for seq in range(600):
        device.client.publish(server.topic("st-1", "water", TopicKind.TELEMETRY), telemetry(seq), qos=1)
    rows = wait_for(
        lambda: (
            (r := server.query('SELECT count("seq") FROM "water_dispenser"')) and r[0]["count"] == 600 and r
        ),
        timeout_s=30,
        what="600 points",
    )
    assert rows[0]["count"] == 600
    wait_for(lambda: server.metric("yz_mqtt_acks_total") >= 600, what="all acknowledged")


def test_while_influxdb_is_down_points_are_spooled_and_written_when_it_returns(make_server, device, tmp_path):
    own = Influx(tmp_path / "own-influx").start()
    try:
        server = make_server(start=False)
        server.influx = own
        own_db = server.db
        httpx.post(f"{own.url}/query", params={"q": f'CREATE DATABASE "{own_db}"'}).raise_for_status()
        server.start()
        server.put_station("st-1", STATION_BODY)
        topic = server.topic("st-1", "water", TopicKind.TELEMETRY)
        for seq in range(20):
            device.publish(topic, telemetry(seq))
        wait_for(lambda: server.metric("yz_points_written_total") >= 20, what="first 20 written")
        own.stop()
        for seq in range(20, 60):
            device.publish(topic, telemetry(seq))
        wait_for(lambda: server.metric("yz_points_spooled_total") >= 40, what="40 spooled")
        assert server.get("/healthz").json() == {"status": "degraded", "mqtt": True, "influxdb": False}
        own.start()
        wait_for(lambda: server.metric("yz_spool_lines") == 0, timeout_s=30, what="spool drained")
        rows = server.query('SELECT count("seq") FROM "water_dispenser"')
        assert rows[0]["count"] == 60
    finally:
        own.stop()


def test_usage_survives_a_server_restart_because_it_is_computed_from_influxdb(make_server, device):
    server = make_server()
    server.put_station("st-1", STATION_BODY)
    t0 = int(time.time() * 1000) - 3_600_000
    water = server.topic("st-1", "water", TopicKind.TELEMETRY)
    for seq, total in enumerate([10.0, 10.5, 11.25, 0.5, 1.0]):  # a reset after 11.25
        data = {"dispensed_l_total": total}
        device.publish(water, build_telemetry(WATER, ts=t0 + seq * 60_000, seq=seq, boot=1, data=data))
    door = server.topic("st-1", "door", TopicKind.EVENT)
    for seq, is_open in enumerate([True, False, True, False]):
        opened = build_event(EventName.DOOR, ts=t0 + seq * 1000, seq=seq, boot=1, data={"open": is_open})
        device.publish(door, opened)
    wait_for(lambda: len(server.query('SELECT * FROM "events"')) == 4, what="door events stored")
    server.stop()
    server.start()
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 / 1000 - 60)) + "Z"
    end = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 / 1000 + 600)) + "Z"
    usage = server.get("/api/v1/stations/st-1/usage", start=start, end=end).json()
    assert usage["water_l"] == 1.25 + 1.0 and usage["visits"] == 2
