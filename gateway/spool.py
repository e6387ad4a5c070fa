"""The gateway's store-and-forward spool: everything bound for the uplink, in order, on disk.

Bounded by size and age; whatever has to be dropped to stay inside the bounds is counted.
"""

import sqlite3
import threading
import time
from pathlib import Path


class UplinkSpool:
    def __init__(self, path: Path, max_mb: float, max_age_days: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.max_age_ms = int(max_age_days * 86_400_000)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,
                payload BLOB NOT NULL, retain INTEGER NOT NULL, at_ms INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT OR IGNORE INTO counters VALUES ('dropped', 0);
            """
        )
        self._bytes = self._db.execute(
            "SELECT coalesce(sum(length(payload) + length(topic)), 0) FROM outbox"
        ).fetchone()[0]

    def append(self, items: list[tuple[str, bytes, bool]]) -> None:
        now = int(time.time() * 1000)
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT INTO outbox (topic, payload, retain, at_ms) VALUES (?, ?, ?, ?)",
                [(t, p, int(r), now) for t, p, r in items],
            )
            self._bytes += sum(len(t) + len(p) for t, p, _ in items)
            self._enforce(now)

    def _enforce(self, now: int) -> None:
        dropped = self._db.execute("DELETE FROM outbox WHERE at_ms < ?", (now - self.max_age_ms,)).rowcount
        while self._bytes > self.max_bytes:
            rows = self._db.execute(
                "SELECT id, length(payload) + length(topic) FROM outbox ORDER BY id LIMIT 1000"
            ).fetchall()
            if not rows:
                break
            cut = []
            for row_id, size in rows:
                cut.append(row_id)
                self._bytes -= size
                if self._bytes <= self.max_bytes:
                    break
            self._db.execute(f"DELETE FROM outbox WHERE id IN ({','.join('?' * len(cut))})", cut)
            dropped += len(cut)
        if dropped:
            self._db.execute("UPDATE counters SET value = value + ? WHERE name = 'dropped'", (dropped,))
            self._bytes = self._db.execute(
                "SELECT coalesce(sum(length(payload) + length(topic)), 0) FROM outbox"
            ).fetchone()[0]

    def oldest(self, limit: int) -> list[tuple[int, str, bytes, bool]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, topic, payload, retain FROM outbox ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [(r[0], r[1], r[2], bool(r[3])) for r in rows]

    def remove_through(self, last_id: int) -> None:
        with self._lock:
            removed = self._db.execute(
                "SELECT coalesce(sum(length(payload) + length(topic)), 0) FROM outbox WHERE id <= ?",
                (last_id,),
            ).fetchone()[0]
            self._db.execute("DELETE FROM outbox WHERE id <= ?", (last_id,))
            self._bytes -= removed

    def pending(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM outbox").fetchone()[0]

    def dropped(self) -> int:
        with self._lock:
            return self._db.execute("SELECT value FROM counters WHERE name = 'dropped'").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
