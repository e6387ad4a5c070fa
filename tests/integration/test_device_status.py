"""Device online/offline over real MQTT (acceptance: offline in the API within 5 s of the condition)."""

import time

import orjson

from tests.conftest import STATION_BODY, Publisher, wait_for


def device_state(server, station: str, device: str) -> dict:
    devices = server.get(f"/api/v1/stations/{station}").json()["devices"]
    return next(d for d in devices if d["id"] == device)


def birth(boot: int, interval_s: int = 60) -> dict:
    return {
        "state": "online",
        "ts": int(time.time() * 1000),
        "type": "door_sensor",
        "boot": boot,
        "interval_s": interval_s,
    }


def test_a_device_whose_connection_dies_goes_offline_by_its_last_will_within_5_s(server, broker):
    server.put_station("st-1", STATION_BODY)
    status = server.topic("st-1", "door", "status")
    dev = Publisher(broker, will=(status, orjson.dumps({"state": "offline", "boot": 5})))
    dev.publish(status, birth(5), retain=True)
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
    device.publish(server.topic("st-1", "door", "status"), birth(1, interval_s=1), retain=True)
    device.publish(
        server.topic("st-1", "door", "telemetry"),
        {"ts": int(time.time() * 1000), "seq": 0, "boot": 1, "data": {"open": False}},
    )
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
    status = server.topic("st-1", "door", "status")
    device.publish(status, birth(1))
    device.publish(status, birth(2))
    device.publish(status, {"state": "offline", "boot": 1})
    device.publish(
        server.topic("st-1", "door", "telemetry"),
        {"ts": int(time.time() * 1000), "seq": 0, "boot": 2, "data": {"open": True}},
    )
    wait_for(lambda: server.query('SELECT * FROM "door_sensor"'), what="telemetry after the stale death")
    assert device_state(server, "st-1", "door")["online"] is True
    device.publish(status, {"state": "offline", "boot": 2})
    wait_for(lambda: not device_state(server, "st-1", "door")["online"], what="matching death")


def test_the_station_is_open_only_while_it_says_so_and_a_device_is_online(server, device):
    server.put_station("st-1", STATION_BODY)
    device.publish(
        server.topic("st-1", None, "state"),
        {"ts": int(time.time() * 1000), "seq": 1, "open": True},
        retain=True,
    )
    wait_for(lambda: server.get("/api/v1/stations/st-1").json()["reported_open"], what="reported open")
    assert server.get("/api/v1/stations/st-1").json()["open"] is False
    device.publish(server.topic("st-1", "water", "status"), birth(9))
    listed = wait_for(lambda: [s for s in server.get("/api/v1/stations").json() if s["open"]], what="open")
    assert listed[0]["id"] == "st-1" and listed[0]["devices_online"] == 1 and listed[0]["devices_total"] == 4
