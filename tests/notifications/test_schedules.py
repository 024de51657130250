"""The digest and dispatch schedules are created once and updated in place on a real Temporal
dev server (the dev command calls these at every start)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import ScheduleActionStartWorkflow
from temporalio.testing import WorkflowEnvironment

from config.settings import Settings
from notifications.schedules import ensure_digest_schedule, ensure_dispatch_schedule
from tests.notifications.conftest import configure


async def test_schedules_are_idempotent_and_follow_the_working_hours(
    dev_env: WorkflowEnvironment, settings: Settings, task_queue: str
) -> None:
    client = dev_env.client
    early = configure(settings, working_hours_start=8)
    await ensure_digest_schedule(client, settings, task_queue=task_queue)
    digest_id = await ensure_digest_schedule(client, early, task_queue=task_queue)
    await ensure_dispatch_schedule(client, settings, task_queue=task_queue)
    dispatch_id = await ensure_dispatch_schedule(
        client, settings, task_queue=task_queue, every=timedelta(minutes=2)
    )

    digest = await client.get_schedule_handle(digest_id).describe()
    [calendar] = digest.schedule.spec.calendars
    assert [r.start for r in calendar.hour] == [8]
    assert digest.schedule.spec.time_zone_name == "Europe/Amsterdam"
    assert isinstance(digest.schedule.action, ScheduleActionStartWorkflow)
    assert digest.schedule.action.workflow == "DigestWorkflow"
    dispatch = await client.get_schedule_handle(dispatch_id).describe()
    assert [i.every for i in dispatch.schedule.spec.intervals] == [timedelta(minutes=2)]
    for schedule_id in (digest_id, dispatch_id):
        await client.get_schedule_handle(schedule_id).delete()
