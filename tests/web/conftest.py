"""Fixtures of the web tests (the helpers live in :mod:`tests.web.world`)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from config.settings import Settings
from store.db import make_engine, migrate
from tests.web.world import WebWorld, build_world, seed


@pytest.fixture(scope="session")
def migrated_web_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("webdb") / "migrated.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture
def web_engine(migrated_web_db: Path, tmp_path: Path) -> Iterator[Engine]:
    target = tmp_path / "web.db"
    shutil.copyfile(migrated_web_db, target)
    engine = make_engine(f"sqlite:///{target}")
    yield engine
    engine.dispose()


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
