"""Bearer-token authorization for the HTTP API: one dependency applied to every route, driven by
the route table in `domain.access`.

YZ_AUTH: `auto` (the default) asks for tokens once a user exists — a fresh install answers like
docs/contract.md until `yizhan users add` creates the first one —, `required` always, `off` never.
"""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry, Counter
from yizhan.server.adapters.sqlite.user_store import UserStore
from yizhan.server.domain.access import PUBLIC, READERS, ROUTE_ROLES, Principal, Role


def route_roles(metrics_public: bool) -> dict[tuple[str, str], frozenset[Role]]:
    table = dict(ROUTE_ROLES)
    if not metrics_public:
        table[("GET", "/metrics")] = READERS
    return table


def check_routes(app: FastAPI, table: dict[tuple[str, str], frozenset[Role]]) -> None:
    """Every API route has an entry in the table: nothing is reachable by accident."""
    missing = [
        f"{method} {route.path}"
        for route in app.routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods
        if (method, route.path) not in table
    ]
    if missing:
        raise RuntimeError(f"routes without roles in domain/access.py: {', '.join(missing)}")


def make_authorizer(
    users: UserStore, mode: str, metrics_public: bool, metrics: CollectorRegistry
) -> Callable[[Request], Coroutine[Any, Any, Principal | None]]:
    """The dependency: sets `request.state.principal` (None when the API is open)."""
    table = route_roles(metrics_public)
    refused = Counter(
        "yz_http_auth_refused",
        "API requests refused: missing or bad token, wrong role",
        ["reason"],
        registry=metrics,
    )
    for reason in ("no_token", "bad_token", "forbidden"):
        refused.labels(reason)

    async def authorize(request: Request) -> Principal | None:
        request.state.principal = None
        route = request.scope.get("route")
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            return None  # the console page
        roles = table[(request.method, route.path)]
        if roles is PUBLIC or mode == "off" or (mode == "auto" and not users.any()):
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            refused.labels("no_token").inc()
            raise HTTPException(401, "this route needs `Authorization: Bearer <token>`", _CHALLENGE)
        principal = users.by_token(token.strip())
        if principal is None:
            refused.labels("bad_token").inc()
            raise HTTPException(401, "unknown or revoked token", _CHALLENGE)
        if principal.role not in roles:
            refused.labels("forbidden").inc()
            allowed = ", ".join(sorted(roles))
            raise HTTPException(403, f"role {principal.role!r} may not do this (allowed: {allowed})")
        request.state.principal = principal
        return principal

    return authorize


def principal_of(request: Request) -> Principal | None:
    """The caller, as found by the authorizer; None when the API is open."""
    return getattr(request.state, "principal", None)


_CHALLENGE = {"WWW-Authenticate": "Bearer"}
