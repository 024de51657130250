"""Running the services: connecting, the schedules, serving the web app, stopping on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn
from temporalio.client import Client

from config.settings import Settings
from notifications.schedules import ensure_digest_schedule, ensure_dispatch_schedule
from waakvlam.retention import ensure_purge_schedule
from waakvlam.temporal import connect, register_search_attributes

log = logging.getLogger("waakvlam")


async def connect_ready(settings: Settings, *, attempts: int = 60) -> Client:
    """Connect to Temporal, waiting for it to come up, and register the search attributes."""
    for attempt in range(attempts):
        try:
            client = await connect(settings)
            break
        except RuntimeError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    await register_search_attributes(client, settings.temporal_namespace)
    return client


async def ensure_schedules(client: Client, settings: Settings) -> None:
    await ensure_digest_schedule(client, settings)
    await ensure_dispatch_schedule(client, settings)
    await ensure_purge_schedule(client, settings)


def stop_event() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, for a clean shutdown."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, event.set)
    return event


def web_server(app: object, settings: Settings) -> uvicorn.Server:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.web_host,
        port=settings.web_port,
        log_level="warning",
        lifespan="off",
    )
    return QuietServer(config)


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to the caller, who runs it beside other services."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
