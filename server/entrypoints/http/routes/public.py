"""The public station finder: no token, no personal data."""

from typing import Annotated

from fastapi import APIRouter, Query
from yizhan.server.domain.finder import nearby
from yizhan.server.entrypoints.http.deps import FleetDep
from yizhan.server.entrypoints.http.schemas import NearbyStation

router = APIRouter(tags=["public"])


@router.get("/api/v1/public/stations/nearby", response_model=list[NearbyStation])
async def public_nearby(
    fleet: FleetDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> list[NearbyStation]:
    """Stations open now, nearest first, with the services they can give now (a service whose
    device is offline or faulty is left out). Public: no personal data."""
    return [NearbyStation.of(n) for n in nearby(list(fleet.stations.values()), lat, lon, limit)]
