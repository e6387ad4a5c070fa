"""What the application layer needs from the outside world, as it needs it.

Adapters (server/adapters/) implement these; the composition root (server/bootstrap.py) hands
them in, and the fast tests hand in fakes. The exceptions are part of the port: an adapter raises
them, the application decides what they mean (spool, retry, count).
"""

from dataclasses import dataclass
from typing import Any, Protocol

from yizhan.server.domain.alerts import Alert, AlertTransition
from yizhan.server.domain.routing import CrewSpec, Delivery, Silence


class InfluxUnavailable(Exception):
    """InfluxDB could not take the write now (down, overloaded, auth or database missing); retry later."""


class InfluxRejected(Exception):
    """InfluxDB refused the data itself (HTTP 400); retrying will not help."""


@dataclass(frozen=True)
class Series:
    """One series of an InfluxQL answer, read by column name (`rows()`), never by position."""

    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]

    def rows(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, v, strict=False)) for v in self.values]


def quote_tag(value: str) -> str:
    """An InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class PointStore(Protocol):
    """InfluxDB through its v1 HTTP API: line protocol in, InfluxQL out."""

    async def write(self, body: str | bytes) -> None: ...

    async def query(self, q: str, epoch: str = "ms") -> list[list[Series]]: ...


async def query_named(
    influx: "PointStore", statements: dict[str, str], epoch: str = "ms"
) -> dict[str, list[Series]]:
    """Several InfluxQL statements in one request; each answer under its statement's name."""
    answers = await influx.query(";".join(statements.values()), epoch=epoch)
    return dict(zip(statements, answers, strict=True))


class Spool(Protocol):
    """Batches of line protocol kept on disk while InfluxDB is unreachable, oldest first."""

    def append(self, body: bytes, lines: int) -> None: ...

    def oldest(self) -> tuple[int, bytes] | None: ...

    def remove(self, batch_id: int) -> None: ...

    def pending_lines(self) -> int: ...


class AuditChain(Protocol):
    """The hash chain of sealed station-days and the sealer's progress."""

    def seal(self, station: str, day: str, figures: dict[str, Any], now_ms: int) -> dict[str, Any] | None: ...

    def progress(self) -> dict[str, str]: ...

    def set_progress(self, station: str, next_day: str) -> None: ...

    def set_progress_many(self, rows: list[tuple[str, str]]) -> None: ...

    def dirty(self) -> list[tuple[str, str]]: ...

    def mark_dirty(self, days: list[tuple[str, str]]) -> None: ...

    def clean(self, station: str, day: str) -> None: ...


class AlertStore(Protocol):
    """Alerts, their history, the outbox of notifications, crews and silences."""

    def alert(self, alert_id: int) -> Alert | None: ...

    def record(
        self, items: list[tuple[AlertTransition, list[Delivery], Silence | None, list[bytes]]], now_ms: int
    ) -> None: ...

    def crews(self) -> dict[str, CrewSpec]: ...

    def put_crew(self, crew_id: str, crew: CrewSpec) -> bool: ...

    def silences(self) -> list[Silence]: ...

    def add_silence(self, s: Silence) -> Silence: ...

    def end_silence(self, silence_id: int, now_ms: int) -> bool: ...


class AlertFeed(Protocol):
    """Live listeners (the SSE stream): told of every transition, silenced ones too."""

    def publish(self, event: dict[str, Any]) -> None: ...


class Outbox(Protocol):
    """The delivery of stored notifications: woken when new ones are stored."""

    def wake(self) -> None: ...
