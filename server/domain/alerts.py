"""Alert rules and the alert lifecycle: conditions in, alert transitions out.

A rule watches one condition per (station, device, rule). A condition that holds for the rule's
pending period fires an alert (flap damping); an open alert resolves once the condition has been
clear for the rule's clear period. Lifecycle: firing → acknowledged → resolved, automatically when
the condition clears or by hand. One open alert per key; after resolving, a new alert is a new id.
An alert resolved by hand while its condition still holds stays resolved until the condition
clears and comes back.

Time: transitions caused by a message carry the message time; pending, clear, reminder and
escalation deadlines are checked by `tick(now)` and carry the time they fell due, and a
condition that was both due and cleared between two ticks still fires (at its due time) and
resolves, so bursts of late data give the same alerts as live data.
"""

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from yizhan.protocol.faults import CATALOG, DEVICE_TYPE_NAMES_ZH, severity_of
from yizhan.server.domain.fleet import DeviceState, Fleet, StationLive
from yizhan.server.domain.online import StatusReason
from yizhan.server.domain.schedule import scheduled_open_from


class AlertState(StrEnum):
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class TransitionKind(StrEnum):
    """What happened to an alert: a change of its state, or a nudge while it stays open."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REMINDER = "reminder"  # still firing, nobody acknowledged it
    ESCALATED = "escalated"  # still unacknowledged after the escalation time: the operators are told


FIRING, ACKNOWLEDGED, RESOLVED = AlertState.FIRING, AlertState.ACKNOWLEDGED, AlertState.RESOLVED
OPEN_STATES = (FIRING, ACKNOWLEDGED)


@dataclass(frozen=True)
class AlertRule:
    name: str
    severity: str
    pending_s: int
    clear_s: int
    zh: str
    en: str


RULES: dict[str, AlertRule] = {
    r.name: r
    for r in (
        AlertRule("device_offline", "major", 120, 60, "设备离线", "device offline"),
        AlertRule(
            "water_cold", "major", 1200, 60, "加热中但水温低于 {t} °C", "heater on, water below {t} °C"
        ),
        AlertRule("mains_voltage", "major", 300, 60, "市电电压超出 {lo}–{hi} V", "mains outside {lo}–{hi} V"),
        AlertRule("battery_low", "minor", 0, 0, "电池电量低于 {b}%", "battery below {b} %"),
        AlertRule(
            "station_dark",
            "critical",
            600,
            60,
            "报告开放但所有设备离线",
            "reported open but every device offline",
        ),
        AlertRule("fault", "major", 0, 0, "{meaning_zh}（{code}）", "{meaning} ({code})"),
    )
}
DEFAULTS = {"water_min_temp_c": 60.0, "voltage_min_v": 198.0, "voltage_max_v": 242.0, "battery_min_pct": 15.0}
# fault codes that are the same thing as a derived rule: one alert, fed by either
FAULT_RULE_ALIASES = {"battery_low": "battery_low"}


def fault_rule(code: str) -> str:
    return FAULT_RULE_ALIASES.get(code, f"fault:{code}")


def rule_of(name: str) -> AlertRule:
    return RULES["fault"] if name.startswith("fault:") else RULES[name]


class AlertError(ValueError):
    """A request on an alert that its state does not allow (unknown id, already resolved)."""


Key = tuple[str, str | None, str]  # station, device (None: the station itself), rule


@dataclass(slots=True)
class Alert:
    id: int
    station: str
    district: str
    device: str | None
    device_type: str | None
    rule: str
    severity: str
    state: str
    fired_at_ms: int
    message_zh: str
    message_en: str
    acknowledged_at_ms: int | None = None
    acknowledged_by: str | None = None
    resolved_at_ms: int | None = None
    resolved_by: str | None = None  # "auto" when the condition cleared
    note: str | None = None
    reminders: int = 0
    escalated: bool = False

    @property
    def key(self) -> Key:
        return (self.station, self.device, self.rule)


@dataclass(frozen=True, slots=True)
class AlertTransition:
    """Something that happened to an alert: firing, acknowledged, resolved, reminder, escalated."""

    kind: TransitionKind | AlertState
    alert: Alert  # a snapshot taken at the transition
    at_ms: int
    by: str | None = None
    note: str | None = None


@dataclass(slots=True)
class _Condition:
    active: bool
    since_ms: int
    due_ms: int | None  # when it fires if still active; None: never (no schedule)
    severity: str
    detail: dict[str, Any]
    alert_id: int | None = None
    cleared_ms: int | None = None
    latched: bool = False  # resolved by hand while active


class AlertEngine:
    """Every alert condition of the fleet and the open alerts. Methods return transitions."""

    def __init__(
        self,
        fleet: Fleet,
        *,
        next_id: int = 1,
        reminder_s: float = 1800,
        escalation_s: float = 3600,
        default_tz: str = "Asia/Shanghai",
    ) -> None:
        self.fleet = fleet
        self.next_id = next_id
        self.reminder_ms = int(reminder_s * 1000)
        self.escalation_ms = int(escalation_s * 1000)
        self.default_tz = default_tz
        self.open: dict[int, Alert] = {}
        self._conditions: dict[Key, _Condition] = {}
        self._waiting: set[Key] = set()  # conditions with a pending or clear deadline
        self._battery: dict[tuple[str, str], tuple[bool, bool]] = {}  # (by level, by fault code)
        self._faults: dict[tuple[str, str], frozenset[str]] = {}

    # --- restoring after a restart --------------------------------------------------

    def load(self, alerts: list[Alert]) -> None:
        """Take back the open alerts kept in storage; their conditions count as holding."""
        for a in alerts:
            if a.state not in OPEN_STATES:
                continue
            self.open[a.id] = a
            self._conditions[a.key] = _Condition(True, a.fired_at_ms, a.fired_at_ms, a.severity, {}, a.id)
            if a.rule.startswith("fault:") and a.device:
                dkey = (a.station, a.device)
                self._faults[dkey] = self._faults.get(dkey, frozenset()) | {a.rule[6:]}
                dev = self.fleet.device(a.station, a.device)
                if dev is not None:
                    dev.faults = dev.faults | {a.rule[6:]}
            self.next_id = max(self.next_id, a.id + 1)

    # --- inputs ---------------------------------------------------------------------

    def on_device_status(self, dev: DeviceState, at_ms: int) -> list[AlertTransition]:
        """A device went online or offline (the device_offline condition)."""
        if dev.type == "gateway":
            return []
        offline = not dev.online and dev.offline_reason in (StatusReason.DEATH, StatusReason.TIMEOUT)
        return self._set((dev.station, dev.id, "device_offline"), offline, at_ms)

    def on_station_status(self, station: str, at_ms: int) -> list[AlertTransition]:
        """The station's claim or its devices changed (the station_dark condition)."""
        live = self.fleet.stations[station]
        devices = [d for d in live.devices.values() if d.type != "gateway"]
        known = all(d.online or d.offline_reason is not None for d in devices)
        dark = bool(devices) and known and live.reported_open and not any(d.online for d in devices)
        if not dark and not known:
            return []  # after a restart: not yet heard from every device, no verdict either way
        return self._set((station, None, "station_dark"), dark, at_ms)

    def on_faults(
        self, dev: DeviceState, faults: frozenset[str], at_ms: int, severities: dict[str, str] | None = None
    ) -> list[AlertTransition]:
        """The device's set of active fault codes is now `faults` (from telemetry or events)."""
        dkey = (dev.station, dev.id)
        before = self._faults.get(dkey, frozenset())
        if faults == before:
            return []
        self._faults[dkey] = faults
        out: list[AlertTransition] = []
        for code in sorted(faults ^ before):
            active = code in faults
            if fault_rule(code) == "battery_low":
                out += self._battery_input(dev, at_ms, by_fault=active)
                continue
            known = CATALOG.get(code)
            detail = {
                "code": code,
                "meaning": known.meaning if known else code,
                "meaning_zh": known.meaning_zh if known else code,
            }
            severity = severity_of(code, (severities or {}).get(code))
            out += self._set((dev.station, dev.id, fault_rule(code)), active, at_ms, severity, detail)
        return out

    def on_fault_event(
        self, dev: DeviceState, code: str, active: bool, at_ms: int, severity: str | None = None
    ) -> list[AlertTransition]:
        """A `fault` or `fault_cleared` event: one code changes, the others stay."""
        before = self._faults.get((dev.station, dev.id), frozenset())
        after = before | {code} if active else before - {code}
        return self.on_faults(dev, after, at_ms, {code: severity} if severity else None)

    def on_telemetry(self, dev: DeviceState, fields: dict[str, Any], at_ms: int) -> list[AlertTransition]:
        """Derived rules over one telemetry sample."""
        limits = self._limits(dev.station)
        out: list[AlertTransition] = []
        key = (dev.station, dev.id)
        temp, heater = fields.get("water_temp_c"), fields.get("heater_on")
        if temp is not None and heater is not None:
            cold = bool(heater) and temp < limits["water_min_temp_c"]
            out += self._set((*key, "water_cold"), cold, at_ms, detail={"t": limits["water_min_temp_c"]})
        volts = fields.get("voltage_v")
        if volts is not None:
            bad = not limits["voltage_min_v"] <= volts <= limits["voltage_max_v"]
            detail = {"lo": limits["voltage_min_v"], "hi": limits["voltage_max_v"]}
            out += self._set((*key, "mains_voltage"), bad, at_ms, detail=detail)
        battery = fields.get("battery_pct")
        if battery is not None:
            out += self._battery_input(dev, at_ms, by_level=battery < limits["battery_min_pct"])
        return out

    # --- time -----------------------------------------------------------------------

    def tick(self, now_ms: int) -> list[AlertTransition]:
        """Fire what is due, resolve what stayed clear, remind and escalate what nobody took."""
        out: list[AlertTransition] = []
        for key in list(self._waiting):
            c = self._conditions.get(key)
            if c is None:
                self._waiting.discard(key)
                continue
            if c.active and c.alert_id is None and not c.latched and c.due_ms is not None:
                if c.due_ms <= now_ms:
                    out += self._fire(key, c, c.due_ms)
                    self._waiting.discard(key)
            elif not c.active and c.alert_id is not None and c.cleared_ms is not None:
                if c.cleared_ms + self._clear_ms(key) <= now_ms:
                    out += self._auto_resolve(key, c)
            else:
                self._waiting.discard(key)
        for alert in list(self.open.values()):
            if alert.state != FIRING:
                continue
            # stamped when they fell due, not when a tick noticed: a replay gives the same times
            age = now_ms - alert.fired_at_ms
            if self.escalation_ms and not alert.escalated and age >= self.escalation_ms:
                alert.escalated = True
                at = alert.fired_at_ms + self.escalation_ms
                out.append(AlertTransition(TransitionKind.ESCALATED, replace(alert), at))
            if self.reminder_ms:
                due = age // self.reminder_ms
                if due > alert.reminders:  # one reminder for the latest period, however many passed
                    alert.reminders = int(due)
                    at = alert.fired_at_ms + int(due) * self.reminder_ms
                    out.append(AlertTransition(TransitionKind.REMINDER, replace(alert), at))
        return out

    # --- people ---------------------------------------------------------------------

    def acknowledge(self, alert_id: int, by: str, note: str | None, at_ms: int) -> list[AlertTransition]:
        alert = self._open_alert(alert_id)
        if alert.state == ACKNOWLEDGED:
            return []
        alert.state, alert.acknowledged_at_ms, alert.acknowledged_by = ACKNOWLEDGED, at_ms, by
        alert.note = note or alert.note
        return [AlertTransition(ACKNOWLEDGED, replace(alert), at_ms, by, note)]

    def resolve(self, alert_id: int, by: str, note: str | None, at_ms: int) -> list[AlertTransition]:
        alert = self._open_alert(alert_id)
        c = self._conditions.get(alert.key)
        if c is not None and c.alert_id == alert_id:
            if c.active:
                c.alert_id, c.latched = None, True
            else:
                del self._conditions[alert.key]
                self._waiting.discard(alert.key)
        return [self._close(alert, at_ms, by, note)]

    # --- internals --------------------------------------------------------------------

    def _open_alert(self, alert_id: int) -> Alert:
        alert = self.open.get(alert_id)
        if alert is None:
            raise AlertError(f"alert {alert_id} is not open (unknown or already resolved)")
        return alert

    def _overrides(self, station: str) -> Any:
        live = self.fleet.stations.get(station)
        return live.spec.alerts if live is not None else None

    def _limits(self, station: str) -> dict[str, float]:
        ov = self._overrides(station)
        if ov is None:
            return DEFAULTS
        return {k: (getattr(ov, k) if getattr(ov, k) is not None else v) for k, v in DEFAULTS.items()}

    def _period_ms(self, key: Key, which: str) -> int:
        rule = rule_of(key[2])
        ov = self._overrides(key[0])
        table = getattr(ov, which) if ov is not None else {}
        seconds = table.get(key[2], table.get(rule.name, getattr(rule, which)))
        return int(seconds * 1000)

    def _clear_ms(self, key: Key) -> int:
        return self._period_ms(key, "clear_s")

    def _due(self, key: Key, since_ms: int) -> int | None:
        due = since_ms + self._period_ms(key, "pending_s")
        if key[2] != "device_offline":
            return due
        # a device that is dark outside the declared hours alerts only if still dark at opening
        live = self.fleet.stations[key[0]]
        return scheduled_open_from(live.spec.weekly_schedule(), live.spec.zone(self.default_tz), due)

    def _battery_input(
        self, dev: DeviceState, at_ms: int, by_level: bool | None = None, by_fault: bool | None = None
    ) -> list[AlertTransition]:
        dkey = (dev.station, dev.id)
        level, fault = self._battery.get(dkey, (False, False))
        level = level if by_level is None else by_level
        fault = fault if by_fault is None else by_fault
        self._battery[dkey] = (level, fault)
        b = self._limits(dev.station)["battery_min_pct"]
        return self._set((*dkey, "battery_low"), level or fault, at_ms, detail={"b": b})

    def _set(
        self,
        key: Key,
        active: bool,
        at_ms: int,
        severity: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> list[AlertTransition]:
        c = self._conditions.get(key)
        if active:
            if c is None:
                ov = self._overrides(key[0])
                if ov is not None and (key[2] in ov.disabled or rule_of(key[2]).name in ov.disabled):
                    return []
                due = self._due(key, at_ms)
                sev = severity or rule_of(key[2]).severity
                c = self._conditions[key] = _Condition(True, at_ms, due, sev, detail or {})
                if due is not None and due <= at_ms:
                    return self._fire(key, c, at_ms)
                if due is not None:
                    self._waiting.add(key)
                return []
            if c.active:
                return []
            # back before the clear period ran out: the same alert goes on
            if c.cleared_ms is not None and at_ms - c.cleared_ms >= self._clear_ms(key):
                out = self._auto_resolve(key, c)
                return out + self._set(key, True, at_ms, severity, detail)
            c.active, c.cleared_ms = True, None
            return []
        if c is None or not c.active:
            return []
        out: list[AlertTransition] = []
        if c.alert_id is None and not c.latched and c.due_ms is not None and c.due_ms <= at_ms:
            out += self._fire(key, c, c.due_ms)  # it was due before it cleared
        if c.alert_id is None:
            del self._conditions[key]
            self._waiting.discard(key)
            return out
        c.active, c.cleared_ms = False, at_ms
        if self._clear_ms(key) == 0:
            return out + self._auto_resolve(key, c)
        self._waiting.add(key)
        return out

    def _fire(self, key: Key, c: _Condition, at_ms: int) -> list[AlertTransition]:
        station, device, rule = key
        live = self.fleet.stations[station]
        dev = live.devices.get(device) if device else None
        zh, en = describe(live, dev, rule, c.detail)
        alert = Alert(
            id=self.next_id,
            station=station,
            district=live.spec.district,
            device=device,
            device_type=dev.type if dev else None,
            rule=rule,
            severity=c.severity,
            state=FIRING,
            fired_at_ms=at_ms,
            message_zh=zh,
            message_en=en,
        )
        self.next_id += 1
        c.alert_id = alert.id
        self.open[alert.id] = alert
        return [AlertTransition(FIRING, replace(alert), at_ms)]

    def _auto_resolve(self, key: Key, c: _Condition) -> list[AlertTransition]:
        del self._conditions[key]
        self._waiting.discard(key)
        alert = self.open.get(c.alert_id) if c.alert_id is not None else None
        if alert is None:
            return []
        return [
            self._close(alert, c.cleared_ms if c.cleared_ms is not None else alert.fired_at_ms, "auto", None)
        ]

    def _close(self, alert: Alert, at_ms: int, by: str, note: str | None) -> AlertTransition:
        alert.state, alert.resolved_at_ms, alert.resolved_by = RESOLVED, at_ms, by
        alert.note = note or alert.note
        del self.open[alert.id]
        return AlertTransition(RESOLVED, replace(alert), at_ms, by, note)


def describe(
    live: StationLive, dev: DeviceState | None, rule: str, detail: dict[str, Any]
) -> tuple[str, str]:
    """The alert's message in Chinese and English, naming the station and the device."""
    r = rule_of(rule)
    what_zh, what_en = r.zh.format(**detail), r.en.format(**detail)
    name = live.spec.name
    if dev is None:
        return f"{name}（{live.id}）：{what_zh}", f"{name} ({live.id}): {what_en}"
    kind_zh = DEVICE_TYPE_NAMES_ZH.get(dev.type, "设备")
    kind_en = dev.type.replace("_", " ")
    return (
        f"{name}（{live.id}）{kind_zh}「{dev.id}」：{what_zh}",
        f"{name} ({live.id}), {kind_en} '{dev.id}': {what_en}",
    )
