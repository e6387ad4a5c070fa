"""The server's MQTT connection: a persistent QoS 1 session with manual acknowledgement.

paho-mqtt directly, because acknowledging only once a message is durable needs manual
acknowledgement, which aiomqtt does not offer. Messages are handed over from paho's network
thread through `on_message`, which must never raise.
"""

import contextlib
import logging
import ssl
from collections.abc import Callable

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from yizhan.protocol.broker import broker_address
from yizhan.protocol.topics import server_status_topic, station_subscription
from yizhan.server.config import Settings

log = logging.getLogger(__name__)

SESSION_NEVER_EXPIRES = 0xFFFFFFFF

# (topic or None when not UTF-8, payload, retained, mid, qos, connection generation)
MessageSink = Callable[[str | None, bytes, bool, int, int, int], None]


class MqttLink:
    def __init__(self, settings: Settings, on_message: MessageSink) -> None:
        self._settings = settings
        self._sink = on_message
        self.generation = 0
        self.connected = False
        self.acks_sent = 0
        self.acks_dropped = 0
        host, port, tls = broker_address(settings.mqtt_url)
        self._host, self._port = host, port
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.mqtt_client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        if settings.mqtt_username:
            client.username_pw_set(settings.mqtt_username, settings.mqtt_password)
        if tls:
            client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self._status_topic = server_status_topic(settings.topic_root)
        client.will_set(self._status_topic, orjson.dumps({"state": "offline"}), qos=1, retain=True)
        client.reconnect_delay_set(1, 10)
        client.max_inflight_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_NEVER_EXPIRES
        props.ReceiveMaximum = self._settings.receive_maximum
        self._client.connect_async(self._host, self._port, keepalive=30, clean_start=False, properties=props)
        self._client.loop_start()

    def stop(self) -> None:
        if self.connected:
            info = self._client.publish(
                self._status_topic, orjson.dumps({"state": "offline"}), qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2)
        self._client.disconnect()
        self._client.loop_stop()

    def ack(self, acks: list[tuple[int, int]], generation: int) -> None:
        """Acknowledge QoS 1 messages received on connection `generation`.

        Packet ids of an earlier connection mean nothing now: the broker redelivers those.
        """
        if generation != self.generation:
            self.acks_dropped += len(acks)
            return
        for mid, qos in acks:
            if qos:
                self._client.ack(mid, qos)
                self.acks_sent += 1

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        self._client.publish(topic, payload, qos=qos, retain=retain)

    def publish_confirmed(self, topic: str, payload: bytes, timeout_s: float = 5.0) -> bool:
        """Publish at QoS 1 and wait for the broker's PUBACK (blocking: call from a thread)."""
        if not self.connected:
            return False
        info = self._client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(timeout_s)
        return info.is_published()

    # --- paho callbacks (network thread) ---------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT connect refused: %s", reason_code)
            return
        self.generation += 1
        self.connected = True
        log.info(
            "MQTT connected to %s:%s (session present: %s)", self._host, self._port, flags.session_present
        )
        client.subscribe(station_subscription(self._settings.topic_root), qos=1)
        client.publish(self._status_topic, orjson.dumps({"state": "online"}), qos=1, retain=True)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected = False
        log.warning("MQTT disconnected: %s", reason_code)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        try:
            try:
                topic: str | None = msg.topic
            except UnicodeDecodeError:
                topic = None
            self._sink(topic, msg.payload, bool(msg.retain), msg.mid, msg.qos, self.generation)
        except Exception:  # a bug must not kill paho's network thread
            log.exception("message hand-over failed")
