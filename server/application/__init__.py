"""The application layer: ingest, the durable pipeline, alerting, sealing, and the queries over InfluxDB.

It depends on the domain only; adapters plug in through the ports in `ports.py`."""
