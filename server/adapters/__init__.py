"""Adapters: InfluxDB over its v1 HTTP API, the SQLite stores, MQTT, notifications."""
