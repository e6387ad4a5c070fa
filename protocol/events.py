"""Events (docs/protocol.md § 9): something happened, on `…/{device}/event`, its `data` read by the
event's name."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model
from yizhan.protocol.telemetry import DeviceData, GenericData, Sequenced
from yizhan.protocol.wire import (
    MODEL_CONFIG,
    Code,
    FieldName,
    ShortText,
    build,
    check_size,
    present,
    validate,
)


class EventName(StrEnum):
    DOOR = "door"  # door_sensor: one per change
    DISPENSE = "dispense"  # water_dispenser
    INTERACTION = "interaction"  # smart_speaker
    FAULT = "fault"  # any: a code became active
    FAULT_CLEARED = "fault_cleared"  # any: a code is no longer active


class DoorEventData(BaseModel):
    model_config = MODEL_CONFIG
    open: bool


class DispenseEventData(BaseModel):
    model_config = MODEL_CONFIG
    volume_ml: Annotated[float, Field(ge=0, le=100_000)]


class InteractionEventData(BaseModel):
    model_config = MODEL_CONFIG
    intent: Annotated[str, StringConstraints(max_length=64)] = "unknown"


class FaultEventData(BaseModel):
    model_config = MODEL_CONFIG
    code: Code
    severity: Literal["info", "minor", "major", "critical"] | None = None
    message: ShortText | None = None


class FaultClearedEventData(BaseModel):
    model_config = MODEL_CONFIG
    code: Code


EVENT_DATA_MODELS: dict[EventName, type[BaseModel]] = {
    EventName.DOOR: DoorEventData,
    EventName.DISPENSE: DispenseEventData,
    EventName.INTERACTION: InteractionEventData,
    EventName.FAULT: FaultEventData,
    EventName.FAULT_CLEARED: FaultClearedEventData,
}


def _event_model(name: Any, data: type[BaseModel]) -> type[Sequenced]:
    return create_model(f"Event[{data.__name__}]", __base__=Sequenced, event=(name, ...), data=(data, ...))


class Event(Sequenced):
    event: str  # an EventName when known; an unknown name stays a string
    data: Any


class _EventName(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    event: FieldName


# a known name decodes to its EventName member (the model is chosen by that name)
_EVENT_MODELS = {name: _event_model(Literal[name], m) for name, m in EVENT_DATA_MODELS.items()}
_EVENT_GENERIC = _event_model(str, GenericData)


def decode_event(payload: bytes) -> Event:
    check_size(payload)
    name = validate(_EventName, payload).event
    return validate(_EVENT_MODELS.get(name, _EVENT_GENERIC), payload)


def build_event(
    event: str,
    *,
    seq: int,
    boot: int,
    data: Mapping[str, Any] | BaseModel | None = None,
    ts: int | None = None,
) -> bytes:
    """An event, its `data` checked against the fields of its name (`{}` when it has none); a name
    this protocol does not list carries flat fields, as telemetry of a new type does."""
    body = present({"ts": ts, "seq": seq, "boot": boot, "event": event})
    return build(decode_event, {**body, "data": {} if data is None else data})


def event_fields(data: BaseModel) -> dict[str, Any]:
    """Storage fields of an event's data."""
    if isinstance(data, DeviceData):
        return data.fields()
    return {k: v for k, v in data.__dict__.items() if v is not None}
