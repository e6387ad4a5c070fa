"""Telemetry (docs/protocol.md § 8): a device's periodic measurements on `…/{device}/telemetry`, its
`data` read by the registered type of the device."""

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.wire import (
    MODEL_CONFIG,
    Boot,
    Code,
    Counter,
    Percent,
    Seq,
    ShortText,
    Ts,
    build,
    check_size,
    present,
    validate,
)


class DeviceData(BaseModel):
    """Fields every type may report. `faults` None means "not reported in this message"."""

    model_config = MODEL_CONFIG
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
    model_config = MODEL_CONFIG
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


Scalar = bool | int | float | ShortText


class GenericData(DeviceData):
    """Data of a gateway, an `other` device or a type this server does not know yet.

    Scalar fields are kept; nested values are ignored.
    """

    model_config = ConfigDict(**{**MODEL_CONFIG, "extra": "allow"})

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


DATA_MODELS: dict[DeviceType, type[DeviceData]] = {
    DeviceType.DOOR_SENSOR: DoorSensorData,
    DeviceType.WATER_DISPENSER: WaterDispenserData,
    DeviceType.POWER_STRIP: PowerStripData,
    DeviceType.SMART_SPEAKER: SmartSpeakerData,
}


def data_model(device_type: str) -> type[DeviceData]:
    return DATA_MODELS.get(device_type, GenericData)


class Sequenced(BaseModel):
    """The keys of every telemetry and event message (docs/protocol.md § 5)."""

    model_config = MODEL_CONFIG
    ts: Ts | None = None
    seq: Seq
    boot: Boot


def _telemetry_model(data: type[DeviceData]) -> type[Sequenced]:
    return create_model(f"Telemetry[{data.__name__}]", __base__=Sequenced, data=(data, ...))


class Telemetry(Sequenced):
    data: DeviceData


_TELEMETRY_MODELS = {t: _telemetry_model(m) for t, m in DATA_MODELS.items()}
_TELEMETRY_GENERIC = _telemetry_model(GenericData)


def decode_telemetry(payload: bytes, device_type: str) -> Telemetry:
    check_size(payload)
    return validate(_TELEMETRY_MODELS.get(device_type, _TELEMETRY_GENERIC), payload)


def build_telemetry(
    device_type: str,
    *,
    seq: int,
    boot: int,
    data: Mapping[str, Any] | DeviceData,
    ts: int | None = None,
) -> bytes:
    """Telemetry of a device of `device_type`, its `data` checked against that type's fields."""
    body = present({"ts": ts, "seq": seq, "boot": boot, "data": data})
    return build(lambda payload: decode_telemetry(payload, device_type), body)
