"""Where the broker is: `mqtt://host:port` (plain) or `mqtts://host:port` (TLS), for every client."""

from urllib.parse import urlsplit


def broker_address(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of an `mqtt://` or `mqtts://` URL."""
    parts = urlsplit(url)
    tls = parts.scheme in ("mqtts", "ssl")
    return parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883), tls
