"""Level faults: a device whose readings alone meet a level-triggered alert rule (docs/protocol.md
§ 12) for a while, with no fault code anywhere — the dispenser heats but stays cold (`water_cold`),
the mains sag or surge (`mains_voltage`), the door sensor's battery reads low (`battery_low`).

Each lasts long enough to fire its rule whatever the telemetry period: the rule's pending period
plus three periods, at the least. Its ground truth goes into the day's `faults` of the ledger as
`{"device", "rule", "start", "end"}` (epoch ms; the readings are out of range in [start, end)),
beside the injected fault codes' `{"device", "code", "start", "end"}`.
"""

import math
import random
from dataclasses import dataclass
from typing import Any

# the rules' thresholds and pending periods as docs/protocol.md § 12 gives them
WATER_MIN_TEMP_C = 60.0
VOLTAGE_RANGE_V = (198.0, 242.0)
BATTERY_MIN_PCT = 15.0


@dataclass(frozen=True)
class LevelRule:
    name: str
    device: str  # the simulated station's device whose readings meet it
    pending_s: int  # how long the condition must hold before the alert fires
    minutes: tuple[int, int]  # how long the readings stay out of range, drawn in this range


LEVEL_RULES = (
    LevelRule("water_cold", "water", 1200, (40, 90)),
    LevelRule("mains_voltage", "power", 300, (15, 60)),
    LevelRule("battery_low", "door", 0, (20, 90)),
)


@dataclass(frozen=True)
class LevelFault:
    """One rule met by one device's readings in [start, end), epoch ms."""

    rule: str
    device: str
    start: int
    end: int
    low: float  # the out-of-range readings are drawn in [low, high]
    high: float

    def __post_init__(self) -> None:
        if self.rule not in {r.name for r in LEVEL_RULES}:
            raise ValueError(f"no level rule {self.rule!r}")
        if not self.start < self.end or not self.low <= self.high:
            raise ValueError(f"an empty level fault: {self}")

    def covers(self, device: str, t: int) -> bool:
        return device == self.device and self.start <= t < self.end

    def reading(self, data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        """The device's telemetry data with the faulty values in place of the normal ones."""
        value = round(rng.uniform(self.low, self.high), 1)
        if self.rule == "water_cold":  # the heater is on and does not heat
            return {**data, "heater_on": True, "water_temp_c": value}
        if self.rule == "mains_voltage":  # the same load draws another current
            return {**data, "voltage_v": value, "current_a": round(data["power_w"] / value, 3)}
        return {**data, "battery_pct": value}

    def record(self) -> dict[str, Any]:
        """The ledger's ground truth: what an oracle needs to expect exactly one alert."""
        return {"device": self.device, "rule": self.rule, "start": self.start, "end": self.end}


def plan_level_fault(
    rng: random.Random, chance: float, t0: int, interval_s: int, busy: set[str]
) -> LevelFault | None:
    """Perhaps (with `chance`) one level fault on the local day starting at `t0`, on a device not
    in `busy` (out or faulty that day: its alert would be another's, or never come)."""
    if rng.random() >= chance:
        return None
    rules = [r for r in LEVEL_RULES if r.device not in busy]
    if not rules:
        return None
    rule = rng.choice(rules)
    # held past the pending period even when the first and last readings fall a period inside
    minutes = max(rng.randint(*rule.minutes), math.ceil((rule.pending_s + 3 * interval_s) / 60))
    start = t0 + rng.randint(8 * 3600, 20 * 3600) * 1000
    end = start + minutes * 60_000
    if end > t0 + 23 * 3_600_000:
        return None  # only with very long telemetry periods: the fault would not end that day
    if rule.name == "water_cold":
        low, high = 25.0, WATER_MIN_TEMP_C - 5
    elif rule.name == "mains_voltage":
        lo_v, hi_v = VOLTAGE_RANGE_V
        low, high = (lo_v - 20, lo_v - 3) if rng.random() < 0.5 else (hi_v + 3, hi_v + 18)
    else:
        low, high = 5.0, BATTERY_MIN_PCT - 1
    return LevelFault(rule.name, rule.device, start, end, low, high)
