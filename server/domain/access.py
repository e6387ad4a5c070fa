"""Who may call what: the API roles and the one table that gives each route its roles."""

from dataclasses import dataclass
from typing import Literal

Role = Literal["admin", "operator", "crew", "auditor"]
ROLES: tuple[Role, ...] = ("admin", "operator", "crew", "auditor")
AUTH_MODES = ("auto", "required", "off")  # YZ_AUTH

PUBLIC: frozenset[Role] = frozenset()  # no token needed
_ALL: frozenset[Role] = frozenset(ROLES)
READERS: frozenset[Role] = frozenset({"admin", "operator", "auditor"})
_ADMIN: frozenset[Role] = frozenset({"admin"})
_OPERATORS: frozenset[Role] = frozenset({"admin", "operator"})
_ALERT_HANDLERS: frozenset[Role] = frozenset({"admin", "operator", "crew"})

# (method, route path) -> roles allowed; PUBLIC routes need no token. A route missing here is
# a startup error: nothing is reachable by accident.
ROUTE_ROLES: dict[tuple[str, str], frozenset[Role]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,  # YZ_METRICS_PUBLIC=false makes it READERS
    ("GET", "/api/v1/public/stations/nearby"): PUBLIC,
    ("GET", "/api/v1/whoami"): _ALL,
    ("PUT", "/api/v1/stations/{station_id}"): _ADMIN,
    ("GET", "/api/v1/stations"): READERS,
    ("GET", "/api/v1/stations/{station_id}"): READERS,
    ("GET", "/api/v1/stations/{station_id}/usage"): READERS,
    ("GET", "/api/v1/stations/{station_id}/opening"): READERS,
    ("GET", "/api/v1/unregistered"): READERS,
    ("GET", "/api/v1/reports/audit"): READERS,
    ("GET", "/api/v1/alerts"): _ALL,  # a crew sees its districts only
    ("GET", "/api/v1/alerts/stream"): _ALL,
    ("GET", "/api/v1/alerts/{alert_id}"): _ALL,
    ("POST", "/api/v1/alerts/{alert_id}/ack"): _ALERT_HANDLERS,
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): _ALERT_HANDLERS,
    ("PUT", "/api/v1/crews/{crew_id}"): _ADMIN,
    ("GET", "/api/v1/crews"): READERS,
    ("GET", "/api/v1/crews/{crew_id}"): READERS,
    ("POST", "/api/v1/silences"): _OPERATORS,
    ("GET", "/api/v1/silences"): READERS,
    ("DELETE", "/api/v1/silences/{silence_id}"): _OPERATORS,
    ("GET", "/api/v1/users"): _ADMIN,
}


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated API user."""

    name: str
    role: Role
    districts: frozenset[str] = frozenset()

    def sees_district(self, district: str) -> bool:
        """Crews see their own districts; every other role sees all."""
        return self.role != "crew" or district in self.districts


def parse_districts(text: str | None) -> frozenset[str]:
    return frozenset(d.strip() for d in (text or "").split(",") if d.strip())
