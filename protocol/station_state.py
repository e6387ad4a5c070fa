"""Station state (docs/protocol.md § 10): the station says it is open or closed, retained on
`…/stations/{station}/state`."""

from enum import StrEnum

from pydantic import BaseModel
from yizhan.protocol.wire import MODEL_CONFIG, Seq, Ts, build, check_size, open_vocabulary, present, validate


class StateSource(StrEnum):
    """Who opened or closed the station."""

    STAFF = "staff"  # a person pressed open/close
    LOCK = "lock"  # a smart lock
    SCHEDULE = "schedule"  # the gateway opened by timetable


# other sources of at most 32 characters are kept as strings: the table is not closed
SourceName = open_vocabulary(StateSource, max_length=32)


class StationState(BaseModel):
    model_config = MODEL_CONFIG
    ts: Ts | None = None
    seq: Seq | None = None
    open: bool
    source: SourceName | None = None


def decode_station_state(payload: bytes) -> StationState:
    check_size(payload)
    return validate(StationState, payload)


def build_station_state(
    *, open: bool, ts: int | None = None, seq: int | None = None, source: str | None = None
) -> bytes:
    body = {"ts": ts, "seq": seq, "open": open, "source": source}
    return build(decode_station_state, present(body))
