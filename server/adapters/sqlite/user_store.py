"""API users and their bearer tokens, kept in SQLite under YZ_DATA_DIR. Only a token's SHA-256 is
stored: tokens are 256 random bits, so a fast hash is enough (nothing to brute-force)."""

import hashlib
import re
import secrets
import sqlite3
import time

from yizhan.server.adapters.sqlite.base import SqliteStore
from yizhan.server.domain.access import ROLES, Principal, Role

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
TOKEN_PREFIX = "yz_"


class UserError(ValueError):
    """A bad `users` command: the message says what was wrong."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore(SqliteStore):
    MIGRATIONS = (
        # 1: as 5d3a35b created it
        (
            """CREATE TABLE IF NOT EXISTS users (
                name TEXT PRIMARY KEY, role TEXT NOT NULL, districts TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL)""",
        ),
    )

    def add(self, name: str, role: str, districts: frozenset[str]) -> str:
        """Create a user; returns the bearer token, which is shown this once only."""
        if not NAME_PATTERN.match(name):
            raise UserError(f"user name {name!r}: letters, digits and _ . @ - (at most 64)")
        if role not in ROLES:
            raise UserError(f"role {role!r}: one of {', '.join(ROLES)}")
        if role == "crew" and not districts:
            raise UserError("a crew user needs --districts (the districts whose alerts it handles)")
        if role != "crew" and districts:
            raise UserError(f"--districts is for crew users; a {role} sees every district")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        try:
            with self._use() as db:
                db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                    (name, role, ",".join(sorted(districts)), token_hash(token), int(time.time() * 1000)),
                )
        except sqlite3.IntegrityError:
            hint = f"`yizhan users rotate {name}` issues a new token"
            raise UserError(f"user {name!r} exists; {hint}") from None
        return token

    def rotate(self, name: str) -> str:
        """A new token for an existing user; the old one stops working at once."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._use() as db:
            cur = db.execute("UPDATE users SET token_hash = ? WHERE name = ?", (token_hash(token), name))
        if cur.rowcount == 0:
            raise UserError(f"user {name!r} does not exist")
        return token

    def remove(self, name: str) -> None:
        with self._use() as db:
            removed = db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount
        if removed == 0:
            raise UserError(f"user {name!r} does not exist")

    def users(self) -> list[Principal]:
        with self._use() as db:
            rows = db.execute("SELECT name, role, districts FROM users ORDER BY name").fetchall()
        return [_principal(*row) for row in rows]

    def any(self) -> bool:
        with self._use() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def by_token(self, token: str) -> Principal | None:
        with self._use() as db:
            row = db.execute(
                "SELECT name, role, districts FROM users WHERE token_hash = ?", (token_hash(token),)
            ).fetchone()
        return _principal(*row) if row else None


def _principal(name: str, role: Role, districts: str) -> Principal:
    return Principal(name, role, frozenset(d for d in districts.split(",") if d))
