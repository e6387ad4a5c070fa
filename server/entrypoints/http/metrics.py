"""Prometheus metrics, read from the live counters at scrape time (nothing on the hot path)."""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from yizhan.server.adapters.mqtt_link import MqttLink
from yizhan.server.application.alerting import Alerting
from yizhan.server.application.ingest import Ingest
from yizhan.server.application.pipeline import Pipeline


class ServerCollector:
    def __init__(self, ingest: Ingest, pipeline: Pipeline, mqtt: MqttLink, alerting: Alerting) -> None:
        self.ingest, self.pipeline, self.mqtt, self.alerting = ingest, pipeline, mqtt, alerting

    def collect(self) -> Iterator[Metric]:
        ingest, pipe = self.ingest, self.pipeline
        accepted = CounterMetricFamily(
            "yz_messages_accepted", "Valid messages by topic kind", labels=["kind"]
        )
        for kind, n in sorted(ingest.accepted.items()):
            accepted.add_metric([kind], n)
        yield accepted
        rejected = CounterMetricFamily(
            "yz_messages_rejected", "Rejected messages by reason", labels=["reason"]
        )
        for reason, n in sorted(ingest.rejected.items()):
            rejected.add_metric([reason], n)
        yield rejected
        yield CounterMetricFamily(
            "yz_messages_other_partition",
            "Messages of stations another server process handles (YZ_PARTITION)",
            value=ingest.other_partition,
        )
        yield CounterMetricFamily(
            "yz_messages_clock_skew", "Messages whose ts was replaced", value=ingest.clock_skew
        )
        yield CounterMetricFamily(
            "yz_points_written", "Points written to InfluxDB", value=pipe.points_written
        )
        yield CounterMetricFamily(
            "yz_points_spooled", "Points spooled while InfluxDB was down", value=pipe.points_spooled
        )
        yield CounterMetricFamily("yz_points_refused", "Points InfluxDB refused", value=pipe.points_rejected)
        yield from pipe.lag.collect()
        yield GaugeMetricFamily("yz_spool_lines", "Points waiting in the spool", value=pipe.spool_lines)
        yield GaugeMetricFamily(
            "yz_inbox_messages", "Messages received, not yet handled", value=len(pipe.inbox)
        )
        yield CounterMetricFamily(
            "yz_mqtt_acks", "Messages acknowledged to the broker", value=self.mqtt.acks_sent
        )
        yield CounterMetricFamily(
            "yz_mqtt_acks_dropped",
            "Acknowledgements of an earlier connection, left to redelivery",
            value=self.mqtt.acks_dropped,
        )
        yield GaugeMetricFamily(
            "yz_mqtt_connected", "1 when connected to the broker", value=int(self.mqtt.connected)
        )
        yield GaugeMetricFamily(
            "yz_influxdb_up", "1 when the last InfluxDB write succeeded", value=int(pipe.influx_ok)
        )
        stations = ingest.fleet.stations.values()
        yield GaugeMetricFamily("yz_stations", "Registered stations", value=len(ingest.fleet.stations))
        yield GaugeMetricFamily(
            "yz_stations_open", "Stations open now", value=sum(1 for s in stations if s.is_open())
        )
        yield GaugeMetricFamily(
            "yz_devices_online", "Devices online now", value=sum(s.devices_online() for s in stations)
        )
        yield GaugeMetricFamily(
            "yz_unregistered_senders", "Unregistered senders seen", value=len(ingest.unregistered)
        )
        alerting = self.alerting
        open_alerts = GaugeMetricFamily("yz_alerts_open", "Open alerts by state", labels=["state"])
        for state in ("firing", "acknowledged"):
            open_alerts.add_metric([state], sum(1 for a in alerting.engine.open.values() if a.state == state))
        yield open_alerts
        yield CounterMetricFamily(
            "yz_alert_transitions", "Alert transitions stored", value=alerting.transitions
        )
        yield CounterMetricFamily(
            "yz_alert_notifications_delivered",
            "Webhook and MQTT alert notifications taken by their receivers",
            value=alerting.deliverer.delivered,
        )
        yield CounterMetricFamily(
            "yz_alert_delivery_failures",
            "Failed delivery attempts (retried with backoff)",
            value=alerting.deliverer.attempts_failed,
        )
        yield CounterMetricFamily(
            "yz_alert_notifications_silenced",
            "Transitions not notified because of a silence",
            value=alerting.notifications_silenced,
        )


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
