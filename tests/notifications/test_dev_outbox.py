"""In development the web app shows what the console channel "sent" at /dev/outbox; outside
development that page does not exist."""

from __future__ import annotations

from notifications.wiring import build_notifications
from store.db import Database
from tests.notifications.conftest import WORKDAY, World, configure, request, web_client


async def test_the_dev_outbox_page_shows_console_messages_escaped(world: World) -> None:
    settings = configure(
        world.settings, environment="development", email_provider="console",
        region_name="Noord <Limburg>",
    )  # fmt: skip
    services = build_notifications(settings, Database.of(world.engine), world.gateway_http(), None)
    await services.notifier.notify(request(to="pro_ben"), WORKDAY)
    dev = World(world.engine, settings, services, world.smtp, world.gateway)
    async with web_client(dev) as client:
        page = await client.get("/dev/outbox")
    assert page.status_code == 200
    assert "ben@example.org" in page.text and "Hello Ben," in page.text
    assert "Noord &lt;Limburg&gt;" in page.text
    assert world.smtp.messages == []


async def test_outside_development_there_is_no_outbox_page(world: World) -> None:
    async with web_client(world) as client:
        assert (await client.get("/dev/outbox")).status_code == 404
