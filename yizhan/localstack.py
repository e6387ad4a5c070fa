"""A private mosquitto and influxd in a run directory, from the system packages.

Used by `yizhan demo` and by the integration tests: free loopback ports, own data, own logs.
"""

import getpass
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


class ServiceError(RuntimeError):
    """A service could not be started; the message says which and where its log is."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_config(port: int, data_dir: Path, extra: str = "", anonymous: bool = True) -> str:
    """The broker settings the project relies on (see docs/mosquitto.conf for production)."""
    # started as root, mosquitto drops to user "mosquitto", which may not write our run directory:
    # stay the user who owns it, or persistence and the log silently fail
    return f"""\
user {getpass.getuser()}
listener {port} 127.0.0.1
allow_anonymous {"true" if anonymous else "false"}
persistence true
persistence_location {data_dir}/
autosave_interval 1
# a server restart at full load must not lose queued QoS 1 messages (default 1000 drops the rest)
max_queued_messages 2000000
max_queued_bytes 0
# outgoing in-flight window: MQTT 5 clients set it by Receive Maximum; 0 = no extra cap
max_inflight_messages 0
log_dest file {data_dir}/mosquitto.log
log_type error
log_type warning
log_type notice
{extra}"""


def influxd_config(port: int, rpc_port: int, data_dir: Path) -> str:
    return f"""\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{data_dir}/meta"
[data]
  dir = "{data_dir}/data"
  wal-dir = "{data_dir}/wal"
  query-log-enabled = false
  trace-logging-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
[continuous_queries]
  enabled = false
"""


def _require(binary: str, package: str) -> str:
    path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin:/sbin")
    if not path:
        raise ServiceError(f"{binary} not found: install the Debian package '{package}'")
    return path


@dataclass
class ManagedProcess:
    name: str
    args: list[str]
    log_path: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        log.close()

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, kill: bool = False) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def fail(self, what: str) -> ServiceError:
        tail = self.log_path.read_text(errors="replace")[-1500:] if self.log_path.exists() else ""
        return ServiceError(f"{self.name} {what}; log {self.log_path}:\n{tail}")


def _wait_port(port: int, proc: ManagedProcess, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc.running():
            raise proc.fail("exited at start")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise proc.fail(f"did not listen on port {port} within {timeout_s:.0f} s")


@dataclass
class Broker:
    """A mosquitto of our own."""

    run_dir: Path
    port: int = 0
    extra_config: str = ""
    anonymous: bool = True
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> "Broker":
        binary = _require("mosquitto", "mosquitto")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        conf = self.run_dir / "mosquitto.conf"
        conf.write_text(mosquitto_config(self.port, self.run_dir, self.extra_config, self.anonymous))
        self.process = ManagedProcess("mosquitto", [binary, "-c", str(conf)], self.run_dir / "stdout.log")
        self.process.start()
        _wait_port(self.port, self.process, 15)
        return self

    def stop(self, kill: bool = False) -> None:
        if self.process:
            self.process.stop(kill)


@dataclass
class Influx:
    """An influxd (1.x) of our own, with the database created."""

    run_dir: Path
    port: int = 0
    database: str = "yizhan"
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Influx":
        binary = _require("influxd", "influxdb")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        conf = self.run_dir / "influxdb.conf"
        conf.write_text(influxd_config(self.port, free_port(), self.run_dir))
        self.process = ManagedProcess("influxd", [binary, "-config", str(conf)], self.run_dir / "influxd.log")
        self.process.start()
        deadline = time.monotonic() + 60
        while True:
            if not self.process.running():
                raise self.process.fail("exited at start")
            try:
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 204:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise self.process.fail("did not answer /ping within 60 s")
            time.sleep(0.2)
        resp = httpx.post(f"{self.url}/query", params={"q": f'CREATE DATABASE "{self.database}"'}, timeout=10)
        if resp.status_code != 200:
            raise self.process.fail(f"refused CREATE DATABASE: {resp.text}")
        return self

    def stop(self, kill: bool = False) -> None:
        if self.process:
            self.process.stop(kill)
