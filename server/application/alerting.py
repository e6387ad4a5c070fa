"""The alerting service: stores alert transitions, routes them to crews, and takes people's actions.

Transitions come from the domain's `AlertEngine` through ingest — messages, the passage of time,
and people's acknowledgements and resolutions, which enter the pipeline's inbox like messages.
The pipeline hands each batch's transitions to `persist`, which stores them with their outbox rows
in one SQLite transaction before the messages that caused them are acknowledged to the broker,
then tells the SSE listeners and wakes the deliverer.
"""

import asyncio
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from yizhan.protocol.topics import alert_topic
from yizhan.server.application.clock import Clock
from yizhan.server.application.ingest import AlertAction
from yizhan.server.application.pipeline import Inbox
from yizhan.server.application.ports import AlertFeed, AlertStore, Outbox
from yizhan.server.domain.alerts import Alert, AlertEngine, AlertTransition
from yizhan.server.domain.routing import CrewSpec, Silence, SilenceSpec, route
from yizhan.server.domain.timestamps import iso_ms


class Alerting:
    def __init__(
        self,
        engine: AlertEngine,
        store: AlertStore,
        inbox: Inbox,
        clock: Clock,
        root: str,
        stream: AlertFeed,
        deliverer: Outbox,
        crews: dict[str, CrewSpec],
    ) -> None:
        self.engine = engine
        self.store = store
        self.inbox = inbox
        self.clock = clock
        self.root = root
        self.stream = stream
        self.deliverer = deliverer
        self.crews = crews  # shared with the deliverer, which signs with their secrets: updated in place
        self.silences: list[Silence] = store.silences()
        self._stored: set[int] = set(engine.open)  # open alerts whose transitions are stored
        self.transitions = 0
        self.notifications_silenced = 0

    # --- transitions ----------------------------------------------------------------

    async def persist(self, transitions: list[AlertTransition]) -> None:
        """Store and route a batch's transitions, in order (the pipeline's second step)."""
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
        self._stored.update(t.alert.id for t in transitions)
        self._stored.intersection_update(self.engine.open)
        self.transitions += len(transitions)
        for t, _, silence, _ in items:
            self.stream.publish(notification_dict(t, silence))
        self.deliverer.wake()

    def open_alerts(self) -> list[Alert]:
        """Firing and acknowledged alerts, newest first — only those already stored, so that an
        alert a client sees here is one it can read, acknowledge and resolve."""
        stored = self._stored
        return sorted((a for a in self.engine.open.values() if a.id in stored), key=lambda a: -a.id)

    async def acknowledge(self, alert_id: int, by: str, note: str | None) -> Alert:
        return await self._act(AlertAction("acknowledge", alert_id, by, note))

    async def resolve(self, alert_id: int, by: str, note: str | None) -> Alert:
        return await self._act(AlertAction("resolve", alert_id, by, note))

    async def _act(self, action: AlertAction) -> Alert:
        """Through the pipeline like a message: in order with what arrived before it, and answered
        once it is durable. AlertError when the alert is not open."""
        await self.inbox.act(action)
        alert = await asyncio.to_thread(self.store.alert, action.alert_id)
        assert alert is not None, "an alert the engine knows is stored"
        return alert

    # --- crews and silences ---------------------------------------------------------------

    async def put_crew(self, crew_id: str, crew: CrewSpec) -> bool:
        created = await asyncio.to_thread(self.store.put_crew, crew_id, crew)
        self.crews[crew_id] = crew
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
