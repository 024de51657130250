"""The nightly purge runs as ``PurgeWorkflow`` from a Temporal Schedule, created idempotently,
on the real worker (dev server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from store.youth import Youth
from tests.privacy.conftest import YOUTH, seed
from waakvlam.container import build_container
from waakvlam.retention import PURGE_HOUR, PURGE_SCHEDULE_ID, ensure_purge_schedule
from waakvlam.worker import build_worker
from workflows.retention import PurgeWorkflow


async def test_the_schedule_is_created_once_and_the_workflow_purges(
    dev_env: WorkflowEnvironment, settings: Settings, task_queue: str
) -> None:
    client = dev_env.client
    settings = Settings(_env_file=None, **(settings.model_dump() | {"retention_months": 24}))  # type: ignore[call-arg]
    for _ in range(2):  # a second start of the worker updates, never fails or duplicates
        assert await ensure_purge_schedule(client, settings, task_queue=task_queue) == (
            PURGE_SCHEDULE_ID
        )
    handle = client.get_schedule_handle(PURGE_SCHEDULE_ID)
    described = await handle.describe()
    [calendar] = described.schedule.spec.calendars
    assert [r.start for r in calendar.hour] == [PURGE_HOUR]
    assert described.schedule.spec.time_zone_name == "Europe/Amsterdam"
    container = build_container(settings)
    seed(container.engine, closed_at=datetime.now(UTC) - timedelta(days=800))
    try:
        async with build_worker(client, container, task_queue=task_queue):
            report = await client.execute_workflow(
                PurgeWorkflow.run, id=f"purge-{task_queue}", task_queue=task_queue
            )
        assert (report.youth, report.guardians, report.contact_methods) == (1, 1, 4)
        with Session(container.engine) as session:
            youth = session.get(Youth, YOUTH)
            assert youth is not None and youth.first_name == "" and youth.purged_at is not None
    finally:
        await handle.delete()
        await container.aclose()
