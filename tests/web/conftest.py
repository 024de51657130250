"""Fixtures of the web tests (the helpers live in :mod:`tests.web.world`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from tests.web.world import WebWorld, build_world, seed


@pytest.fixture
def web_engine(sqlite_engine: Engine) -> Engine:
    return sqlite_engine


@pytest.fixture
async def web(settings: Settings, web_engine: Engine) -> AsyncIterator[WebWorld]:
    data = seed(web_engine)
    app, container, emails = build_world(settings, web_engine, None)
    world = WebWorld(app, web_engine, container, emails, data)
    try:
        yield world
    finally:
        for client in world.clients:
            await client.aclose()
        await container.http.aclose()
