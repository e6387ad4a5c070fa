"""The alerting service: persists alert transitions, routes them to crews, and takes people's actions.

Transitions come from the domain's `AlertEngine` through `Ingest` (messages and time) or from
`acknowledge` / `resolve` here. `persist` stores them with their outbox rows in one SQLite
transaction before the messages that caused them are acknowledged to the broker, then wakes the
deliverer and tells the SSE listeners.
"""

import asyncio
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from yizhan.protocol.topics import alert_topic
from yizhan.server.application.clock import Clock
from yizhan.server.application.ingest import Ingest
from yizhan.server.application.ports import AlertFeed, AlertStore, Outbox
from yizhan.server.domain.alerts import Alert, AlertEngine, AlertTransition
from yizhan.server.domain.routing import CrewSpec, Silence, SilenceSpec, route
from yizhan.server.domain.timestamps import iso_ms


class Alerting:
    def __init__(
        self,
        engine: AlertEngine,
        store: AlertStore,
        ingest: Ingest,
        clock: Clock,
        root: str,
        stream: AlertFeed,
        deliverer: Outbox,
    ) -> None:
        self.engine = engine
        self.store = store
        self.ingest = ingest
        self.clock = clock
        self.root = root
        self.stream = stream
        self.deliverer = deliverer
        self.crews: dict[str, CrewSpec] = store.crews()
        self.silences: list[Silence] = store.silences()
        self._lock = asyncio.Lock()
        self.transitions = 0
        self.notifications_silenced = 0

    # --- transitions ----------------------------------------------------------------

    async def persist(self) -> None:
        """Store and route every transition the engine produced so far, in order."""
        async with self._lock:
            transitions = self.ingest.take_transitions()
            if not transitions:
                return
            now = self.clock.now_ms()
            items = []
            for t in transitions:
                topic = alert_topic(t.alert.district, t.alert.station, self.root)
                deliveries, silence = route(t, self.crews, topic, self.silences, now)
                if silence is not None:
                    self.notifications_silenced += 1
                body = notification(t, silence)
                items.append((t, deliveries, silence, [body] * len(deliveries)))
            await asyncio.to_thread(self.store.record, items, int(time.time() * 1000))
            self.transitions += len(transitions)
            for t, _, silence, _ in items:
                self.stream.publish(notification_dict(t, silence))
            self.deliverer.wake()

    async def acknowledge(self, alert_id: int, by: str, note: str | None) -> Alert:
        await self.persist()  # anything that fired before this request is stored first
        transitions = self.engine.acknowledge(alert_id, by, note, self.clock.now_ms())
        return await self._manual(alert_id, transitions)

    async def resolve(self, alert_id: int, by: str, note: str | None) -> Alert:
        await self.persist()
        transitions = self.engine.resolve(alert_id, by, note, self.clock.now_ms())
        return await self._manual(alert_id, transitions)

    async def _manual(self, alert_id: int, transitions: list[AlertTransition]) -> Alert:
        self.ingest.alerted(transitions)
        await self.persist()
        alert = await asyncio.to_thread(self.store.alert, alert_id)
        assert alert is not None, "an alert the engine knows is stored"
        return alert

    # --- crews and silences ---------------------------------------------------------------

    async def put_crew(self, crew_id: str, crew: CrewSpec) -> bool:
        created = await asyncio.to_thread(self.store.put_crew, crew_id, crew)
        self.crews = {**self.crews, crew_id: crew}
        return created

    async def add_silence(self, spec: SilenceSpec, ends_ms: int) -> Silence:
        now = self.clock.now_ms()
        s = Silence(0, spec.station, spec.district, spec.rule, now, ends_ms, spec.by, spec.note)
        stored = await asyncio.to_thread(self.store.add_silence, s)
        self.silences = [*self.silences, stored]
        return stored

    async def end_silence(self, silence_id: int) -> bool:
        ended = await asyncio.to_thread(self.store.end_silence, silence_id, self.clock.now_ms())
        self.silences = await asyncio.to_thread(self.store.silences)
        return ended


def notification_dict(t: AlertTransition, silence: Silence | None) -> dict[str, Any]:
    """What webhooks, MQTT and SSE carry for one transition."""
    return {
        "kind": t.kind,
        "at": iso_ms(t.at_ms),
        "by": t.by,
        "note": t.note,
        "silenced_by": silence.id if silence else None,
        "alert": alert_json(t.alert),
    }


def notification(t: AlertTransition, silence: Silence | None) -> bytes:
    return orjson.dumps(notification_dict(t, silence))


def silence_json(s: Silence) -> dict[str, Any]:
    return {
        "id": s.id,
        "station": s.station,
        "district": s.district,
        "rule": s.rule,
        "starts_at": iso_ms(s.starts_ms),
        "ends_at": iso_ms(s.ends_ms),
        "by": s.by,
        "note": s.note,
    }


def parse_end(value: str, tz: ZoneInfo) -> int:
    """`ends_at` as epoch ms; a naive time is in `tz` (YZ_TIMEZONE). ValueError if unreadable."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int((dt if dt.tzinfo else dt.replace(tzinfo=tz)).timestamp() * 1000)


def alert_json(alert: Alert) -> dict[str, Any]:
    """The alert as the API, webhooks, MQTT and SSE show it."""
    return {
        "id": alert.id,
        "station": alert.station,
        "district": alert.district,
        "device": alert.device,
        "device_type": alert.device_type,
        "rule": alert.rule,
        "severity": alert.severity,
        "state": alert.state,
        "fired_at": iso_ms(alert.fired_at_ms),
        "acknowledged_at": iso_ms(alert.acknowledged_at_ms),
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": iso_ms(alert.resolved_at_ms),
        "resolved_by": alert.resolved_by,
        "note": alert.note,
        "reminders": alert.reminders,
        "escalated": alert.escalated,
        "message": {"zh": alert.message_zh, "en": alert.message_en},
    }
