"""Publishing the simulated stations' messages over MQTT on a virtual clock."""

import csv
import heapq
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from yizhan.device_sim.ledger import Ledger
from yizhan.device_sim.station import Outgoing, SimStation
from yizhan.protocol.topics import parse_station_topic

MAX_UNACKED = 20_000


class Publisher:
    """One MQTT connection speaking for many simulated devices (like a fleet of gateways)."""

    def __init__(
        self, host: str, port: int, client_id: str, username: str | None = None, password: str | None = None
    ) -> None:
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311, clean_session=True
        )
        if username:
            self._client.username_pw_set(username, password)
        self._client.max_inflight_messages_set(1000)
        self._client.max_queued_messages_set(0)
        self._client.on_publish = self._on_publish
        self._connected = threading.Event()
        self._client.on_connect = lambda *a: self._connected.set()
        self.sent = 0
        self.acked = 0
        self._client.connect(host, port, keepalive=30)
        self._client.loop_start()
        if not self._connected.wait(15):
            raise ConnectionError(f"no CONNACK from the broker at {host}:{port}")

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self.acked += 1

    def publish(self, topic: str, payload: bytes, retain: bool) -> None:
        while self.sent - self.acked > MAX_UNACKED:
            time.sleep(0.005)
        self._client.publish(topic, payload, qos=1, retain=retain)
        self.sent += 1

    def wait_all(self, timeout_s: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.acked < self.sent and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.acked >= self.sent

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class StationPublishers:
    """One MQTT connection per station, each with that station's own credentials — as real
    devices behind a broker with per-station ACLs (`yizhan mqtt-auth`) must publish."""

    def __init__(
        self, host: str, port: int, credentials: dict[str, str], client_prefix: str, root: str = "yz"
    ) -> None:
        self._host, self._port, self._credentials = host, port, credentials
        self._prefix, self._root = client_prefix, root
        self._by_station: dict[str, Publisher] = {}

    def _for(self, topic: str) -> Publisher:
        station = parse_station_topic(topic, self._root).station
        pub = self._by_station.get(station)
        if pub is None:
            password = self._credentials.get(station)
            if password is None:
                raise KeyError(f"no broker credentials for station {station!r}")
            pub = Publisher(self._host, self._port, f"{self._prefix}-{station}", station, password)
            self._by_station[station] = pub
        return pub

    def publish(self, topic: str, payload: bytes, retain: bool) -> None:
        self._for(topic).publish(topic, payload, retain)

    def wait_all(self, timeout_s: float = 60.0) -> bool:
        return all(p.wait_all(timeout_s) for p in self._by_station.values())

    def close(self) -> None:
        for p in self._by_station.values():
            p.close()


def read_credentials(path: str) -> dict[str, str]:
    """Station passwords from `yizhan mqtt-auth`'s credentials.csv (kind, subject, username, password)."""
    with open(path, newline="", encoding="utf-8") as f:
        return {r["username"]: r["password"] for r in csv.DictReader(f) if r["kind"] == "station"}


def station_messages(
    station: SimStation, first: date, last: date | None, ledger: Ledger
) -> Iterator[Outgoing]:
    """The station's messages day after day (for ever when `last` is None)."""
    day = first
    while last is None or day <= last:
        msgs, truth = station.day(day)
        ledger.write(truth.record())
        yield from msgs
        day += timedelta(days=1)


def play(
    publisher: Publisher | StationPublishers,
    streams: Iterable[Iterator[Outgoing]],
    start_ms: int,
    speed: float,
    progress_every_s: float = 10.0,
    stop: threading.Event | None = None,
    speak: Callable[[str, bytes, bool], list[tuple[str, bytes, bool]]] | None = None,
) -> int:
    """Publish all messages in virtual-time order; `speed` virtual seconds per real second (0: no waiting).

    `speak` re-speaks each message as it is sent (devices of other ecosystems); the count is of
    the station's messages, before that."""
    real0 = time.monotonic()
    next_report = real0 + progress_every_s
    count = 0
    for t_ms, _, topic, payload, retain in heapq.merge(*streams):
        if stop is not None and stop.is_set():
            break
        if speed > 0:
            delay = real0 + (t_ms - start_ms) / 1000 / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if speak is None:
            publisher.publish(topic, payload, retain)
        else:
            for said in speak(topic, payload, retain):
                publisher.publish(*said)
        count += 1
        if time.monotonic() >= next_report:
            next_report += progress_every_s
            virtual = datetime.fromtimestamp(t_ms / 1000).isoformat(timespec="seconds")
            print(f"sim: {count} messages published, virtual time {virtual}", flush=True)
    return count
