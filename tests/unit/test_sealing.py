"""Audit sealing in process, on a fake InfluxDB: a station's local day is sealed into the chain once
it has ended (plus the grace period) and only after the pipeline's watermark says everything
handled before is durable; a spool backlog postpones it; late data for a sealed day seals a new
version."""

import asyncio
from datetime import date
from pathlib import Path

import pytest
from yizhan.server.adapters.sqlite.audit_store import AuditStore
from yizhan.server.application.ports import Series
from yizhan.server.application.sealing import GRACE_MS, AuditSealer

from tests.unit.fakes import FakeClock, fleet_with

DAY = date(2026, 3, 2)
DAY_START = 1_772_380_800_000  # 2026-03-02 00:00 in Asia/Shanghai
DAY_MS = 86_400_000


class EmptyInflux:
    """InfluxDB with nothing stored: every statement answers no series."""

    def __init__(self) -> None:
        self.queries = 0

    async def write(self, body: str | bytes) -> None:
        pass

    async def query(self, q: str, epoch: str = "ms") -> list[list[Series]]:
        self.queries += 1
        return [[] for _ in q.split(";")]


@pytest.fixture
def sealer(tmp_path: Path) -> AuditSealer:
    return AuditSealer(
        AuditStore(tmp_path / "audit.sqlite"),
        fleet_with("st-1"),
        EmptyInflux(),
        FakeClock(DAY_START + 3_600_000),
        "Asia/Shanghai",
    )


async def settle() -> None:
    await asyncio.sleep(0.05)


async def flushes_until_done(sealer: AuditSealer, task: asyncio.Task) -> object:
    """The pipeline flushes every few milliseconds; each flush advances the watermark."""
    for _ in range(500):
        if task.done():
            return task.result()
        sealer.durable([], 0)
        await asyncio.sleep(0.01)
    raise AssertionError("sealing never finished")


async def test_a_day_is_sealed_after_it_ends_and_only_once_the_watermark_has_moved_past_it(sealer) -> None:
    sealer.durable([("st-1", DAY_START + 3_600_000)], 0)  # the pipeline saw st-1 on that day
    assert await sealer.seal_due() == 0  # the day has not ended

    sealer.clock.now = DAY_START + DAY_MS + GRACE_MS
    sealing = asyncio.create_task(sealer.seal_due())
    await settle()
    assert not sealing.done(), "sealing must wait for a flush that began after it asked"
    assert sealer.store.head()["seq"] == 0
    assert await flushes_until_done(sealer, sealing) == 1
    (record,) = sealer.store.latest("st-1", DAY.isoformat(), DAY.isoformat()).values()
    assert (record["station"], record["date"], record["version"]) == ("st-1", DAY.isoformat(), 1)
    assert sealer.store.verify()[1] is None


async def test_points_still_in_the_spool_postpone_sealing(sealer) -> None:
    sealer.durable([("st-1", DAY_START + 3_600_000)], 120)  # 120 points wait in the spool
    sealer.clock.now = DAY_START + DAY_MS + GRACE_MS
    assert await sealer.seal_due() == 0
    assert sealer.store.head()["seq"] == 0


async def test_late_data_for_a_sealed_day_marks_it_for_sealing_again(sealer) -> None:
    sealer.durable([("st-1", DAY_START + 3_600_000)], 0)
    sealer.clock.now = DAY_START + DAY_MS + GRACE_MS
    first = asyncio.create_task(sealer.seal_due())
    await settle()
    await flushes_until_done(sealer, first)

    sealer.durable([("st-1", DAY_START + 7_200_000)], 0)  # a gateway replays that day late
    assert sealer.store.dirty() == [] and sealer._dirty == {("st-1", DAY.isoformat())}
    again = asyncio.create_task(sealer.seal_due())
    await settle()
    assert await flushes_until_done(sealer, again) == 1
    assert sealer.store.dirty() == [] and not sealer._dirty
