"""The whole service layer, built by the composition root on fakes, in memory: messages go in
through the inbox and come out as durable points, stored alert transitions and acknowledgements,
in the order docs/architecture.md promises (durable, then alerts, then the acknowledgement)."""

import asyncio
from pathlib import Path

import orjson
import pytest
from yizhan.server.application.ports import InfluxUnavailable, Series
from yizhan.server.bootstrap import Services, build
from yizhan.server.config import Settings
from yizhan.server.domain.alerts import AlertError

from tests.unit.fakes import T0, FakeClock, station_spec


class FakePointStore:
    """InfluxDB that keeps what it is given; `down` makes it unreachable."""

    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.lines: list[str] = []
        self.down = False

    async def write(self, body: str | bytes) -> None:
        if self.down:
            raise InfluxUnavailable("down (fake)")
        text = body.decode() if isinstance(body, bytes) else body
        self.lines.extend(text.split("\n"))
        self.journal.append("durable")

    async def query(self, q: str, epoch: str = "ms") -> list[list[Series]]:
        return [[]]

    async def ping(self) -> bool:
        return not self.down

    async def close(self) -> None:
        pass


class FakeSpool:
    def __init__(self) -> None:
        self.batches: list[tuple[int, bytes, int]] = []

    def append(self, body: bytes, lines: int) -> None:
        self.batches.append((len(self.batches) + 1, body, lines))

    def oldest(self) -> tuple[int, bytes] | None:
        return (self.batches[0][0], self.batches[0][1]) if self.batches else None

    def remove(self, batch_id: int) -> None:
        self.batches = [b for b in self.batches if b[0] != batch_id]

    def pending_lines(self) -> int:
        return sum(b[2] for b in self.batches)

    def close(self) -> None:
        pass


class FakeBroker:
    """The MQTT link: records acknowledgements and publications; nothing on the network."""

    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.acked: list[int] = []
        self.runs: list[tuple[int, list[int]]] = []  # (connection generation, mids) per ack call
        self.connected = True

    def __call__(self, settings: Settings, sink: object) -> "FakeBroker":
        return self  # the composition root calls the factory with the settings and the inbox

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def ack(self, acks: list[tuple[int, int]], generation: int) -> None:
        self.acked.extend(mid for mid, _ in acks)
        self.runs.append((generation, [mid for mid, _ in acks]))
        self.journal.append(f"ack {[mid for mid, _ in acks]}")

    def publish_confirmed(self, topic: str, payload: bytes, timeout_s: float = 5.0) -> bool:
        return True


@pytest.fixture
def layer(tmp_path: Path) -> tuple[Services, FakePointStore, FakeBroker, list[str]]:
    journal: list[str] = []
    influx, broker = FakePointStore(journal), FakeBroker(journal)
    settings = Settings(data_dir=tmp_path, flush_interval_ms=20, alert_reminder_min=0, alert_escalation_min=0)
    services = build(settings, clock=FakeClock(T0), influx=influx, spool=FakeSpool(), mqtt_link=broker)
    services.registry.put_station("st-1", station_spec())
    services.fleet.register("st-1", station_spec())
    record = services.alerting.store.record

    def recording(items, now_ms):  # the journal shows when transitions are stored
        journal.append(f"stored {[str(t.kind) for t, *_ in items]}")
        record(items, now_ms)

    services.alerting.store.record = recording  # type: ignore[method-assign]
    return services, influx, broker, journal


def message(topic: str, body: dict, mid: int, generation: int = 1) -> tuple:
    return (topic, orjson.dumps(body), False, mid, 1, generation)


async def until(predicate, what: str) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_message_travels_through_the_service_layer_to_its_acknowledgement(layer) -> None:
    services, influx, broker, journal = layer
    task = asyncio.create_task(services.pipeline.run())
    try:
        inbox = services.inbox
        inbox.put(*message("yz/stations/st-1/water/status", {"state": "online", "ts": T0, "boot": 1}, 11))
        leak = {"ts": T0 + 1000, "seq": 1, "boot": 1, "event": "fault", "data": {"code": "leak"}}
        inbox.put(*message("yz/stations/st-1/water/event", leak, 12))
        await until(lambda: 12 in broker.acked, "the acknowledgement of the leak event")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert broker.acked == [11, 12]
    # the point of every message, with its deterministic key (ts ms × 10⁶ + seq)
    assert any(
        line.startswith("events,") and line.endswith(f" {(T0 + 1000) * 1_000_000 + 1}")
        for line in influx.lines
    )
    assert any(line.startswith("alerts,") and "rule=fault:leak" in line for line in influx.lines)
    (alert,) = services.alerting.store.alerts(state="firing")
    assert (alert.station, alert.device, alert.rule, alert.severity) == (
        "st-1",
        "water",
        "fault:leak",
        "critical",
    )
    # durable first, then the transition stored, then the acknowledgement
    first_ack = next(i for i, e in enumerate(journal) if e.startswith("ack") and "12" in e)
    stored = next(i for i, e in enumerate(journal) if e == "stored ['firing']")
    durable = max(i for i, e in enumerate(journal[:stored]) if e == "durable")
    assert durable < stored < first_ack


async def test_an_acknowledgement_goes_through_the_pipeline_and_an_unknown_alert_is_refused(layer) -> None:
    services, influx, broker, _journal = layer
    task = asyncio.create_task(services.pipeline.run())
    try:
        leak = {"ts": T0, "seq": 1, "boot": 1, "event": "fault", "data": {"code": "leak"}}
        services.inbox.put(*message("yz/stations/st-1/water/event", leak, 21))
        await until(lambda: 21 in broker.acked, "the leak")
        (fired,) = services.alerting.store.alerts(state="firing")
        acked = await services.alerting.acknowledge(fired.id, "王师傅", "在路上")
        assert (acked.state, acked.acknowledged_by) == ("acknowledged", "王师傅")
        # stored only once its point is durable: the acknowledgement is in InfluxDB already
        assert any(line.startswith("alerts,") and 'state="acknowledged"' in line for line in influx.lines)
        with pytest.raises(AlertError):
            await services.alerting.acknowledge(fired.id + 100, "王师傅", None)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_while_influxdb_is_down_messages_are_spooled_and_still_acknowledged(layer) -> None:
    services, influx, broker, _journal = layer
    influx.down = True
    task = asyncio.create_task(services.pipeline.run())
    try:
        telemetry = {"ts": T0, "seq": 1, "boot": 1, "data": {"water_temp_c": 92.5}}
        services.inbox.put(*message("yz/stations/st-1/water/telemetry", telemetry, 31))
        await until(lambda: 31 in broker.acked, "the acknowledgement")
        assert services.spool.pending_lines() >= 1 and not influx.lines
        influx.down = False
        await until(lambda: not services.spool.batches, "the spool to drain")
        assert any(line.startswith("water_dispenser,") for line in influx.lines)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_an_open_alert_is_listed_only_once_it_is_stored_so_it_can_be_acted_on(layer) -> None:
    services, *_ = layer
    leak = {"ts": T0, "seq": 1, "boot": 1, "event": "fault", "data": {"code": "leak"}}
    batch = services.ingest.handle_many([("yz/stations/st-1/water/event", orjson.dumps(leak), False)])
    assert services.alerting.engine.open, "the engine fired"
    assert services.alerting.open_alerts() == []  # not stored yet: an acknowledgement would find nothing
    await services.alerting.persist(batch.transitions)
    (listed,) = services.alerting.open_alerts()
    assert services.alerting.store.alert(listed.id) is not None


async def test_acknowledgements_keep_arrival_order_and_go_to_the_connection_that_delivered_them(
    layer,
) -> None:
    """A reconnect starts a new connection generation: a message id belongs to the connection it
    came on (the broker resends what was not acknowledged on the old one)."""
    services, _influx, broker, _journal = layer
    task = asyncio.create_task(services.pipeline.run())
    try:
        topic = "yz/stations/st-1/door/telemetry"
        for n, (mid, gen) in enumerate([(5, 1), (6, 1), (1, 2), (2, 2)]):
            services.inbox.put(
                *message(topic, {"ts": T0 + n, "seq": n, "boot": 1, "data": {"open": False}}, mid, gen)
            )
        await until(lambda: 2 in broker.acked and 6 in broker.acked, "all four acknowledgements")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert broker.runs == [(1, [5, 6]), (2, [1, 2])]
