"""What the web app asks of a running trajectory: the workflow's updates, called with opaque
ids only, and their answers turned into outcomes a page can show.

A validator's rejection (``UnknownTask``, ``TrajectoryClosed``, ``DestinationAlreadyChosen``…)
becomes ``rejected`` with that type as the reason; a workflow that cannot be reached becomes
``unavailable``. Nothing here raises to the page.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from waakvlam.enrollment import workflow_id
from workflows.trajectory import TrajectoryWorkflow
from workflows.trajectory_models import (
    ActionResult,
    ActionStatus,
    TimelineEntry,
    TrajectorySummary,
)

UPDATE_TIMEOUT = timedelta(seconds=20)
QUERY_TIMEOUT = 3.0


class Outcome(StrEnum):
    done = "done"
    already_done = "already_done"
    rejected = "rejected"
    unavailable = "unavailable"


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    reason: str | None = None

    @property
    def changed(self) -> bool:
        return self.outcome is Outcome.done


UPDATES: dict[str, Any] = {
    "complete_task": TrajectoryWorkflow.complete_task,
    "record_checkin": TrajectoryWorkflow.record_checkin,
    "choose_destination": TrajectoryWorkflow.choose_destination,
    "record_consent": TrajectoryWorkflow.record_consent,
    "report_dropout": TrajectoryWorkflow.report_dropout,
    "refuse_guidance": TrajectoryWorkflow.refuse_guidance,
    "ask_help_again": TrajectoryWorkflow.ask_help_again,
}


async def act(client: Client | None, trajectory_id: str, update: str, arg: BaseModel) -> Answer:
    if client is None:
        return Answer(Outcome.unavailable, "no_temporal")
    handle = client.get_workflow_handle(workflow_id(trajectory_id))
    try:
        result: ActionResult = await handle.execute_update(
            UPDATES[update], arg, rpc_timeout=UPDATE_TIMEOUT
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        kind = cause.type if isinstance(cause, ApplicationError) else None
        return Answer(Outcome.rejected, kind or "rejected")
    except RPCError:
        return Answer(Outcome.unavailable, "not_running")
    if result.status is ActionStatus.already_done:
        return Answer(Outcome.already_done)
    return Answer(Outcome.done)


@dataclass(frozen=True)
class LiveView:
    summary: TrajectorySummary
    timeline: list[TimelineEntry]


async def live_view(client: Client | None, trajectory_id: str) -> LiveView | None:
    """The workflow's own summary and timeline, when it is running and answers in time."""
    if client is None:
        return None
    handle = client.get_workflow_handle(workflow_id(trajectory_id))
    try:
        async with asyncio.timeout(QUERY_TIMEOUT):
            summary = await handle.query(TrajectoryWorkflow.summary)
            timeline = await handle.query(TrajectoryWorkflow.timeline)
    except (RPCError, TimeoutError, ApplicationError):
        return None
    except Exception:  # a query failure must never break the page  # noqa: BLE001
        return None
    return LiveView(summary, timeline)
