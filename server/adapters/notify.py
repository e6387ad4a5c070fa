"""Delivering alert notifications from the outbox: signed webhooks, MQTT, and the live SSE stream.

Per target (a crew's webhook, an MQTT topic) deliveries go strictly in order: the oldest pending
one is retried with backoff until the receiver takes it, and nothing behind it overtakes it.
"""

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from yizhan.server.adapters.sqlite.alert_store import AlertStore, OutboxRow

log = logging.getLogger(__name__)

GIVE_UP_AFTER_MS = 24 * 3600 * 1000
MAX_BACKOFF_S = 15.0


def signature(secret: str, body: bytes) -> str:
    """The `X-Yizhan-Signature` header value: `sha256=` and the hex HMAC of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_s(attempts: int) -> float:
    """Seconds before the next try after `attempts` failures: 1, 2, 4, 8, then every 15."""
    return min(MAX_BACKOFF_S, 2.0 ** max(0, attempts - 1))


class AlertStream:
    """Fan-out of alert transitions to the connected SSE clients; a slow client loses, never blocks."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._size = queue_size
        self.dropped = 0

    def publish(self, event: dict[str, Any]) -> None:
        for q in self._queues:
            try:
                q.put_nowait(event)
            except asyncio.QueueFull:
                self.dropped += 1

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(self._size)
        self._queues.add(q)
        try:
            yield q
        finally:
            self._queues.discard(q)


MqttPublish = Callable[[str, bytes], bool]  # blocking: True once the broker has the message


def _now_ms() -> int:
    return int(time.time() * 1000)


class Deliverer:
    """Sends the outbox's deliveries. `now_ms` (the wall clock) and `transport` (the network) are
    parameters so that the retry schedule can be tested on a fake clock and a fake receiver."""

    def __init__(
        self,
        store: AlertStore,
        mqtt_publish: MqttPublish,
        secret_of: Callable[[str], str | None],
        *,
        now_ms: Callable[[], int] = _now_ms,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.store = store
        self._mqtt_publish = mqtt_publish
        self._secret_of = secret_of
        self._now_ms = now_ms
        self._wake = asyncio.Event()
        self._http = httpx.AsyncClient(timeout=10.0, transport=transport)
        self.delivered = 0
        self.attempts_failed = 0
        self.given_up = 0

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        await self._http.aclose()

    async def run(self) -> None:
        while True:
            if await self.deliver_due():
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)

    async def deliver_due(self) -> int:
        """One round: each target's oldest pending delivery, if its time has come, is tried once.
        Returns how many were tried."""
        rows = await asyncio.to_thread(self.store.due_deliveries, self._now_ms())
        if rows:
            await asyncio.gather(*(self._attempt(r) for r in rows))
        return len(rows)

    async def _attempt(self, row: OutboxRow) -> None:
        try:
            if row.channel == "webhook":
                await self._webhook(row)
            else:
                ok = await asyncio.to_thread(self._mqtt_publish, row.target, row.body)
                if not ok:
                    raise ConnectionError("MQTT broker did not take the alert")
        except Exception as exc:  # any failure of the receiver: retry later, in order
            now = self._now_ms()
            self.attempts_failed += 1
            give_up = now - row.created_ms > GIVE_UP_AFTER_MS
            if give_up:
                self.given_up += 1
                log.error("giving up delivery %d to %s: %s", row.id, row.target, exc)
            retry_at = None if give_up else now + int(backoff_s(row.attempts + 1) * 1000)
            await asyncio.to_thread(self.store.failed, row.id, f"{type(exc).__name__}: {exc}", retry_at, now)
            return
        self.delivered += 1
        await asyncio.to_thread(self.store.delivered, row.id, self._now_ms())

    async def _webhook(self, row: OutboxRow) -> None:
        if not row.url:
            raise ValueError("crew has no webhook URL")
        headers = {"Content-Type": "application/json", "X-Yizhan-Delivery": str(row.id)}
        secret = self._secret_of(row.target)
        if secret:
            headers["X-Yizhan-Signature"] = signature(secret, row.body)
        resp = await self._http.post(row.url, content=row.body, headers=headers)
        if not 200 <= resp.status_code < 300:
            raise ConnectionError(f"webhook answered {resp.status_code}")
