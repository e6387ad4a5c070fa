"""Per-station message budgets (token buckets): one noisy or hostile station cannot take the
ingest capacity the others need. Pure: the caller passes the time."""

from collections import Counter


class StationBudget:
    """Each station may send `rate` messages a second on average and `burst` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a budget needs rate > 0 and burst >= 1")
        self.rate, self.burst = rate, float(burst)
        self._buckets: dict[str, list[float]] = {}  # station -> [tokens, time]
        self.over: Counter[str] = Counter()  # messages refused per station since the last report

    def take(self, station: str, now_s: float) -> bool:
        """Spend one message of `station`'s budget; False when it has none left."""
        bucket = self._buckets.get(station)
        if bucket is None:
            bucket = self._buckets[station] = [self.burst, now_s]
        tokens = min(self.burst, bucket[0] + (now_s - bucket[1]) * self.rate)
        bucket[1] = now_s
        if tokens < 1.0:
            bucket[0] = tokens
            self.over[station] += 1
            return False
        bucket[0] = tokens - 1.0
        return True

    def report(self) -> Counter[str]:
        """Refusals per station since the last report (for the log)."""
        over, self.over = self.over, Counter()
        return over
