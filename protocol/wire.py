"""JSON on the wire (docs/protocol.md § 1): at most 8 KiB, strict field types, no NaN; payloads decoded
into frozen models and encoded from plain values, every failure a PayloadError with its reason."""

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import pydantic_core
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from yizhan.protocol.rejections import PayloadError, RejectionReason

MAX_PAYLOAD_BYTES = 8 * 1024

# unknown keys ignored (forward compatible), no NaN/Infinity, and nothing coerced: `"open": "true"`
# is a wrong type, not a truthy string. A model written out again writes an infinity it kept (an
# unknown key may hold one) as such, not as null: built again, it is refused or kept as it came.
MODEL_CONFIG = ConfigDict(
    extra="ignore", strict=True, allow_inf_nan=False, frozen=True, ser_json_inf_nan="constants"
)

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Percent = Annotated[float, Field(ge=0, le=100)]
Counter = Annotated[float, Field(ge=0)]
Ts = Annotated[int, Field(ge=0, le=32503680000000)]  # epoch ms, before year 3000
Seq = Annotated[int, Field(ge=0, le=2**53)]
Boot = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
ShortText = Annotated[str, StringConstraints(max_length=256)]
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]

M = TypeVar("M")


def open_vocabulary(enum: type[StrEnum], max_length: int) -> Any:
    """A string field whose known values decode to members of `enum` and any other string is kept
    as it is: the protocol adds values (device types, sources) without refusing older receivers."""
    members = enum._value2member_map_
    return Annotated[
        str, StringConstraints(max_length=max_length), AfterValidator(lambda v: members.get(v, v))
    ]


def check_size(payload: bytes) -> None:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(RejectionReason.TOO_LARGE, f"{len(payload)} bytes, at most {MAX_PAYLOAD_BYTES}")


def validate(model: type[BaseModel] | TypeAdapter, payload: bytes | str) -> Any:
    """`payload` as `model`, or the PayloadError naming the first field that is wrong."""
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_json(payload)
        return model.model_validate_json(payload)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        if err["type"] in ("json_invalid", "json_type"):
            raise PayloadError(RejectionReason.NOT_JSON, err["msg"]) from None
        loc = [str(p) for p in err["loc"] if p not in ("online", "offline")]
        if err["type"].startswith("union_tag") or err["type"] == "model_attributes_type":
            loc = loc or ["state"]
        detail = f"{'.'.join(loc) or 'payload'}: {err['msg']}"
        raise PayloadError(RejectionReason.BAD_PAYLOAD, detail) from None


def present(body: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of a message body that have a value: optional keys are left out, not sent as null."""
    return {k: v for k, v in body.items() if v is not None}


def build(decode: Callable[[bytes], M], body: Mapping[str, Any]) -> bytes:
    """`body` as compact JSON, refused with the PayloadError `decode` would raise on it.

    The check is the decoder itself, so a builder refuses exactly what a receiver would reject.
    Decoded models may stand in for plain values; their fields that are None are left out (not
    reported), as is an unknown key whose value was null. NaN and Infinity are written as such (not
    turned into null, which would read as "not reported") so that the decoder refuses them by name."""
    try:
        payload = pydantic_core.to_json(body, exclude_none=True, inf_nan_mode="constants")
    except pydantic_core.PydanticSerializationError as exc:
        raise PayloadError(RejectionReason.BAD_PAYLOAD, f"not representable as JSON: {exc}") from None
    decode(payload)
    return payload
