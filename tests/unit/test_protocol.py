"""docs/protocol.md in code: topics and payload decoding."""

import pytest
from yizhan.protocol.faults import severity_of
from yizhan.protocol.payloads import (
    Birth,
    Death,
    PayloadError,
    decode_event,
    decode_station_state,
    decode_status,
    decode_telemetry,
)
from yizhan.protocol.topics import TopicError, TopicKind, parse_station_topic

pytestmark = pytest.mark.fast


def test_device_topics_parse_into_station_device_and_kind():
    t = parse_station_topic("yz/stations/st-1/water/telemetry")
    assert (t.kind, t.station, t.device) == (TopicKind.TELEMETRY, "st-1", "water")
    assert parse_station_topic("yz/stations/st-1/state").kind is TopicKind.STATE
    assert parse_station_topic("x/stations/a/b/event", root="x").kind is TopicKind.EVENT


@pytest.mark.parametrize(
    "topic",
    [
        "yz/stations/St-1/water/telemetry",  # upper case
        "yz/stations/st-1/water/telemetry/extra",
        "yz/stations/st-1/water/bogus",
        "yz/stations/st-1",
        "yz/stations/st-1/nonsense",
        "other/stations/st-1/water/telemetry",
        "yz/stations/_x/water/telemetry",  # must start with a letter or digit
        "yz/stations/" + "a" * 65 + "/water/telemetry",
    ],
)
def test_malformed_topics_are_refused(topic):
    with pytest.raises(TopicError):
        parse_station_topic(topic)


def test_birth_and_death_decode_with_defaults():
    birth = decode_status(b'{"state":"online","ts":1763784000000,"type":"water_dispenser","boot":17}')
    assert isinstance(birth, Birth) and birth.interval_s == 60 and birth.boot == 17
    death = decode_status(b'{"state":"offline","boot":17}')
    assert isinstance(death, Death) and death.ts is None


def test_power_strip_telemetry_flattens_outlets_and_joins_faults():
    t = decode_telemetry(
        b'{"ts":1,"seq":42,"boot":17,"data":{"power_w":12.5,"energy_kwh_total":3,'
        b'"outlets":[{"on":true,"power_w":3},{"on":false}],"faults":["overcurrent","x"],"future":1}}',
        "power_strip",
    )
    assert t.data.fields() == {
        "faults": "overcurrent,x",
        "power_w": 12.5,
        "energy_kwh_total": 3.0,
        "outlet0_on": True,
        "outlet0_power_w": 3.0,
        "outlet1_on": False,
    }


def test_unknown_device_types_keep_their_scalar_fields_as_floats():
    t = decode_telemetry(
        b'{"ts":1,"seq":0,"boot":1,"data":{"lux":12,"ok":true,"nested":{"a":1}}}', "air_sensor"
    )
    assert t.data.fields() == {"lux": 12.0, "ok": True}


@pytest.mark.parametrize(
    ("payload", "reason", "named"),
    [
        (b"not json", "not_json", "JSON"),
        (b'{"ts":1,"seq":1,"boot":1,"data":{"open":"true"}}', "bad_payload", "data.open"),
        (b'{"ts":1,"seq":-1,"boot":1,"data":{}}', "bad_payload", "seq"),
        (b'{"ts":1,"boot":1,"data":{}}', "bad_payload", "seq"),
        (b'{"ts":1.5,"seq":1,"boot":1,"data":{}}', "bad_payload", "ts"),
        (b'{"ts":1,"seq":1,"boot":1,"data":{"battery_pct":101}}', "bad_payload", "data.battery_pct"),
        (b'{"ts":1,"seq":1,"boot":1,"data":{"battery_pct":NaN}}', "bad_payload", "data.battery_pct"),
        (b"[1,2,3]", "bad_payload", "payload"),
        (b'{"ts":1,"seq":1,"boot":1,"data":{}}' + b" " * 9000, "too_large", "8192"),  # the limit
    ],
)
def test_bad_telemetry_is_refused_with_its_reason_and_a_detail_naming_the_field_or_the_problem(
    payload, reason, named
):
    with pytest.raises(PayloadError) as err:
        decode_telemetry(payload, "door_sensor")
    assert err.value.reason == reason
    assert named in err.value.detail


def test_events_validate_their_data_by_event_name():
    e = decode_event(b'{"ts":5,"seq":43,"boot":17,"event":"door","data":{"open":true}}')
    assert e.data.open is True
    with pytest.raises(PayloadError, match=r"data\.volume_ml"):
        decode_event(b'{"ts":5,"seq":1,"boot":1,"event":"dispense","data":{"volume_ml":"a lot"}}')
    unknown = decode_event(b'{"ts":5,"seq":1,"boot":1,"event":"lid_opened","data":{"angle":30}}')
    assert unknown.event == "lid_opened"


def test_status_with_unknown_state_names_the_state_field():
    with pytest.raises(PayloadError, match="state"):
        decode_status(b'{"state":"sleeping","boot":1}')


def test_station_state_needs_a_boolean_open():
    assert decode_station_state(b'{"ts":1,"seq":3,"open":true,"source":"staff"}').open is True
    with pytest.raises(PayloadError, match="open"):
        decode_station_state(b'{"open":1}')


def test_fault_severity_comes_from_the_event_else_the_catalog_else_major():
    assert severity_of("dry_boil") == "critical"
    assert severity_of("dry_boil", "minor") == "minor"
    assert severity_of("mystery") == "major"
