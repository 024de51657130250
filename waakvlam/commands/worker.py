"""``waakvlam worker``: the Temporal worker, for production (one or more per region)."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

from config.settings import Settings
from waakvlam.container import build_container
from waakvlam.runtime import connect_ready, ensure_schedules, log, stop_event
from waakvlam.worker import build_worker


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("worker", help="run the Temporal worker")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings, clock: Callable[[], datetime] | None = None) -> None:
    """``clock``: the notification layer's now, the wall clock unless given (a benchmark pins it
    to a working moment)."""
    container = build_container(settings)
    try:
        client = await connect_ready(settings)
        await ensure_schedules(client, settings)
        stopping = stop_event()
        worker = build_worker(client, container, clock=clock)
        log.info("worker polling task queue %s", settings.temporal_task_queue)
        async with worker:
            await stopping.wait()
        log.info("worker stopped")
    finally:
        await container.aclose()
