"""The online rule of docs/protocol.md section 7, written once: what births, deaths, messages and silence do.

A device is offline on a death whose `boot` matches its last birth (or that carries no `boot`), or once
nothing at all has arrived from it for 3 × `interval_s` — whichever comes first. A death with another
`boot` is stale and ignored. After a death only a birth brings the device back; after a silence its
next message does. Every birth is reported, also when the device was online already.

Pure and clock-free. The live fleet steps a device's `Presence` message by message and calls `expire`
when time passes; the audit replay steps it over a device's stored history. Both get the same
transitions, stamped with the same instants. Times are epoch ms.
"""

from dataclasses import dataclass, replace
from enum import StrEnum

from yizhan.protocol.payloads import DEFAULT_INTERVAL_S

SILENCE_FACTOR = 3


class StatusReason(StrEnum):
    """Why a device went online or offline (the `reason` of `device_status` points)."""

    BIRTH = "birth"
    DEATH = "death"  # its last will, or a clean shutdown
    TIMEOUT = "timeout"  # silent for 3 × interval_s
    ACTIVITY = "activity"  # a message brought a silent device back


@dataclass(frozen=True, slots=True)
class Presence:
    """What the rule knows of one device. The initial value is a device never heard from."""

    online: bool = False
    offline_reason: StatusReason | None = None  # death or timeout; None while online or never heard from
    boot: int | None = None  # of the last birth
    interval_s: int = DEFAULT_INTERVAL_S  # of the last birth: the default until the first one
    heard_ms: int | None = None  # when the last birth, telemetry or event was received


@dataclass(frozen=True, slots=True)
class Born:
    """A birth. `at_ms` is when it happened (the transition's time); `heard_ms` when it was received,
    which is where silence is counted from (the receiver's clock); storage keeps one time for both."""

    at_ms: int
    boot: int | None  # None: not known (a replay of storage), so every later death counts
    interval_s: int = DEFAULT_INTERVAL_S
    heard_ms: int | None = None  # None: at_ms


@dataclass(frozen=True, slots=True)
class Died:
    """A death (a last will, or a clean shutdown's). `boot` None: it names no connection, so it counts."""

    at_ms: int
    boot: int | None = None
    heard_ms: int | None = None  # None: at_ms


@dataclass(frozen=True, slots=True)
class Activity:
    """A telemetry or event message."""

    at_ms: int
    heard_ms: int | None = None  # None: at_ms


Event = Born | Died | Activity


@dataclass(frozen=True, slots=True)
class Transition:
    """The device went online or offline (or was born again while online) at `at_ms`; `after` is its
    presence right then, for whoever judges more than the one device at that instant (the station)."""

    online: bool
    reason: StatusReason
    at_ms: int
    after: Presence


def deadline(state: Presence) -> int | None:
    """When silence takes an online device offline; None when it is offline already."""
    if not state.online or state.heard_ms is None:
        return None
    return state.heard_ms + SILENCE_FACTOR * state.interval_s * 1000


def expire(state: Presence, now_ms: int) -> tuple[Presence, Transition | None]:
    """The passage of time up to `now_ms`: silent for 3 × interval_s, the device is offline from the
    deadline itself (not from when someone noticed)."""
    due = deadline(state)
    if due is None or due > now_ms:
        return state, None
    state = replace(state, online=False, offline_reason=StatusReason.TIMEOUT)
    return state, Transition(False, StatusReason.TIMEOUT, due, state)


def step(state: Presence, event: Event) -> tuple[Presence, list[Transition]]:
    """One message from (or about) the device, in the order received."""
    heard = event.at_ms if event.heard_ms is None else event.heard_ms
    # A deadline that passed before this message took the device offline first, whether or not the
    # caller looked at the clock in between; a message at the deadline itself is still in time.
    state, timed_out = expire(state, heard - 1)
    out = [timed_out] if timed_out else []
    if isinstance(event, Born):
        state = Presence(True, None, event.boot, event.interval_s, heard)
        out.append(Transition(True, StatusReason.BIRTH, event.at_ms, state))
    elif isinstance(event, Died):
        if event.boot is not None and state.boot is not None and event.boot != state.boot:
            # stale: the last will of an older connection. It is not the device speaking, so a deadline
            # at this very instant has passed all the same
            state, timed_out = expire(state, heard)
            return state, [*out, timed_out] if timed_out else out
        was_online = state.online
        # also when it had already timed out: now only a birth revives it
        state = replace(state, online=False, offline_reason=StatusReason.DEATH)
        if was_online:
            out.append(Transition(False, StatusReason.DEATH, event.at_ms, state))
    else:
        state = replace(state, heard_ms=heard)
        if not state.online and state.offline_reason != StatusReason.DEATH:
            state = replace(state, online=True, offline_reason=None)
            out.append(Transition(True, StatusReason.ACTIVITY, event.at_ms, state))
    return state, out
