"""The common ground of the SQLite stores: one connection, WAL, durable commits, a lock around every
use, and a schema declared as numbered migrations recorded in `PRAGMA user_version`.

A store subclasses `SqliteStore` and lists its `MIGRATIONS`: step 1 is the schema as the first
release with a data directory (main 5d3a35b) created it, each later step what changed since. Opening
a file applies the steps it lacks, all in one transaction; a file from a newer release is refused
untouched, and so is an unversioned file whose tables are not those of version 1.
"""

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# one schema version: its statements, in order (no executescript: in Python 3.11 it commits any open
# transaction first, and every step must land in the same transaction as the version number)
Migration = Sequence[str]


class SchemaError(RuntimeError):
    """A database file this code must not use; the message names the file and what is wrong."""


class SchemaTooNew(SchemaError):
    """The file's schema version is newer than any this code knows (written by a newer release)."""


class SqliteStore:
    """One SQLite file, one connection shared by the event loop and worker threads, one lock."""

    MIGRATIONS: ClassVar[Sequence[Migration]] = ()
    # FULL: a commit is on disk when it returns, so the spool, the alert outbox and the audit chain
    # survive kill -9 and power loss. 5d3a35b ran every store at FULL (two set it, the others got the
    # compiled-in default, which is FULL here too); a store may choose NORMAL only if losing its
    # last commits on power loss is harmless.
    SYNCHRONOUS: ClassVar[Literal["NORMAL", "FULL"]] = "FULL"

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        # the API thread pool and the event loop share the connection: check_same_thread is off and
        # `_lock` serialises every use instead
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={self.SYNCHRONOUS}")
            migrate(self._db, path, self.MIGRATIONS)
        except BaseException:
            self._db.close()
            raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._db.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def _use(self) -> Iterator[sqlite3.Connection]:
        """The connection, for statements that each commit on their own (autocommit)."""
        with self._lock:
            yield self._db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside BEGIN IMMEDIATE … COMMIT (ROLLBACK when the block raises)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                # a failed COMMIT (busy) leaves the transaction open; some errors end it themselves
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    async def in_thread(self, method: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one of the store's blocking methods in a worker thread, off the event loop (the lock
        makes that safe whichever thread runs it)."""
        return await asyncio.to_thread(method, *args, **kwargs)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def migrate(db: sqlite3.Connection, path: Path, migrations: Sequence[Migration]) -> int:
    """Bring the file up to `len(migrations)`; the version it had before."""
    known = len(migrations)
    found = _version(db)
    if found == known:
        return found  # the common case: no write, no lock
    if found > known:
        raise _too_new(path, found, known)
    db.execute("BEGIN IMMEDIATE")
    try:
        # read again under the write lock: another process may have migrated it meanwhile
        found = _version(db)
        if found > known:
            raise _too_new(path, found, known)
        unversioned = found == 0 and _has_tables(db)
        for version, step in enumerate(migrations[found:], start=found + 1):
            for statement in step:
                db.execute(statement)
            if version == 1 and unversioned:
                # written before files carried a version (5d3a35b): version 1 was applied with IF
                # NOT EXISTS over what was there, which must therefore be exactly version 1's tables
                _check_adopted(db, path, migrations[:1])
        db.execute(f"PRAGMA user_version = {known}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return found


def schema_of(db: sqlite3.Connection) -> dict[str, Any]:
    """Every table's columns (name, declared type, not null, default, primary key) and indexes
    (including those behind UNIQUE and PRIMARY KEY), comparable between two files."""
    out: dict[str, Any] = {}
    tables = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    for (table,) in tables:
        columns = [tuple(r[1:6]) for r in db.execute(f"PRAGMA table_xinfo({_quote(table)})")]
        indexes = []
        for _, name, unique, origin, partial in db.execute(f"PRAGMA index_list({_quote(table)})"):
            cols = [r[2] for r in db.execute(f"PRAGMA index_info({_quote(name)})")]
            indexes.append((name, unique, origin, partial, cols))
        out[table] = {"columns": columns, "indexes": sorted(indexes)}
    return out


def _check_adopted(db: sqlite3.Connection, path: Path, first: Sequence[Migration]) -> None:
    fresh = sqlite3.connect(":memory:", isolation_level=None)
    try:
        for step in first:
            for statement in step:
                fresh.execute(statement)
        want = schema_of(fresh)
    finally:
        fresh.close()
    have = schema_of(db)
    if have != want:
        differ = sorted(t for t in set(have) | set(want) if have.get(t) != want.get(t))
        raise SchemaError(
            f"{path}: an unversioned database (user_version 0) whose tables are not those of schema "
            f"version 1; differing: {', '.join(differ)}. Nothing was changed."
        )


def _too_new(path: Path, found: int, known: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"{path}: schema version {found} is newer than this yizhan knows (up to {known}); the file was "
        f"written by a newer release. Run that release, or restore a backup taken before the upgrade. "
        f"Nothing was changed."
    )


def _version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def _has_tables(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchone() is not None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
