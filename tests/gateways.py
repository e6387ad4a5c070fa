"""Station gateways as real processes for the tests (`yizhan gateway --config`)."""

import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO
from yizhan.localstack import Broker

FIXTURES = REPO / "tests" / "fixtures" / "gateway"


class GatewayProc:
    def __init__(self, tmp: Path, config: dict, name: str = "gateway") -> None:
        self.config = tmp / f"{name}.yaml"
        self.config.write_text(yaml.safe_dump(config, allow_unicode=True))
        self.log = tmp / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    @classmethod
    def fixture_station(cls, tmp: Path, local: Broker, central: Broker, root: str) -> "GatewayProc":
        """The gateway of tests/fixtures/gateway/station.yaml between two brokers."""
        station = yaml.safe_load((FIXTURES / "station.yaml").read_text())
        station.update(root=root, local={"url": local.url}, uplink={"url": central.url})
        station["spool"] = {"path": str(tmp / "spool.db")}
        return cls(tmp, station)

    def start(self) -> "GatewayProc":
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "yizhan", "gateway", "--config", str(self.config)],
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def listening(self) -> bool:
        return "local broker connected" in self.log.read_text()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
