"""Crews and district operators: who alert notifications go to (docs/contract.md "Alerts")."""

from fastapi import APIRouter, HTTPException, Response
from yizhan.server.domain.routing import CrewSpec
from yizhan.server.entrypoints.http.deps import AlertingDep, CrewId
from yizhan.server.entrypoints.http.schemas import CrewOut, problem

router = APIRouter(tags=["crews"])


@router.put(
    "/api/v1/crews/{crew_id}",
    response_model=CrewOut,
    responses={200: {"description": "Replaced"}, 201: {"model": CrewOut, "description": "Created"}},
)
async def put_crew(crew_id: CrewId, crew: CrewSpec, response: Response, alerting: AlertingDep) -> CrewOut:
    """Create or replace a crew (`role: crew`) or a district's operators (`role: operators`,
    who receive escalations). The secret signs webhooks and is never shown again."""
    created = await alerting.put_crew(crew_id, crew)
    response.status_code = 201 if created else 200
    return CrewOut.of(crew_id, crew)


@router.get("/api/v1/crews", response_model=list[CrewOut])
async def list_crews(alerting: AlertingDep) -> list[CrewOut]:
    return [CrewOut.of(cid, c) for cid, c in sorted(alerting.crews.items())]


@router.get("/api/v1/crews/{crew_id}", response_model=CrewOut, responses=problem(404, "No such crew"))
async def get_crew(crew_id: CrewId, alerting: AlertingDep) -> CrewOut:
    crew = alerting.crews.get(crew_id)
    if crew is None:
        raise HTTPException(404, f"crew {crew_id!r} does not exist")
    return CrewOut.of(crew_id, crew)
