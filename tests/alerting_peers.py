"""The far ends of alert delivery, real and in-process: a webhook receiver, an MQTT alert
subscriber, and an SSE client of the server's alert stream."""

import http.server
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from yizhan.protocol.topics import alert_subscription

from yizhan.localstack import Broker, free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class WebhookReceiver:
    """An HTTP server that records every POST; `stop()` makes the port refuse connections."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(Received(self.path, dict(self.headers.items()), body, time.time()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def bodies(self, path: str | None = None) -> list[dict[str, Any]]:
        return [r.json() for r in list(self.received) if path is None or r.path == path]


class MqttAlertWatcher:
    """Subscribes to `{root}/alerts/#` and keeps (topic, payload) in arrival order."""

    def __init__(self, broker: Broker, root: str) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"alert-watch-{free_port()}")
        subscribed = threading.Event()
        self.client.on_connect = lambda c, *a: c.subscribe(alert_subscription(root), qos=1)
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, json.loads(m.payload)))
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert subscribed.wait(10), "alert watcher could not subscribe"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class SseClient:
    """Reads `GET /api/v1/alerts/stream` in a thread and keeps the parsed `alert` events."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    connected: threading.Event = field(default_factory=threading.Event)
    _stop: bool = False

    def start(self) -> "SseClient":
        threading.Thread(target=self._read, daemon=True).start()
        assert self.connected.wait(10), "SSE stream did not open"
        return self

    def _read(self) -> None:
        try:
            self._follow()
        except httpx.HTTPError:
            if not self._stop:
                raise

    def _follow(self) -> None:
        with httpx.Client(timeout=None) as http, http.stream("GET", self.url, headers=self.headers) as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            self.connected.set()
            event, data = None, []
            for line in resp.iter_lines():
                if self._stop:
                    return
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "":
                    if event == "alert" and data:
                        self.events.append(json.loads("\n".join(data)))
                    event, data = None, []

    def stop(self) -> None:
        self._stop = True
