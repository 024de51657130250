"""The Temporal Schedules of the notification layer, created or updated idempotently:

- ``notifications-daily-digest``: ``DigestWorkflow`` at the start of working hours, Monday to
  Friday, in the region's time zone (a public holiday simply finds nothing due);
- ``notifications-dispatch``: ``DispatchWorkflow`` every few minutes.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from config.settings import Settings
from workflows.digest import DigestInput, DigestWorkflow, DispatchWorkflow

DIGEST_SCHEDULE_ID = "notifications-daily-digest"
DISPATCH_SCHEDULE_ID = "notifications-dispatch"


async def _ensure(client: Client, schedule_id: str, schedule: Schedule) -> None:
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)


def digest_schedule(settings: Settings, task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DigestWorkflow.run,
            DigestInput(time_zone=settings.time_zone),
            id="notifications-daily-digest-run",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(settings.working_hours_start)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                    day_of_week=[ScheduleRange(1, 5)],
                )
            ],
            time_zone_name=settings.time_zone,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def dispatch_schedule(task_queue: str, every: timedelta) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            DispatchWorkflow.run, id="notifications-dispatch-run", task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_digest_schedule(
    client: Client, settings: Settings, *, task_queue: str | None = None
) -> str:
    queue = task_queue or settings.temporal_task_queue
    await _ensure(client, DIGEST_SCHEDULE_ID, digest_schedule(settings, queue))
    return DIGEST_SCHEDULE_ID


async def ensure_dispatch_schedule(
    client: Client,
    settings: Settings,
    *,
    task_queue: str | None = None,
    every: timedelta = timedelta(minutes=5),
) -> str:
    queue = task_queue or settings.temporal_task_queue
    await _ensure(client, DISPATCH_SCHEDULE_ID, dispatch_schedule(queue, every))
    return DISPATCH_SCHEDULE_ID
