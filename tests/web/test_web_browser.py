"""In a real browser (Debian's chromium driven by Playwright, no browser download): sign in by
the emailed link, see the demo region's dashboard, open a stalled trajectory, complete a task
and see it move. The app is served by uvicorn on a free loopback port; completing the task goes
through the trajectory workflow's update on a Temporal test server. A screenshot of the
dashboard is saved to ``test-artifacts/dashboard.png``.

Skipped only when chromium (or the playwright package) is missing and
``WAAKVLAM_REQUIRE_BROWSER`` is unset; CI sets it, so there a missing browser fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.trajectory import TrajectoryActivities
from activities.wake import trajectory_activities
from config.settings import Settings
from notifications.requests import NotifyOutcome, NotifyRequest, NotifyResult
from tests.web.world import CapturedEmails, build_world
from waakvlam.demo import seed_demo
from workflows.dates import local_date
from workflows.trajectory import TrajectoryWorkflow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
COORDINATOR_EMAIL = "anke.verstappen@example.org"  # the demo region's network coordinator


@activity.defn(name="send_notification")
async def _recorded_notification(request: NotifyRequest) -> NotifyResult:
    """The messages themselves are the notification layer's tests (and the action tests run
    the real notifier); here the demo's many reminders only need to be accepted quickly."""
    return NotifyResult(outcome=NotifyOutcome.sent)


def _browser_or_skip() -> Any:
    required = bool(os.environ.get("WAAKVLAM_REQUIRE_BROWSER"))
    missing = None if Path(CHROMIUM).exists() else f"chromium not found at {CHROMIUM}"
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        missing = missing or "the playwright package is not installed"
        async_playwright = None
    if missing:
        if required:
            pytest.fail(f"WAAKVLAM_REQUIRE_BROWSER is set but {missing}")
        pytest.skip(missing)
    return async_playwright


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def served(app: Any, port: int) -> AsyncIterator[None]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def test_sign_in_see_the_dashboard_and_complete_a_stalled_task(
    settings: Settings, web_engine: Engine, workflow_env: WorkflowEnvironment, task_queue: str
) -> None:
    async_playwright = _browser_or_skip()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app, container, emails = build_world(
        settings, web_engine, workflow_env.client, public_base_url=base,
        temporal_task_queue=task_queue,
    )  # fmt: skip
    projection = TrajectoryActivities(container.database)
    started: list[str] = []
    with ThreadPoolExecutor(max_workers=8) as executor:
        async with Worker(
            workflow_env.client, task_queue=task_queue, workflows=[TrajectoryWorkflow],
            activities=trajectory_activities(projection, _recorded_notification),
            activity_executor=executor, graceful_shutdown_timeout=timedelta(seconds=1),
        ):  # fmt: skip
            today = local_date(await workflow_env.get_current_time())
            assert await seed_demo(
                container.database, workflow_env.client, container.timeline, task_queue, today
            )
            started += [f"trajectory-{tid}" for tid in _trajectory_ids(web_engine)]
            try:
                async with served(app, port), async_playwright() as playwright:
                    browser = await playwright.chromium.launch(
                        executable_path=CHROMIUM, args=ARGS, headless=True
                    )
                    try:
                        await _walk_through(browser, base, emails)
                    finally:
                        await browser.close()
            finally:
                for workflow_id in started:
                    with contextlib.suppress(Exception):
                        await workflow_env.client.get_workflow_handle(workflow_id).terminate()
    await container.http.aclose()


def _trajectory_ids(engine: Engine) -> list[str]:
    from sqlmodel import Session, select

    from store.trajectories import Trajectory

    with Session(engine) as session:
        return list(session.exec(select(Trajectory.id)).all())


async def _walk_through(browser: Any, base: str, emails: CapturedEmails) -> None:
    page = await (await browser.new_context(viewport={"width": 1440, "height": 1000})).new_page()
    await page.goto(f"{base}/")
    assert page.url == f"{base}/signin"
    await page.fill("input[name=email]", COORDINATOR_EMAIL)
    await page.click("form[action='/signin'] button")
    await page.wait_for_selector("p.notice[role=status]")
    await page.goto(emails.link_to(COORDINATOR_EMAIL))
    await page.click("#confirm")  # the link only shows a button; the click signs in
    await page.wait_for_url(f"{base}/dashboard")
    assert "Vastgelopen trajecten" in await page.inner_text("#stalled")
    rows = page.locator("#stalled tbody tr")
    assert await rows.count() >= 5
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    await page.locator("#stalled tbody tr a").first.click()
    await page.wait_for_selector("#tasks")
    row = page.locator("#tasks tbody tr", has=page.locator("button.complete")).first
    key = await row.get_attribute("data-task")
    before = int(await page.inner_text("#overdue"))
    await row.locator("button.complete").click()
    await page.wait_for_selector("#flash")
    assert "Taak afgerond" in await page.inner_text("#flash")
    done = page.locator(f"#tasks tbody tr[data-task='{key}'] .badge")
    assert await done.inner_text() == "gedaan"
    after = int(await page.inner_text("#overdue"))
    assert after <= before
