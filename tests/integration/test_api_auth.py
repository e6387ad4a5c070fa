"""API roles over a running server: every route, for every role, is allowed, refused with 403, or
refused with 401 without a token — as the route table in server/domain/access.py says. Users and
tokens come from the real `yizhan users add` command."""

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from yizhan.server.domain.access import PUBLIC, ROLES, ROUTE_ROLES

from tests.alerting_peers import SseClient
from tests.conftest import REPO, STATION_BODY, Publisher, ServerProc, shared_server, wait_for
from yizhan.localstack import Broker, Influx

USERS = {"ann": "admin", "otto": "operator", "cai": "crew", "aud": "auditor"}


def yizhan(server: ServerProc, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "yizhan", *args],
        env=server.env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


class AuthRig:
    def __init__(self, server: ServerProc, broker: Broker) -> None:
        self.server = server
        self.tokens: dict[str, str] = {}
        for name, role in USERS.items():
            extra = ["--districts", "d1"] if role == "crew" else []
            done = yizhan(server, "users", "add", name, "--role", role, *extra)
            assert done.returncode == 0, done.stderr
            self.tokens[role] = done.stdout.strip().splitlines()[-1]  # the token is the last line
        self.device = Publisher(broker)
        self.alert = self.raise_alert("st-auth", "d1")

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def request(self, role: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
        return httpx.request(method, f"{self.server.url}{path}", headers=self.headers(role), timeout=30, **kw)

    def raise_alert(self, sid: str, district: str) -> int:
        """Registers a station in `district` and raises an alert there; its id."""
        body = dict(STATION_BODY, district=district, schedule="24h")
        assert self.request("admin", "PUT", f"/api/v1/stations/{sid}", json=body).status_code == 201
        payload = {"ts": int(time.time() * 1000), "seq": 1, "boot": 1,
                   "data": {"voltage_v": 220.0, "faults": ["overcurrent"]}}  # fmt: skip
        self.device.publish(self.server.topic(sid, "power", "telemetry"), payload)

        def fired() -> int | None:
            rows = self.request("admin", "GET", "/api/v1/alerts", params={"station": sid}).json()
            return rows[0]["id"] if rows else None

        return wait_for(fired, 15, what=f"an alert of {sid}")


@pytest.fixture(scope="module")
def rig(broker: Broker, influx: Influx, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthRig]:
    server = shared_server(broker, influx, tmp_path_factory.mktemp("auth"), "auth")
    r = AuthRig(server, broker)
    yield r
    r.device.close()
    server.stop()


def call(rig: AuthRig, role: str | None, method: str, path: str) -> httpx.Response:
    """One request to a route, with its path filled in and a valid body."""
    concrete = (
        path.replace("{station_id}", "st-auth")
        .replace("{alert_id}", str(rig.alert))
        .replace("{crew_id}", "crew-auth")
        .replace("{silence_id}", "1")
    )
    body: dict[str, Any] | None = {
        ("PUT", "/api/v1/stations/{station_id}"): dict(STATION_BODY, district="d1", schedule="24h"),
        ("PUT", "/api/v1/crews/{crew_id}"): {"name": "维修组", "districts": ["d1"]},
        ("POST", "/api/v1/silences"): {"station": "st-auth", "ends_at": "2099-01-01T00:00:00Z", "by": "t"},
        ("POST", "/api/v1/alerts/{alert_id}/ack"): {"by": "t"},
        ("POST", "/api/v1/alerts/{alert_id}/resolve"): {"by": "t"},
    }.get((method, path))
    params = {"month": "2026-11"} if path == "/api/v1/reports/audit" else {}
    params = {"lat": 36.0, "lon": 120.0} if "nearby" in path else params
    if path.endswith("/stream"):
        with httpx.stream(
            "GET", f"{rig.server.url}{concrete}", headers=rig.headers(role), timeout=10
        ) as resp:
            return resp  # the status is all we need; the stream is closed here
    return rig.request(role, method, concrete, json=body, params=params)


def test_the_route_table_covers_exactly_the_routes_the_server_serves(rig: AuthRig) -> None:
    spec = httpx.get(f"{rig.server.url}/openapi.json").json()
    served = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    assert served == set(ROUTE_ROLES)


CASES = [(m, p, role) for (m, p) in ROUTE_ROLES for role in (*ROLES, None)]


@pytest.mark.parametrize(("method", "path", "role"), CASES, ids=[f"{m} {p} {r}" for m, p, r in CASES])
def test_every_route_for_every_role(rig: AuthRig, method: str, path: str, role: str | None) -> None:
    roles = ROUTE_ROLES[(method, path)]
    status = call(rig, role, method, path).status_code
    if roles is PUBLIC:
        assert status < 400, f"{method} {path} is public, got {status}"
    elif role is None:
        assert status == 401
    elif role in roles:
        assert status not in (401, 403) and status < 500, f"{role} may {method} {path}; got {status}"
    else:
        assert status == 403, f"{role} may not {method} {path}; got {status}"


def test_a_bad_or_malformed_token_is_401_and_counted(rig: AuthRig) -> None:
    url = f"{rig.server.url}/api/v1/stations"
    before = rig.server.metric("yz_http_auth_refused_total", reason="bad_token")
    bad = httpx.get(url, headers={"Authorization": "Bearer yz_not-a-real-token"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"] == "Bearer"
    assert httpx.get(url, headers={"Authorization": f"Basic {rig.tokens['admin']}"}).status_code == 401
    assert rig.server.metric("yz_http_auth_refused_total", reason="bad_token") == before + 1


def test_a_crew_sees_and_handles_only_its_districts_alerts(rig: AuthRig) -> None:
    mine, theirs = rig.raise_alert("st-crew-1", "d1"), rig.raise_alert("st-crew-2", "d2")
    listed = rig.request("crew", "GET", "/api/v1/alerts").json()
    assert {a["district"] for a in listed} == {"d1"} and mine in {a["id"] for a in listed}
    assert rig.request("crew", "GET", "/api/v1/alerts", params={"district": "d2"}).status_code == 403
    assert rig.request("crew", "GET", f"/api/v1/alerts/{theirs}").status_code == 403
    assert rig.request("crew", "POST", f"/api/v1/alerts/{theirs}/ack", json={"by": "cai"}).status_code == 403
    assert rig.request("admin", "GET", f"/api/v1/alerts/{theirs}").json()["state"] == "firing"
    # the stream leaves the other district out too: its transition would come first, and does not
    sse = SseClient(f"{rig.server.url}/api/v1/alerts/stream", headers=rig.headers("crew")).start()
    try:
        assert rig.request("admin", "POST", f"/api/v1/alerts/{theirs}/resolve", json={"by": "ann"}).is_success
        assert rig.request("crew", "POST", f"/api/v1/alerts/{mine}/resolve", json={"by": "x"}).is_success
        wait_for(lambda: sse.events, 10, what="the crew's own alert on the stream")
        assert [(e["alert"]["id"], e["alert"]["district"]) for e in sse.events] == [(mine, "d1")]
    finally:
        sse.stop()
    history = rig.request("admin", "GET", f"/api/v1/alerts/{mine}").json()["history"]
    assert history[-1]["by"] == "cai (as x)"  # the token says who it was


def test_users_commands_rotate_and_remove_tokens(rig: AuthRig) -> None:
    added = yizhan(rig.server, "users", "add", "tmp", "--role", "auditor")
    old = added.stdout.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {old}"}
    assert httpx.get(f"{rig.server.url}/api/v1/whoami", headers=auth).json()["role"] == "auditor"
    rotated = yizhan(rig.server, "users", "rotate", "tmp")
    new = rotated.stdout.strip().splitlines()[-1]
    assert new != old and httpx.get(f"{rig.server.url}/api/v1/whoami", headers=auth).status_code == 401
    assert yizhan(rig.server, "users", "remove", "tmp").returncode == 0
    gone = httpx.get(f"{rig.server.url}/api/v1/whoami", headers={"Authorization": f"Bearer {new}"})
    assert gone.status_code == 401
    listed = yizhan(rig.server, "users", "list").stdout
    assert "ann\tadmin" in listed and "tmp" not in listed and "yz_" not in listed
    refused = yizhan(rig.server, "users", "add", "bob", "--role", "crew")
    assert refused.returncode == 2 and "--districts" in refused.stderr
    twice = yizhan(rig.server, "users", "add", "ann", "--role", "admin")
    assert twice.returncode == 2 and "exists" in twice.stderr
