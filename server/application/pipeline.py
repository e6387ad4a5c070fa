"""The durable ingest pipeline: inbox → ingest → InfluxDB or spool → alerts → watermark → acknowledge.

Messages from the MQTT thread and people's alert actions from the API enter one `Inbox` and are
handled in the order they arrived. Each flush is one step, in this order:
1. the batch's points are made durable: written to InfluxDB, or appended to the local spool when
   InfluxDB is unreachable;
2. its alert transitions are stored with their outbox (and routed, streamed);
3. the durable watermark advances, with the stations and times the batch saw (audit sealing);
4. the messages are acknowledged to the broker, and the alert actions answered.
So nothing is acknowledged before it and what it caused are durable.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol

from prometheus_client import Histogram
from yizhan.server.application.ingest import AlertAction, Batch, Ingest, Message
from yizhan.server.application.ports import InfluxRejected, InfluxUnavailable, PointStore, Spool
from yizhan.server.domain.alerts import AlertTransition

log = logging.getLogger(__name__)

Acker = Callable[[list[tuple[int, int]], int], None]
_SLICE = 2000  # messages handled between yields to the event loop


async def supervised(loop: Callable[[], Awaitable[None]]) -> None:
    """Run a loop for ever: a bug in it is logged and the loop restarts, never silently gone."""
    while True:
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; restarting it", loop.__name__)
            await asyncio.sleep(0.5)


class TransitionSink(Protocol):
    """Stores alert transitions with their outbox, then routes them (the alerting service)."""

    async def persist(self, transitions: list[AlertTransition]) -> None: ...


class WatermarkListener(Protocol):
    """Told after every flush what is now durable (the audit sealer)."""

    def durable(self, seen: list[tuple[str, int]], spooled_lines: int) -> None: ...


class Inbox:
    """Where work waits for the pipeline, in arrival order: messages handed over by the MQTT
    thread, and alert actions from the API (on the event loop)."""

    def __init__(self) -> None:
        # (topic, payload, retained, mid, qos, generation) or (action, future)
        self._items: deque[tuple] = deque()
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def __len__(self) -> int:
        return len(self._items)

    def put(self, topic: str | None, payload: bytes, retained: bool, mid: int, qos: int, gen: int) -> None:
        """From the MQTT thread."""
        was_empty = not self._items
        self._items.append((topic, payload, retained, mid, qos, gen))
        if was_empty and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def act(self, action: AlertAction) -> None:
        """From the event loop: returns once the action and what it caused are durable; raises
        what the action raised (AlertError: the alert is not open)."""
        done = asyncio.get_running_loop().create_future()
        self._items.append((action, done))
        self._wake.set()
        await done


class Pipeline:
    def __init__(
        self,
        inbox: Inbox,
        ingest: Ingest,
        influx: PointStore,
        spool: Spool,
        ack: Acker,
        alerting: TransitionSink,
        sealer: WatermarkListener,
        *,
        batch_lines: int = 5000,
        flush_interval_s: float = 0.2,
    ) -> None:
        self.inbox = inbox
        self.ingest = ingest
        self.influx = influx
        self.spool = spool
        self._ack = ack
        self._alerting = alerting
        self._sealer = sealer
        self.batch_lines = batch_lines
        self.flush_interval_s = flush_interval_s
        self._batch = Batch()  # handled, not yet durable
        self._acks: list[tuple[int, int, int]] = []  # (mid, qos, generation) of the messages in it
        self._answers: list[asyncio.Future] = []  # alert actions in it
        self._flush_now = asyncio.Event()
        self._flushing = asyncio.Lock()
        self.influx_ok = True
        self.points_written = 0
        self.points_spooled = 0
        self.points_rejected = 0
        self.spool_lines = 0
        self.flushes = 0
        self.lag = Histogram(
            "yz_ingest_lag_seconds",
            "Device time to durable (in InfluxDB or the spool), sampled per flush",
            buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 300),
            registry=None,
        )
        self.watermark = 0  # completed flushes, empty ones too: "everything handled before is durable"
        self.last_flush_s = 0.0

    # --- tasks -------------------------------------------------------------------

    async def run(self) -> None:
        self.inbox._loop = asyncio.get_running_loop()
        self.inbox._wake.set()  # messages may have arrived before the loop was known
        self.spool_lines = await asyncio.to_thread(self.spool.pending_lines)
        await asyncio.gather(
            *(supervised(loop) for loop in (self._consume, self._flush_loop, self._drain_spool, self._tick))
        )

    async def _consume(self) -> None:
        items, wake = self.inbox._items, self.inbox._wake
        while True:
            await wake.wait()
            wake.clear()
            while items:
                self._take_slice(items)
                if len(self._batch.lines) >= self.batch_lines:
                    self._flush_now.set()
                await asyncio.sleep(0)

    def _take_slice(self, items: deque) -> None:
        """Up to _SLICE items in order; nothing awaits inside, so a flush sees whole items."""
        messages: list[Message] = []
        acks = self._acks
        for _ in range(min(_SLICE, len(items))):
            item = items.popleft()
            if len(item) == 2:  # an alert action: what came before it is handled first
                self._batch.extend(self.ingest.handle_many(messages))
                messages = []
                action, answer = item
                try:
                    self._batch.extend(self.ingest.act(action))
                except Exception as exc:  # AlertError: told to the caller, nothing to store
                    answer.set_exception(exc)
                else:
                    self._answers.append(answer)
                continue
            topic, payload, retained, mid, qos, gen = item
            messages.append((topic, payload, retained))
            if qos:
                acks.append((mid, qos, gen))
        self._batch.extend(self.ingest.handle_many(messages))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self._batch.extend(self.ingest.tick())

    async def _flush_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_now.wait(), self.flush_interval_s)
            self._flush_now.clear()
            await self.flush()

    async def flush(self) -> None:
        """One step: make everything handled so far durable, store what it caused, advance the
        watermark, then acknowledge it."""
        async with self._flushing:
            batch, self._batch = self._batch, Batch()
            acks, self._acks = self._acks, []
            answers, self._answers = self._answers, []
            started = time.perf_counter()
            lines = batch.lines
            for i in range(0, len(lines), self.batch_lines):
                await self._make_durable(lines[i : i + self.batch_lines])
            if lines:
                self.flushes += 1
                self.last_flush_s = time.perf_counter() - started
            await self._alerting.persist(batch.transitions)
            self.watermark += 1
            self._sealer.durable(batch.seen, self.spool_lines)
            if acks:
                self._ack_in_order(acks)
            for answer in answers:
                if not answer.done():
                    answer.set_result(None)
            if batch.message_ts:
                now = time.time() * 1000
                for ts in batch.message_ts[:: max(1, len(batch.message_ts) // 200)]:  # a sample is cheap
                    self.lag.observe(max(0.0, (now - ts) / 1000))

    def _ack_in_order(self, acks: list[tuple[int, int, int]]) -> None:
        run: list[tuple[int, int]] = []
        gen = acks[0][2]
        for mid, qos, g in acks:
            if g != gen:
                self._ack(run, gen)
                run, gen = [], g
            run.append((mid, qos))
        self._ack(run, gen)

    async def _make_durable(self, lines: list[str]) -> None:
        body = "\n".join(lines).encode()
        try:
            await self.influx.write(body)
            self.points_written += len(lines)
            self.influx_ok = True
        except InfluxRejected as exc:
            # the data itself is refused (1.x writes the good points of a partial write)
            self.points_rejected += len(lines)
            log.error("InfluxDB refused a batch of %d points: %s", len(lines), exc)
        except InfluxUnavailable as exc:
            if self.influx_ok:
                log.warning("InfluxDB unreachable, spooling: %s", exc)
            self.influx_ok = False
            await asyncio.to_thread(self.spool.append, body, len(lines))
            self.points_spooled += len(lines)
            self.spool_lines += len(lines)

    async def _drain_spool(self) -> None:
        """Replay spooled batches, oldest first, whenever InfluxDB answers."""
        while True:
            batch = await asyncio.to_thread(self.spool.oldest)
            if batch is None:
                self.spool_lines = 0
                await asyncio.sleep(1.0)
                continue
            batch_id, body = batch
            try:
                await self.influx.write(body)
            except InfluxUnavailable:
                self.influx_ok = False
                await asyncio.sleep(1.0)
                continue
            except InfluxRejected as exc:
                log.error("InfluxDB refused a spooled batch: %s", exc)
            n = body.count(b"\n") + 1
            await asyncio.to_thread(self.spool.remove, batch_id)
            self.points_written += n
            self.spool_lines = max(0, self.spool_lines - n)
            self.influx_ok = True
