"""Fixtures of the fault tests: a file-persisted Temporal dev server, the worker as a separate
process that can be killed with SIGKILL, the fake SMTP server and the SMS gateway emulator, a
migrated SQLite file with a small region. All traffic stays on loopback."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine
from temporalio.client import Client

from config.settings import Settings
from store.db import make_engine, migrate
from tests.conftest import TEST_PAYLOAD_KEYS_SETTING
from tests.factories import Region
from tests.fakes.sms_gateway import CM_TOKEN, SmsGateway
from tests.fakes.smtp import FakeSmtp, free_port
from tests.faults.stack import seed_network
from waakvlam.devserver import DevServer
from waakvlam.runtime import connect_ready

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    """The embedded stack of one test; ``kill_worker`` sends SIGKILL, ``start_worker`` another."""

    settings: Settings
    env: dict[str, str]
    engine: Engine
    region: Region
    server: DevServer
    client: Client
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    async def start_worker(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.worker_process"], cwd=ROOT, env=self.env,
            stdout=subprocess.PIPE, stderr=open(self.settings.data_dir / "worker.log", "ab"),
        )  # fmt: skip
        self.workers.append(process)
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), timeout=60)
        assert line.strip() == b"ready", "the worker process did not start; see worker.log"
        # Keep draining its stdout (the SDK core logs there): a full pipe would block the worker.
        drain = open(self.settings.data_dir / "worker.out", "ab")  # noqa: SIM115
        threading.Thread(
            target=shutil.copyfileobj, args=(process.stdout, drain), daemon=True
        ).start()
        return process

    def kill_worker(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()

    async def restart_server(self, *, crash: bool = False) -> None:
        """Stop the dev server (SIGTERM; with ``crash``, SIGKILL) and start it on the same file."""
        if crash:
            self.server.kill()
        else:
            self.server.stop()
        await self.server.start()
        self.client = await connect_ready(self.settings)

    def stop(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.server.stop()
        self.engine.dispose()


def stack_environment(data_dir: Path, smtp: FakeSmtp, gateway: SmsGateway) -> dict[str, str]:
    values = {
        "ENVIRONMENT": "test",
        "DATA_DIR": str(data_dir),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
        "TEMPORAL_UI_PORT": str(free_port()),
        "TEMPORAL_TASK_QUEUE": "faults",
        "PAYLOAD_KEYS": TEST_PAYLOAD_KEYS_SETTING,
        "SIGNING_SECRET": "fault-test-signing-secret-long-enough-1234",
        "EMAIL_PROVIDER": "smtp",
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "SMS_PROVIDER": "cm",
        "CM_API_URL": f"{gateway.base_url}/v1.0/message",
        "CM_PRODUCT_TOKEN": CM_TOKEN,
        "HTTP_TIMEOUT_SECONDS": "5",
        "SMTP_TIMEOUT_SECONDS": "5",
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WAAKVLAM_")}
    return clean | {f"WAAKVLAM_{k}": v for k, v in values.items()}


@pytest.fixture
async def stack(
    tmp_path: Path, smtp_server: FakeSmtp, sms_gateway: SmsGateway
) -> AsyncIterator[Stack]:
    env = stack_environment(tmp_path, smtp_server, sms_gateway)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        **{k.removeprefix("WAAKVLAM_").lower(): v for k, v in env.items()
           if k.startswith("WAAKVLAM_")},
    )  # fmt: skip
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    region = seed_network(engine)
    server = DevServer(settings)
    await server.start()
    try:
        client = await connect_ready(settings)
    except BaseException:
        server.stop()
        raise
    running = Stack(settings, env, engine, region, server, client)
    try:
        yield running
    finally:
        running.stop()
