"""Registering a station through the API: stored, live in the fleet, no longer an unregistered sender."""

import asyncio
from typing import Protocol

from yizhan.server.domain.fleet import Fleet
from yizhan.server.domain.station import StationSpec


class StationRegistry(Protocol):
    """Where registered stations are kept (SQLite): put_station is True when the station is new."""

    def put_station(self, station_id: str, spec: StationSpec) -> bool: ...


class UnregisteredSenders(Protocol):
    """The list of senders that are not registered, which ingest keeps."""

    def forget_unregistered(self, station: str) -> None: ...


class StationRegistration:
    def __init__(self, registry: StationRegistry, fleet: Fleet, senders: UnregisteredSenders) -> None:
        self.registry, self.fleet, self.senders = registry, fleet, senders

    async def register(self, station_id: str, spec: StationSpec) -> bool:
        """Add or replace a station; True when it is new. A `StationSpec` is valid once it exists,
        so what is left is the order: stored first, so that a station the fleet knows survives a
        restart; then live (its devices that stay keep their state); then off the unregistered list."""
        created = await asyncio.to_thread(self.registry.put_station, station_id, spec)
        self.fleet.register(station_id, spec)
        self.senders.forget_unregistered(station_id)
        return created
