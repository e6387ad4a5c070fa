"""The ground-truth ledger: JSON lines of what the simulator really did and published."""

from pathlib import Path
from typing import IO, Any

import orjson


class Ledger:
    def __init__(self, path: str | Path | None) -> None:
        self._file: IO[bytes] | None = Path(path).open("wb") if path else None  # noqa: SIM115 (closed by close())

    def write(self, record: dict[str, Any]) -> None:
        if self._file:
            self._file.write(orjson.dumps(record) + b"\n")

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None


def read_ledger(path: str | Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in Path(path).read_bytes().splitlines() if line.strip()]
