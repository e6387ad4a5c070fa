"""Usage arithmetic (docs/contract.md Definitions)."""

from yizhan.server.domain.usage import count_heating_sessions, count_rising_edges, counter_increase


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


def test_door_changes_within_one_ms_count_in_seq_order_across_telemetry_and_events() -> None:
    """A gateway stamps a burst with one ms; seq (in the ns digits) keeps open→closed→open apart."""
    from yizhan.server.application.ports import Series
    from yizhan.server.application.usage_history import door_opens

    ms = 1_772_400_000_000 * 1_000_000
    tele = Series("door_sensor", {"device": "door"}, ["time", "open"], [[ms + 1, True], [ms + 3, False]])
    events = Series("events", {"device": "door"}, ["time", "open"], [[ms + 0, True], [ms + 2, False]])
    assert door_opens([], [tele, events]) == [1_772_400_000_000]
    again = Series("events", {"device": "door"}, ["time", "open"], [[ms + 4, True]])
    assert door_opens([], [tele, events, again]) == [1_772_400_000_000] * 2
