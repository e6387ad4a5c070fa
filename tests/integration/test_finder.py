"""The public finder over real MQTT: open stations nearest first, closed and dark ones left out,
and no `water` from a station whose dispenser is faulty."""

import time

from tests.conftest import STATION_BODY, wait_for

HERE = (36.0671, 120.3826)


def now() -> int:
    return int(time.time() * 1000)


def test_the_finder_lists_open_stations_nearest_first_with_the_services_they_can_give_now(server, device):
    places = {"st-faulty": 0.002, "st-far": 0.02, "st-closed": 0.001, "st-dark": 0.0015}
    for sid, dlat in places.items():
        body = dict(
            STATION_BODY, lat=HERE[0] + dlat, lon=HERE[1], contact={"name": "张三", "phone": "13800000000"}
        )
        server.put_station(sid, body)
        device.publish(server.topic(sid, None, "state"), {"ts": now(), "seq": 1, "open": sid != "st-closed"})
        if sid != "st-dark":
            for d in ("water", "power"):
                device.publish(server.topic(sid, d, "status"), {"state": "online", "ts": now(), "boot": 1})
    device.publish(
        server.topic("st-faulty", "water", "event"),
        {"ts": now(), "seq": 0, "boot": 1, "event": "fault", "data": {"code": "dry_boil"}},
    )

    def found() -> list[dict]:
        return server.get("/api/v1/public/stations/nearby", lat=HERE[0], lon=HERE[1], limit=10).json()

    got = wait_for(lambda: (f := found()) and len(f) == 2 and "water" not in f[0]["services_now"] and f)
    assert [s["id"] for s in got] == ["st-faulty", "st-far"]
    assert 200 < got[0]["distance_m"] < 250 and got[1]["distance_m"] > 2000
    assert got[0]["services_now"] == ["heat_food", "rest", "toilet", "charging"]
    assert got[1]["services_now"] == STATION_BODY["services"]
    assert (
        "contact" not in got[0]
        and "13800000000" not in server.get("/api/v1/public/stations/nearby", lat=HERE[0], lon=HERE[1]).text
    )
    assert server.get("/api/v1/public/stations/nearby", lat=91, lon=0).status_code == 422
