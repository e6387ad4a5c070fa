"""docs/protocol.md "Rules for receivers" over real MQTT: each rejection reason is counted by reason,
never stops the server, and the next valid message is still stored."""

import time

import pytest
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.events import EventName
from yizhan.protocol.payloads import build_event, build_telemetry
from yizhan.protocol.rejections import RejectionReason
from yizhan.protocol.topics import TopicKind

from tests.conftest import STATION_BODY, wait_for

NOW = lambda: int(time.time() * 1000)  # noqa: E731
EVENT = TopicKind.EVENT


def good_event(seq: int) -> bytes:
    return build_event(EventName.DOOR, ts=NOW(), seq=seq, boot=1, data={"open": seq % 2 == 0})


# the topics and payloads that are wrong are written by hand: they are what the builders refuse
CASES = {
    RejectionReason.BAD_TOPIC: lambda s: (f"{s.root}/stations/BAD ID/door/event", good_event(0)),
    RejectionReason.TOO_LARGE: lambda s: (s.topic("st-1", "door", EVENT), b'{"pad":"' + b"x" * 9000 + b'"}'),
    RejectionReason.NOT_JSON: lambda s: (s.topic("st-1", "door", EVENT), b"\x00\xffnot json at all"),
    RejectionReason.BAD_PAYLOAD: lambda s: (
        s.topic("st-1", "door", TopicKind.TELEMETRY),
        b'{"ts": %d, "seq": 1, "boot": 1, "data": {"open": "yes"}}' % NOW(),
    ),
    RejectionReason.UNREGISTERED_STATION: lambda s: (s.topic("st-ghost", "door", EVENT), good_event(0)),
    RejectionReason.UNREGISTERED_DEVICE: lambda s: (s.topic("st-1", "toaster", EVENT), good_event(0)),
}


@pytest.mark.parametrize("reason", list(CASES))
def test_each_rejection_is_counted_by_reason_and_the_next_valid_message_is_stored(server, device, reason):
    assert server.put_station("st-1", STATION_BODY).status_code == 201
    topic, payload = CASES[reason](server)
    device.publish(topic, payload)
    wait_for(
        lambda: server.metric("yz_messages_rejected_total", reason=reason) == 1, what=f"{reason} counted"
    )
    others = [r for r in CASES if r != reason]
    assert all(server.metric("yz_messages_rejected_total", reason=r) == 0 for r in others)

    device.send(server.message("st-1", "door", EVENT, good_event(7)))
    rows = wait_for(
        lambda: server.query('SELECT * FROM "events" WHERE "station" = \'st-1\''), what="valid event stored"
    )
    assert len(rows) == 1 and rows[0]["seq"] == 7 and rows[0]["district"] == "shinan"
    assert server.proc.poll() is None


def test_a_flood_of_garbage_does_not_crash_the_server_or_lose_good_data_around_it(server, device):
    server.put_station("st-1", STATION_BODY)
    t = server.topic("st-1", "water", TopicKind.TELEMETRY)
    for seq in range(50):
        good = {"water_temp_c": 90.0 + seq / 10}
        device.publish(t, build_telemetry(DeviceType.WATER_DISPENSER, ts=NOW(), seq=seq, boot=3, data=good))
        device.publish(t, b"{" * (seq + 1))
        device.publish(t, b'{"ts": %d, "seq": %d, "boot": 3, "data": {"tank_level_pct": -5}}' % (NOW(), seq))
    wait_for(lambda: server.metric("yz_messages_rejected_total", reason="not_json") == 50, what="50 not_json")
    wait_for(
        lambda: server.metric("yz_messages_rejected_total", reason="bad_payload") == 50, what="50 bad_payload"
    )

    def stored() -> int:
        rows = server.query('SELECT count("seq") FROM "water_dispenser"')
        return rows[0]["count"] if rows else 0

    # every good message around the garbage is stored (no more, none lost)
    wait_for(lambda: stored() == 50, what="all 50 good messages stored")
    assert stored() == 50


def test_unregistered_senders_are_listed_for_an_administrator_until_registered(server, device):
    device.send(server.message("st-new", "door", EVENT, good_event(0)))
    device.send(server.message("st-new", "door", EVENT, good_event(1)))
    listed = wait_for(lambda: server.get("/api/v1/unregistered").json(), what="unregistered listed")
    assert listed[0]["station"] == "st-new" and listed[0]["device"] == "door" and listed[0]["messages"] == 2
    assert listed[0]["first_seen"] and listed[0]["last_seen"]
    server.put_station("st-new", STATION_BODY)
    assert server.get("/api/v1/unregistered").json() == []


def test_a_message_from_the_future_is_stored_at_receive_time_and_flagged(server, device):
    server.put_station("st-1", STATION_BODY)
    before = NOW()
    future = build_telemetry(
        DeviceType.DOOR_SENSOR, ts=before + 3_600_000, seq=1, boot=1, data={"open": False}
    )
    device.send(server.message("st-1", "door", TopicKind.TELEMETRY, future))
    rows = wait_for(lambda: server.query('SELECT * FROM "door_sensor"'), what="skewed telemetry stored")
    assert rows[0]["clock_skew"] is True
    assert before - 1000 <= rows[0]["time"] <= NOW()
    assert server.metric("yz_messages_clock_skew_total") == 1
