"""InfluxDB line protocol encoding and the deterministic point keys of docs/contract.md."""

from collections.abc import Mapping
from typing import Any

_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": " "})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "\n": " "})
_STRING_ESCAPES = str.maketrans({'"': r"\"", "\\": "\\\\", "\n": " "})


def point_time_ns(ts_ms: int, seq: int | None = None) -> int:
    """`ts` in ms × 10⁶ + `seq` mod 10⁶: distinct messages never collide, a replay overwrites."""
    return ts_ms * 1_000_000 + (seq % 1_000_000 if seq is not None else 0)


def _field_value(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    return f'"{str(value).translate(_STRING_ESCAPES)}"'


# keys and tag values repeat (field names, station and device ids): escape each once
_escaped: dict[str, str] = {}
_ESCAPED_MAX = 1_000_000


def _key(text: str) -> str:
    done = _escaped.get(text)
    if done is None:
        if len(_escaped) >= _ESCAPED_MAX:
            _escaped.clear()
        done = _escaped[text] = text.translate(_KEY_ESCAPES)
    return done


def encode_point(measurement: str, tags: Mapping[str, str], fields: Mapping[str, Any], time_ns: int) -> str:
    """One line. Tags with empty values are left out (line protocol cannot carry them)."""
    tag_part = "".join(f",{_key(k)}={_key(v)}" for k, v in sorted(tags.items()) if v)
    field_part = ",".join(f"{_key(k)}={_field_value(v)}" for k, v in fields.items())
    return f"{measurement.translate(_MEASUREMENT_ESCAPES)}{tag_part} {field_part} {time_ns}"
