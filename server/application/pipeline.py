"""The durable ingest pipeline: MQTT thread → Ingest → InfluxDB or spool → acknowledge.

A message is acknowledged to the broker only after the batch holding its points is durable:
written to InfluxDB, or appended to the local spool when InfluxDB is unreachable. Messages are
taken from the network thread in bulk, so there is no await per message.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from prometheus_client import Histogram
from yizhan.server.application.ingest import Ingest
from yizhan.server.application.ports import InfluxRejected, InfluxUnavailable, PointStore, Spool

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


class Pipeline:
    def __init__(
        self,
        ingest: Ingest,
        influx: PointStore,
        spool: Spool,
        ack: Acker,
        *,
        batch_lines: int = 5000,
        flush_interval_s: float = 0.2,
        before_ack: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.ingest = ingest
        self.influx = influx
        self.spool = spool
        self._ack = ack
        self._before_ack = before_ack  # makes what the messages caused durable too (alerts)
        self.batch_lines = batch_lines
        self.flush_interval_s = flush_interval_s
        self._inbox: deque[tuple[str | None, bytes, bool, int, int, int]] = deque()
        self._acks: list[tuple[int, int, int]] = []  # (mid, qos, generation)
        self._wake = asyncio.Event()
        self._flush_now = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
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
        self.flush_rounds = 0  # completed flushes, empty ones too: "everything handled before is durable"
        self.last_flush_s = 0.0

    # --- from the MQTT thread --------------------------------------------------

    def submit(self, topic: str | None, payload: bytes, retained: bool, mid: int, qos: int, gen: int) -> None:
        was_empty = not self._inbox
        self._inbox.append((topic, payload, retained, mid, qos, gen))
        if was_empty and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # --- tasks -------------------------------------------------------------------

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake.set()  # messages may have arrived before the loop was known
        self.spool_lines = await asyncio.to_thread(self.spool.pending_lines)
        await asyncio.gather(
            *(supervised(loop) for loop in (self._consume, self._flush_loop, self._drain_spool, self._tick))
        )

    async def _consume(self) -> None:
        inbox, ingest = self._inbox, self.ingest
        while True:
            await self._wake.wait()
            self._wake.clear()
            while inbox:
                acks = self._acks  # flush() swaps the list; nothing awaits inside a slice
                for _ in range(min(_SLICE, len(inbox))):
                    topic, payload, retained, mid, qos, gen = inbox.popleft()
                    ingest.handle(topic, payload, retained)
                    if qos:
                        acks.append((mid, qos, gen))
                if len(ingest.lines) >= self.batch_lines:
                    self._flush_now.set()
                await asyncio.sleep(0)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.ingest.tick()

    async def _flush_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_now.wait(), self.flush_interval_s)
            self._flush_now.clear()
            await self.flush()

    async def flush(self) -> None:
        """Make everything handled so far durable, then acknowledge it."""
        lines, message_ts = self.ingest.take_lines()
        acks, self._acks = self._acks, []
        started = time.perf_counter()
        for i in range(0, len(lines), self.batch_lines):
            await self._make_durable(lines[i : i + self.batch_lines])
        if lines:
            self.flushes += 1
            self.last_flush_s = time.perf_counter() - started
        if self._before_ack is not None:
            await self._before_ack()
        if acks:
            self._ack_in_order(acks)
        self.flush_rounds += 1
        if message_ts:
            now = time.time() * 1000
            for ts in message_ts[:: max(1, len(message_ts) // 200)]:  # a sample keeps this cheap
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
