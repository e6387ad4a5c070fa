"""The protocol's builders against its decoders, property-based: what a builder makes decodes to the
message it was given (decode(build(x)) == x), a builder refuses exactly what a receiver would reject
and for the same reason, and the vocabularies are enums that still read and serialise as strings."""

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.events import EVENT_DATA_MODELS, EventName
from yizhan.protocol.ids import DEVICE_TYPES
from yizhan.protocol.messages import Message, device_message, state_message
from yizhan.protocol.payloads import (
    Birth,
    Death,
    GenericData,
    PayloadError,
    StationState,
    build_birth,
    build_death,
    build_event,
    build_station_state,
    build_telemetry,
    data_model,
    decode_event,
    decode_station_state,
    decode_status,
    decode_telemetry,
)
from yizhan.protocol.rejections import RejectionReason
from yizhan.protocol.station_state import StateSource
from yizhan.protocol.topics import TopicError, TopicKind, device_subscription, device_topic, state_topic
from yizhan.server.application.ingest import REJECTION_REASONS

pytestmark = pytest.mark.fast

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- valid field values, by docs/protocol.md's field tables ------------------------------------

TS = st.none() | st.integers(0, 32503680000000)
SEQ = st.integers(0, 2**53)
BOOT = st.integers(-(2**63), 2**63 - 1)
NUMBER = st.integers(-(10**9), 10**9) | st.floats(allow_nan=False, allow_infinity=False)
PERCENT = st.integers(0, 100) | st.floats(0, 100)
COUNTER = st.integers(0, 10**9) | st.floats(0, 1e12)
SHORT_TEXT = st.text(max_size=256)
CODE = st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True)
NAME = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
FAULTS = st.lists(CODE, max_size=64)
SCALAR = st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | SHORT_TEXT
NEW_TYPE = NAME.filter(lambda n: n not in DEVICE_TYPES)


def some_of(**fields: st.SearchStrategy) -> st.SearchStrategy[dict[str, Any]]:
    """Any subset of the fields: every data field is optional."""
    return st.fixed_dictionaries({}, optional=fields)


DATA = {
    DeviceType.DOOR_SENSOR: some_of(
        open=st.booleans(), battery_pct=PERCENT, rssi_dbm=st.integers(-200, 0), faults=FAULTS
    ),
    DeviceType.WATER_DISPENSER: some_of(
        water_temp_c=NUMBER,
        tank_level_pct=PERCENT,
        heater_on=st.booleans(),
        dispensed_l_total=COUNTER,
        faults=FAULTS,
    ),
    DeviceType.POWER_STRIP: some_of(
        voltage_v=NUMBER,
        current_a=NUMBER,
        power_w=NUMBER,
        energy_kwh_total=COUNTER,
        outlets=st.lists(some_of(on=st.booleans(), power_w=NUMBER), max_size=32),
        faults=FAULTS,
    ),
    DeviceType.SMART_SPEAKER: some_of(
        volume_pct=PERCENT, rssi_dbm=st.integers(-200, 0), interactions_total=COUNTER, faults=FAULTS
    ),
}
# a gateway, an `other` device or a newer type: flat fields (a nested one is kept but not stored)
FLAT = st.dictionaries(
    NAME.filter(lambda n: n != "faults"), SCALAR | st.lists(SCALAR, max_size=3), max_size=8
)
TYPED_DATA = st.one_of(
    *(st.tuples(st.just(t), d) for t, d in DATA.items()),
    st.tuples(st.sampled_from([DeviceType.GATEWAY, DeviceType.OTHER]) | NEW_TYPE, FLAT),
)
EVENT_DATA = {
    EventName.DOOR: st.fixed_dictionaries({"open": st.booleans()}),
    EventName.DISPENSE: st.fixed_dictionaries({"volume_ml": st.integers(0, 100_000) | st.floats(0, 100_000)}),
    EventName.INTERACTION: some_of(intent=st.text(max_size=64)),
    EventName.FAULT: st.fixed_dictionaries(
        {"code": CODE},
        optional={"severity": st.sampled_from(["info", "minor", "major", "critical"]), "message": SHORT_TEXT},
    ),
    EventName.FAULT_CLEARED: st.fixed_dictionaries({"code": CODE}),
}
NAMED_EVENT = st.one_of(
    *(st.tuples(st.just(n), d) for n, d in EVENT_DATA.items()),
    st.tuples(NAME.filter(lambda n: n not in set(EventName)), FLAT),
)


# --- decode(build(x)) == x ------------------------------------------------------------------


@PROPERTY
@given(
    boot=BOOT,
    ts=TS,
    type=st.sampled_from(list(DeviceType)) | NEW_TYPE,
    interval_s=st.integers(1, 86400),
    fw=st.none() | SHORT_TEXT,
)
def test_a_birth_decodes_to_the_birth_it_was_built_from(**fields: Any) -> None:
    birth = decode_status(build_birth(**fields))
    assert birth == Birth(state="online", **fields)
    assert decode_status(build_birth(**fields_of(birth))) == birth


@PROPERTY
@given(boot=st.none() | BOOT, ts=TS)
def test_a_death_decodes_to_the_death_it_was_built_from(**fields: Any) -> None:
    death = decode_status(build_death(**fields))
    assert death == Death(state="offline", **fields)
    assert decode_status(build_death(**fields_of(death))) == death


def test_a_last_will_is_a_death_without_a_time() -> None:
    assert orjson.loads(build_death(boot=17)) == {"state": "offline", "boot": 17}


@PROPERTY
@given(typed=TYPED_DATA, seq=SEQ, boot=BOOT, ts=TS)
def test_telemetry_of_every_type_decodes_to_the_telemetry_it_was_built_from(typed, seq, boot, ts) -> None:
    device_type, data = typed
    msg = decode_telemetry(build_telemetry(device_type, seq=seq, boot=boot, ts=ts, data=data), device_type)
    assert (msg.ts, msg.seq, msg.boot) == (ts, seq, boot)
    assert msg.data == data_model(device_type).model_validate(data)
    again = build_telemetry(device_type, seq=msg.seq, boot=msg.boot, ts=msg.ts, data=msg.data)
    assert decode_telemetry(again, device_type) == msg


@PROPERTY
@given(named=NAMED_EVENT, seq=SEQ, boot=BOOT, ts=TS)
def test_every_event_decodes_to_the_event_it_was_built_from(named, seq, boot, ts) -> None:
    name, data = named
    msg = decode_event(build_event(name, seq=seq, boot=boot, ts=ts, data=data))
    assert (msg.ts, msg.seq, msg.boot, msg.event) == (ts, seq, boot, name)
    assert msg.data == EVENT_DATA_MODELS.get(name, GenericData).model_validate(data)
    again = build_event(msg.event, seq=msg.seq, boot=msg.boot, ts=msg.ts, data=msg.data)
    assert decode_event(again) == msg


@PROPERTY
@given(
    open=st.booleans(),
    ts=TS,
    seq=st.none() | SEQ,
    source=st.none() | st.sampled_from(list(StateSource)) | st.text(max_size=32),
)
def test_a_station_state_decodes_to_the_state_it_was_built_from(**fields: Any) -> None:
    state = decode_station_state(build_station_state(**fields))
    assert state == StationState(**fields)
    assert decode_station_state(build_station_state(**fields_of(state))) == state


def fields_of(message: Any) -> dict[str, Any]:
    """A decoded status or station state as the keyword arguments of its builder."""
    return {k: v for k, v in message.__dict__.items() if k != "state"}


# --- a builder refuses what a receiver rejects, for the same reason ---------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# anything JSON can carry, and now and then too much of it
LOOSE = st.integers(0, 19).flatmap(lambda i: st.just("x" * 9000) if i == 0 else JSON_VALUES)


def reason_of(decode: Any, body: dict[str, Any]) -> RejectionReason | None:
    """What a receiver says to `body` as a device would send it by hand (stdlib JSON: NaN included)."""
    try:
        decode(json.dumps({k: v for k, v in body.items() if v is not None}).encode())
    except PayloadError as exc:
        return exc.reason
    return None


def refusal_of(build: Any, **fields: Any) -> RejectionReason | None:
    try:
        build(**fields)
    except PayloadError as exc:
        return exc.reason
    return None


def mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """A valid value three times in four, else anything: whole messages are valid often enough."""
    return st.one_of(valid, valid, valid, LOOSE)


@PROPERTY
@given(
    boot=mostly(BOOT),
    ts=mostly(TS),
    type=mostly(st.sampled_from(list(DeviceType))),
    interval_s=mostly(st.integers(1, 86400)),
    fw=mostly(SHORT_TEXT),
)
def test_a_birth_is_refused_exactly_when_a_receiver_would_reject_it(**fields: Any) -> None:
    want = reason_of(decode_status, {"state": "online", **fields})
    assert refusal_of(build_birth, **fields) == want


@PROPERTY
@given(typed=TYPED_DATA, seq=mostly(SEQ), boot=mostly(BOOT), field=NAME | LOOSE, value=LOOSE)
def test_telemetry_is_refused_exactly_when_a_receiver_would_reject_it(typed, seq, boot, field, value) -> None:
    device_type, data = typed
    data = {**data, field: value} if isinstance(field, str) else field  # one field spoilt, or all of it
    want = reason_of(lambda p: decode_telemetry(p, device_type), {"seq": seq, "boot": boot, "data": data})
    assert refusal_of(build_telemetry, device_type=device_type, seq=seq, boot=boot, data=data) == want


@PROPERTY
@given(named=NAMED_EVENT, event=st.none() | LOOSE, field=st.none() | NAME | LOOSE, value=LOOSE)
def test_an_event_is_refused_exactly_when_a_receiver_would_reject_it(named, event, field, value) -> None:
    name, data = named
    name = name if event is None else event
    data = data if field is None else {**data, field: value} if isinstance(field, str) else field
    want = reason_of(decode_event, {"seq": 1, "boot": 1, "event": name, "data": data})
    assert refusal_of(build_event, event=name, seq=1, boot=1, data=data) == want


@PROPERTY
@given(
    open=mostly(st.booleans()), seq=mostly(st.none() | SEQ), source=mostly(st.none() | st.text(max_size=32))
)
def test_a_station_state_is_refused_exactly_when_a_receiver_would_reject_it(**fields: Any) -> None:
    assert refusal_of(build_station_state, **fields) == reason_of(decode_station_state, fields)


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (
            lambda: build_telemetry("door_sensor", seq=0, boot=1, data={"battery_pct": float("nan")}),
            "bad_payload",
        ),
        (lambda: build_telemetry("door_sensor", seq=0, boot=1, data={"open": "true"}), "bad_payload"),
        (lambda: build_telemetry("other", seq=0, boot=1, data={"note": "x" * 9000}), "too_large"),
        (lambda: build_event("door", seq=0, boot=1, data={}), "bad_payload"),
        (
            lambda: build_event("fault", seq=0, boot=1, data={"code": "leak", "severity": "dire"}),
            "bad_payload",
        ),
        (lambda: build_birth(boot=1, interval_s=0), "bad_payload"),
        (lambda: build_station_state(open=True, source="s" * 33), "bad_payload"),
    ],
)
def test_builders_name_the_reason_and_the_field(build, reason) -> None:
    with pytest.raises(PayloadError) as err:
        build()
    assert err.value.reason == reason


# --- enums: the vocabularies, still strings on the wire --------------------------------------


def test_the_vocabularies_are_string_enums_equal_to_their_wire_strings() -> None:
    assert list(DeviceType) == [
        "door_sensor",
        "water_dispenser",
        "power_strip",
        "smart_speaker",
        "gateway",
        "other",
    ]
    assert tuple(DeviceType) == DEVICE_TYPES
    assert (
        set(EventName)
        == {"door", "dispense", "interaction", "fault", "fault_cleared"}
        == set(EVENT_DATA_MODELS)
    )
    assert set(StateSource) == {"staff", "lock", "schedule"}
    assert set(TopicKind) == {"status", "telemetry", "event", "state", "cmd"}
    # every reason the server counts, in the order docs/protocol.md § 14 checks them
    assert set(RejectionReason) == set(REJECTION_REASONS)
    assert list(RejectionReason)[:4] == [
        "bad_topic",
        "rate_limited",
        "unregistered_station",
        "unregistered_device",
    ]
    body = {"type": DeviceType.WATER_DISPENSER, "event": EventName.FAULT_CLEARED, "source": StateSource.LOCK}
    assert (
        orjson.loads(orjson.dumps(body))
        == json.loads(json.dumps(body))
        == {
            "type": "water_dispenser",
            "event": "fault_cleared",
            "source": "lock",
        }
    )
    assert f"{RejectionReason.NOT_JSON}" == "not_json" and {"too_large": 1}[RejectionReason.TOO_LARGE] == 1


def test_known_values_decode_to_their_members_and_newer_ones_are_kept_as_strings() -> None:
    birth = decode_status(b'{"state": "online", "boot": 1, "type": "power_strip"}')
    assert birth.type is DeviceType.POWER_STRIP
    assert decode_status(b'{"state": "online", "boot": 1}').type is DeviceType.OTHER
    assert decode_status(b'{"state": "online", "boot": 1, "type": "toaster"}').type == "toaster"
    assert (
        decode_event(b'{"seq": 0, "boot": 1, "event": "door", "data": {"open": true}}').event
        is EventName.DOOR
    )
    assert decode_event(b'{"seq": 0, "boot": 1, "event": "reboot", "data": {}}').event == "reboot"
    assert decode_station_state(b'{"open": true, "source": "lock"}').source is StateSource.LOCK
    assert decode_station_state(b'{"open": true, "source": "button"}').source == "button"
    with pytest.raises(PayloadError) as err:
        decode_status(b"{")
    assert err.value.reason is RejectionReason.NOT_JSON


# --- payloads on their topics -------------------------------------------------------------------


def test_messages_pair_payloads_with_their_topic_and_retain_flag() -> None:
    birth = device_message("st-1", "door", TopicKind.STATUS, build_birth(boot=1), root="yz")
    assert (birth.topic, birth.retain) == ("yz/stations/st-1/door/status", True)
    tele = device_message(
        "st-1", "door", TopicKind.TELEMETRY, build_telemetry("door_sensor", seq=0, boot=1, data={})
    )
    assert (tele.topic, tele.retain) == ("yz/stations/st-1/door/telemetry", False)
    state = state_message("st-1", build_station_state(open=True), root="x")
    assert (state.topic, state.retain) == ("x/stations/st-1/state", True)
    assert device_subscription("st-1", "speaker") == "yz/stations/st-1/speaker/+"


@pytest.mark.parametrize(
    "make",
    [
        lambda: device_topic("St-1", "door", TopicKind.STATUS),
        lambda: device_topic("st-1", "door/x", TopicKind.EVENT),
        lambda: device_topic("st-1", "door", TopicKind.STATE),
        lambda: state_topic("st 1"),
        lambda: device_subscription("st-1", "+"),
        lambda: Message("yz/stations/st-1/door/whatever", b"{}"),
    ],
)
def test_a_topic_builder_refuses_what_the_topic_parser_rejects(make) -> None:
    with pytest.raises(TopicError) as err:
        make()
    assert err.value.reason is RejectionReason.BAD_TOPIC
