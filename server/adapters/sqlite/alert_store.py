"""Alerts, their history, crews, silences and the notification outbox, kept in SQLite.

A transition, its history row and its outbox rows are written in one transaction, so a restart
loses no notification and sends none twice (a delivery is marked done once the receiver took it).
"""

from dataclasses import asdict, dataclass
from typing import Any

from yizhan.server.adapters.sqlite.base import SqliteStore
from yizhan.server.domain.alerts import OPEN_STATES, Alert, AlertTransition
from yizhan.server.domain.routing import CrewSpec, Delivery, Silence

# the columns of `alerts`, in the order 5d3a35b created them (from Alert's fields at the time, untyped);
# a new Alert field needs a migration that adds its column (tests/unit/test_sqlite_stores.py checks)
_ALERT_COLUMNS = (
    "id",
    "station",
    "district",
    "device",
    "device_type",
    "rule",
    "severity",
    "state",
    "fired_at_ms",
    "message_zh",
    "message_en",
    "acknowledged_at_ms",
    "acknowledged_by",
    "resolved_at_ms",
    "resolved_by",
    "note",
    "reminders",
    "escalated",
)


@dataclass(slots=True)
class OutboxRow:
    id: int
    alert_id: int
    kind: str
    channel: str
    target: str
    url: str | None
    body: bytes
    attempts: int
    created_ms: int


class AlertStore(SqliteStore):
    SYNCHRONOUS = "FULL"  # a transition and its outbox rows are on disk once record() returns
    MIGRATIONS = (
        # 1: as 5d3a35b created it; the alerts columns carry no declared type, as they did then
        (
            "CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, station, district, device,"
            " device_type, rule, severity, state, fired_at_ms, message_zh, message_en,"
            " acknowledged_at_ms, acknowledged_by, resolved_at_ms, resolved_by, note, reminders,"
            " escalated)",
            "CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state)",
            "CREATE INDEX IF NOT EXISTS alerts_station ON alerts (station)",
            """CREATE TABLE IF NOT EXISTS alert_history (
                id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id INTEGER NOT NULL, kind TEXT NOT NULL,
                at_ms INTEGER NOT NULL, by TEXT, note TEXT, silence_id INTEGER)""",
            "CREATE INDEX IF NOT EXISTS alert_history_alert ON alert_history (alert_id)",
            "CREATE TABLE IF NOT EXISTS crews (id TEXT PRIMARY KEY, body TEXT NOT NULL)",
            """CREATE TABLE IF NOT EXISTS silences (
                id INTEGER PRIMARY KEY AUTOINCREMENT, station TEXT, district TEXT, rule TEXT,
                starts_ms INTEGER NOT NULL, ends_ms INTEGER NOT NULL, by TEXT NOT NULL, note TEXT)""",
            """CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id INTEGER NOT NULL, kind TEXT NOT NULL,
                channel TEXT NOT NULL, target TEXT NOT NULL, url TEXT, body BLOB NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
                next_at_ms INTEGER NOT NULL DEFAULT 0, last_error TEXT, done_at_ms INTEGER,
                created_ms INTEGER NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, target, id)",
        ),
    )

    # --- alerts ---------------------------------------------------------------------

    def max_alert_id(self) -> int:
        with self._use() as db:
            return db.execute("SELECT coalesce(max(id), 0) FROM alerts").fetchone()[0]

    def open_alerts(self) -> list[Alert]:
        marks = ",".join("?" for _ in OPEN_STATES)
        return self._alerts(f"WHERE state IN ({marks})", OPEN_STATES)

    def alerts(
        self,
        state: str | None = None,
        district: str | None = None,
        station: str | None = None,
        limit: int = 500,
        districts: frozenset[str] | None = None,
    ) -> list[Alert]:
        """Newest first; `districts` limits to those (a crew's view)."""
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("state", state), ("district", district), ("station", station)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if districts is not None:
            where.append(f"district IN ({', '.join('?' * len(districts))})")
            args.extend(sorted(districts))
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        return self._alerts(f"{clause} ORDER BY id DESC LIMIT ?", (*args, limit))

    def alerts_fired_between(self, start_ms: int, end_ms: int, district: str | None = None) -> list[Alert]:
        clause = "WHERE fired_at_ms >= ? AND fired_at_ms < ?" + (" AND district = ?" if district else "")
        args = (start_ms, end_ms, district) if district else (start_ms, end_ms)
        return self._alerts(clause + " ORDER BY id", args)

    def alert(self, alert_id: int) -> Alert | None:
        found = self._alerts("WHERE id = ?", (alert_id,))
        return found[0] if found else None

    def _alerts(self, clause: str, args: tuple) -> list[Alert]:
        with self._use() as db:
            rows = db.execute(f"SELECT {', '.join(_ALERT_COLUMNS)} FROM alerts {clause}", args).fetchall()
        return [_alert(row) for row in rows]

    def history(self, alert_id: int) -> list[dict[str, Any]]:
        with self._use() as db:
            rows = db.execute(
                "SELECT kind, at_ms, by, note, silence_id FROM alert_history WHERE alert_id = ? ORDER BY id",
                (alert_id,),
            ).fetchall()
        return [dict(zip(("kind", "at_ms", "by", "note", "silence_id"), r, strict=True)) for r in rows]

    def deliveries(self, alert_id: int) -> list[dict[str, Any]]:
        with self._use() as db:
            rows = db.execute(
                "SELECT id, kind, channel, target, state, attempts, last_error, created_ms, done_at_ms"
                " FROM outbox WHERE alert_id = ? ORDER BY id",
                (alert_id,),
            ).fetchall()
        keys = (
            "id",
            "kind",
            "channel",
            "target",
            "state",
            "attempts",
            "last_error",
            "created_ms",
            "done_at_ms",
        )
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def record(
        self,
        items: list[tuple[AlertTransition, list[Delivery], Silence | None, list[bytes]]],
        now_ms: int,
    ) -> None:
        """Store transitions with their history and outbox rows, all in one transaction."""
        cols = ", ".join(_ALERT_COLUMNS)
        marks = ", ".join("?" for _ in _ALERT_COLUMNS)
        with self._transaction() as db:
            for t, deliveries, silence, bodies in items:
                a = asdict(t.alert)
                a["escalated"] = int(a["escalated"])
                db.execute(
                    f"INSERT OR REPLACE INTO alerts ({cols}) VALUES ({marks})", [a[c] for c in _ALERT_COLUMNS]
                )
                db.execute(
                    "INSERT INTO alert_history (alert_id, kind, at_ms, by, note, silence_id)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (t.alert.id, t.kind, t.at_ms, t.by, t.note, silence.id if silence else None),
                )
                db.executemany(
                    "INSERT INTO outbox (alert_id, kind, channel, target, url, body, created_ms)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (t.alert.id, t.kind, d.channel, d.target, d.url, body, now_ms)
                        for d, body in zip(deliveries, bodies, strict=True)
                    ],
                )

    # --- outbox ---------------------------------------------------------------------

    def due_deliveries(self, now_ms: int) -> list[OutboxRow]:
        """Per target its oldest pending delivery, when its retry time has come (in order per target)."""
        with self._use() as db:
            rows = db.execute(
                "SELECT o.id, o.alert_id, o.kind, o.channel, o.target, o.url, o.body, o.attempts,"
                " o.created_ms, o.next_at_ms FROM outbox o JOIN (SELECT min(id) AS id FROM outbox"
                " WHERE state = 'pending' GROUP BY target) h ON o.id = h.id"
            ).fetchall()
        return [OutboxRow(*r[:9]) for r in rows if r[9] <= now_ms]

    def delivered(self, row_id: int, now_ms: int) -> None:
        with self._use() as db:
            db.execute(
                "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, done_at_ms = ?,"
                " last_error = NULL WHERE id = ?",
                (now_ms, row_id),
            )

    def failed(self, row_id: int, error: str, next_at_ms: int | None, now_ms: int) -> None:
        """A failed attempt: retry at `next_at_ms`, or give up when it is None."""
        with self._use() as db:
            if next_at_ms is None:
                db.execute(
                    "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?,"
                    " done_at_ms = ? WHERE id = ?",
                    (error[:500], now_ms, row_id),
                )
            else:
                db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_at_ms = ? WHERE id = ?",
                    (error[:500], next_at_ms, row_id),
                )

    # --- crews and silences -------------------------------------------------------------

    def crews(self) -> dict[str, CrewSpec]:
        with self._use() as db:
            rows = db.execute("SELECT id, body FROM crews ORDER BY id").fetchall()
        return {cid: CrewSpec.model_validate_json(body) for cid, body in rows}

    def put_crew(self, crew_id: str, crew: CrewSpec) -> bool:
        with self._transaction() as db:
            new = db.execute("SELECT 1 FROM crews WHERE id = ?", (crew_id,)).fetchone() is None
            db.execute(
                "INSERT INTO crews (id, body) VALUES (?, ?)"
                " ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                (crew_id, crew.model_dump_json(exclude_none=True)),
            )
        return new

    def silences(self) -> list[Silence]:
        with self._use() as db:
            rows = db.execute(
                "SELECT id, station, district, rule, starts_ms, ends_ms, by, note FROM silences ORDER BY id"
            ).fetchall()
        return [Silence(*r) for r in rows]

    def add_silence(self, s: Silence) -> Silence:
        with self._use() as db:
            cur = db.execute(
                "INSERT INTO silences (station, district, rule, starts_ms, ends_ms, by, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (s.station, s.district, s.rule, s.starts_ms, s.ends_ms, s.by, s.note),
            )
        return Silence(cur.lastrowid or 0, *(getattr(s, f) for f in Silence.__slots__[1:]))

    def end_silence(self, silence_id: int, now_ms: int) -> bool:
        with self._use() as db:
            cur = db.execute(
                "UPDATE silences SET ends_ms = min(ends_ms, ?) WHERE id = ?", (now_ms, silence_id)
            )
        return cur.rowcount > 0


def _alert(row: tuple) -> Alert:
    values = dict(zip(_ALERT_COLUMNS, row, strict=True))
    values["escalated"] = bool(values["escalated"])  # stored as 0/1
    return Alert(**values)
