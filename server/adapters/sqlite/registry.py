"""The station registry and the list of unregistered senders, kept in SQLite under YZ_DATA_DIR."""

import sqlite3
from pathlib import Path

from yizhan.server.application.ingest import UnregisteredSender
from yizhan.server.domain.station import StationSpec


class Registry:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS stations (id TEXT PRIMARY KEY, body TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS unregistered (
                station TEXT NOT NULL, device TEXT NOT NULL, reason TEXT NOT NULL,
                first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
                messages INTEGER NOT NULL, PRIMARY KEY (station, device));
            """
        )

    def stations(self) -> dict[str, StationSpec]:
        rows = self._db.execute("SELECT id, body FROM stations").fetchall()
        return {sid: StationSpec.model_validate_json(body) for sid, body in rows}

    def put_station(self, station_id: str, spec: StationSpec) -> bool:
        """Store a station; True when it is new."""
        new = self._db.execute("SELECT 1 FROM stations WHERE id = ?", (station_id,)).fetchone() is None
        body = spec.model_dump_json(exclude_none=True)
        self._db.execute(
            "INSERT INTO stations (id, body) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET body = excluded.body",
            (station_id, body),
        )
        self._db.execute("DELETE FROM unregistered WHERE station = ?", (station_id,))
        return new

    def put_stations(self, specs: dict[str, StationSpec]) -> None:
        """Store many stations in one transaction (imports, benchmarks)."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO stations (id, body) VALUES (?, ?)"
                " ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                [(sid, s.model_dump_json(exclude_none=True)) for sid, s in specs.items()],
            )

    def unregistered(self) -> list[UnregisteredSender]:
        rows = self._db.execute(
            "SELECT station, device, reason, first_seen_ms, last_seen_ms, messages FROM unregistered"
            " ORDER BY last_seen_ms DESC"
        ).fetchall()
        return [UnregisteredSender(r[0], r[1] or None, *r[2:]) for r in rows]

    def save_unregistered(self, senders: list[UnregisteredSender]) -> None:
        self._db.executemany(
            "INSERT INTO unregistered VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (station, device)"
            " DO UPDATE SET last_seen_ms = excluded.last_seen_ms, messages = excluded.messages,"
            " reason = excluded.reason",
            [
                (s.station, s.device or "", s.reason, s.first_seen_ms, s.last_seen_ms, s.messages)
                for s in senders
            ],
        )

    def close(self) -> None:
        self._db.close()
