"""API users: the caller, and the list of users (`yizhan users` manages them)."""

from fastapi import APIRouter
from yizhan.server.entrypoints.http.deps import CurrentPrincipal, UsersDep
from yizhan.server.entrypoints.http.schemas import UserOut, WhoAmI

router = APIRouter(tags=["users"])


@router.get("/api/v1/whoami", response_model=WhoAmI)
async def whoami(who: CurrentPrincipal) -> WhoAmI:
    """The caller's user name, role and districts (the console shows them)."""
    return WhoAmI.of(who)


@router.get("/api/v1/users", response_model=list[UserOut])
async def list_users(users: UsersDep) -> list[UserOut]:
    """API users (tokens are never shown; `yizhan users` manages them)."""
    return [UserOut.of(u) for u in users.users()]
