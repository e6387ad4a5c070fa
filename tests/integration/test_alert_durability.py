"""Alerts that hold up: flap damping over real MQTT, a server killed while an alert fires, a
webhook receiver that is down for two minutes, reminders and escalation."""

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.alerting_peers import WebhookReceiver
from tests.conftest import STATION_BODY, Publisher, ServerProc, wait_for

OUTAGE_S = 120


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    h = WebhookReceiver()
    yield h
    h.stop()


def add_crews(server: ServerProc, hook: WebhookReceiver) -> None:
    crew = {"name": "维修组", "districts": ["*"], "webhook_url": hook.url("/crew"), "secret": "k"}
    assert httpx.put(f"{server.url}/api/v1/crews/crew", json=crew).status_code == 201
    ops = {"name": "区总工会", "districts": ["shinan"], "webhook_url": hook.url("/ops"), "role": "operators"}
    assert httpx.put(f"{server.url}/api/v1/crews/ops", json=ops).status_code == 201


def fault(server: ServerProc, device: Publisher, sid: str, seq: int, code: str, on: bool = True) -> None:
    body = {"ts": int(time.time() * 1000), "seq": seq, "boot": 1,
            "event": "fault" if on else "fault_cleared", "data": {"code": code}}  # fmt: skip
    device.publish(server.topic(sid, "water", "event"), body)


def alerts(server: ServerProc, sid: str) -> list[dict]:
    return server.get("/api/v1/alerts", station=sid).json()


def test_a_device_flapping_every_20_s_for_5_minutes_gives_at_most_one_alert(
    make_server: Callable[..., ServerProc], device: Publisher
) -> None:
    server = make_server(YZ_CLOCK="event")  # device time drives the rules: 5 minutes pass at once
    server.put_station("st-plain", dict(STATION_BODY, schedule="24h"))
    server.put_station(
        "st-damped", dict(STATION_BODY, schedule="24h", alerts={"pending_s": {"device_offline": 10}})
    )
    t0 = int(time.time() * 1000) - 3_600_000
    for i in range(8):  # offline 20 s, online 20 s: 5 min 20 s; both stations at the same time
        t = t0 + i * 40_000
        for sid in ("st-plain", "st-damped"):
            status = server.topic(sid, "door", "status")
            device.publish(
                status, {"state": "online", "ts": t, "boot": i, "type": "door_sensor"}, retain=True
            )
        for sid in ("st-plain", "st-damped"):
            status = server.topic(sid, "door", "status")
            device.publish(status, {"state": "offline", "ts": t + 20_000, "boot": i}, retain=True)
    for sid in ("st-plain", "st-damped"):
        device.publish(
            server.topic(sid, "door", "status"), {"state": "online", "ts": t0 + 320_000, "boot": 99}
        )
    # move event time past the clear period (60 s), not as far as the silence timeout (180 s)
    device.publish(
        server.topic("st-plain", "water", "status"), {"state": "online", "ts": t0 + 450_000, "boot": 1}
    )
    wait_for(lambda: server.metric("yz_messages_accepted_total", kind="status") == 35, what="all status")
    time.sleep(2.5)  # two ticks
    assert alerts(server, "st-plain") == []
    damped = wait_for(
        lambda: [a for a in alerts(server, "st-damped") if a["state"] == "resolved"], what="resolved"
    )
    assert len(alerts(server, "st-damped")) == 1 and damped[0]["rule"] == "device_offline", str(
        alerts(server, "st-damped")
    )


def test_a_killed_server_keeps_its_firing_alert_repeats_no_notification_and_resolves_it_later(
    make_server: Callable[..., ServerProc], device: Publisher, hook: WebhookReceiver
) -> None:
    server = make_server()
    add_crews(server, hook)
    server.put_station("st-1", STATION_BODY)
    fault(server, device, "st-1", 0, "dry_boil")
    wait_for(lambda: [b["kind"] for b in hook.bodies("/crew")] == ["firing"], what="firing delivered")
    server.stop(kill=True)
    server.start()
    listed = alerts(server, "st-1")
    assert [(a["rule"], a["state"]) for a in listed] == [("fault:dry_boil", "firing")]
    fault(server, device, "st-1", 1, "dry_boil")  # still on: the same alert
    time.sleep(2.0)
    assert [b["kind"] for b in hook.bodies("/crew")] == ["firing"]
    fault(server, device, "st-1", 2, "dry_boil", on=False)
    wait_for(lambda: [b["kind"] for b in hook.bodies("/crew")] == ["firing", "resolved"], what="resolved")
    assert [(a["id"], a["state"]) for a in alerts(server, "st-1")] == [(listed[0]["id"], "resolved")]


def test_a_webhook_receiver_down_for_two_minutes_gets_every_notification_afterwards_in_order(
    make_server: Callable[..., ServerProc], device: Publisher, hook: WebhookReceiver
) -> None:
    server = make_server()
    add_crews(server, hook)
    server.put_station("st-1", STATION_BODY)
    hook.stop()
    codes = ["leak", "heater", "tank_empty"]
    for i, code in enumerate(codes):
        fault(server, device, "st-1", i, code)
    for i, code in enumerate(codes):
        fault(server, device, "st-1", 3 + i, code, on=False)
    wait_for(
        lambda: len([a for a in alerts(server, "st-1") if a["state"] == "resolved"]) == 3, what="6 changes"
    )
    ids = {a["rule"]: a["id"] for a in alerts(server, "st-1")}
    # in the order the messages caused them: three firings, then three resolutions
    expected = [(ids[f"fault:{c}"], "firing") for c in codes] + [
        (ids[f"fault:{c}"], "resolved") for c in codes
    ]
    started = time.monotonic()
    wait_for(lambda: server.metric("yz_alert_delivery_failures_total") >= 3, what="failed attempts")
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - started)))
    assert hook.received == []
    hook.start()
    got = wait_for(
        lambda: len(b := hook.bodies("/crew")) >= 6 and b,
        timeout_s=40,
        what="every notification after the outage",
    )
    assert [(b["alert"]["id"], b["kind"]) for b in got] == expected
    time.sleep(1.0)
    assert len(hook.bodies("/crew")) == 6  # nothing twice


def test_an_unacknowledged_alert_reminds_the_crew_and_escalates_to_the_operators(
    make_server: Callable[..., ServerProc], device: Publisher, hook: WebhookReceiver
) -> None:
    server = make_server(YZ_ALERT_REMINDER_MIN="0.05", YZ_ALERT_ESCALATION_MIN="0.1")  # 3 s and 6 s
    add_crews(server, hook)
    server.put_station("st-1", STATION_BODY)
    fault(server, device, "st-1", 0, "leak")
    wait_for(lambda: "reminder" in [b["kind"] for b in hook.bodies("/crew")], what="a reminder")
    ops = wait_for(lambda: hook.bodies("/ops"), what="escalation to the operators")
    assert [b["kind"] for b in ops] == ["escalated"] and ops[0]["alert"]["station"] == "st-1"
    aid = ops[0]["alert"]["id"]
    httpx.post(f"{server.url}/api/v1/alerts/{aid}/ack", json={"by": "王师傅"}).raise_for_status()
    wait_for(lambda: hook.bodies("/crew")[-1]["kind"] == "acknowledged", what="ack delivered")
    reminders = len([b for b in hook.bodies("/crew") if b["kind"] == "reminder"])
    time.sleep(4.0)
    assert len([b for b in hook.bodies("/crew") if b["kind"] == "reminder"]) == reminders
