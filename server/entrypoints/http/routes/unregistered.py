"""GET /api/v1/unregistered: stations and devices that send messages without being registered."""

from fastapi import APIRouter
from yizhan.server.entrypoints.http.deps import IngestDep
from yizhan.server.entrypoints.http.schemas import UnregisteredSender

router = APIRouter(tags=["stations"])


@router.get("/api/v1/unregistered", response_model=list[UnregisteredSender])
async def unregistered(ingest: IngestDep) -> list[UnregisteredSender]:
    senders = sorted(ingest.unregistered.values(), key=lambda s: -s.last_seen_ms)
    return [UnregisteredSender.of(s) for s in senders]
