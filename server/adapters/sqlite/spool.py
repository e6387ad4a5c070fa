"""The local disk spool: line-protocol batches kept in SQLite while InfluxDB is unreachable."""

import sqlite3
from pathlib import Path


class Spool:
    """An append-only FIFO of write bodies. Appending is durable once it returns (WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " lines INTEGER NOT NULL, body BLOB NOT NULL)"
        )

    def append(self, body: bytes, lines: int) -> None:
        self._db.execute("INSERT INTO batches (lines, body) VALUES (?, ?)", (lines, body))

    def oldest(self) -> tuple[int, bytes] | None:
        return self._db.execute("SELECT id, body FROM batches ORDER BY id LIMIT 1").fetchone()

    def remove(self, batch_id: int) -> None:
        self._db.execute("DELETE FROM batches WHERE id = ?", (batch_id,))

    def pending_lines(self) -> int:
        return self._db.execute("SELECT COALESCE(SUM(lines), 0) FROM batches").fetchone()[0]

    def close(self) -> None:
        self._db.close()
