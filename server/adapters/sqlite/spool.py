"""The local disk spool: line-protocol batches kept in SQLite while InfluxDB is unreachable."""

from yizhan.server.adapters.sqlite.base import SqliteStore


class Spool(SqliteStore):
    """An append-only FIFO of write bodies. Appending is durable once it returns (WAL, synchronous=FULL)."""

    SYNCHRONOUS = "FULL"  # stated here too: what the spool holds is nowhere else
    MIGRATIONS = (
        # 1: as 5d3a35b created it
        (
            "CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " lines INTEGER NOT NULL, body BLOB NOT NULL)",
        ),
    )

    def append(self, body: bytes, lines: int) -> None:
        with self._use() as db:
            db.execute("INSERT INTO batches (lines, body) VALUES (?, ?)", (lines, body))

    def oldest(self) -> tuple[int, bytes] | None:
        with self._use() as db:
            return db.execute("SELECT id, body FROM batches ORDER BY id LIMIT 1").fetchone()

    def remove(self, batch_id: int) -> None:
        with self._use() as db:
            db.execute("DELETE FROM batches WHERE id = ?", (batch_id,))

    def pending_lines(self) -> int:
        with self._use() as db:
            return db.execute("SELECT COALESCE(SUM(lines), 0) FROM batches").fetchone()[0]
