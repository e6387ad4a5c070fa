"""Hostile input, property-based: whatever bytes arrive on whatever topic, ingest rejects them
with a reason or accepts them — no exception escapes, and the good message after them is stored."""

import tracemalloc

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.payloads import (
    PayloadError,
    build_telemetry,
    decode_event,
    decode_station_state,
    decode_status,
    decode_telemetry,
)
from yizhan.protocol.rejections import RejectionReason
from yizhan.protocol.topics import TopicKind, device_topic
from yizhan.server.application.ingest import REJECTION_REASONS, Ingest
from yizhan.server.domain.alerts import AlertEngine
from yizhan.server.domain.budget import StationBudget

from tests.unit.fakes import T0, FakeClock, fleet_with


def water_topic(station: str = "st-1") -> str:
    return device_topic(station, "water", TopicKind.TELEMETRY)


def water(seq: int, ts: int = T0, boot: int = 99, temp_c: float = 90.0) -> bytes:
    """A good message: built, so it is what a receiver must accept."""
    return build_telemetry(
        DeviceType.WATER_DISPENSER, ts=ts, seq=seq, boot=boot, data={"water_temp_c": temp_c}
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
KEYS = st.sampled_from(["ts", "seq", "boot", "data", "event", "state", "open", "type", "interval_s", "code"])
PAYLOADS = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(orjson.dumps),
    st.dictionaries(KEYS, JSON_VALUES, max_size=6).map(orjson.dumps),
    st.just(b"{" * 9000),
)
TOPICS = st.one_of(
    st.sampled_from(
        [
            "yz/stations/st-1/water/telemetry",
            "yz/stations/st-1/door/event",
            "yz/stations/st-1/power/status",
            "yz/stations/st-1/state",
            "yz/stations/nobody/water/telemetry",
            "yz/stations/st-1/ghost/event",
        ]
    ),
    st.text(max_size=60).map(lambda t: "yz/stations/" + t),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=PAYLOADS)
def test_the_decoders_raise_only_payload_errors(payload: bytes) -> None:
    for decode in (
        decode_status,
        decode_event,
        decode_station_state,
        lambda p: decode_telemetry(p, "power_strip"),
    ):
        try:
            decode(payload)
        except PayloadError as exc:
            assert isinstance(exc.reason, RejectionReason) and exc.reason in REJECTION_REASONS


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(st.tuples(TOPICS, PAYLOADS, st.booleans()), min_size=1, max_size=10))
def test_ingest_survives_any_message_sequence_and_still_stores_the_next_good_one(messages) -> None:
    fleet = fleet_with("st-1")
    ingest = Ingest(fleet, FakeClock(), alerts=AlertEngine(fleet))
    for topic, payload, retained in messages:
        ingest.handle(topic, payload, retained)
        ingest.tick()
    assert ingest.handle(water_topic(), water(10**9))
    lines = ingest.take_batch().lines
    assert any(x.startswith("water_dispenser,") and "seq=1000000000i" in x for x in lines)
    assert sum(ingest.rejected.values()) + sum(ingest.accepted.values()) <= len(messages) + 1


def test_memory_stays_bounded_under_a_flood_of_made_up_senders_and_skewed_clocks(monkeypatch) -> None:
    """What ingest remembers about bad senders is capped: once past the caps, more made-up ids
    and skewed clocks cost no more memory (measured with tracemalloc), and are all counted."""
    # the real cap is 100,000: same code
    monkeypatch.setattr("yizhan.server.application.ingest._SKEW_MEMORY", 5_000)
    fleet = fleet_with("st-1")
    ingest = Ingest(fleet, FakeClock(), alerts=AlertEngine(fleet))

    def flood(start: int, n: int) -> None:
        for i in range(start, start + n):
            ingest.handle(f"yz/stations/made-up-{i}/water/telemetry", b"{}")
            ingest.handle(f"yz/stations/st-1/ghost-{i}/event", b"{}")
            ingest.handle(water_topic(), water(i, ts=T0 + 10**9, boot=1, temp_c=20.0))
        ingest.take_batch()

    flood(0, 12_000)  # past every cap
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    flood(12_000, 30_000)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 1_000_000, f"ingest kept {grown} bytes more for 90,000 more hostile messages"
    assert len(ingest.unregistered) == 10_000
    assert len(ingest._skew_ts) <= 5_001
    assert ingest.rejected["unregistered_station"] == 42_000
    assert ingest.rejected["unregistered_device"] == 42_000
    assert ingest.clock_skew == 42_000


def test_a_station_over_its_budget_is_refused_and_counted_the_others_are_not_touched() -> None:
    budget = StationBudget(rate=2.0, burst=3)
    assert [budget.take("noisy", 0.0) for _ in range(5)] == [True, True, True, False, False]
    assert budget.take("quiet", 0.0)
    assert budget.take("noisy", 0.5)  # one token back after half a second at 2/s
    assert not budget.take("noisy", 0.5)
    assert [budget.take("noisy", 10.0) for _ in range(4)] == [True, True, True, False]  # burst caps
    assert budget.report() == {"noisy": 4}
    assert budget.report() == {}


def test_ingest_refuses_messages_over_a_stations_budget_with_a_reason() -> None:
    fleet = fleet_with("st-1", "st-2")
    ingest = Ingest(fleet, FakeClock(), budget=StationBudget(rate=0.001, burst=2))
    got = [ingest.handle(water_topic(), water(i, boot=1, temp_c=20.0)) for i in range(4)]
    assert got == [True, True, False, False]
    assert ingest.rejected["rate_limited"] == 2
    assert ingest.handle(water_topic("st-2"), water(9, boot=1, temp_c=20.0))
    # a made-up station is refused as unregistered, and gets no bucket
    assert not ingest.handle(water_topic("ghost"), water(1, boot=1, temp_c=20.0))
    assert ingest.rejected["unregistered_station"] == 1
    assert set(ingest.budget._buckets) == {"st-1", "st-2"}
