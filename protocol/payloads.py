"""Every payload of docs/protocol.md in one import: the models, decoders (bytes in, a validated message
out, or a PayloadError with its reason) and builders (fields in, JSON bytes out, refused with the
same PayloadError a receiver would raise) of status, telemetry, events and station state.

Every model ignores unknown keys (forward compatible), refuses NaN/Infinity and coerces nothing:
`"open": "true"` is a wrong type, not a truthy string. Each message kind lives in its own module;
this one gathers them for their users.
"""

from yizhan.protocol.events import (
    EVENT_DATA_MODELS,
    DispenseEventData,
    DoorEventData,
    Event,
    EventName,
    FaultClearedEventData,
    FaultEventData,
    InteractionEventData,
    build_event,
    decode_event,
    event_fields,
)
from yizhan.protocol.rejections import PayloadError, RejectionReason
from yizhan.protocol.station_state import StateSource, StationState, build_station_state, decode_station_state
from yizhan.protocol.status import DEFAULT_INTERVAL_S, Birth, Death, build_birth, build_death, decode_status
from yizhan.protocol.telemetry import (
    DATA_MODELS,
    DeviceData,
    DoorSensorData,
    GenericData,
    Outlet,
    PowerStripData,
    SmartSpeakerData,
    Telemetry,
    WaterDispenserData,
    build_telemetry,
    data_model,
    decode_telemetry,
)
from yizhan.protocol.wire import MAX_PAYLOAD_BYTES

__all__ = [
    "DATA_MODELS",
    "DEFAULT_INTERVAL_S",
    "EVENT_DATA_MODELS",
    "MAX_PAYLOAD_BYTES",
    "Birth",
    "Death",
    "DeviceData",
    "DispenseEventData",
    "DoorEventData",
    "DoorSensorData",
    "Event",
    "EventName",
    "FaultClearedEventData",
    "FaultEventData",
    "GenericData",
    "InteractionEventData",
    "Outlet",
    "PayloadError",
    "PowerStripData",
    "RejectionReason",
    "SmartSpeakerData",
    "StateSource",
    "StationState",
    "Telemetry",
    "WaterDispenserData",
    "build_birth",
    "build_death",
    "build_event",
    "build_station_state",
    "build_telemetry",
    "data_model",
    "decode_event",
    "decode_station_state",
    "decode_status",
    "decode_telemetry",
    "event_fields",
]
