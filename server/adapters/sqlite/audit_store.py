"""Sealed station-days in a hash chain (SQLite): append-only, each record holding its predecessor's hash.

A correction (late data for a sealed day) is a new version appended to the chain, never an edit,
so the history of what was reported when stays visible.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from yizhan.server.adapters.sqlite.base import SqliteStore

GENESIS = "0" * 64


def canonical(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS)


def link_hash(prev_hash: str, body: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    station: str
    date: str
    reason: str

    def __str__(self) -> str:
        return f"record {self.seq} ({self.station} {self.date}): {self.reason}"


class AuditStore(SqliteStore):
    SYNCHRONOUS = "FULL"  # a sealed day is on disk once seal() returns
    MIGRATIONS = (
        # 1: as 5d3a35b created it
        (
            """CREATE TABLE IF NOT EXISTS chain (
                seq INTEGER PRIMARY KEY, station TEXT NOT NULL, date TEXT NOT NULL,
                version INTEGER NOT NULL, record BLOB NOT NULL, prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL, sealed_at_ms INTEGER NOT NULL)""",
            "CREATE INDEX IF NOT EXISTS chain_day ON chain (station, date, version)",
            "CREATE TABLE IF NOT EXISTS progress (station TEXT PRIMARY KEY, next_day TEXT NOT NULL)",
            """CREATE TABLE IF NOT EXISTS dirty (station TEXT NOT NULL, date TEXT NOT NULL,
                PRIMARY KEY (station, date))""",
        ),
    )

    # --- the chain --------------------------------------------------------------------

    def seal(self, station: str, day: str, figures: dict[str, Any], now_ms: int) -> dict[str, Any] | None:
        """Append the day unless its latest sealed version says the same; the new record or None."""
        with self._transaction() as db:
            last = db.execute(
                "SELECT version, record FROM chain WHERE station = ? AND date = ?"
                " ORDER BY version DESC LIMIT 1",
                (station, day),
            ).fetchone()
            if last is not None:
                old = orjson.loads(last[1])
                if {k: v for k, v in old.items() if k not in ("version", "sealed_at")} == figures:
                    return None
            head = db.execute("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
            record = dict(figures, version=(last[0] + 1) if last else 1)
            body = canonical(record)
            db.execute(
                "INSERT INTO chain (seq, station, date, version, record, prev_hash, hash, sealed_at_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, station, day, record["version"], body, prev, link_hash(prev, body), now_ms),
            )
        return record

    def latest(self, station: str | None, first: str, last: str) -> dict[tuple[str, str], dict[str, Any]]:
        """The newest version of every sealed day in [first, last] (ISO dates), by (station, date)."""
        where = "date >= ? AND date <= ?" + (" AND station = ?" if station else "")
        args: tuple = (first, last, station) if station else (first, last)
        with self._use() as db:
            rows = db.execute(
                f"SELECT station, date, seq, record FROM chain WHERE {where} ORDER BY seq", args
            ).fetchall()
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for st, day, seq, body in rows:
            out[(st, day)] = dict(orjson.loads(body), chain_seq=seq)
        return out

    def head(self) -> dict[str, Any]:
        with self._use() as db:
            row = db.execute("SELECT seq, hash, sealed_at_ms FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
        return {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": GENESIS}

    def verify(self) -> tuple[int, ChainBreak | None]:
        """Walk the chain; (records checked, the first broken record or None)."""
        prev = GENESIS
        checked = 0
        with self._use() as db:
            cur = db.execute("SELECT seq, station, date, record, prev_hash, hash FROM chain ORDER BY seq")
            expected_seq = 1
            for seq, station, day, body, prev_hash, digest in cur:
                if seq != expected_seq:
                    return checked, ChainBreak(seq, station, day, f"record {expected_seq} is missing")
                if prev_hash != prev:
                    return checked, ChainBreak(seq, station, day, "does not hold its predecessor's hash")
                if link_hash(prev_hash, body) != digest:
                    return checked, ChainBreak(seq, station, day, "its content does not match its hash")
                record = orjson.loads(body)
                if record.get("station") != station or record.get("date") != day:
                    return checked, ChainBreak(seq, station, day, "its station or date was changed")
                prev = digest
                expected_seq += 1
                checked += 1
        return checked, None

    # --- what is left to seal --------------------------------------------------------------

    def progress(self) -> dict[str, str]:
        with self._use() as db:
            return dict(db.execute("SELECT station, next_day FROM progress").fetchall())

    def set_progress(self, station: str, next_day: str) -> None:
        with self._use() as db:
            db.execute(
                "INSERT INTO progress VALUES (?, ?)"
                " ON CONFLICT (station) DO UPDATE SET next_day = excluded.next_day",
                (station, next_day),
            )

    def set_progress_many(self, rows: list[tuple[str, str]]) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO progress VALUES (?, ?)"
                " ON CONFLICT (station) DO UPDATE SET next_day = excluded.next_day",
                rows,
            )

    def dirty(self) -> list[tuple[str, str]]:
        with self._use() as db:
            return db.execute("SELECT station, date FROM dirty ORDER BY date, station").fetchall()

    def mark_dirty(self, days: list[tuple[str, str]]) -> None:
        with self._transaction() as db:  # one commit for the batch
            db.executemany("INSERT OR IGNORE INTO dirty VALUES (?, ?)", days)

    def clean(self, station: str, day: str) -> None:
        with self._use() as db:
            db.execute("DELETE FROM dirty WHERE station = ? AND date = ?", (station, day))
