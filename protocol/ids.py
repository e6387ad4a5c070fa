"""Identifiers: station, device and district ids share one pattern."""

import re

from yizhan.protocol.device_types import DeviceType

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)

# the known device types as a tuple, for code that lists them (the enum is protocol.device_types)
DEVICE_TYPES = tuple(DeviceType)


def is_valid_id(value: str) -> bool:
    """True when `value` may be used as a station, device or district id."""
    return _ID_RE.fullmatch(value) is not None
