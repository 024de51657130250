"""``carry_out_wake``: the messages a trajectory's wake decided and its projection, in one local
activity (release WAKE_AT_ONCE of ``TrajectoryWorkflow``).

Each message goes through ``send_notification`` as it would on its own, at the same time as the
others; the outbox keeps it once per idempotency key, so running the whole wake again (a crash, a
failed projection) sends nothing twice. A message that fails is not retried here: its index comes
back, and the workflow sends it again on its own with the retries of a single message, so one
unreachable gateway holds up neither the other messages nor the read model. The projection is
written after the messages; if it fails, the activity fails and runs again. A projection of changes
only (release CHANGES_ONLY) that does not follow the read model's version is not written, and the
answer asks the workflow for the whole one (``reproject``).

On SQLite the projection is written on the event loop when the database is free (see
``store.db.Database``), else in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.trajectory import Projected, TrajectoryActivities
from notifications.requests import NotifyRequest, NotifyResult
from workflows.trajectory_models import Projection, WakeDone, WakeWork

log = logging.getLogger(__name__)

Send = Callable[[NotifyRequest], Awaitable[NotifyResult]]
Project = Callable[[Projection], Awaitable[Projected]]


class WakeActivities:
    def __init__(self, send: Send, project: Project) -> None:
        """``send`` is ``send_notification`` (it answers a failure with an ``ApplicationError``
        whose message is a code); ``project`` writes the read model
        (``TrajectoryActivities.write_projection``)."""
        self.send = send
        self.project = project

    @activity.defn(name="carry_out_wake")
    async def carry_out_wake(self, work: WakeWork) -> WakeDone:
        outcomes = await asyncio.gather(
            *(self.send(message) for message in work.messages), return_exceptions=True
        )
        done = WakeDone()
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, ApplicationError) and outcome.non_retryable:
                done.failed.append(index)
            elif isinstance(outcome, BaseException):
                done.retry.append(index)
        if work.projection is not None:
            done.reproject = await self.project(work.projection) is Projected.behind
        if done.retry or done.failed:
            log.info(
                "wake carried out with messages left",
                extra={"retry": len(done.retry), "failed": len(done.failed)},
            )
        return done


def trajectory_activities(
    trajectory: TrajectoryActivities, send: Send
) -> list[Callable[..., object]]:
    """Every activity ``TrajectoryWorkflow`` calls, with ``send`` as its ``send_notification``
    (the notifier's in the worker; a recording or counting one in tests and the simulation)."""
    wake = WakeActivities(send, trajectory.write_projection)
    return [trajectory.resolve_recipients, trajectory.project_trajectory, send, wake.carry_out_wake]
