"""Usage arithmetic of docs/contract.md "Definitions": pure functions over time-ordered samples."""

from collections.abc import Iterable

HEATING_THRESHOLD_W = 500.0


def counter_increase(values: Iterable[float], baseline: float | None = None) -> float:
    """Increase of a monotonic counter, like Prometheus `increase()`: a drop is a reset to 0.

    `baseline` is the last value before the range, so that adjacent ranges add up.
    """
    total = 0.0
    prev = baseline
    for value in values:
        if prev is not None:
            total += value - prev if value >= prev else value
        prev = value
    return total


def rising_edges(samples: Iterable[tuple[int, bool]], initial: bool | None = False) -> list[int]:
    """Times of false→true transitions in time-ordered (time, state) samples."""
    out: list[int] = []
    prev = bool(initial)
    for t, state in samples:
        if state and not prev:
            out.append(t)
        prev = state
    return out


def count_rising_edges(states: Iterable[bool], initial: bool | None = False) -> int:
    """false→true transitions; a repeated true (the same change seen twice) counts once."""
    return len(rising_edges(((0, s) for s in states), initial))


def count_heating_sessions(
    power_w: Iterable[float], initial_w: float | None = None, threshold_w: float = HEATING_THRESHOLD_W
) -> int:
    """Runs of consecutive samples at or above `threshold_w`, each counted once where it starts."""
    return count_rising_edges(
        (p >= threshold_w for p in power_w),
        initial=initial_w is not None and initial_w >= threshold_w,
    )
