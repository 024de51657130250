"""The web app wired to a real Temporal server and a worker running ``TrajectoryWorkflow`` with
the real activities: the read-model projection and ``send_notification`` through the notifier
(console channels, so action links land in the outbox table as they would in a mail)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notify import NotificationActivities
from activities.trajectory import TrajectoryActivities
from activities.wake import trajectory_activities
from config.domain import Role, SchoolType
from config.settings import Settings
from store.outbox import OutboxMessage
from store.trajectories import TaskRow
from tests.web.world import WebWorld, build_world, seed
from waakvlam.enrollment import EnrollmentRequest, enroll
from workflows.dates import add_months, local_date
from workflows.trajectory import TrajectoryWorkflow

LINK = re.compile(r"https?://\S+/a/[A-Za-z0-9_\-.]+")


@dataclass
class LiveWorld:
    web: WebWorld
    env: WorkflowEnvironment
    task_queue: str
    started: list[str] = field(default_factory=list)
    counter: int = 0

    async def enroll(
        self, first_name: str = "Sanne", leave_in_months: int = 2, **extra: Any
    ) -> str:
        """A late enrollment: the tasks already past due become overdue at once."""
        today = local_date(await self.env.get_current_time())
        self.counter += 1
        region = self.web.seed.region
        result = await enroll(
            database=self.web.container.database,
            client=self.env.client,
            timeline=self.web.container.timeline,
            request=EnrollmentRequest(
                school_id=region.school_id, school_ref=f"LIVE{self.counter:03d}",
                first_name=first_name, last_name="de Vries",
                birth_date=add_months(today, -12 * 17),
                leave_date=add_months(today, leave_in_months),
                school_type=SchoolType.pro, case_director_id=region.holder(Role.case_director),
                **extra,
            ),
            task_queue=self.task_queue,
            today=today,
        )  # fmt: skip
        self.started.append(f"trajectory-{result.trajectory_id}")
        await self.wait_for(lambda: bool(self.tasks(result.trajectory_id)))
        return result.trajectory_id

    def tasks(self, trajectory_id: str) -> dict[str, TaskRow]:
        with Session(self.web.engine) as session:
            rows = session.exec(select(TaskRow).where(TaskRow.trajectory_id == trajectory_id))
            return {row.key: row for row in rows.all()}

    def links(self, trajectory_id: str) -> list[str]:
        with Session(self.web.engine) as session:
            rows = session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.trajectory_id == trajectory_id)
                .order_by(col(OutboxMessage.id))
            ).all()
            return [m.group(0) for row in rows for m in LINK.finditer(row.body_text)]

    async def wait_for(self, condition: Any, seconds: float = 15) -> None:
        for _ in range(int(seconds / 0.05)):
            if condition():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("condition not met in time")


@contextlib.asynccontextmanager
async def live_world(
    settings: Settings, engine: Engine, env: WorkflowEnvironment, task_queue: str, **overrides: Any
) -> AsyncIterator[LiveWorld]:
    data = seed(engine)
    app, container, emails = build_world(
        settings, engine, env.client, temporal_task_queue=task_queue, **overrides
    )
    notify = NotificationActivities(
        container.notifications.notifier, container.notifications.digests
    )
    projection = TrajectoryActivities(container.database)
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            env.client,
            task_queue=task_queue,
            workflows=[TrajectoryWorkflow],
            activities=trajectory_activities(projection, notify.send_notification),
            activity_executor=executor,
            graceful_shutdown_timeout=timedelta(seconds=1),
        ):
            world = LiveWorld(WebWorld(app, engine, container, emails, data), env, task_queue)
            try:
                yield world
            finally:
                for workflow_id in world.started:
                    with contextlib.suppress(RPCError):
                        await env.client.get_workflow_handle(workflow_id).terminate("test over")
                for client in world.web.clients:
                    await client.aclose()
                await container.http.aclose()
