"""The Temporal Schedule of the retention purge, created or updated idempotently:
``privacy-retention-purge`` runs ``PurgeWorkflow`` every night at 03:00 in the region's time
zone (quiet for the network, after the day's messages)."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from config.settings import Settings
from workflows.retention import PurgeWorkflow

PURGE_SCHEDULE_ID = "privacy-retention-purge"
PURGE_HOUR = 3


def purge_schedule(settings: Settings, task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PurgeWorkflow.run, id="privacy-retention-purge-run", task_queue=task_queue
        ),
        spec=ScheduleSpec(
            calendars=[
                ScheduleCalendarSpec(
                    hour=[ScheduleRange(PURGE_HOUR)],
                    minute=[ScheduleRange(0)],
                    second=[ScheduleRange(0)],
                )
            ],
            time_zone_name=settings.time_zone,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_purge_schedule(
    client: Client, settings: Settings, *, task_queue: str | None = None
) -> str:
    schedule = purge_schedule(settings, task_queue or settings.temporal_task_queue)
    try:
        await client.create_schedule(PURGE_SCHEDULE_ID, schedule)
    except ScheduleAlreadyRunningError:

        async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(PURGE_SCHEDULE_ID).update(replace)
    return PURGE_SCHEDULE_ID
