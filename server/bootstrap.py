"""The composition root: the one place that wires adapters, domain and entry points together."""

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from yizhan.server.adapters.influx import InfluxClient
from yizhan.server.adapters.mqtt_link import MessageSink, MqttLink
from yizhan.server.adapters.notify import AlertStream, Deliverer
from yizhan.server.adapters.sqlite.alert_store import AlertStore
from yizhan.server.adapters.sqlite.audit_store import AuditStore
from yizhan.server.adapters.sqlite.registry import Registry
from yizhan.server.adapters.sqlite.spool import Spool
from yizhan.server.adapters.sqlite.user_store import UserStore
from yizhan.server.application.alerting import Alerting
from yizhan.server.application.clock import Clock, make_clock
from yizhan.server.application.ingest import Ingest
from yizhan.server.application.pipeline import Inbox, Pipeline, supervised
from yizhan.server.application.sealing import AuditSealer
from yizhan.server.config import Settings
from yizhan.server.domain.alerts import AlertEngine
from yizhan.server.domain.budget import StationBudget
from yizhan.server.domain.fleet import Fleet
from yizhan.server.domain.partition import Partition
from yizhan.server.domain.routing import crew_secret

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    clock: Clock
    registry: Registry
    fleet: Fleet
    ingest: Ingest
    influx: InfluxClient
    spool: Spool
    inbox: Inbox
    pipeline: Pipeline
    mqtt: MqttLink
    alerting: Alerting
    audit: AuditSealer
    users: UserStore
    metrics: CollectorRegistry


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    registry: Registry | None = None,
    alert_store: AlertStore | None = None,
    audit_store: AuditStore | None = None,
    users: UserStore | None = None,
    influx: InfluxClient | None = None,
    spool: Spool | None = None,
    mqtt_link: Callable[[Settings, MessageSink], MqttLink] = MqttLink,
) -> Services:
    """The object graph of one server process. Every adapter can be handed in (the tests hand in
    their own); what is not is made from `settings`."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    clock = clock or make_clock(settings.clock)
    registry = registry or Registry(settings.data_dir / "registry.sqlite")
    fleet = Fleet()
    for station_id, spec in registry.stations().items():
        fleet.register(station_id, spec)
    alert_store = alert_store or AlertStore(settings.data_dir / "alerts.sqlite")
    engine = AlertEngine(
        fleet,
        next_id=alert_store.max_alert_id() + 1,
        reminder_s=settings.alert_reminder_min * 60,
        escalation_s=settings.alert_escalation_min * 60,
        default_tz=settings.timezone,
    )
    engine.load(alert_store.open_alerts())
    partition = Partition.parse(settings.partition) if settings.partition else None
    budget = (
        StationBudget(settings.station_max_rate, settings.station_burst)
        if settings.station_max_rate
        else None
    )
    ingest = Ingest(fleet, clock, settings.topic_root, alerts=engine, partition=partition, budget=budget)
    for sender in registry.unregistered():
        ingest.unregistered[(sender.station, sender.device)] = sender
    influx = influx or InfluxClient(
        settings.influx_url,
        settings.influx_db,
        token=settings.influx_token,
        username=settings.influx_username,
        password=settings.influx_password,
    )
    spool = spool or Spool(settings.data_dir / "spool.sqlite")
    # one way in for messages (the MQTT thread) and alert actions (the API): the pipeline's inbox
    inbox = Inbox()
    mqtt = mqtt_link(settings, inbox.put)
    crews = alert_store.crews()  # the alerting service keeps it current; the deliverer signs with it
    deliverer = Deliverer(alert_store, mqtt.publish_confirmed, functools.partial(crew_secret, crews))
    alerting = Alerting(
        engine, alert_store, inbox, clock, settings.topic_root, AlertStream(), deliverer, crews
    )
    audit = AuditSealer(
        audit_store or AuditStore(settings.data_dir / "audit.sqlite"),
        fleet,
        influx,
        clock,
        settings.timezone,
    )
    pipeline = Pipeline(
        inbox,
        ingest,
        influx,
        spool,
        mqtt.ack,
        alerting,
        audit,
        batch_lines=settings.batch_lines,
        flush_interval_s=settings.flush_interval_ms / 1000,
    )
    metrics = CollectorRegistry()  # the HTTP app registers its collectors here
    return Services(
        settings,
        clock,
        registry,
        fleet,
        ingest,
        influx,
        spool,
        inbox,
        pipeline,
        mqtt,
        alerting,
        audit,
        users or UserStore(settings.data_dir / "users.sqlite"),
        metrics,
    )


async def _save_unregistered(services: Services) -> None:
    while True:
        await asyncio.sleep(2.0)
        ingest = services.ingest
        if ingest.unregistered_dirty:
            ingest.unregistered_dirty = False
            await asyncio.to_thread(services.registry.save_unregistered, list(ingest.unregistered.values()))


async def _report_over_budget(budget: StationBudget) -> None:
    """Once a minute, name the stations that sent more than their budget (refused, counted)."""
    while True:
        await asyncio.sleep(60.0)
        over = budget.report()
        if over:
            worst = ", ".join(f"{station} {n}" for station, n in over.most_common(10))
            log.warning(
                "%d stations over their message budget (%g/s, burst %d); refused: %s",
                len(over),
                budget.rate,
                budget.burst,
                worst,
            )


@contextlib.asynccontextmanager
async def running(services: Services) -> AsyncIterator[Services]:
    """Run ingest for the lifetime of the context; on exit flush, acknowledge, disconnect."""
    tasks = [
        asyncio.create_task(services.pipeline.run(), name="pipeline"),
        asyncio.create_task(_save_unregistered(services), name="unregistered"),
        asyncio.create_task(supervised(services.alerting.deliverer.run), name="deliveries"),
        asyncio.create_task(supervised(services.audit.run), name="audit"),
    ]
    if services.ingest.budget is not None:
        tasks.append(asyncio.create_task(_report_over_budget(services.ingest.budget), name="budget"))
    services.mqtt.start()
    try:
        yield services
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await services.pipeline.flush()
        services.mqtt.stop()
        services.registry.save_unregistered(list(services.ingest.unregistered.values()))
        await services.influx.close()
        await services.alerting.deliverer.close()
        services.alerting.store.close()
        services.audit.store.close()
        services.spool.close()
        services.registry.close()
        services.users.close()
