"""Times as the API and the stores write them: ISO-8601 UTC with milliseconds."""

from datetime import UTC, datetime


def iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
