"""Payload models and decoding: bytes in, validated messages out, or a PayloadError with its reason.

Every model ignores unknown keys (forward compatible), refuses NaN/Infinity and
coerces nothing: `"open": "true"` is a wrong type, not a truthy string.
"""

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    create_model,
)

MAX_PAYLOAD_BYTES = 8 * 1024
DEFAULT_INTERVAL_S = 60

_CONFIG = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False, frozen=True)

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Percent = Annotated[float, Field(ge=0, le=100)]
Counter = Annotated[float, Field(ge=0)]
Ts = Annotated[int, Field(ge=0, le=32503680000000)]  # epoch ms, before year 3000
Seq = Annotated[int, Field(ge=0, le=2**53)]
Boot = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
ShortText = Annotated[str, StringConstraints(max_length=256)]


class PayloadError(ValueError):
    """A payload that docs/protocol.md says to reject. `reason` is the counter label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# --- status ---------------------------------------------------------------


class Birth(BaseModel):
    model_config = _CONFIG
    state: Literal["online"]
    ts: Ts | None = None
    type: Annotated[str, StringConstraints(max_length=64)] = "other"
    boot: Boot
    interval_s: Annotated[int, Field(gt=0, le=86400)] = DEFAULT_INTERVAL_S
    fw: ShortText | None = None


class Death(BaseModel):
    model_config = _CONFIG
    state: Literal["offline"]
    boot: Boot | None = None
    ts: Ts | None = None


_STATUS = TypeAdapter(Annotated[Birth | Death, Field(discriminator="state")])


# --- telemetry data, per device type ----------------------------------------


class DeviceData(BaseModel):
    """Fields every type may report. `faults` None means "not reported in this message"."""

    model_config = _CONFIG
    faults: Annotated[list[Code], Field(max_length=64)] | None = None

    def fields(self) -> dict[str, Any]:
        """The data as flat storage fields (outlets flattened, faults comma-joined)."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if value is None:
                continue
            if key == "faults":
                out["faults"] = ",".join(value)
            else:
                out[key] = value
        extra = self.__pydantic_extra__
        if extra:
            out.update(extra)
        return out


class DoorSensorData(DeviceData):
    open: bool | None = None
    battery_pct: Percent | None = None
    rssi_dbm: int | None = None


class WaterDispenserData(DeviceData):
    water_temp_c: float | None = None
    tank_level_pct: Percent | None = None
    heater_on: bool | None = None
    dispensed_l_total: Counter | None = None


class Outlet(BaseModel):
    model_config = _CONFIG
    on: bool | None = None
    power_w: float | None = None


class PowerStripData(DeviceData):
    voltage_v: float | None = None
    current_a: float | None = None
    power_w: float | None = None
    energy_kwh_total: Counter | None = None
    outlets: Annotated[list[Outlet], Field(max_length=32)] | None = None

    def fields(self) -> dict[str, Any]:
        out = super().fields()
        outlets = out.pop("outlets", None) or []
        for i, outlet in enumerate(outlets):
            if outlet.on is not None:
                out[f"outlet{i}_on"] = outlet.on
            if outlet.power_w is not None:
                out[f"outlet{i}_power_w"] = outlet.power_w
        return out


class SmartSpeakerData(DeviceData):
    volume_pct: Percent | None = None
    rssi_dbm: int | None = None
    interactions_total: Counter | None = None


FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Scalar = bool | int | float | ShortText


class GenericData(DeviceData):
    """Data of a gateway, an `other` device or a type this server does not know yet.

    Scalar fields are kept; nested values are ignored.
    """

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False, frozen=True)

    def fields(self) -> dict[str, Any]:
        out = {} if self.faults is None else {"faults": ",".join(self.faults)}
        for key, value in (self.__pydantic_extra__ or {}).items():
            if _is_storable(key, value):
                # numbers are stored as floats so that 12 then 12.5 is one field type
                out[key] = float(value) if type(value) is int else value
        return out


_FIELD_NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _is_storable(key: str, value: Any) -> bool:
    if not (0 < len(key) <= 64 and key[0].isalpha() and set(key) <= _FIELD_NAME_OK):
        return False
    if key in ("seq", "boot"):
        return False
    if isinstance(value, bool | int):
        return not isinstance(value, int) or isinstance(value, bool) or abs(value) < 2**63
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    return isinstance(value, str) and len(value) <= 256


DATA_MODELS: dict[str, type[DeviceData]] = {
    "door_sensor": DoorSensorData,
    "water_dispenser": WaterDispenserData,
    "power_strip": PowerStripData,
    "smart_speaker": SmartSpeakerData,
}


def data_model(device_type: str) -> type[DeviceData]:
    return DATA_MODELS.get(device_type, GenericData)


# --- telemetry, events, station state ----------------------------------------


class _Sequenced(BaseModel):
    model_config = _CONFIG
    ts: Ts | None = None
    seq: Seq
    boot: Boot


def _telemetry_model(data: type[DeviceData]) -> type[_Sequenced]:
    return create_model(f"Telemetry[{data.__name__}]", __base__=_Sequenced, data=(data, ...))


class Telemetry(_Sequenced):
    data: DeviceData


_TELEMETRY_MODELS = {t: _telemetry_model(m) for t, m in DATA_MODELS.items()}
_TELEMETRY_GENERIC = _telemetry_model(GenericData)


class DoorEventData(BaseModel):
    model_config = _CONFIG
    open: bool


class DispenseEventData(BaseModel):
    model_config = _CONFIG
    volume_ml: Annotated[float, Field(ge=0, le=100_000)]


class InteractionEventData(BaseModel):
    model_config = _CONFIG
    intent: Annotated[str, StringConstraints(max_length=64)] = "unknown"


class FaultEventData(BaseModel):
    model_config = _CONFIG
    code: Code
    severity: Literal["info", "minor", "major", "critical"] | None = None
    message: ShortText | None = None


class FaultClearedEventData(BaseModel):
    model_config = _CONFIG
    code: Code


EVENT_DATA_MODELS: dict[str, type[BaseModel]] = {
    "door": DoorEventData,
    "dispense": DispenseEventData,
    "interaction": InteractionEventData,
    "fault": FaultEventData,
    "fault_cleared": FaultClearedEventData,
}


def _event_model(data: type[BaseModel]) -> type[_Sequenced]:
    return create_model(f"Event[{data.__name__}]", __base__=_Sequenced, event=(str, ...), data=(data, ...))


class Event(_Sequenced):
    event: str
    data: Any


class _EventName(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    event: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


_EVENT_MODELS = {name: _event_model(m) for name, m in EVENT_DATA_MODELS.items()}
_EVENT_GENERIC = _event_model(GenericData)


class StationState(BaseModel):
    model_config = _CONFIG
    ts: Ts | None = None
    seq: Seq | None = None
    open: bool
    source: Annotated[str, StringConstraints(max_length=32)] | None = None


# --- decoding -------------------------------------------------------------


def event_fields(data: BaseModel) -> dict[str, Any]:
    """Storage fields of an event's data."""
    if isinstance(data, DeviceData):
        return data.fields()
    return {k: v for k, v in data.__dict__.items() if v is not None}


def _check_size(payload: bytes) -> None:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError("too_large", f"{len(payload)} bytes, at most {MAX_PAYLOAD_BYTES}")


def _validate(model: type[BaseModel] | TypeAdapter, payload: bytes | str) -> Any:
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_json(payload)
        return model.model_validate_json(payload)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        if err["type"] in ("json_invalid", "json_type"):
            raise PayloadError("not_json", err["msg"]) from None
        loc = [str(p) for p in err["loc"] if p not in ("online", "offline")]
        if err["type"].startswith("union_tag") or err["type"] == "model_attributes_type":
            loc = loc or ["state"]
        raise PayloadError("bad_payload", f"{'.'.join(loc) or 'payload'}: {err['msg']}") from None


def decode_status(payload: bytes) -> Birth | Death:
    _check_size(payload)
    return _validate(_STATUS, payload)


def decode_telemetry(payload: bytes, device_type: str) -> Telemetry:
    _check_size(payload)
    return _validate(_TELEMETRY_MODELS.get(device_type, _TELEMETRY_GENERIC), payload)


def decode_event(payload: bytes) -> Event:
    _check_size(payload)
    name = _validate(_EventName, payload).event
    return _validate(_EVENT_MODELS.get(name, _EVENT_GENERIC), payload)


def decode_station_state(payload: bytes) -> StationState:
    _check_size(payload)
    return _validate(StationState, payload)
