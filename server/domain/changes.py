"""What the domain core reports back: state changes for storage, notification and the API."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeviceStatusChanged:
    station: str
    device: str
    online: bool
    reason: str  # birth, death, timeout, activity
    at_ms: int


@dataclass(frozen=True, slots=True)
class StationStatusChanged:
    station: str
    reported_open: bool
    open: bool
    devices_online: int
    at_ms: int


Change = DeviceStatusChanged | StationStatusChanged
