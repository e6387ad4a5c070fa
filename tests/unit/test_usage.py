"""Usage arithmetic (CONTRACT.md Definitions)."""

from server.domain.usage import count_heating_sessions, count_rising_edges, counter_increase


def test_counter_increase_treats_a_drop_as_a_reset_to_zero():
    assert counter_increase([10, 12, 15, 2, 5]) == 5 + 5
    assert counter_increase([10, 12], baseline=8) == 4
    assert counter_increase([]) == 0


def test_adjacent_ranges_add_up_when_the_baseline_is_the_last_value_before():
    values = [1.0, 1.5, 2.5, 0.5, 1.0, 4.0]
    whole = counter_increase(values)
    assert counter_increase(values[:3]) + counter_increase(values[3:], baseline=values[2]) == whole


def test_a_transition_seen_twice_is_one_visit():
    # event open, telemetry still open, event closed, event open again
    assert count_rising_edges([True, True, False, True]) == 2
    assert count_rising_edges([True, False], initial=True) == 0


def test_heating_sessions_are_runs_at_or_above_500_watts():
    assert count_heating_sessions([3, 800, 900, 3, 500, 3, 499]) == 2
    assert count_heating_sessions([900, 3], initial_w=900) == 0  # the run started earlier
