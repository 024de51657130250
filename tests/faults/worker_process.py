"""The product's worker as a separate process, for kill -9 tests:

    python -m tests.faults.worker_process

Settings come from the ``WAAKVLAM_*`` environment (SMTP to the fake server, SMS to the gateway
emulator, the test's SQLite file and dev server). It prints ``ready`` once polling, and runs until
it is killed. The notification clock is pinned to a working moment (see ``tests/faults/stack.py``).
"""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor

from config.settings import load_settings
from store.db import make_engine
from tests.faults.stack import fault_worker, notification_services
from waakvlam.container import build_http_client
from waakvlam.runtime import connect_ready, stop_event


async def main() -> None:
    settings = load_settings()
    engine = make_engine(settings.resolved_database_url)
    http = build_http_client(settings)
    services = notification_services(settings, engine, http)
    client = await connect_ready(settings)
    stop = stop_event()
    with ThreadPoolExecutor(max_workers=64) as executor:
        worker = fault_worker(client, settings.temporal_task_queue, engine, services, executor)
        async with worker:
            sys.stdout.write("ready\n")
            sys.stdout.flush()
            await stop.wait()
    await services.aclose()
    await http.aclose()
    engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
