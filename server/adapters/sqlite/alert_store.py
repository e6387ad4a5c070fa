"""Alerts, their history, crews, silences and the notification outbox, kept in SQLite.

A transition, its history row and its outbox rows are written in one transaction, so a restart
loses no notification and sends none twice (a delivery is marked done once the receiver took it).
"""

import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from yizhan.server.domain.alerts import OPEN_STATES, Alert, AlertTransition
from yizhan.server.domain.routing import CrewSpec, Delivery, Silence

_ALERT_COLUMNS = tuple(Alert.__dataclass_fields__)


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


class AlertStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        cols = ", ".join(f"{c}" for c in _ALERT_COLUMNS if c != "id")
        self._db.executescript(
            f"""
            CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, {cols});
            CREATE INDEX IF NOT EXISTS alerts_state ON alerts (state);
            CREATE INDEX IF NOT EXISTS alerts_station ON alerts (station);
            CREATE TABLE IF NOT EXISTS alert_history (
                id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id INTEGER NOT NULL, kind TEXT NOT NULL,
                at_ms INTEGER NOT NULL, by TEXT, note TEXT, silence_id INTEGER);
            CREATE INDEX IF NOT EXISTS alert_history_alert ON alert_history (alert_id);
            CREATE TABLE IF NOT EXISTS crews (id TEXT PRIMARY KEY, body TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS silences (
                id INTEGER PRIMARY KEY AUTOINCREMENT, station TEXT, district TEXT, rule TEXT,
                starts_ms INTEGER NOT NULL, ends_ms INTEGER NOT NULL, by TEXT NOT NULL, note TEXT);
            CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id INTEGER NOT NULL, kind TEXT NOT NULL,
                channel TEXT NOT NULL, target TEXT NOT NULL, url TEXT, body BLOB NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
                next_at_ms INTEGER NOT NULL DEFAULT 0, last_error TEXT, done_at_ms INTEGER,
                created_ms INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, target, id);
            """
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- alerts ---------------------------------------------------------------------

    def max_alert_id(self) -> int:
        with self._lock:
            return self._db.execute("SELECT coalesce(max(id), 0) FROM alerts").fetchone()[0]

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
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_ALERT_COLUMNS)} FROM alerts {clause}", args
            ).fetchall()
        return [Alert(*row[:-1], escalated=bool(row[-1])) for row in rows]

    def history(self, alert_id: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, at_ms, by, note, silence_id FROM alert_history WHERE alert_id = ? ORDER BY id",
                (alert_id,),
            ).fetchall()
        return [dict(zip(("kind", "at_ms", "by", "note", "silence_id"), r, strict=True)) for r in rows]

    def deliveries(self, alert_id: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
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
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for t, deliveries, silence, bodies in items:
                a = asdict(t.alert)
                a["escalated"] = int(a["escalated"])
                cols = ", ".join(_ALERT_COLUMNS)
                marks = ", ".join("?" for _ in _ALERT_COLUMNS)
                self._db.execute(
                    f"INSERT OR REPLACE INTO alerts ({cols}) VALUES ({marks})", [a[c] for c in _ALERT_COLUMNS]
                )
                self._db.execute(
                    "INSERT INTO alert_history (alert_id, kind, at_ms, by, note, silence_id)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (t.alert.id, t.kind, t.at_ms, t.by, t.note, silence.id if silence else None),
                )
                self._db.executemany(
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
        with self._lock:
            rows = self._db.execute(
                "SELECT o.id, o.alert_id, o.kind, o.channel, o.target, o.url, o.body, o.attempts,"
                " o.created_ms, o.next_at_ms FROM outbox o JOIN (SELECT min(id) AS id FROM outbox"
                " WHERE state = 'pending' GROUP BY target) h ON o.id = h.id"
            ).fetchall()
        return [OutboxRow(*r[:9]) for r in rows if r[9] <= now_ms]

    def delivered(self, row_id: int, now_ms: int) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, done_at_ms = ?,"
                " last_error = NULL WHERE id = ?",
                (now_ms, row_id),
            )

    def failed(self, row_id: int, error: str, next_at_ms: int | None, now_ms: int) -> None:
        """A failed attempt: retry at `next_at_ms`, or give up when it is None."""
        with self._lock:
            if next_at_ms is None:
                self._db.execute(
                    "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?,"
                    " done_at_ms = ? WHERE id = ?",
                    (error[:500], now_ms, row_id),
                )
            else:
                self._db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_at_ms = ? WHERE id = ?",
                    (error[:500], next_at_ms, row_id),
                )

    # --- crews and silences -------------------------------------------------------------

    def crews(self) -> dict[str, CrewSpec]:
        with self._lock:
            rows = self._db.execute("SELECT id, body FROM crews ORDER BY id").fetchall()
        return {cid: CrewSpec.model_validate_json(body) for cid, body in rows}

    def put_crew(self, crew_id: str, crew: CrewSpec) -> bool:
        with self._lock:
            new = self._db.execute("SELECT 1 FROM crews WHERE id = ?", (crew_id,)).fetchone() is None
            self._db.execute(
                "INSERT INTO crews (id, body) VALUES (?, ?)"
                " ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                (crew_id, crew.model_dump_json(exclude_none=True)),
            )
        return new

    def silences(self) -> list[Silence]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, station, district, rule, starts_ms, ends_ms, by, note FROM silences ORDER BY id"
            ).fetchall()
        return [Silence(*r) for r in rows]

    def add_silence(self, s: Silence) -> Silence:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO silences (station, district, rule, starts_ms, ends_ms, by, note)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (s.station, s.district, s.rule, s.starts_ms, s.ends_ms, s.by, s.note),
            )
        return Silence(cur.lastrowid or 0, *(getattr(s, f) for f in Silence.__slots__[1:]))

    def end_silence(self, silence_id: int, now_ms: int) -> bool:
        with self._lock:
            cur = self._db.execute(
                "UPDATE silences SET ends_ms = min(ends_ms, ?) WHERE id = ?", (now_ms, silence_id)
            )
        return cur.rowcount > 0
