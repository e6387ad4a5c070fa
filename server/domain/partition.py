"""Which stations this server process handles when several share one broker.

mosquitto has no hash strategy for shared subscriptions (EMQX's `hash_clientid` does), so each
process subscribes to every station and handles only its own share: a stable hash of the station
id modulo the number of processes. Each station is handled by exactly one process, so its live
state stays in one place and nothing is counted twice.
"""

import zlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Partition:
    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> "Partition":
        """`"0/2"`: the first of two processes."""
        try:
            index, count = (int(x) for x in text.split("/"))
        except ValueError:
            raise ValueError(f"YZ_PARTITION {text!r} is not INDEX/COUNT, e.g. 0/2") from None
        if not 0 <= index < count:
            raise ValueError(f"YZ_PARTITION {text!r}: the index is 0 to COUNT-1")
        return cls(index, count)

    def owns(self, station: str) -> bool:
        return zlib.crc32(station.encode()) % self.count == self.index
