"""Every example of docs/protocol.md, published by a third-party client (mosquitto_pub) to a real
broker and server: each is stored where the document says, only the examples marked `Rejected:`
are refused, and the alert and server-status examples have the shape the server really publishes.

A vendor will test against the document, not against our code, so the examples must hold on the
wire. Their `ts` are in the past, which the protocol accepts as they are.
"""

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.alerting_peers import MqttAlertWatcher
from tests.conftest import STATION_BODY, ServerProc, shared_server, wait_for
from tests.unit.test_protocol_docs import DEVICES, DISTRICT, EN_EXAMPLES, STATION, STATION_NAME, Example
from yizhan.localstack import Broker, Influx

MOSQUITTO_PUB = shutil.which("mosquitto_pub") or "/usr/bin/mosquitto_pub"
MOSQUITTO_SUB = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"

BODY = dict(STATION_BODY, devices=[{"id": d, "type": t} for d, t in DEVICES.items()])
STATION_EXAMPLES = [e for e in EN_EXAMPLES if e.station_topic]
ACCEPTED = [e for e in STATION_EXAMPLES if not e.rejected]
ALERT_EXAMPLES = {e.body["kind"]: e.body for e in EN_EXAMPLES if e.topic.startswith("yz/alerts/")}
SERVER_STATUS = [e.body for e in EN_EXAMPLES if e.topic == "yz/server/status"]


def on_root(topic: str, root: str) -> str:
    """The document's topic under the test server's own root (one root per server)."""
    assert topic.startswith("yz/")
    return f"{root}/{topic[3:]}"


def mosquitto_pub(broker: Broker, topic: str, payload: bytes, retain: bool) -> None:
    cmd = [MOSQUITTO_PUB, "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t", topic, "-s"]
    done = subprocess.run([*cmd, *(["-r"] if retain else [])], input=payload, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr


def mosquitto_sub_one(broker: Broker, topic: str) -> Any:
    """The retained message on `topic`, read by a fresh subscriber."""
    cmd = [MOSQUITTO_SUB, "-h", "127.0.0.1", "-p", str(broker.port), "-t", topic, "-C", "1", "-W", "10"]
    done = subprocess.run(cmd, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class Run:
    def __init__(self, server: ServerProc, broker: Broker, alerts: MqttAlertWatcher) -> None:
        self.server, self.broker, self.alerts = server, broker, alerts

    def alert_messages(self, rule: str) -> list[dict]:
        return [p for _, p in list(self.alerts.messages) if p["alert"]["rule"] == rule]

    def wait_alert(self, rule: str, kind: str) -> dict:
        def found() -> dict | None:
            return next((p for p in self.alert_messages(rule) if p["kind"] == kind), None)

        return wait_for(found, 20, what=f"{rule} {kind} on the MQTT alert topic")


@pytest.fixture(scope="module")
def run(broker: Broker, influx: Influx, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    assert (BODY["name"], BODY["district"]) == (STATION_NAME, DISTRICT)  # the alert texts name them
    server = shared_server(broker, influx, tmp_path_factory.mktemp("protocol"), "protocoldocs")
    watcher = MqttAlertWatcher(broker, server.root)
    try:
        assert server.put_station(STATION, BODY).status_code == 201
        for e in STATION_EXAMPLES:  # in document order: births come before deaths
            mosquitto_pub(broker, on_root(e.topic, server.root), e.payload, e.retained)
        yield Run(server, broker, watcher)
    finally:
        watcher.close()
        server.stop()


# --- stored where the document says ------------------------------------------------------------------


def q(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def stored_rows(server: ServerProc, e: Example) -> list[dict]:
    """The points this example must have produced (section "What the server stores")."""
    parts = e.topic.split("/")
    device, kind = (parts[3], parts[4]) if len(parts) == 5 else (None, parts[3])
    where = f'"station" = {q(STATION)}'
    if kind == "state":
        return server.query(f'SELECT * FROM "station_state" WHERE {where} AND "seq" = {e.body["seq"]}')
    where += f' AND "device" = {q(device or "")}'
    if kind == "status":
        reason = "birth" if e.body["state"] == "online" else "death"
        return server.query(f'SELECT * FROM "device_status" WHERE {where} AND "reason" = {q(reason)}')
    measurement = "events" if kind == "event" else DEVICES[device or ""]
    seq, boot = e.body["seq"], e.body["boot"]
    return server.query(f'SELECT * FROM "{measurement}" WHERE {where} AND "seq" = {seq} AND "boot" = {boot}')


def flat(data: dict) -> dict:
    """`data` as the server stores it: outlets flattened, faults joined."""
    out = {k: v for k, v in data.items() if k not in ("outlets", "faults")}
    for i, outlet in enumerate(data.get("outlets", [])):
        out.update({f"outlet{i}_{k}": v for k, v in outlet.items()})
    if "faults" in data:
        out["faults"] = ",".join(data["faults"])
    return out


@pytest.mark.parametrize("example", ACCEPTED, ids=lambda e: f"line{e.line}-{e.topic.split('/', 3)[3]}")
def test_every_accepted_example_is_stored_where_the_document_says(run: Run, example: Example) -> None:
    rows = wait_for(lambda: stored_rows(run.server, example), 20, what=f"line {example.line} stored")
    assert len(rows) == 1, rows
    row, body = rows[0], example.body
    assert row["district"] == DISTRICT
    if "ts" in body:
        assert row["time"] == body["ts"]
    elif body.get("state") != "offline":  # a death without ts is simply at receive time
        assert row["clock_skew"] is True
    if "data" in body:
        for key, value in flat(body["data"]).items():
            stored = row.get(key)
            if key == "faults":
                stored = stored or ""  # an empty list is stored as an empty string
            assert stored == value, key
    if "event" in body:
        assert row["event"] == body["event"] and row["type"] == DEVICES[example.topic.split("/")[3]]
    if body.get("state") == "online":
        assert row["online"] is True and row["boot"] == body["boot"]
        assert row["interval_s"] == body["interval_s"]
    if body.get("state") == "offline":
        assert row["online"] is False
    if "open" in body:
        assert row["open"] is body["open"] and row["source"] == body["source"]


def test_only_the_examples_marked_rejected_are_refused_each_counted_by_its_reason(run: Run) -> None:
    marked = Counter(e.rejected for e in STATION_EXAMPLES if e.rejected)
    assert marked, "the document shows what a receiver must reject"
    kinds = Counter(e.topic.split("/")[-1] if e.topic.count("/") == 4 else "state" for e in ACCEPTED)

    def counts() -> tuple[dict, dict]:
        s = run.server
        rejected = {r: s.metric("yz_messages_rejected_total", reason=r) for r in marked}
        accepted = {k: s.metric("yz_messages_accepted_total", kind=k) for k in kinds}
        return rejected, accepted

    want = ({r: float(n) for r, n in marked.items()}, {k: float(n) for k, n in kinds.items()})
    wait_for(lambda: counts() == want, 20, what=f"counts {want}")
    text = run.server.get("/metrics").text
    for line in text.splitlines():
        if line.startswith("yz_messages_rejected_total{"):
            reason = line.split('"')[1]
            assert float(line.split()[-1]) == marked.get(reason, 0), line


# --- alerts and server status as published ----------------------------------------------------------


def shape(value: Any) -> Any:
    """Keys and value types, recursively: what a consumer's parser depends on."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__


def test_the_documented_leak_alert_fires_on_mqtt_exactly_as_shown(run: Run) -> None:
    doc = ALERT_EXAMPLES["firing"]
    got = dict(run.wait_alert(doc["alert"]["rule"], "firing"))
    got["alert"] = dict(got["alert"], id=doc["alert"]["id"])  # ids are the server's
    assert got == doc
    topics = {t for t, p in run.alerts.messages if p["alert"]["rule"] == doc["alert"]["rule"]}
    assert topics == {on_root(f"yz/alerts/{DISTRICT}/{STATION}", run.server.root)}


def test_escalated_acknowledged_and_resolved_alerts_have_the_documented_shape(run: Run) -> None:
    # the overcurrent example stays open; its ts is long past, so it escalates at the next tick
    rule = "fault:overcurrent"
    escalated = run.wait_alert(rule, "escalated")
    assert shape(escalated) == shape(ALERT_EXAMPLES["escalated"])
    url = f"{run.server.url}/api/v1/alerts/{escalated['alert']['id']}"
    doc_ack = ALERT_EXAMPLES["acknowledged"]
    resp = httpx.post(f"{url}/ack", json={"by": doc_ack["by"], "note": doc_ack["note"]}, timeout=10)
    assert resp.status_code == 200, resp.text
    acknowledged = run.wait_alert(rule, "acknowledged")
    assert shape(acknowledged) == shape(doc_ack)
    assert (acknowledged["by"], acknowledged["alert"]["acknowledged_by"]) == (doc_ack["by"], doc_ack["by"])
    assert httpx.post(f"{url}/resolve", json={"by": doc_ack["by"]}, timeout=10).status_code == 200
    assert shape(run.wait_alert(rule, "resolved")) == shape(ALERT_EXAMPLES["resolved"])


def test_the_server_status_is_the_documented_retained_online_message(run: Run) -> None:
    got = mosquitto_sub_one(run.broker, on_root("yz/server/status", run.server.root))
    assert got == {"state": "online"} and got in SERVER_STATUS


def test_a_stopped_server_leaves_the_documented_retained_offline_message(server: ServerProc, broker: Broker):
    topic = on_root("yz/server/status", server.root)
    wait_for(lambda: mosquitto_sub_one(broker, topic) == {"state": "online"}, what="server online")
    server.stop()
    got = mosquitto_sub_one(broker, topic)
    assert got == {"state": "offline"} and got in SERVER_STATUS
