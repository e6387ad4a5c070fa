"""Hostile input, property-based: whatever bytes arrive on whatever topic, ingest rejects them
with a reason or accepts them — no exception escapes, and the good message after them is stored."""

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.payloads import (
    PayloadError,
    decode_event,
    decode_station_state,
    decode_status,
    decode_telemetry,
)
from server.domain.alerts import AlertEngine
from server.ingest import REJECTION_REASONS, Ingest
from tests.unit.fakes import T0, FakeClock, fleet_with

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
            assert exc.reason in REJECTION_REASONS


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(st.tuples(TOPICS, PAYLOADS, st.booleans()), min_size=1, max_size=10))
def test_ingest_survives_any_message_sequence_and_still_stores_the_next_good_one(messages) -> None:
    fleet = fleet_with("st-1")
    ingest = Ingest(fleet, FakeClock(), alerts=AlertEngine(fleet))
    for topic, payload, retained in messages:
        ingest.handle(topic, payload, retained)
        ingest.tick()
    good = {"ts": T0, "seq": 10**9, "boot": 99, "data": {"water_temp_c": 90.0}}
    assert ingest.handle("yz/stations/st-1/water/telemetry", orjson.dumps(good))
    lines = ingest.take_lines()[0]
    assert any(x.startswith("water_dispenser,") and "seq=1000000000i" in x for x in lines)
    assert sum(ingest.rejected.values()) + sum(ingest.accepted.values()) <= len(messages) + 1
