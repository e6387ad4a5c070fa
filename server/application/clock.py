"""Where "now" comes from: the wall clock, or the newest message time (YZ_CLOCK=event)."""

import time


class WallClock:
    def now_ms(self) -> int:
        return int(time.time() * 1000)

    def observe(self, ts_ms: int) -> None:
        """Wall time does not follow messages."""

    def is_set(self) -> bool:
        return True


class EventClock:
    """Now is the newest accepted message time, for simulations running faster than real time."""

    def __init__(self) -> None:
        self._now_ms: int | None = None

    def now_ms(self) -> int:
        return self._now_ms if self._now_ms is not None else int(time.time() * 1000)

    def observe(self, ts_ms: int) -> None:
        if self._now_ms is None or ts_ms > self._now_ms:
            self._now_ms = ts_ms

    def is_set(self) -> bool:
        return self._now_ms is not None


Clock = WallClock | EventClock


def make_clock(kind: str) -> Clock:
    return EventClock() if kind == "event" else WallClock()
