"""The embedded state in YZ_DATA_DIR: registry, alerts, audit chain, users, spool (SQLite)."""
