"""One simulated station living day by day: plans the day, runs its four devices, keeps the truth.

A day is planned first (opening, outages, visits and what visitors do, faults; level faults when
switched on), then played in time order through the devices, which number their messages (`boot`,
`seq`) exactly as docs/protocol.md says and make them with protocol/'s builders. What really
happened is recorded alongside in a `DayTruth`.

Outages are power losses of the device: while a device is out nothing it serves happens
(no water, no microwave, no speaker), and the door sensor is only ever out while the station
is closed — or while staff have unplugged everything, when nobody comes — so every visit is seen.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from yizhan.device_sim.level_faults import LevelFault, plan_level_fault
from yizhan.device_sim.profiles import DEVICES, StationProfile
from yizhan.protocol.device_types import DeviceType
from yizhan.protocol.events import EventName
from yizhan.protocol.messages import Message, device_message, state_message
from yizhan.protocol.payloads import (
    build_birth,
    build_death,
    build_event,
    build_station_state,
    build_telemetry,
)
from yizhan.protocol.station_state import StateSource
from yizhan.protocol.topics import TopicKind

FIRMWARE = "sim-1.0"
STANDBY_W = 3.0
CHARGER_W = 8.0
INTENTS = ("weather", "policy", "music", "news", "route", "rights")
FAULTS = {
    "water": ("dry_boil", "tank_empty", "heater", "leak"),
    "power": ("overcurrent", "undervoltage"),
    "door": ("battery_low", "tamper"),
    "speaker": ("mic", "network"),
}

# (virtual time ms, tie-breaker, topic, payload, retain)
Outgoing = tuple[int, int, str, bytes, bool]


@dataclass
class DayTruth:
    station: str
    date: str
    visits: int = 0
    water_l: float = 0.0
    energy_kwh: float = 0.0
    heating_sessions: int = 0
    speaker_interactions: int = 0
    reported_open: list[list[int]] = field(default_factory=list)
    device_offline: dict[str, list[list[int]]] = field(default_factory=dict)
    faults: list[dict] = field(default_factory=list)
    after_hours_visits: int = 0
    planned: dict = field(default_factory=dict)
    partial: bool = False

    def record(self) -> dict:
        d = dict(self.__dict__)
        d["kind"] = "day"
        d["water_l"] = round(self.water_l, 6)
        d["energy_kwh"] = round(self.energy_kwh, 9)
        return d


@dataclass
class SimDevice:
    id: str
    type: DeviceType
    interval_s: int
    boot: int = 0
    seq: int = 0
    online: bool = False
    faults: set[str] = field(default_factory=set)
    counter: float = 0.0  # dispensed_l_total / interactions_total
    # per boot: [first seq, last seq, telemetry, events, duplicates]
    published: dict[int, list[int]] = field(default_factory=dict)


class SimStation:
    def __init__(
        self,
        profile: StationProfile,
        seed: int,
        interval_s: int,
        window: tuple[int, int],
        root: str = "yz",
        duplicate_p: float = 0.0,
        level_fault_p: float = 0.0,
    ) -> None:
        self.profile = profile
        self.tz = ZoneInfo(profile.timezone)
        self.rng = random.Random(f"{seed}-{profile.id}")
        self.interval_s = interval_s
        self.start_ms, self.end_ms = window
        self.root = root
        self.duplicate_p = duplicate_p
        self.level_fault_p = level_fault_p
        # level faults draw from their own generator: switched on, they add to the day the seed
        # gives without changing anything else in it; switched off, they draw nothing at all
        self.level_rng = random.Random(f"{seed}-{profile.id}-level")
        self.devices = {d: SimDevice(d, t, interval_s) for d, t in DEVICES}
        self.phase_ms = {d: self.rng.randrange(interval_s * 1000) for d in self.devices}
        self.state_seq = 0
        self.energy_kwh = self.rng.uniform(10, 500)
        self.battery = self.rng.uniform(60, 100)
        self._tie = 0
        self._booted = False

    # --- planning ---------------------------------------------------------------

    def _plan(self, day: date, t0: int) -> dict:
        """Everything that will happen on `day` (local), as ms offsets from midnight `t0`."""
        rng, habits = self.rng, self.profile.habits
        open_s, close_s = self.profile.hours_on(day.weekday())
        plan: dict = {"skip": rng.random() < habits.skip_p, "late": False, "early": False}
        actual_open = open_s + rng.randint(-180, 180)
        actual_close = close_s + rng.randint(-180, 180)
        if rng.random() < habits.late_p:
            plan["late"] = True
            actual_open = open_s + rng.randint(20 * 60, 90 * 60)
        if rng.random() < habits.early_p:
            plan["early"] = True
            actual_close = close_s - rng.randint(20 * 60, 120 * 60)
        plan["open_ms"] = None if plan["skip"] else t0 + actual_open * 1000
        plan["close_ms"] = None if plan["skip"] else t0 + actual_close * 1000

        outages: dict[str, tuple[int, int]] = {}
        for dev in self.devices:
            if rng.random() < habits.outage_p:
                length = rng.randint(10 * 60, 60 * 60) * 1000
                if dev == "door":  # a battery swap while closed: 01:00–05:00
                    start = t0 + rng.randint(3600, 4 * 3600) * 1000
                else:
                    start = t0 + rng.randint(1800, 22 * 3600) * 1000
                outages[dev] = (start, start + length)
        plan["outages"] = outages

        visits: list[int] = []
        if not plan["skip"]:
            lo, hi = plan["open_ms"] + 60_000, plan["close_ms"] - 600_000
            n = max(0, round(rng.gauss(habits.visits_per_day, habits.visits_per_day**0.5)))
            for _ in range(n):
                r = rng.random()
                if r < 0.35:
                    t = t0 + int(rng.gauss(12 * 3600, 2400) * 1000)
                elif r < 0.6:
                    t = t0 + int(rng.gauss(18 * 3600, 2400) * 1000)
                elif r < 0.75:
                    t = t0 + int(rng.gauss(7.5 * 3600, 1800) * 1000)
                else:
                    t = rng.randint(lo, max(lo, hi))
                if lo <= t <= hi:
                    visits.append(t)
        after_hours = []
        if rng.random() < habits.after_hours_p:
            after_hours.append(t0 + rng.randint(int(21.5 * 3600), int(22.5 * 3600)) * 1000)
            if plan["close_ms"] and after_hours[0] < plan["close_ms"] + 600_000:
                after_hours = []
        plan["visits"], plan["after_hours"] = sorted(visits), after_hours

        fault = None
        if rng.random() < habits.fault_p:
            candidates = [d for d in self.devices if d not in outages]
            if candidates:
                dev = rng.choice(candidates)
                start = t0 + rng.randint(8 * 3600, 20 * 3600) * 1000
                fault = (dev, rng.choice(FAULTS[dev]), start, start + rng.randint(20 * 60, 90 * 60) * 1000)
        plan["fault"] = fault
        plan["unplugged"] = None
        if not plan["skip"] and fault is None and rng.random() < habits.unplugged_p:
            a = plan["open_ms"] + rng.randint(60, 180) * 60_000
            b = a + rng.randint(30, 50) * 60_000
            if b < plan["close_ms"] - 1_800_000:
                # every device out at once while the station says it is open; nobody comes meanwhile
                plan["unplugged"] = (a, b)
                plan["outages"] = {dev: (a, b) for dev in self.devices}
                plan["visits"] = [t for t in plan["visits"] if not a - 120_000 <= t <= b + 120_000]
        plan["level_fault"] = None
        if self.level_fault_p:
            # on a device that is neither out nor faulty that day: its readings alone make the alert
            busy = set(plan["outages"]) | ({fault[0]} if fault else set())
            plan["level_fault"] = plan_level_fault(
                self.level_rng, self.level_fault_p, t0, self.interval_s, busy
            )
        return plan

    # --- playing a day --------------------------------------------------------------

    def day(self, day: date) -> tuple[list[Outgoing], DayTruth]:
        """The messages of one local day, in time order, and what really happened."""
        t0 = int(datetime.combine(day, time(0), self.tz).timestamp() * 1000)
        t1 = int(datetime.combine(day + timedelta(days=1), time(0), self.tz).timestamp() * 1000)
        plan = self._plan(day, t0)
        truth = DayTruth(self.profile.id, day.isoformat())
        truth.partial = t0 < self.start_ms or t1 > self.end_ms
        truth.planned = {
            "skip": plan["skip"],
            "late": plan["late"],
            "early": plan["early"],
            "unplugged": plan["unplugged"] is not None,
        }
        lo, hi = max(t0, self.start_ms), min(t1, self.end_ms)
        inside = lambda t: lo <= t < hi  # noqa: E731
        rng = self.rng

        # happenings: (t, priority, kind, args)
        hap: list[tuple[int, int, str, tuple]] = []
        if not self._booted and self.start_ms < t1:
            self._booted = True
            for dev in self.devices:
                hap.append((self.start_ms, 0, "birth", (dev,)))
            is_open = bool(plan["open_ms"] and plan["open_ms"] <= self.start_ms < plan["close_ms"])
            hap.append((self.start_ms, 1, "state", (is_open,)))
        if not plan["skip"]:
            hap.append((plan["open_ms"], 1, "state", (True,)))
            hap.append((plan["close_ms"], 1, "state", (False,)))
            if inside(plan["open_ms"]) or inside(plan["close_ms"]):
                truth.reported_open.append([max(plan["open_ms"], lo), min(plan["close_ms"], hi)])
        for dev, (a, b) in plan["outages"].items():
            hap.append((a, 0, "death", (dev,)))
            hap.append((b, 0, "birth", (dev,)))
            if inside(a) or inside(b):
                truth.device_offline.setdefault(dev, []).append([max(a, lo), min(b, hi)])

        def out(dev: str, t: int) -> bool:
            o = plan["outages"].get(dev)
            return o is not None and o[0] - 5000 <= t <= o[1] + 5000

        door_free_at = 0
        microwave_free_at = 0
        for t in plan["visits"] + plan["after_hours"]:
            t = max(t, door_free_at + 20_000)
            if t >= t1 - 3_600_000:
                continue
            stay = rng.randint(3, 15) * 1000
            door_free_at = t + stay
            hap.append((t, 2, "door", (True,)))
            hap.append((t + stay, 2, "door", (False,)))
            if inside(t):
                truth.visits += 1
                if t in plan["after_hours"]:
                    truth.after_hours_visits += 1
            if t in plan["after_hours"]:
                continue
            td = t + rng.randint(20, 60) * 1000
            if rng.random() < 0.6 and not out("water", td):
                hap.append((td, 3, "dispense", (rng.randint(200, 500),)))
            if rng.random() < 0.3:
                th = max(t + rng.randint(30, 90) * 1000, microwave_free_at + 5_000)
                length = rng.randint(60, 180) * 1000
                if not out("power", th) and not out("power", th + length):
                    microwave_free_at = th + length
                    hap.append((th, 3, "heat", (rng.uniform(700, 1200),)))
                    hap.append((th + length, 3, "heat", (0.0,)))
            if rng.random() < 0.25:
                tc = t + 30_000
                length = rng.randint(20, 60) * 60_000
                if not out("power", tc) and not out("power", tc + length):
                    hap.append((tc, 3, "charge", (1,)))
                    hap.append((tc + length, 3, "charge", (-1,)))
            ti = t + rng.randint(10, 120) * 1000
            if rng.random() < 0.25 and not out("speaker", ti):
                hap.append((ti, 3, "interaction", (rng.choice(INTENTS),)))
        if plan["fault"]:
            dev, code, a, b = plan["fault"]
            hap.append((a, 3, "fault", (dev, code)))
            hap.append((b, 3, "fault_cleared", (dev, code)))
            if inside(a):
                truth.faults.append({"device": dev, "code": code, "start": a, "end": b})
        level: LevelFault | None = plan["level_fault"]
        if level is not None and inside(level.start):
            truth.faults.append(level.record())
        for dev in self.devices:
            step = self.interval_s * 1000
            phase = self.phase_ms[dev]
            t = ((t0 - phase + step - 1) // step) * step + phase
            while t < t1:
                if not out(dev, t):
                    hap.append((t, 4, "tele", (dev,)))
                t += step

        hap.sort(key=lambda h: (h[0], h[1]))
        msgs: list[Outgoing] = []
        self._play(hap, msgs, truth, lo, hi, t0, t1, level)
        return msgs, truth

    def _play(
        self,
        hap: list[tuple[int, int, str, tuple]],
        msgs: list[Outgoing],
        truth: DayTruth,
        lo: int,
        hi: int,
        t0: int,
        t1: int,
        level: LevelFault | None = None,
    ) -> None:
        devs = self.devices
        door_open = False
        heating_w = 0.0
        chargers = 0
        power_on = devs["power"].online
        last_t = t0
        energy_at: dict[int, float] = {}  # the energy counter at the window's edges
        extra: list[tuple[int, int, str, tuple]] = []

        def integrate(t: int) -> None:
            nonlocal last_t
            for mark in (lo, hi):
                if mark not in energy_at and last_t <= mark <= t:
                    self._accrue(last_t, mark, heating_w, chargers, power_on)
                    last_t = mark
                    energy_at[mark] = self.energy_kwh
            self._accrue(last_t, t, heating_w, chargers, power_on)
            last_t = max(last_t, t)

        i = 0
        while i < len(hap) or extra:
            if extra and (i >= len(hap) or (extra[0][0], extra[0][1]) <= (hap[i][0], hap[i][1])):
                t, _, kind, args = extra.pop(0)
            else:
                t, _, kind, args = hap[i]
                i += 1
            integrate(t)
            if kind == "birth":
                dev = devs[args[0]]
                dev.boot = self.rng.randrange(1, 2**31)
                dev.seq = 0
                dev.online = True
                if dev.id in ("water", "speaker"):
                    dev.counter = 0.0  # power loss resets these counters
                if dev.id == "power":
                    power_on = True
                self._status(msgs, t, dev, True, lo, hi)
                extra.append((t + 1, 4, "tele", (dev.id,)))
                extra.sort(key=lambda h: (h[0], h[1]))
            elif kind == "death":
                dev = devs[args[0]]
                self._status(msgs, t, dev, False, lo, hi)
                dev.online = False
                if dev.id == "power":
                    power_on = False
            elif kind == "state":
                self.state_seq += 1
                payload = build_station_state(
                    ts=t, seq=self.state_seq, open=args[0], source=StateSource.STAFF
                )
                self._emit(msgs, t, state_message(self.profile.id, payload, self.root), lo, hi)
            elif kind == "door":
                door_open = args[0]
                self._event(msgs, t, devs["door"], EventName.DOOR, {"open": door_open}, lo, hi)
            elif kind == "dispense":
                volume_ml = args[0]
                devs["water"].counter += volume_ml / 1000
                if lo <= t < hi:
                    truth.water_l += volume_ml / 1000
                self._event(msgs, t, devs["water"], EventName.DISPENSE, {"volume_ml": volume_ml}, lo, hi)
                extra.append((t + 500, 4, "tele", ("water",)))  # report on change
                extra.sort(key=lambda h: (h[0], h[1]))
            elif kind == "heat":
                if args[0] > 0 and lo <= t < hi:
                    truth.heating_sessions += 1
                heating_w = args[0]
                extra.append((t + 500, 4, "tele", ("power",)))
                extra.sort(key=lambda h: (h[0], h[1]))
            elif kind == "charge":
                chargers += args[0]
            elif kind == "interaction":
                devs["speaker"].counter += 1
                if lo <= t < hi:
                    truth.speaker_interactions += 1
                self._event(msgs, t, devs["speaker"], EventName.INTERACTION, {"intent": args[0]}, lo, hi)
            elif kind == "fault":
                dev = devs[args[0]]
                dev.faults.add(args[1])
                self._event(msgs, t, dev, EventName.FAULT, {"code": args[1]}, lo, hi)
            elif kind == "fault_cleared":
                dev = devs[args[0]]
                dev.faults.discard(args[1])
                self._event(msgs, t, dev, EventName.FAULT_CLEARED, {"code": args[1]}, lo, hi)
            elif kind == "tele":
                dev = devs[args[0]]
                if dev.online:
                    data = self._telemetry_data(dev, door_open, heating_w, chargers)
                    if level is not None and level.covers(dev.id, t):
                        data = level.reading(data, self.level_rng)
                    self._telemetry(msgs, t, dev, data, lo, hi)
        integrate(t1)
        if lo < hi:
            truth.energy_kwh = energy_at[hi] - energy_at[lo]

    def _accrue(self, a: int, b: int, heating_w: float, chargers: int, power_on: bool) -> None:
        if b <= a or not power_on:
            return
        watts = STANDBY_W + CHARGER_W * chargers + heating_w
        self.energy_kwh += watts * (b - a) / 3_600_000_000

    def _telemetry_data(self, dev: SimDevice, door_open: bool, heating_w: float, chargers: int) -> dict:
        rng = self.rng
        if dev.type is DeviceType.DOOR_SENSOR:
            self.battery = max(5.0, self.battery - 0.001)
            data = {
                "open": door_open,
                "battery_pct": round(self.battery, 1),
                "rssi_dbm": rng.randint(-80, -50),
            }
        elif dev.type is DeviceType.WATER_DISPENSER:
            data = {
                "water_temp_c": round(rng.uniform(90, 98), 1),
                "tank_level_pct": round(rng.uniform(40, 100), 1),
                "heater_on": rng.random() < 0.3,
                "dispensed_l_total": round(dev.counter, 6),
            }
        elif dev.type is DeviceType.POWER_STRIP:
            power = STANDBY_W + CHARGER_W * chargers + heating_w
            volts = round(rng.uniform(216, 226), 1)
            data = {
                "voltage_v": volts,
                "current_a": round(power / volts, 3),
                "power_w": round(power, 1),
                "energy_kwh_total": round(self.energy_kwh, 7),
                "outlets": [
                    {"on": True, "power_w": round(heating_w, 1)},
                    {"on": chargers > 0, "power_w": CHARGER_W * chargers},
                ],
            }
        else:
            data = {"volume_pct": 40, "rssi_dbm": rng.randint(-75, -45), "interactions_total": dev.counter}
        data["faults"] = sorted(dev.faults)
        return data

    # --- messages -----------------------------------------------------------------

    def _emit(self, msgs: list[Outgoing], t: int, message: Message, lo: int, hi: int) -> bool:
        if not lo <= t < hi:
            return False
        self._tie += 1
        msgs.append((t, self._tie, message.topic, message.payload, message.retain))
        return True

    def _device_message(self, dev: SimDevice, kind: TopicKind, payload: bytes) -> Message:
        return device_message(self.profile.id, dev.id, kind, payload, self.root)

    def _status(self, msgs: list[Outgoing], t: int, dev: SimDevice, online: bool, lo: int, hi: int) -> None:
        if online:
            payload = build_birth(boot=dev.boot, ts=t, type=dev.type, interval_s=dev.interval_s, fw=FIRMWARE)
        else:
            payload = build_death(boot=dev.boot, ts=t)
        self._emit(msgs, t, self._device_message(dev, TopicKind.STATUS, payload), lo, hi)

    def _telemetry(self, msgs: list[Outgoing], t: int, dev: SimDevice, data: dict, lo: int, hi: int) -> None:
        payload = build_telemetry(dev.type, seq=dev.seq, boot=dev.boot, ts=t, data=data)
        self._sequenced(msgs, t, dev, TopicKind.TELEMETRY, payload, lo, hi)

    def _event(
        self, msgs: list[Outgoing], t: int, dev: SimDevice, event: EventName, data: dict, lo: int, hi: int
    ) -> None:
        if dev.online:
            payload = build_event(event, seq=dev.seq, boot=dev.boot, ts=t, data=data)
            self._sequenced(msgs, t, dev, TopicKind.EVENT, payload, lo, hi)

    def _sequenced(
        self, msgs: list[Outgoing], t: int, dev: SimDevice, kind: TopicKind, payload: bytes, lo: int, hi: int
    ) -> None:
        """Send a telemetry or event built with the device's next `seq`, keeping the count."""
        seq = dev.seq
        dev.seq += 1
        message = self._device_message(dev, kind, payload)
        if self._emit(msgs, t, message, lo, hi):
            rec = dev.published.setdefault(dev.boot, [seq, seq, 0, 0, 0])
            rec[1] = seq
            rec[2 if kind is TopicKind.TELEMETRY else 3] += 1
            if self.duplicate_p and self.rng.random() < self.duplicate_p:
                self._tie += 1
                msgs.append((t, self._tie, message.topic, message.payload, False))
                rec[4] += 1

    def device_records(self) -> list[dict]:
        return [
            {
                "kind": "device",
                "station": self.profile.id,
                "device": dev.id,
                "type": dev.type,
                "boot": boot,
                "seq_first": r[0],
                "seq_last": r[1],
                "telemetry": r[2],
                "events": r[3],
                "duplicates": r[4],
            }
            for dev in self.devices.values()
            for boot, r in dev.published.items()
        ]
