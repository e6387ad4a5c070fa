"""Status (docs/protocol.md § 6): the birth a device publishes on connecting and the death that is its
last will, both retained on `…/{device}/status`."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, TypeAdapter
from yizhan.protocol.device_types import DeviceType, DeviceTypeName
from yizhan.protocol.wire import MODEL_CONFIG, Boot, ShortText, Ts, build, check_size, present, validate

DEFAULT_INTERVAL_S = 60


class Birth(BaseModel):
    model_config = MODEL_CONFIG
    state: Literal["online"]
    ts: Ts | None = None
    type: DeviceTypeName = DeviceType.OTHER
    boot: Boot
    interval_s: Annotated[int, Field(gt=0, le=86400)] = DEFAULT_INTERVAL_S
    fw: ShortText | None = None


class Death(BaseModel):
    model_config = MODEL_CONFIG
    state: Literal["offline"]
    boot: Boot | None = None
    ts: Ts | None = None


_STATUS = TypeAdapter(Annotated[Birth | Death, Field(discriminator="state")])


def decode_status(payload: bytes) -> Birth | Death:
    check_size(payload)
    return validate(_STATUS, payload)


def build_birth(
    *,
    boot: int,
    ts: int | None = None,
    type: str = DeviceType.OTHER,
    interval_s: int = DEFAULT_INTERVAL_S,
    fw: str | None = None,
) -> bytes:
    """A birth; `type` and `interval_s` are always written (a device SHOULD send its type)."""
    body = {"state": "online", "ts": ts, "type": type, "boot": boot, "interval_s": interval_s, "fw": fw}
    return build(decode_status, present(body))


def build_death(*, boot: int | None = None, ts: int | None = None) -> bytes:
    """A death: without `ts` as a last will (registered at connect time, it cannot know when)."""
    return build(decode_status, present({"state": "offline", "boot": boot, "ts": ts}))
