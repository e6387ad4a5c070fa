"""Identifiers: station, device and district ids share one pattern."""

import re

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_ID_RE = re.compile(ID_PATTERN)

DEVICE_TYPES = ("door_sensor", "water_dispenser", "power_strip", "smart_speaker", "gateway", "other")


def is_valid_id(value: str) -> bool:
    """True when `value` may be used as a station, device or district id."""
    return _ID_RE.fullmatch(value) is not None
