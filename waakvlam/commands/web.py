"""``waakvlam web``: the web app, for production (behind a TLS-terminating proxy)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from config.settings import Settings
from waakvlam.container import build_container
from waakvlam.runtime import connect_ready, log, stop_event, web_server
from web.app import create_app


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("web", help="serve the web app")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings | None) -> int:
    assert settings is not None
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings) -> None:
    container = build_container(settings)  # runs the database migrations
    try:
        client = await connect_ready(settings)
        server = web_server(create_app(container, client), settings)
        stopping = stop_event()
        task = asyncio.create_task(server.serve())
        log.info("web app on http://%s:%s", settings.web_host, settings.web_port)
        await stopping.wait()
        server.should_exit = True
        await task
    finally:
        await container.aclose()
