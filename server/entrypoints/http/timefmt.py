"""Times at the API's edge: ISO-8601 in; a naive one is in the station's zone."""

from datetime import datetime
from typing import Any

from fastapi import HTTPException


def parse_when(value: str, field: str, tz: Any) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{field}: {value!r} is not an ISO-8601 date or datetime") from None
    if not 1970 <= dt.year <= 2200:
        raise HTTPException(422, f"{field}: {value!r} is outside the years 1970–2200")
    return dt if dt.tzinfo else dt.replace(tzinfo=tz)
