"""The composition root: every long-lived dependency is built here once and passed down."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from config.settings import Settings
from config.timeline import Timeline, load_timeline
from notifications.wiring import NotificationServices, build_notifications
from store.db import Database, make_engine, migrate


@dataclass
class Container:
    settings: Settings
    database: Database
    timeline: Timeline
    http: httpx.AsyncClient
    notifications: NotificationServices

    async def aclose(self) -> None:
        await self.notifications.aclose()
        await self.http.aclose()
        self.database.dispose()

    @property
    def engine(self) -> Engine:
        return self.database.engine


def build_http_client(settings: Settings) -> httpx.AsyncClient:
    """One pooled HTTP client for every SMS gateway call."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout_seconds),
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
    )


def build_container(settings: Settings, *, run_migrations: bool = True) -> Container:
    engine = make_engine(settings.resolved_database_url)
    if run_migrations:
        migrate(engine)
    database = Database.of(engine)
    timeline = load_timeline(settings.timeline_file)
    http = build_http_client(settings)
    return Container(
        settings=settings,
        database=database,
        timeline=timeline,
        http=http,
        notifications=build_notifications(settings, database, http, timeline),
    )
