"""Device online/offline over real MQTT (acceptance: offline in the API within 5 s of the condition)."""

import time

from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.payloads import build_birth, build_death, build_station_state, build_telemetry
from yizhan.protocol.topics import TopicKind

from tests.conftest import STATION_BODY, Publisher, wait_for

STATUS, TELEMETRY = TopicKind.STATUS, TopicKind.TELEMETRY


def device_state(server, station: str, device: str) -> dict:
    devices = server.get(f"/api/v1/stations/{station}").json()["devices"]
    return next(d for d in devices if d["id"] == device)


def now() -> int:
    return int(time.time() * 1000)


def birth(boot: int, interval_s: int = 60) -> bytes:
    return build_birth(ts=now(), type=DeviceType.DOOR_SENSOR, boot=boot, interval_s=interval_s)


def door(seq: int, boot: int, is_open: bool) -> bytes:
    return build_telemetry(DeviceType.DOOR_SENSOR, ts=now(), seq=seq, boot=boot, data={"open": is_open})


def test_a_device_whose_connection_dies_goes_offline_by_its_last_will_within_5_s(server, broker):
    server.put_station("st-1", STATION_BODY)
    dev = Publisher(broker, will=server.message("st-1", "door", STATUS, build_death(boot=5)))
    dev.send(server.message("st-1", "door", STATUS, birth(5)))
    wait_for(lambda: device_state(server, "st-1", "door")["online"], what="door online")
    dev.client.loop_stop()
    dev.client.socket().close()  # the broker notices the broken connection and publishes the will
    started = time.monotonic()
    wait_for(lambda: not device_state(server, "st-1", "door")["online"], timeout_s=10, what="door offline")
    assert time.monotonic() - started < 5
    q = 'SELECT "online", "reason" FROM "device_status" WHERE "device" = \'door\''
    rows = wait_for(lambda: len(server.query(q)) == 2 and server.query(q), what="both changes stored")
    assert [(r["online"], r["reason"]) for r in rows] == [(True, "birth"), (False, "death")]


def test_a_device_silent_for_three_intervals_goes_offline_within_5_s_of_the_deadline(server, device):
    server.put_station("st-1", STATION_BODY)
    device.send(server.message("st-1", "door", STATUS, birth(1, interval_s=1)))
    device.send(server.message("st-1", "door", TELEMETRY, door(0, boot=1, is_open=False)))
    last = time.monotonic()
    wait_for(lambda: device_state(server, "st-1", "door")["online"], what="door online")
    wait_for(lambda: not device_state(server, "st-1", "door")["online"], timeout_s=15, what="door timed out")
    assert time.monotonic() - last < 3 + 5
    station = server.get("/api/v1/stations/st-1").json()
    assert station["devices_online"] == 0 and station["open"] is False
    q = 'SELECT "reason" FROM "device_status" WHERE "device" = \'door\' AND "online" = false'
    rows = wait_for(lambda: server.query(q), what="timeout stored")
    assert rows[-1]["reason"] == "timeout"


def test_a_death_carrying_an_older_boot_is_ignored(server, device):
    server.put_station("st-1", STATION_BODY)
    status = server.topic("st-1", "door", STATUS)
    device.publish(status, birth(1))
    device.publish(status, birth(2))
    device.publish(status, build_death(boot=1))
    device.send(server.message("st-1", "door", TELEMETRY, door(0, boot=2, is_open=True)))
    wait_for(lambda: server.query('SELECT * FROM "door_sensor"'), what="telemetry after the stale death")
    assert device_state(server, "st-1", "door")["online"] is True
    device.publish(status, build_death(boot=2))
    wait_for(lambda: not device_state(server, "st-1", "door")["online"], what="matching death")


def test_the_station_is_open_only_while_it_says_so_and_a_device_is_online(server, device):
    server.put_station("st-1", STATION_BODY)
    device.send(
        server.message("st-1", None, TopicKind.STATE, build_station_state(ts=now(), seq=1, open=True))
    )
    wait_for(lambda: server.get("/api/v1/stations/st-1").json()["reported_open"], what="reported open")
    assert server.get("/api/v1/stations/st-1").json()["open"] is False
    water = build_birth(ts=now(), type=DeviceType.WATER_DISPENSER, boot=9)
    device.publish(server.topic("st-1", "water", STATUS), water)
    listed = wait_for(lambda: [s for s in server.get("/api/v1/stations").json() if s["open"]], what="open")
    assert listed[0]["id"] == "st-1" and listed[0]["devices_online"] == 1 and listed[0]["devices_total"] == 4
