"""Broker security from the registry, on a real mosquitto with the generated files: one station
cannot publish for another (the server never sees it), anonymous clients are refused, and a crew
cannot read another district's alerts."""

import csv
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.payloads import build_telemetry
from yizhan.protocol.topics import TopicKind, alert_subscription, alert_topic, device_topic

from tests.conftest import REPO, STATION_BODY, ServerProc, wait_for
from yizhan.localstack import Broker


class Client:
    def __init__(self, broker: Broker, username: str | None = None, password: str | None = None) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.result: list = []
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"c-{username}-{time.monotonic_ns()}")
        if username:
            self.c.username_pw_set(username, password)
        self.done = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: (self.result.append(rc), self.done.set())
        self.c.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload))
        self.c.connect("127.0.0.1", broker.port)
        self.c.loop_start()
        assert self.done.wait(10), "no CONNACK"

    @property
    def accepted(self) -> bool:
        return not self.result[0].is_failure

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def test_generated_credentials_and_acls_hold_on_a_real_mosquitto(
    tmp_path: Path, make_server: Callable[..., ServerProc]
) -> None:
    server = make_server(start=False)
    data = server.data_dir
    from yizhan.server.adapters.sqlite.alert_store import AlertStore
    from yizhan.server.adapters.sqlite.registry import Registry
    from yizhan.server.domain.routing import CrewSpec
    from yizhan.server.domain.station import StationSpec

    registry = Registry(data / "registry.sqlite")
    for sid in ("st-a", "st-b"):
        registry.put_station(sid, StationSpec.model_validate(STATION_BODY))
    registry.close()
    alerts = AlertStore(data / "alerts.sqlite")
    alerts.put_crew("shinan-1", CrewSpec(name="维修组", districts=["shinan"]))
    alerts.close()
    out = tmp_path / "auth"
    env = dict(server.env(), YZ_TOPIC_ROOT="yz")
    made = subprocess.run(
        [sys.executable, "-m", "yizhan", "mqtt-auth", "--out", str(out)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    creds = {r["username"]: r["password"] for r in csv.DictReader((out / "credentials.csv").open())}
    assert set(creds) == {"yizhan-server", "st-a", "st-b", "crew-shinan-1"}
    assert (out / "mosquitto.passwd").read_text().count("$7$101$") == 4

    broker = Broker(
        tmp_path / "mosquitto",
        anonymous=False,
        extra_config=f"password_file {out / 'mosquitto.passwd'}\nacl_file {out / 'mosquitto.acl'}\n",
    )
    broker.start()
    try:
        server.broker, server.root = broker, "yz"
        server.extra_env.update(YZ_MQTT_USERNAME="yizhan-server", YZ_MQTT_PASSWORD=creds["yizhan-server"])
        server.start()

        anonymous = Client(broker)
        assert not anonymous.accepted  # refused: not authorised
        anonymous.close()
        wrong = Client(broker, "st-a", "not-the-password")
        assert not wrong.accepted
        wrong.close()

        a = Client(broker, "st-a", creds["st-a"])
        assert a.accepted
        body = build_telemetry(
            DeviceType.WATER_DISPENSER, ts=int(time.time() * 1000), seq=0, boot=1, data={"water_temp_c": 95.0}
        )
        for sid in ("st-b", "st-a"):  # into another station's topics, then its own
            a.c.publish(device_topic(sid, "water", TopicKind.TELEMETRY), body, qos=1).wait_for_publish(5)
        wait_for(
            lambda: server.metric("yz_messages_accepted_total", kind="telemetry") == 1, what="st-a's own"
        )
        time.sleep(1.0)
        stations = {r["station"] for r in server.query('SELECT "seq", "station" FROM "water_dispenser"')}
        assert stations == {"st-a"}  # the message into st-b never reached the server
        a.close()

        crew = Client(broker, "crew-shinan-1", creds["crew-shinan-1"])
        crew.c.subscribe([(alert_subscription(district=d), 1) for d in ("shinan", "laoshan")])
        time.sleep(0.5)
        publisher = Client(broker, "yizhan-server", creds["yizhan-server"])
        for district in ("laoshan", "shinan"):
            publisher.c.publish(alert_topic(district, "st-x"), b'{"kind":"firing"}', qos=1).wait_for_publish(
                5
            )
        wait_for(lambda: crew.messages, what="the crew's own district's alert")
        time.sleep(0.5)
        assert [t for t, _ in crew.messages] == [alert_topic("shinan", "st-x")]
        crew.close()
        publisher.close()
    finally:
        server.stop()
        broker.stop()


def test_rotating_a_station_changes_only_its_password(tmp_path: Path) -> None:
    from yizhan.server.adapters.mqtt_auth import generate

    first = {c.username: c.password for c in generate(tmp_path / "o", tmp_path, ["st-a", "st-b"], {})}
    again = {
        c.username: c.password
        for c in generate(tmp_path / "o", tmp_path, ["st-a", "st-b"], {}, rotate="st-a")
    }
    assert again["st-a"] != first["st-a"] and again["st-b"] == first["st-b"]
    assert again["yizhan-server"] == first["yizhan-server"]
