"""The station registry and the list of unregistered senders, kept in SQLite under YZ_DATA_DIR."""

from yizhan.server.adapters.sqlite.base import SqliteStore
from yizhan.server.application.ingest import UnregisteredSender
from yizhan.server.domain.station import StationSpec

_UPSERT_STATION = (
    "INSERT INTO stations (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body"
)


class Registry(SqliteStore):
    MIGRATIONS = (
        # 1: as 5d3a35b created it
        (
            "CREATE TABLE IF NOT EXISTS stations (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
            """CREATE TABLE IF NOT EXISTS unregistered (
                station TEXT NOT NULL, device TEXT NOT NULL, reason TEXT NOT NULL,
                first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,
                messages INTEGER NOT NULL, PRIMARY KEY (station, device))""",
        ),
    )

    def stations(self) -> dict[str, StationSpec]:
        with self._use() as db:
            rows = db.execute("SELECT id, body FROM stations").fetchall()
        return {sid: StationSpec.model_validate_json(body) for sid, body in rows}

    def put_station(self, station_id: str, spec: StationSpec) -> bool:
        """Store a station; True when it is new."""
        body = spec.model_dump_json(exclude_none=True)
        with self._transaction() as db:
            new = db.execute("SELECT 1 FROM stations WHERE id = ?", (station_id,)).fetchone() is None
            db.execute(_UPSERT_STATION, (station_id, body))
            db.execute("DELETE FROM unregistered WHERE station = ?", (station_id,))
        return new

    def put_stations(self, specs: dict[str, StationSpec]) -> None:
        """Store many stations in one transaction (imports, benchmarks)."""
        rows = [(sid, s.model_dump_json(exclude_none=True)) for sid, s in specs.items()]
        with self._transaction() as db:
            db.executemany(_UPSERT_STATION, rows)

    def unregistered(self) -> list[UnregisteredSender]:
        with self._use() as db:
            rows = db.execute(
                "SELECT station, device, reason, first_seen_ms, last_seen_ms, messages FROM unregistered"
                " ORDER BY last_seen_ms DESC"
            ).fetchall()
        # the device column is NOT NULL in the key: a sender without a device is stored as ''
        return [UnregisteredSender(r[0], r[1] or None, *r[2:]) for r in rows]

    def save_unregistered(self, senders: list[UnregisteredSender]) -> None:
        rows = [
            (s.station, s.device or "", s.reason, s.first_seen_ms, s.last_seen_ms, s.messages)
            for s in senders
        ]
        with self._transaction() as db:  # one commit for the lot, not one per sender
            db.executemany(
                "INSERT INTO unregistered VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (station, device)"
                " DO UPDATE SET last_seen_ms = excluded.last_seen_ms, messages = excluded.messages,"
                " reason = excluded.reason",
                rows,
            )
