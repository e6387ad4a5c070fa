"""Registered stations: register or replace one, the fleet list, one station with its devices."""

import orjson
from fastapi import APIRouter, Response
from yizhan.server.domain.station import StationSpec
from yizhan.server.entrypoints.http.deps import FleetDep, LiveStation, RegistrationDep, StationId
from yizhan.server.entrypoints.http.schemas import StationDetail, StationSummary, problem, station_summary

router = APIRouter(tags=["stations"])


@router.put(
    "/api/v1/stations/{station_id}",
    response_model=StationDetail,
    responses={200: {"description": "Replaced"}, 201: {"model": StationDetail, "description": "Registered"}},
)
async def put_station(
    station_id: StationId,
    spec: StationSpec,
    response: Response,
    registration: RegistrationDep,
    fleet: FleetDep,
) -> StationDetail:
    created = await registration.register(station_id, spec)
    response.status_code = 201 if created else 200
    return StationDetail.of(fleet.stations[station_id])


@router.get("/api/v1/stations", response_model=list[StationSummary])
async def list_stations(fleet: FleetDep, district: str | None = None) -> Response:
    rows = [
        station_summary(live)
        for live in fleet.stations.values()
        if district is None or live.spec.district == district
    ]
    # a national fleet is hundreds of thousands of rows: orjson straight from the dicts, no model per row
    return Response(orjson.dumps(rows), media_type="application/json")


@router.get(
    "/api/v1/stations/{station_id}",
    response_model=StationDetail,
    responses=problem(404, "The station is not registered"),
)
async def get_station(live: LiveStation) -> StationDetail:
    return StationDetail.of(live)
