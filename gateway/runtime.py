"""`yizhan gateway --config FILE`: local broker in, spool, uplink out.

Local messages are translated by the adapters (native devices pass through untouched, seq and
boot kept), everything bound for the uplink goes into the disk spool first, and a drainer sends
the spool in order, removing a message only once the central broker has acknowledged it. A
gateway restart or an uplink outage therefore loses nothing that reached the spool.
"""

import contextlib
import logging
import signal
import ssl
import threading
import time
from collections import Counter
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from yizhan.gateway.adapters import Adapter, AdapterError
from yizhan.gateway.adapters.esphome import EsphomeAdapter
from yizhan.gateway.adapters.tasmota import TasmotaAdapter
from yizhan.gateway.adapters.zigbee2mqtt import Zigbee2MqttAdapter
from yizhan.gateway.config import Broker, GatewayConfig, load_config
from yizhan.gateway.speaker import Speaker
from yizhan.gateway.spool import UplinkSpool
from yizhan.protocol.broker import broker_address
from yizhan.protocol.messages import Message
from yizhan.protocol.rejections import PayloadError
from yizhan.protocol.topics import TopicError, TopicKind, device_subscription, parse_station_topic

log = logging.getLogger(__name__)

ADAPTERS = {"tasmota": TasmotaAdapter, "zigbee2mqtt": Zigbee2MqttAdapter, "esphome": EsphomeAdapter}
BATCH = 200


def _client(broker: Broker, client_id: str, clean: bool) -> tuple[mqtt.Client, str, int]:
    host, port, tls = broker_address(broker.url)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    if broker.username:
        c.username_pw_set(broker.username, broker.password)
    if tls:
        c.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    c.reconnect_delay_set(1, 15)
    return c, host, port


class Gateway:
    def __init__(self, cfg: GatewayConfig) -> None:
        self.cfg = cfg
        self.counts: Counter[str] = Counter()
        self.spool = UplinkSpool(cfg.spool.path, cfg.spool.max_mb, cfg.spool.max_age_days)
        self.speaker = Speaker(cfg, int(time.time() * 1000))
        self._lock = threading.Lock()  # the speaker's state: local thread and ticker
        self.adapters: list[tuple[list[str], Adapter]] = []
        for d in cfg.devices:
            if d.source != "native":
                adapter = ADAPTERS[d.source](d)
                self.adapters.append((adapter.subscriptions(), adapter))
        self.native = [
            device_subscription(cfg.station, d.id, cfg.root) for d in cfg.devices if d.source == "native"
        ]
        self._stop = threading.Event()
        self._uplink_up = threading.Event()
        cid = cfg.uplink.client_id or f"yizhan-gw-{cfg.station}"
        self.uplink, self._up_host, self._up_port = _client(cfg.uplink, cid, clean=False)
        death = self.speaker.gateway_status(False, 0)
        self.uplink.will_set(death.topic, death.payload, qos=1, retain=True)
        self.uplink.max_inflight_messages_set(BATCH)
        self.uplink.on_connect = lambda *a: self._uplink_up.set()
        self.uplink.on_disconnect = lambda *a: self._uplink_up.clear()
        # a persistent local session: what devices publish while the gateway restarts is queued for it
        self.local, self._lo_host, self._lo_port = _client(cfg.local, f"{cid}-local", clean=False)
        self.local.on_connect = self._on_local_connect
        self.local.on_message = self._on_local_message

    # --- local side ----------------------------------------------------------------------

    def _on_local_connect(self, client, userdata, flags, reason_code, properties) -> None:
        subs = sorted({s for subs, _ in self.adapters for s in subs} | set(self.native))
        client.subscribe([(s, 1) for s in subs])
        log.info("gateway: local broker connected, %d subscriptions", len(subs))

    def _on_local_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        try:
            self._handle(msg.topic, msg.payload, bool(msg.retain))
        except Exception:  # a bug must not stop the gateway
            self.counts["errors"] += 1
            log.exception("gateway: message on %s failed", msg.topic)

    def _handle(self, topic: str, payload: bytes, retained: bool) -> None:
        if any(mqtt.topic_matches_sub(s, topic) for s in self.native):
            self.spool.append([(topic, payload, self._retained_kind(topic))])
            self.counts["passed_through"] += 1
            return
        now = int(time.time() * 1000)
        out: list[Message] = []
        for subs, adapter in self.adapters:
            if not any(mqtt.topic_matches_sub(s, topic) for s in subs):
                continue
            try:
                readings = adapter.translate(topic, payload)
            except AdapterError as exc:
                self.counts["malformed"] += 1
                log.warning("gateway: skipped %s: %s", topic, exc)
                continue
            with self._lock:
                for r in readings:
                    try:
                        out += self.speaker.hear(r, now, retained)
                    except PayloadError as exc:  # the server would reject it: say nothing
                        self.counts["refused"] += 1
                        log.warning("gateway: refused %s from %s: %s", r.kind, topic, exc)
            self.counts["translated"] += 1
        if out:
            self.spool.append([(o.topic, o.payload, o.retain) for o in out])

    def _retained_kind(self, topic: str) -> bool:
        """A native device's status is retained on the uplink, as docs/protocol.md § 4 says; a topic
        that is no protocol topic is passed on all the same (the server counts it)."""
        try:
            return parse_station_topic(topic, self.cfg.root).kind is TopicKind.STATUS
        except TopicError:
            return False

    # --- uplink side -------------------------------------------------------------------------

    def _drain(self) -> None:
        """Send the spool in order; remove what the central broker acknowledged."""
        while not self._stop.is_set():
            if not self._uplink_up.wait(1.0):
                continue
            batch = self.spool.oldest(BATCH)
            if not batch:
                self._stop.wait(0.2)
                continue
            started = time.monotonic()
            infos = [self.uplink.publish(t, p, qos=1, retain=r) for _, t, p, r in batch]
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not all(_published(i) for i in infos):
                if not self._uplink_up.is_set() or self._stop.is_set():
                    break  # unconfirmed rows stay in the spool: sent again, the same points
                time.sleep(0.01)
            done = 0
            for info, row in zip(infos, batch, strict=True):
                if not _published(info):
                    break
                done = row[0]
            if done:
                self.spool.remove_through(done)  # a prefix: order is kept
                self.counts["sent"] += sum(1 for row in batch if row[0] <= done)
            # pace: the server refuses a station that sends faster than its budget
            self._stop.wait(max(0.0, started + len(batch) / self.cfg.spool.send_rate - time.monotonic()))

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                out = self.speaker.tick(int(time.time() * 1000))
            if out:
                self.spool.append([(o.topic, o.payload, o.retain) for o in out])

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        birth = self.speaker.gateway_status(True, int(time.time() * 1000))
        self.spool.append([(birth.topic, birth.payload, True)])
        self.uplink.connect_async(self._up_host, self._up_port, keepalive=30)
        self.uplink.loop_start()
        self.local.connect_async(self._lo_host, self._lo_port, keepalive=30)
        self.local.loop_start()
        self._threads = [
            threading.Thread(target=f, daemon=True, name=f.__name__) for f in (self._drain, self._tick)
        ]
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        # local first: a message is acknowledged to the local broker only once it is in the spool
        self.local.disconnect()
        self.local.loop_stop()
        self._stop.set()
        for t in self._threads:
            t.join(20)
        if self._uplink_up.is_set():
            death = self.speaker.gateway_status(False, 0)
            with contextlib.suppress(RuntimeError, ValueError):
                self.uplink.publish(death.topic, death.payload, qos=1, retain=True).wait_for_publish(3)
        self.uplink.disconnect()
        self.uplink.loop_stop()
        self.spool.close()


def _published(info: mqtt.MQTTMessageInfo) -> bool:
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return False  # queued while disconnected: not sent yet


def run(config_path: str) -> int:
    cfg = load_config(Path(config_path))
    gw = Gateway(cfg)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    gw.start()
    log.info(
        "gateway for %s: %d devices, uplink %s, spool %s",
        cfg.station,
        len(cfg.devices),
        cfg.uplink.url,
        cfg.spool.path,
    )
    try:
        while not stop.wait(60):
            log.info(
                "gateway: %s, spool %d pending, %d dropped",
                dict(gw.counts),
                gw.spool.pending(),
                gw.spool.dropped(),
            )
    except KeyboardInterrupt:
        pass
    finally:
        gw.stop()
    return 0
