"""Zero loss, zero duplicates under faults, over real services: the server killed with -9, InfluxDB
stopped for 60 s, mosquitto restarted, all mid-stream; and two server processes sharing one
broker, each handling its partition of the stations."""

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.payloads import build_telemetry
from yizhan.protocol.topics import TopicKind, device_topic
from yizhan.server.domain.partition import Partition

from tests.conftest import STATION_BODY, ServerProc, wait_for
from yizhan.localstack import Broker, Influx

STATIONS = [f"st-{i:02d}" for i in range(10)]


class Stream:
    """A device fleet publishing numbered telemetry at QoS 1 from a persistent session, in a thread.

    It survives broker restarts: paho keeps unacknowledged messages and sends them again."""

    def __init__(self, broker: Broker, root: str, per_station: int, rate: float) -> None:
        self.root, self.per_station, self.rate = root, per_station, rate
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"stream-{root}", clean_session=False
        )
        self.client.max_inflight_messages_set(100)
        self.client.reconnect_delay_set(0.2, 2)
        self.acked = 0  # PUBACKs, also of messages paho queued while the broker was away
        self.client.on_publish = lambda *a: setattr(self, "acked", self.acked + 1)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.sent = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "Stream":
        self._thread.start()
        return self

    def _run(self) -> None:
        t0 = time.monotonic()
        for seq in range(self.per_station):
            for station in STATIONS:
                payload = build_telemetry(
                    DeviceType.WATER_DISPENSER,
                    ts=int(time.time() * 1000),
                    seq=seq,
                    boot=1,
                    data={"dispensed_l_total": seq * 0.25},
                )
                topic = device_topic(station, "water", TopicKind.TELEMETRY, self.root)
                self.client.publish(topic, payload, qos=1)
                self.sent += 1
                ahead = t0 + self.sent / self.rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)

    def wait_done(self, timeout_s: float = 180) -> None:
        self._thread.join(timeout_s)
        wait_for(lambda: self.acked >= self.sent, timeout_s, what="every publish acknowledged")
        self.client.disconnect()
        self.client.loop_stop()

    @property
    def total(self) -> int:
        return self.per_station * len(STATIONS)


def stored(server: ServerProc) -> Counter:
    rows = server.query('SELECT count("seq") FROM "water_dispenser" GROUP BY "station"')
    return Counter({r["station"]: r["count"] for r in rows})


def assert_exactly_once(server: ServerProc, stream: Stream, timeout_s: float = 60) -> None:
    want = Counter({s: stream.per_station for s in STATIONS})
    wait_for(
        lambda: stored(server) == want, timeout_s, interval_s=0.5, what="every message stored exactly once"
    )
    seqs = server.query('SELECT "seq" FROM "water_dispenser" WHERE "station" = \'st-03\'')
    assert sorted(r["seq"] for r in seqs) == list(range(stream.per_station))


def register(server: ServerProc) -> None:
    for sid in STATIONS:
        assert server.put_station(sid, STATION_BODY).status_code in (200, 201)


def test_kill_9_of_the_server_mid_stream_loses_and_doubles_nothing(
    make_server: Callable[..., ServerProc], broker: Broker
) -> None:
    server = make_server()
    register(server)
    stream = Stream(broker, server.root, per_station=300, rate=600).start()
    wait_for(lambda: stream.sent > 1000, what="stream under way")
    server.stop(kill=True)
    time.sleep(1.0)
    server.start()
    stream.wait_done()
    assert_exactly_once(server, stream)


def test_influxdb_stopped_for_60_s_mid_stream_loses_and_doubles_nothing(
    make_server: Callable[..., ServerProc], tmp_path: Path
) -> None:
    own = Influx(tmp_path / "influx").start()
    try:
        server = make_server(start=False)
        server.influx = own
        httpx.post(f"{own.url}/query", params={"q": f'CREATE DATABASE "{server.db}"'}).raise_for_status()
        server.start()
        register(server)
        stream = Stream(server.broker, server.root, per_station=90, rate=10).start()  # 90 s
        wait_for(lambda: stream.sent > 50, what="stream under way")
        own.stop()
        time.sleep(60)
        assert server.metric("yz_points_spooled_total") > 0
        own.start()
        stream.wait_done()
        assert_exactly_once(server, stream)
        wait_for(lambda: server.metric("yz_spool_lines") == 0, what="spool drained")
    finally:
        own.stop()


def test_a_mosquitto_restart_mid_stream_loses_and_doubles_nothing(
    influx: Influx, tmp_path: Path, make_server: Callable[..., ServerProc]
) -> None:
    own = Broker(tmp_path / "mosquitto").start()
    try:
        server = make_server(start=False)
        server.broker = own
        server.start()
        register(server)
        stream = Stream(own, server.root, per_station=200, rate=300).start()
        wait_for(lambda: stream.sent > 800, what="stream under way")
        own.stop()  # persistence on: queued and retained messages are saved at shutdown
        time.sleep(2.0)
        own.start()
        stream.wait_done()
        assert_exactly_once(server, stream)
    finally:
        own.stop()


@pytest.fixture
def pair(make_server: Callable[..., ServerProc]) -> Iterator[tuple[ServerProc, ServerProc]]:
    first = make_server(start=False)
    second = make_server(start=False)
    second.root, second.db = first.root, first.db  # one broker, one database, two processes
    first.extra_env.update(YZ_PARTITION="0/2", YZ_MQTT_CLIENT_ID=f"{first.root}-p0")
    second.extra_env.update(YZ_PARTITION="1/2", YZ_MQTT_CLIENT_ID=f"{first.root}-p1")
    yield first.start(), second.start()


def test_two_server_processes_on_one_broker_store_every_message_exactly_once(
    pair: tuple[ServerProc, ServerProc], broker: Broker
) -> None:
    first, second = pair
    for server in pair:
        register(server)
    assert {Partition(0, 2).owns(s) for s in STATIONS} == {True, False}, "both partitions have stations"
    stream = Stream(broker, first.root, per_station=100, rate=800).start()
    stream.wait_done()
    assert_exactly_once(first, stream)
    handled = [s.metric("yz_messages_accepted_total", kind="telemetry") for s in pair]
    skipped = [s.metric("yz_messages_other_partition_total") for s in pair]
    assert sum(handled) == stream.total and all(handled) and sum(skipped) == stream.total
    for sid in STATIONS:  # usage is right whichever process is asked
        hour_ago = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
        usage = second.get(f"/api/v1/stations/{sid}/usage", start=hour_ago).json()
        assert usage["water_l"] == pytest.approx(99 * 0.25)
